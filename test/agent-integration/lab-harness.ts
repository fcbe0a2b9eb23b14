// Shared harness for the agent integration tests: a real server and a real agent as child processes, the API
// calls the tests make, bounded polling, and a cleanup that always removes what the run made (namespaces,
// daemons, processes) even when the test failed.

import { linkLocalFromMac } from '../../src/domain/eui64.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, type ServerProcess } from '../helpers/v6stack.js';

const PATH_DIRS = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

export function missingTools(tools: string[]): string[] {
  return tools.filter(
    (t) =>
      !PATH_DIRS.some((d) => {
        try {
          accessSync(join(d, t), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
}

/** Why the test cannot run here, or false. Debian packages: iproute2 radvd ndisc6 dnsmasq-base isc-dhcp-client iputils-ping. */
export function skipReason(tools: string[]): string | false {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, radvd)';
  const missing = missingTools(tools);
  return missing.length ? `missing ${missing.join(', ')} (Debian: iproute2 radvd ndisc6 dnsmasq-base isc-dhcp-client iputils-ping)` : false;
}

export function sh(argv: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Like sh, but keeps the event loop running (the agent's log pipe must be drained meanwhile). */
export function shAsync(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout!.on('data', (d) => (stdout += d));
    c.stderr!.on('data', (d) => (stderr += d));
    const t = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.once('close', (code) => {
      clearTimeout(t);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

export function ipJson(ns: string, args: string[]): any[] {
  const r = sh(['ip', '-n', ns, '-json', ...args]);
  return r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, deadlineMs = 30_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class AgentProcess {
  lines: string[] = [];
  child: ChildProcess;
  /** `netns`: run the agent inside that network namespace (nsenter --net: same mount namespace, so the namespaces it makes are everyone's). */
  constructor(server: string, host: string, stateDir: string, extra: string[] = [], netns?: string) {
    const argv = [process.execPath, 'dist/src/cli/main.js', 'agent', '--server', server, '--host', host, '--state-dir', stateDir, ...extra];
    this.child = netns ? spawn('nsenter', [`--net=/run/netns/${netns}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const take = (d: Buffer): void => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) {
        this.lines.push(l);
        if (process.env.V6STACK_TEST_VERBOSE) console.error(`  agent| ${l}`);
      }
    };
    this.child.stdout!.on('data', take);
    this.child.stderr!.on('data', take);
  }
  /** The first line matching after line `from`. */
  async waitLine(re: RegExp, from = 0, deadlineMs = 30_000): Promise<{ line: string; index: number }> {
    return until(`agent log ${re} (log so far:\n${this.lines.slice(-20).join('\n')})`, () => {
      for (let i = from; i < this.lines.length; i++) if (re.test(this.lines[i]!)) return { line: this.lines[i]!, index: i };
      return false;
    }, deadlineMs);
  }
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }
}

export interface Env {
  tag: string;
  host: string;
  dir: string;
  stateDir: string;
  labDir: string;
  server: ServerProcess;
  url: string;
  agent: AgentProcess;
  /** Namespaces the test knows the agent makes (qrouter-<id>), removed by cleanup even if the ledger missed them. */
  extraNs: string[];
  api(method: string, path: string, body?: unknown): Promise<any>;
  lab(args: string[]): Promise<{ status: number; stdout: string; stderr: string }>;
  cleanup(): Promise<void>;
}

/**
 * `listen`: the server's listen address (default ::1; '::' when agents in other namespaces must reach it);
 * `serverArgs`: more `v6stack server` options.
 */
export async function startEnv(opts: { listen?: string; serverArgs?: string[] } = {}): Promise<Env> {
  const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  const host = `it${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'v6stack-agent-it-'));
  // mkdtemp makes it 0700; dnsmasq reads its hosts/opts files below it as `nobody` (the agent logs an ERROR otherwise).
  chmodSync(dir, 0o755);
  const stateDir = join(dir, 'agent');
  const labDir = join(dir, 'lab');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = await spawnServer(`sqlite:${join(dir, 'v6stack.db')}`, port, [...(opts.listen ? ['--host', opts.listen] : []), ...(opts.serverArgs ?? [])]);
  const url = server.url;
  const env: Env = {
    tag,
    host,
    dir,
    stateDir,
    labDir,
    server,
    url,
    agent: new AgentProcess(url, host, stateDir),
    extraNs: [],
    async api(method, path, body) {
      const res = await fetch(url + path, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    lab(args) {
      return shAsync([process.execPath, 'dist/src/cli/main.js', 'lab', ...args, '--server', url, '--host', host, '--state-dir', labDir]);
    },
    async cleanup() {
      await env.agent.stop().catch(() => {});
      // dhclients the lab started, then every daemon a crashed agent may have left (by their pid files).
      for (const f of findFiles(labDir, 'dhclient.pid').concat(findFiles(stateDir, 'radvd.pid'), findFiles(join(stateDir, 'dhcp'), 'pid'))) {
        const pid = Number(readFileSync(f, 'utf8').trim());
        if (pid > 1) {
          try {
            if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      // Anything else still running from this run's directory (a dhclient that daemonised before writing its pid).
      for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
        try {
          if (Number(pid) !== process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      let owned: string[] = [];
      try {
        owned = JSON.parse(readFileSync(join(stateDir, 'owned.json'), 'utf8')).namespaces;
      } catch {
        /* none */
      }
      const all = sh(['ip', '-json', 'netns', 'list']).stdout.trim();
      const names = new Set((all ? (JSON.parse(all) as { name: string }[]) : []).map((n) => n.name));
      for (const ns of [...owned, ...env.extraNs, `v6stack-br-${host}`, ...[...names].filter((n) => n.startsWith(`lab-${tag}`))]) {
        if (names.has(ns)) sh(['ip', 'netns', 'del', ns]);
        // A lab instance the CLI booted or showed has its resolv.conf in /etc/netns/NS: it goes with the namespace.
        rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
      }
      for (const ns of (() => { try { return readdirSync('/etc/netns'); } catch { return []; } })()) {
        if (ns.startsWith(`lab-${tag}`)) rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
      }
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}

function findFiles(dir: string, name: string): string[] {
  const out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (e === name) out.push(p);
    else out.push(...findFiles(p, name));
  }
  return out;
}

/** rdisc6 output as field -> values (e.g. "Stateful address conf." -> ["No"]). */
export function parseRdisc6(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const from = /^\s*from\s+(\S+)\s*$/.exec(line);
    if (from) {
      m.set('from', [...(m.get('from') ?? []), from[1]!]);
      continue;
    }
    const x = /^\s*([^:]+?)\s*:\s*(.+?)\s*$/.exec(line);
    if (!x) continue;
    const key = x[1]!;
    m.set(key, [...(m.get(key) ?? []), x[2]!.split(/\s+/)[0]!]);
  }
  return m;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    return `(${(e as Error).message})`;
  }
}

/** What to look at when a DHCPv6 exchange fails: dnsmasq's files and log lines, the instance's dhclient log and env. */
export function dhcpDiagnostics(env: Env, networkId: string, labName?: string): string {
  const d = join(env.stateDir, 'dhcp', networkId);
  const parts = [
    `--- ${d}/host\n${readOr(join(d, 'host'))}`,
    `--- ${d}/opts\n${readOr(join(d, 'opts'))}`,
    `--- ${d}/leases\n${readOr(join(d, 'leases'))}`,
    `--- agent log (dnsmasq)\n${env.agent.lines.filter((l) => /dnsmasq/.test(l)).slice(-60).join('\n')}`,
  ];
  if (labName) {
    parts.push(`--- dhclient.log\n${readOr(join(env.labDir, labName, 'dhclient.log'))}`, `--- dhclient.env\n${readOr(join(env.labDir, labName, 'dhclient.env'))}`);
  }
  return parts.join('\n');
}

/** The global addresses of eth0 in a lab namespace, "addr/len", non-tentative ones only. */
export function globalAddrs(ns: string): string[] {
  return (ipJson(ns, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info ?? [])
    .filter((a: any) => a.scope === 'global' && !a.tentative)
    .map((a: any) => `${a.local}/${a.prefixlen}`);
}

/** ping -6 from a namespace until one echo is answered (bounded); returns the last output. */
export async function pingFrom(ns: string, target: string, deadlineMs = 20_000): Promise<string> {
  let last = '';
  try {
    await until(`ping from ${ns} to ${target}`, async () => {
      const r = await shAsync(['ip', 'netns', 'exec', ns, 'ping', '-6', '-n', '-c', '1', '-W', '1', target]);
      last = r.stdout + r.stderr;
      return r.status === 0;
    }, deadlineMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${last}`);
  }
  return last;
}

/**
 * Through the API: a network with one IPv6 subnet in the given mode (and DNS server), a router with that subnet as
 * interface; the namespaces the agent will make are registered for cleanup. Returns the documents and the router
 * port's link-local address (what instances must use as their default gateway).
 */
export async function routedNetwork(
  env: Env,
  opts: { name: string; cidr: string; mode: string; dns: string },
): Promise<{ net: any; subnet: any; router: any; rport: any; routerLla: string }> {
  const net = (await env.api('POST', '/v2.0/networks', { network: { name: opts.name } })).network;
  env.extraNs.push(`qdhcp-${net.id}`);
  const subnet = (
    await env.api('POST', '/v2.0/subnets', {
      subnet: { network_id: net.id, ip_version: 6, cidr: opts.cidr, ipv6_ra_mode: opts.mode, ipv6_address_mode: opts.mode, dns_nameservers: [opts.dns] },
    })
  ).subnet;
  const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}` } })).router;
  env.extraNs.push(`qrouter-${router.id}`);
  await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
  const rport = (await env.api('GET', `/v2.0/ports?device_id=${router.id}`)).ports[0];
  return { net, subnet, router, rport, routerLla: linkLocalFromMac(rport.mac_address).toString() };
}

export type LabHost = 'a' | 'b' | 'c';
export const LAB_HOSTS: LabHost[] = ['a', 'b', 'c'];

/** Runs argv; throws with its stderr when it fails. */
export function must(argv: string[]): void {
  const r = sh(argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

/**
 * Three agent hosts on one 1500-byte IPv6 underlay (fd00:T::/64): a bridge in its own namespace, the root namespace
 * (where the API listens, as fd00:T::1) and one namespace per host (fd00:T::a, ::b, ::c on its eth0). The names are
 * the test's tag's, so parallel tests never meet. `build` makes it and waits until each host reaches the API;
 * `teardown` stops the agents `start` made and removes the namespaces and the root's veth, whatever happened.
 */
export class Underlay {
  /** The address block's third group, from the tag (fd00:T::/64, and the tests' 2001:db8:T::/48). */
  readonly t: string;
  readonly under: string;
  readonly hostNs: Record<LabHost, string>;
  readonly rootEnd: string;
  /** Each host's agent --host. */
  readonly names: Record<LabHost, string>;
  /** The API's URL over the underlay. */
  readonly server: string;
  readonly agents: AgentProcess[] = [];

  constructor(private readonly env: Env) {
    this.t = (parseInt(env.tag, 36) % 0xffff).toString(16);
    this.under = `u${env.tag}`;
    this.hostNs = { a: `h${env.tag}a`, b: `h${env.tag}b`, c: `h${env.tag}c` };
    this.rootEnd = `v6u${env.tag}`.slice(0, 15);
    this.names = { a: `${env.tag}a`, b: `${env.tag}b`, c: `${env.tag}c` };
    this.server = `http://[fd00:${this.t}::1]:${new URL(env.url).port}`;
  }

  tunnel(k: LabHost): string {
    return `fd00:${this.t}::${k}`;
  }

  brNs(k: LabHost): string {
    return `v6stack-br-${this.names[k]}`;
  }

  async build(): Promise<void> {
    const { under, rootEnd, t } = this;
    must(['ip', 'netns', 'add', under]);
    must(['ip', '-n', under, 'link', 'add', 'ubr', 'mtu', '1500', 'type', 'bridge']);
    must(['ip', '-n', under, 'link', 'set', 'ubr', 'up']);
    must(['ip', 'link', 'add', rootEnd, 'mtu', '1500', 'type', 'veth', 'peer', 'name', 'root', 'netns', under, 'mtu', '1500']);
    must(['ip', 'addr', 'add', `fd00:${t}::1/64`, 'dev', rootEnd, 'nodad']);
    must(['ip', 'link', 'set', rootEnd, 'up']);
    must(['ip', '-n', under, 'link', 'set', 'root', 'master', 'ubr', 'up']);
    for (const k of LAB_HOSTS) {
      const ns = this.hostNs[k];
      must(['ip', 'netns', 'add', ns]);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      must(['ip', '-n', under, 'link', 'add', `h${k}`, 'mtu', '1500', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, 'mtu', '1500']);
      must(['ip', '-n', ns, 'addr', 'add', `${this.tunnel(k)}/64`, 'dev', 'eth0', 'nodad']);
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      must(['ip', '-n', under, 'link', 'set', `h${k}`, 'master', 'ubr', 'up']);
    }
    for (const k of LAB_HOSTS) await until(`the API over the underlay from ${k}`, () => sh(['ip', 'netns', 'exec', this.hostNs[k], 'ping', '-6', '-c', '1', '-W', '1', `fd00:${t}::1`]).status === 0);
  }

  /** Host k's agent in its namespace, on the underlay, with its tunnel address and `args`. */
  start(k: LabHost, stateDir: string, args: string[]): AgentProcess {
    const p = new AgentProcess(this.server, this.names[k], stateDir, ['--tunnel-ip', this.tunnel(k), ...args], this.hostNs[k]);
    this.agents.push(p);
    return p;
  }

  /** Stops the agents, deletes `extraNs` (e.g. a suffixed qrouter-), the bridge, underlay and host namespaces. */
  async teardown(extraNs: string[] = []): Promise<void> {
    for (const x of this.agents) await x.stop().catch(() => {});
    for (const ns of [...extraNs, ...LAB_HOSTS.map((k) => this.brNs(k)), this.under, ...Object.values(this.hostNs)]) sh(['ip', 'netns', 'del', ns]);
    sh(['ip', 'link', 'del', this.rootEnd]);
  }
}

/**
 * tcpdump on `dev` in `ns` for the first `count` packets matching `filter` while `traffic` runs: the lines it printed
 * ("IP 192.0.2.5 > 192.0.2.253: ICMP echo request, ..."). Bounded: it is stopped after 30 s whatever it saw.
 */
export async function capturePackets(ns: string, dev: string, filter: string, traffic: () => Promise<unknown>, count = 1): Promise<string[]> {
  const c = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-l', '-n', '-i', dev, '-c', String(count), filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (err += d));
  const done = new Promise<void>((resolve) => c.once('close', () => resolve()));
  const t = setTimeout(() => c.kill('SIGKILL'), 30_000);
  try {
    await until(`tcpdump listening in ${ns}`, () => err.includes('listening on'), 10_000);
    await traffic();
    await done;
  } finally {
    clearTimeout(t);
    c.kill('SIGKILL');
  }
  return out.trim().split('\n').filter(Boolean);
}

/** One ping of that family from a namespace (2 s for the answer). */
export const pingOnce = (ns: string, target: string, family: 4 | 6) => shAsync(['ip', 'netns', 'exec', ns, 'ping', `-${family}`, '-n', '-c', '1', '-W', '2', target]);

/** Pings until one is answered (a neighbour or a freshly applied table may take a moment), bounded. */
export async function pingUntil(ns: string, target: string, family: 4 | 6, deadlineMs = 30_000): Promise<void> {
  let last = '';
  try {
    await until(`ping -${family} from ${ns} to ${target}`, async () => {
      const r = await pingOnce(ns, target, family);
      last = r.stdout + r.stderr;
      return r.status === 0;
    }, deadlineMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${last}`);
  }
}

/** A ping -6 every 20 ms from a namespace; the times of its replies (ping -D), for failover gaps. */
export class PingStream {
  replies: number[] = [];
  private child: ChildProcess;
  constructor(ns: string, target: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'ping', '-6', '-D', '-n', '-i', '0.02', '-W', '1', target], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const m = /^\[(\d+\.\d+)\].*bytes from/.exec(l);
        if (m) this.replies.push(Number(m[1]) * 1000);
      }
    });
  }
  /** The longest time without a reply between `from` (ms since the epoch) and the first reply after `to`. */
  longestGap(from: number, to: number): number {
    const r = this.replies.filter((t) => t >= from);
    let gap = 0;
    for (let i = 1; i < r.length && r[i - 1]! <= to; i++) gap = Math.max(gap, r[i]! - r[i - 1]!);
    return gap;
  }
  lastReply(): number {
    return this.replies[this.replies.length - 1] ?? 0;
  }
  stop(): void {
    this.child.kill('SIGTERM');
  }
}
