// The resource commands, modelled on the `openstack` client (python3-openstackclient 6.0): the same command words,
// flags and output. They are a pure HTTP client of the Neutron v2.0 API, so they work against v6stack and Neutron.
import type { Command } from 'commander';
import { DEFAULT_ENDPOINT } from './http.js';
import { registerAgentCommands, registerAvailabilityZoneCommands, registerExtensionCommands } from './commands/info.js';
import { registerFloatingIpCommands } from './commands/floatingip.js';
import { registerNetworkCommands } from './commands/network.js';
import { registerPortCommands } from './commands/port.js';
import { registerRouterCommands } from './commands/router.js';
import { registerSecurityGroupCommands } from './commands/securitygroup.js';
import { registerSubnetCommands } from './commands/subnet.js';
import { registerAddressScopeCommands, registerSubnetPoolCommands } from './commands/subnetpool.js';
import { registerBgpCommands } from './commands/bgp.js';
import { registerNdpProxyCommands } from './commands/ndp-proxy.js';

/** Resource commands (network, subnet, port, router, subnet pool, address scope, security group). */
export function registerResourceCommands(program: Command): void {
  program
    .option('--os-endpoint <url>', `Neutron API endpoint (env OS_ENDPOINT or V6STACK_URL; default ${DEFAULT_ENDPOINT})`)
    .option('--os-project-id <id>', 'project for the requests: sent as X-Project-Id and as project_id in create bodies (env OS_PROJECT_ID)')
    .option('--os-auth-url <url>', "Keystone's URL: with it the CLI gets a token and sends X-Auth-Token (env OS_AUTH_URL; a server with --auth-strategy keystone)")
    .option('--os-username <name>', 'Keystone user (env OS_USERNAME)')
    .option('--os-password <password>', 'Keystone password (env OS_PASSWORD, better: not on the command line)')
    .option('--os-project-name <name>', 'Keystone project the token is scoped to (env OS_PROJECT_NAME; or --os-project-id)')
    .option('--os-user-domain-name <name>', "the user's domain (env OS_USER_DOMAIN_NAME; default Default)")
    .option('--os-project-domain-name <name>', "the project's domain (env OS_PROJECT_DOMAIN_NAME; default Default)")
    .option('--os-region-name <name>', "region of the catalog's network endpoint (env OS_REGION_NAME)");

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
  registerNdpProxyCommands(program.command('ndp-proxy').description('NDP proxies: a port\'s IPv6 address published on its router\'s external network (openstack router ndp proxy ...)'));
  registerAvailabilityZoneCommands(program.command('availability').description('availability zones').command('zone').description('availability zones (openstack availability zone list)'));
  registerBgpCommands(program.command('bgp').description('BGP dynamic routing: advertised routes, and why a subnet is not advertised'));
}
