// The resource commands, modelled on the `openstack` client (python3-openstackclient 6.0): the same command words,
// flags and output. They are a pure HTTP client of the Neutron v2.0 API, so they work against v6stack and Neutron.
import type { Command } from 'commander';
import { DEFAULT_ENDPOINT } from './http.js';
import { registerAgentCommands, registerExtensionCommands } from './commands/info.js';
import { registerFloatingIpCommands } from './commands/floatingip.js';
import { registerNetworkCommands } from './commands/network.js';
import { registerPortCommands } from './commands/port.js';
import { registerRouterCommands } from './commands/router.js';
import { registerSecurityGroupCommands } from './commands/securitygroup.js';
import { registerSubnetCommands } from './commands/subnet.js';
import { registerAddressScopeCommands, registerSubnetPoolCommands } from './commands/subnetpool.js';
import { registerBgpCommands } from './commands/bgp.js';

/** Resource commands (network, subnet, port, router, subnet pool, address scope, security group). */
export function registerResourceCommands(program: Command): void {
  program
    .option('--os-endpoint <url>', `Neutron API endpoint (env OS_ENDPOINT or V6STACK_URL; default ${DEFAULT_ENDPOINT})`)
    .option('--os-project-id <id>', 'project for the requests: sent as X-Project-Id and as project_id in create bodies (env OS_PROJECT_ID)');

  const network = program.command('network').description('networks (openstack network ...)');
  registerNetworkCommands(network);
  registerAgentCommands(network.command('agent').description('network agents (openstack network agent list)'));

  const subnet = program.command('subnet').description('subnets (openstack subnet ...)');
  registerSubnetCommands(subnet);
  registerSubnetPoolCommands(subnet.command('pool').description('subnet pools (openstack subnet pool ...)'));

  registerPortCommands(program.command('port').description('ports (openstack port ...)'));
  registerRouterCommands(program.command('router').description('routers (openstack router ...)'));
  registerAddressScopeCommands(program.command('address').description('address scopes').command('scope').description('address scopes (openstack address scope ...)'));
  registerSecurityGroupCommands(program.command('security').description('security groups').command('group').description('security groups and rules (openstack security group ...)'));
  registerFloatingIpCommands(program.command('floating').description('floating IPs').command('ip').description('floating IPs (openstack floating ip ...)'));
  registerExtensionCommands(program.command('extension').description('API extensions (openstack extension list)'));
  registerBgpCommands(program.command('bgp').description('BGP dynamic routing: advertised routes, and why a subnet is not advertised'));
}
