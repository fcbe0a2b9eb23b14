// `v6stack down` and `v6stack install-deps`: the host side of the one-command start. `down` removes what `up` (its
// agent) and the lab made on this host; `install-deps` installs the Debian packages of every program the agent,
// the lab and the README tour run.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { down } from '../agent/host-state.js';
import { aptInstallLine, HOST_TOOLS, missingTools, packagesOf } from '../agent/host-tools.js';

export const DEFAULT_LAB_DIR = '/run/v6stack/lab';
/** `up`'s agent state dir for a host, relative to the working directory as `up` resolves it. */
export const upStateDir = (host: string): string => resolve(`var/agent-${host}`);

export function registerHostCommands(program: Command): void {
  program
    .command('down')
    .description("remove what v6stack made on this host: stop a running `up`/agent, its radvd, dnsmasq and keepalived, the lab's instances, and every namespace (qrouter-, qdhcp-, lab-, v6stack-br-HOST); the API's store is kept")
    .option('--host <name>', "the agent's host name", hostname())
    .option('--state-dir <dir>', "the agent's state dir (default: var/agent-HOST, as `up` uses it from this directory)")
    .option('--lab-state-dir <dir>', "the lab's state dir", DEFAULT_LAB_DIR)
    .action(async (o: { host: string; stateDir?: string; labStateDir: string }) => {
      if (process.getuid?.() !== 0) throw new Error('v6stack down needs root (it deletes network namespaces and stops daemons)');
      const stateDir = resolve(o.stateDir ?? upStateDir(o.host));
      const removed = await down({ host: o.host, stateDir, labDir: resolve(o.labStateDir), log: (l) => console.error(`down: ${l}`) });
      if (!removed.length) console.log(`v6stack down: nothing of v6stack's on host ${o.host} (state dir ${stateDir})`);
      else for (const r of removed) console.log(`removed ${r}`);
    });
  program
    .command('install-deps')
    .description("install the Debian packages of the programs the agent, the lab and the README tour run (apt-get)")
    .option('--print', 'only print the apt-get command')
    .action((o: { print?: boolean }) => {
      const missing = missingTools(['agent', 'lab', 'tour']);
      if (!missing.length) return console.log(`all installed: ${packagesOf([...HOST_TOOLS]).join(' ')}`);
      const line = aptInstallLine(missing);
      if (o.print) return console.log(line);
      console.log(`missing ${missing.map((t) => t.program).join(', ')}: ${line}`);
      const r = spawnSync('sh', ['-c', `apt-get update -q && DEBIAN_FRONTEND=noninteractive ${line}`], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`apt-get failed (exit ${r.status}); run as root: ${line}`);
    });
}
