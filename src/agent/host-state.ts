// What v6stack owns on a host, and how to take it all down: the agent's lock (one agent per host and state dir),
// and `v6stack down`, which removes every daemon and namespace the agent and the lab made here (found through
// their pid files, the agent's ledger and the lab's state dir, never by a broad name match), so that stopping
// `up` and running `down` leaves the host as it was.

import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bridgeNsName } from './model.js';

export const AGENT_PID_FILE = 'agent.pid';

function cmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  const stat = (() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return '';
    }
  })();
  const state = /\)\s+(\S)/.exec(stat)?.[1];
  return state !== undefined && state !== 'Z';
}

/** The parent pid of `pid` (field 4 of /proc/PID/stat), 0 when unknown. */
function parentOf(pid: number): number {
  if (pid <= 1) return 0;
  try {
    return Number(/\)\s+\S+\s+(\d+)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function pidFrom(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

function netnsList(): string[] {
  const r = spawnSync('ip', ['-json', 'netns', 'list'], { encoding: 'utf8' });
  const out = (r.stdout ?? '').trim();
  return out ? (JSON.parse(out) as { name: string }[]).map((n) => n.name) : [];
}

/**
 * Another live agent for this host, or null: the pid in the state dir's agent.pid (a node process that is not
 * this one), or a process watching the bridge namespace (every running agent keeps `ip -n v6stack-br-HOST monitor
 * link` there, whatever its state dir).
 */
export function liveAgent(stateDir: string, host: string): { pid: number; how: string } | null {
  const pid = pidFrom(join(stateDir, AGENT_PID_FILE));
  if (pid && pid !== process.pid && alive(pid) && /node|v6stack/.test(cmdline(pid) ?? '')) return { pid, how: `its pid file ${join(stateDir, AGENT_PID_FILE)}` };
  const brNs = bridgeNsName(host);
  if (!netnsList().includes(brNs)) return null;
  const pids = (spawnSync('ip', ['netns', 'pids', brNs], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter(Boolean).map(Number);
  for (const p of pids) {
    if (p === process.pid) continue;
    if (/\bmonitor link\b/.test(cmdline(p) ?? '') && alive(p)) {
      // The monitor's parent is the agent's shell, whose parent is the agent.
      const agentPid = parentOf(parentOf(p));
      if (agentPid === process.pid) continue;
      return { pid: agentPid > 1 ? agentPid : p, how: `it watches the bridge namespace ${brNs}` };
    }
  }
  return null;
}

/** Refuses to start a second agent for this host; else records this process as the agent. */
export function takeAgentLock(stateDir: string, host: string): void {
  const other = liveAgent(stateDir, host);
  if (other) {
    throw new Error(
      `another v6stack agent for host ${host} is running (pid ${other.pid}; ${other.how}): two agents would share the bridge namespace ${bridgeNsName(host)} and undo each other's work. Stop it first (Ctrl-C in its shell, or \`v6stack down\`), or give this one another --host`,
    );
  }
  writeFileSync(join(stateDir, AGENT_PID_FILE), `${process.pid}\n`);
}

export function releaseAgentLock(stateDir: string): void {
  if (pidFrom(join(stateDir, AGENT_PID_FILE)) === process.pid) rmSync(join(stateDir, AGENT_PID_FILE), { force: true });
}

function files(dir: string, name: string): string[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e === name ? [join(dir, e)] : files(join(dir, e), name)));
}

async function stopPid(pid: number, signal: NodeJS.Signals, ms = 5000): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  for (const end = Date.now() + ms; alive(pid); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      return;
    }
  }
}

export interface DownOptions {
  host: string;
  /** The agent's state dir (absolute). */
  stateDir: string;
  /** The lab's state dir (absolute). */
  labDir: string;
  log: (line: string) => void;
}

/**
 * Takes down what v6stack made on this host: a running agent (SIGTERM, as Ctrl-C would), the lab's daemons and
 * namespaces, the agent's daemons (pid files) and namespaces (its ledger, and the bridge namespace), then the
 * state dirs. Safe to run twice, and when nothing is there. Returns what it removed, one line each.
 */
export async function down(o: DownOptions): Promise<string[]> {
  const removed: string[] = [];
  const agent = liveAgent(o.stateDir, o.host);
  if (agent) {
    o.log(`stopping the running agent (pid ${agent.pid}; ${agent.how})`);
    await stopPid(agent.pid, 'SIGTERM', 15_000);
    removed.push(`agent process ${agent.pid}`);
  }
  // Daemons first (a namespace with a process in it stays alive until the process exits), each only if its
  // command line names its own directory (a pid reused by something else is left alone).
  const lab: string[] = (() => {
    try {
      return readdirSync(o.labDir);
    } catch {
      return [];
    }
  })();
  for (const name of lab) {
    const dir = join(o.labDir, name);
    for (const pidName of ['dhclient.pid', 'dhclient4.pid', 'radvd.pid', 'capture.pid', 'pd-server.pid']) {
      const pid = pidFrom(join(dir, pidName));
      if (!pid || !alive(pid)) continue;
      const cmd = cmdline(pid) ?? '';
      // tcpdump's command line names its pcap under dir; dhclient's and radvd's their files there.
      if (!cmd.includes(dir)) continue;
      await stopPid(pid, pidName === 'capture.pid' ? 'SIGINT' : 'SIGTERM');
      removed.push(`lab ${name}: ${pidName.replace(/\.pid$/, '')} ${pid}`);
    }
  }
  for (const [file, kind] of [...files(join(o.stateDir, 'radvd'), 'radvd.pid').map((f) => [f, 'radvd'] as const), ...files(join(o.stateDir, 'dhcp'), 'pid').map((f) => [f, 'dnsmasq'] as const), ...files(join(o.stateDir, 'keepalived'), 'keepalived.pid').map((f) => [f, 'keepalived'] as const), ...files(join(o.stateDir, 'pd'), 'pid').map((f) => [f, 'pd-client'] as const), ...files(join(o.stateDir, 'metadata'), 'pid').map((f) => [f, 'metadata server'] as const)]) {
    const pid = pidFrom(file);
    const dir = file.slice(0, file.lastIndexOf('/'));
    if (!pid || !alive(pid) || !(cmdline(pid) ?? '').includes(dir)) continue;
    await stopPid(pid, 'SIGTERM');
    removed.push(`${kind} ${pid} (${dir})`);
  }
  let owned: string[] = [];
  try {
    owned = JSON.parse(readFileSync(join(o.stateDir, 'owned.json'), 'utf8')).namespaces as string[];
  } catch {
    /* no ledger */
  }
  const present = new Set(netnsList());
  const namespaces = [...lab.map((n) => `lab-${n}`), ...owned, bridgeNsName(o.host)];
  for (const ns of [...new Set(namespaces)]) {
    // A lab instance's /etc/netns/NS (its resolv.conf) goes with it, even when its namespace is already gone.
    rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    if (!present.has(ns)) continue;
    // Whatever still runs in it (a daemon whose pid file was lost) would keep it, and its links, alive.
    for (const pid of (spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
      if (pid !== process.pid) await stopPid(pid, 'SIGTERM');
    }
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8' });
    if (r.status === 0) removed.push(`namespace ${ns}`);
    else o.log(`could not delete namespace ${ns}: ${(r.stderr ?? '').trim()}`);
  }
  for (const [dir, what] of [[o.stateDir, 'agent state'], [o.labDir, 'lab state']] as const) {
    try {
      readdirSync(dir);
    } catch {
      continue;
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(`${what} ${dir}`);
  }
  return removed;
}
