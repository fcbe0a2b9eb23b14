// The DC's delegating server: `lab dc --pd-pool 2001:db8:face::/48 --pd-length 64 [--pd-server kea|dibbler]` runs
// a DHCPv6-PD server on the DC's eth0 (the external network), from which the routers' PD clients (agent/pd-client.ts)
// obtain their tenant prefixes. Kea (kea-dhcp6-server) by default, dibbler-server as the second implementation.
// The return route to each delegated prefix is the DC's ordinary tenant route (dc.ts dcPlan): once the API shows a
// PD subnet with its prefix, the DC routes it via the router's gateway address, as the delegating router of a real
// data centre must (Kea does not install routes; see docs/dataplane.md for a real router's equivalent).
//
// Configs are rendered PURE; the servers run detached, their files (config, leases, log, pid) in the DC's directory.
// dibbler-server only reads /etc/dibbler and writes /var/lib/dibbler, so it runs in a private mount namespace with
// the DC's directories bind-mounted there (lab facts §3): nothing outside the DC's directory is touched.

import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { IpPrefix } from '../domain/ip.js';

export type PdServerKind = 'kea' | 'dibbler';

export interface DcPdOptions {
  server: PdServerKind;
  /** The pool delegated prefixes come from, e.g. 2001:db8:face::/48. */
  pool: string;
  /** The delegated length (64 for a subnet each). */
  length: number;
  /** T1, T2 and the lifetimes handed out, in seconds (default PD_TIMERS). */
  timers?: PdTimers;
}

export interface PdTimers {
  t1: number;
  t2: number;
  preferred: number;
  valid: number;
}

export interface PdServerConfig extends DcPdOptions {
  /** The DC's interface on the external network. */
  iface: string;
  /** The external network's IPv6 subnet (Kea selects it by interface). */
  linkSubnet: string;
  /** State directory of the server (leases, log, pid). */
  dir: string;
}

/** Lifetimes the lab hands out (seconds): short enough that Renew can be seen in a test run, as RFC 8415 allows. */
export const PD_TIMERS: PdTimers = { t1: 1800, t2: 2880, preferred: 3600, valid: 7200 };

export function checkPdOptions(o: DcPdOptions): void {
  const p = IpPrefix.parse(o.pool, true);
  if (!p || p.version !== 6) throw new Error(`--pd-pool must be an IPv6 prefix such as 2001:db8:face::/48, not ${o.pool}`);
  if (!Number.isInteger(o.length) || o.length < p.length || o.length > 64) throw new Error(`--pd-length must be between the pool's length (${p.length}) and 64, not ${o.length}`);
  if (o.server !== 'kea' && o.server !== 'dibbler') throw new Error(`--pd-server must be kea or dibbler, not ${o.server}`);
  const t = o.timers;
  if (t && !(Object.values(t).every((v) => Number.isInteger(v) && v > 0) && t.t1 <= t.t2 && t.t2 <= t.preferred && t.preferred <= t.valid)) {
    throw new Error('--pd-timers must be T1,T2,PREFERRED,VALID in seconds with T1 <= T2 <= PREFERRED <= VALID');
  }
}

/** PURE. kea-dhcp6's configuration (lab facts §3: memfile leases in the DC's directory, no lease file cleanup). */
export function keaPdConf(c: PdServerConfig): string {
  const p = IpPrefix.parse(c.pool)!;
  return JSON.stringify(
    {
      Dhcp6: {
        'interfaces-config': { interfaces: [c.iface] },
        'lease-database': { type: 'memfile', persist: true, name: join(c.dir, 'leases6.csv'), 'lfc-interval': 0 },
        'server-id': { type: 'LL', persist: false },
        'renew-timer': (c.timers ?? PD_TIMERS).t1,
        'rebind-timer': (c.timers ?? PD_TIMERS).t2,
        'preferred-lifetime': (c.timers ?? PD_TIMERS).preferred,
        'valid-lifetime': (c.timers ?? PD_TIMERS).valid,
        subnet6: [{ id: 1, subnet: c.linkSubnet, interface: c.iface, 'pd-pools': [{ prefix: p.network.toString(), 'prefix-len': p.length, 'delegated-len': c.length }] }],
        loggers: [{ name: 'kea-dhcp6', output_options: [{ output: 'stdout' }], severity: 'INFO' }],
      },
    },
    null,
    1,
  ) + '\n';
}

