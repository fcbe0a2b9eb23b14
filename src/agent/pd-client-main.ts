// `node pd-client-main.js DIR`: the DHCPv6-PD client of one router, started by the agent's supervisor inside the
// router's namespace (`ip netns exec qrouter-ID node ...`: a Node UDP socket binds in the namespace it runs in, lab
// facts §6). DIR holds pd.json (the config the pd feature renders), leases.json (its state) and pid.
// SIGHUP: re-read pd.json (subnets that left are released). SIGTERM: release every prefix and exit (the interface or
// the router's gateway went away). SIGKILL (agent shutdown) leaves leases.json for the next client to resume.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PdClient, type PdClientConfig } from './pd-client.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: pd-client-main.js STATE_DIR');
  process.exit(2);
}
const log = (line: string): void => console.log(line);
const readConfig = (): PdClientConfig => JSON.parse(readFileSync(join(dir, 'pd.json'), 'utf8')) as PdClientConfig;

writeFileSync(join(dir, 'pid'), `${process.pid}\n`);
const client = new PdClient(readConfig(), join(dir, 'leases.json'), log);
process.on('SIGHUP', () => {
  try {
    client.reconfigure(readConfig());
  } catch (e) {
    log(`SIGHUP: cannot read pd.json: ${(e as Error).message}`);
  }
});
process.on('SIGTERM', () => {
  void client.stop(true).then(() => process.exit(0));
});
process.on('SIGINT', () => {
  void client.stop(false).then(() => process.exit(0));
});
client.start().catch((e: Error) => {
  log(`cannot start: ${e.message}`);
  process.exit(1);
});
