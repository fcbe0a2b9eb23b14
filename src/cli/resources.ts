// The resource commands, modelled on the `openstack` client (python3-openstackclient 6.0): the same command words,
// flags and output. They are a pure HTTP client of the Neutron v2.0 API, so they work against v6stack and Neutron.
import type { Command } from 'commander';
import { DEFAULT_ENDPOINT } from './http.js';
import { registerNetworkCommands } from './commands/network.js';

/** Resource commands (network, subnet, port, router, subnet pool, address scope, security group). */
export function registerResourceCommands(program: Command): void {
  program
    .option('--os-endpoint <url>', `Neutron API endpoint (env OS_ENDPOINT or V6STACK_URL; default ${DEFAULT_ENDPOINT})`)
    .option('--os-project-id <id>', 'project for the requests: sent as X-Project-Id and as project_id in create bodies (env OS_PROJECT_ID)');
  registerNetworkCommands(program.command('network').description('networks (openstack network ...)'));
}