/** PURE. dibbler-server's server.conf (lab facts §3). */
export function dibblerPdConf(c: PdServerConfig): string {
  const t = c.timers ?? PD_TIMERS;
  return [
    'log-level 8',
    'log-mode short',
    'preference 0',
    `iface "${c.iface}" {`,
    `  t1 ${t.t1}`,
    `  t2 ${t.t2}`,
    `  prefered-lifetime ${t.preferred}`,
    `  valid-lifetime ${t.valid}`,
    '  pd-class {',
    `    pd-pool ${c.pool}`,
    `    pd-length ${c.length}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

const PID = 'pd-server.pid';

async function runningPid(dir: string): Promise<number | null> {
  const pid = Number((await readFile(join(dir, PID), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return null;
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
  const state = /\)\s+(\S)/.exec(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''))?.[1];
  return /kea-dhcp6|dibbler-server/.test(cmdline) && state !== undefined && state !== 'Z' ? pid : null;
}

/** Stops the DC's PD server (SIGTERM), waiting for it. True if one was running. */
export async function stopPdServer(dir: string, log: (l: string) => void): Promise<boolean> {
  const pid = await runningPid(dir);
  if (!pid) return false;
  process.kill(pid, 'SIGTERM');
  for (const end = Date.now() + 5000; await runningPid(dir); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) {
      process.kill(pid, 'SIGKILL');
      break;
    }
  }
  log(`stopped the PD server ${pid}`);
  return true;
}

/** The files a server writes its delegations to (for people and tests). */
export const pdLeaseFile = (dir: string, kind: PdServerKind): string => (kind === 'kea' ? join(dir, 'leases6.csv') : join(dir, 'pd-var', 'server-AddrMgr.xml'));

/** Starts the DC's PD server, restarts it when its configuration changed, stops it when `c` is null. */
export async function ensurePdServer(ns: string, dir: string, c: PdServerConfig | null, log: (l: string) => void): Promise<void> {
  const confPath = join(dir, 'pd-server.conf');
  const want = c ? (c.server === 'kea' ? keaPdConf(c) : dibblerPdConf(c)) : null;
  const old = await readFile(confPath, 'utf8').catch(() => null);
  const pid = await runningPid(dir);
  if (pid && (want === null || want !== old)) await stopPdServer(dir, log);
  if (want === null) {
    await rm(confPath, { force: true });
    return;
  }
  if (pid && want === old) return;
  await writeFile(`${confPath}.tmp`, want);
  await rename(`${confPath}.tmp`, confPath);
  const out = openSync(join(dir, 'pd-server.log'), 'a');
  let argv: string[];
  if (c!.server === 'kea') {
    argv = ['ip', 'netns', 'exec', ns, 'kea-dhcp6', '-c', confPath];
  } else {
    const etc = join(dir, 'pd-etc');
    const varDir = join(dir, 'pd-var');
    await mkdir(etc, { recursive: true });
    await mkdir(varDir, { recursive: true });
    await writeFile(join(etc, 'server.conf'), want);
    argv = ['ip', 'netns', 'exec', ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind '${etc}' /etc/dibbler && mount --bind '${varDir}' /var/lib/dibbler && exec dibbler-server run`];
  }
  // Kea: pid and lock files in the DC's directory, not /run/kea.
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out], env: { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir } });
  closeSync(out);
  child.unref();
  // ip netns exec, unshare and sh exec the server: the child's pid is the server's.
  await writeFile(join(dir, PID), `${child.pid}\n`);
  const end = Date.now() + (c!.server === 'dibbler' ? 1500 : 10_000);
  for (;;) {
    const text = await readFile(join(dir, 'pd-server.log'), 'utf8').catch(() => '');
    if (/DHCP6_STARTED|Server is ready|Accepting connections/i.test(text) || (c!.server === 'dibbler' && /Bound socket|waiting/i.test(text))) break;
    if (!(await runningPid(dir)) || Date.now() > end) {
      // dibbler prints little until a client speaks: running after the wait is good enough.
      if (c!.server === 'dibbler' && (await runningPid(dir))) break;
      throw new Error(`${c!.server} did not start in ${ns}: ${text.trim().split('\n').slice(-5).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`${ns}: ${c!.server} delegates /${c!.length}s from ${c!.pool} on ${c!.iface}`);
}
