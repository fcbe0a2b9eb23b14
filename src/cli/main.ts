// The `v6stack` command: the server (`server`, `up`) and the resource commands modelled on the `openstack` client.
import { Command } from 'commander';
import { registerServerCommands } from './server.js';
import { registerResourceCommands } from './resources.js';
import { registerAgentCommands } from './agent.js';
import { registerDemoCommand } from './demo.js';
import { registerHostCommands } from './host.js';
import { registerFirewallCommands } from './firewall.js';
import { registerConfigDriveCommand } from './commands/config-drive.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerDoctorCommand } from './commands/doctor.js';

const program = new Command();
program
  .name('v6stack')
  .description('An IPv6-first cloud networking stack with the OpenStack Networking (Neutron) v2.0 API')
  .version('0.1.0');
registerServerCommands(program);
registerResourceCommands(program);
registerAgentCommands(program);
registerDemoCommand(program);
registerHostCommands(program);
registerFirewallCommands(program);
registerConfigDriveCommand(program);
registerExplainCommand(program);
registerDoctorCommand(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
