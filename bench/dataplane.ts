// `npm run bench:dataplane` (root, with iproute2, radvd, dnsmasq, dhclient): the data plane's two figures from issue 3,
// on one host with a real server, a real agent and real lab instances.
//
//   1. router interface add -> usable address: an instance already sits on a network with an IPv6 subnet but no router;
//      the clock starts when `PUT /routers/{id}/add_router_interface` is sent and stops when the instance's kernel has
//      the global address and the default route (watched with `ip monitor`, no polling). SLAAC (address and route from
//      the RA) and DHCPv6-stateful (address leased before, so the RA's default route is what makes it usable). The
//      first interface of a router starts radvd; later ones reload it (SIGHUP).
//   2. agent cold start for N routers: N routers with one SLAAC interface each exist in the API; the clock runs from
//      spawning `v6stack agent` to its first "in sync" (every namespace, link, address and radvd up), then again for a
//      restart with the kernel state already in place (warm: nothing to change, daemons restarted).
//
// There is no data-plane peer on this machine to run beside it (the Neutron peer runs its API only), so the figures
// read against the floor measured in the same run: radvd started by hand on a ready link until the instance has its
// address (what a perfect agent could not beat).
//
//   npm run bench:dataplane                       # 10 iterations per mode, N = 10, 50, 100
//   npm run bench:dataplane -- --quick            # 3 iterations, N = 5, 20
//   npm run bench:dataplane -- --write-docs       # also write the section of docs/benchmarks.md between its markers

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labBoot, labDelete, labNsName } from '../src/lab/lab.js';
import { eui64Address } from '../src/domain/eui64.js';
import { IpPrefix } from '../src/domain/ip.js';
import { machine, round, stats, type LatencyStats } from './lib.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const has = (k: string): boolean => argv.includes(`--${k}`);
const opt = (k: string): string | undefined => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = has('quick');
const iterations = Number(opt('iterations') ?? (quick ? 3 : 10));
const routerCounts = (opt('routers') ?? (quick ? '5,20' : '10,50,100')).split(',').map(Number);

const log = (m: string): void => console.error(`${new Date().toISOString().slice(11, 23)} ${m}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string[]): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('the data-plane bench needs root (network namespaces, radvd)');
  for (const t of ['ip', 'radvd', 'dnsmasq', 'dhclient']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) throw new Error(`missing ${t} (Debian: iproute2 radvd dnsmasq-base isc-dhcp-client)`);
  }
}

// ---- processes

interface Proc {
  child: ChildProcess;
  /** Every output line with the time it arrived (performance.now()). */
  lines: { t: number; line: string }[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function start(cmd: string[]): Proc {
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  const lines: Proc['lines'] = [];
  let buf = '';
  const take = (d: Buffer): void => {
    const t = performance.now();
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const line of parts) lines.push({ t, line });
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  return {
    child,
    lines,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const k = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(k);
          resolve();
        });
        child.kill(signal);
      }),
  };
}

async function waitLine(p: Proc, re: RegExp, after: number, deadlineMs = 120_000): Promise<{ t: number; line: string }> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const hit = p.lines.find((l) => l.t >= after && re.test(l.line));
    if (hit) return hit;
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}; last lines:\n${p.lines.slice(-15).map((l) => l.line).join('\n')}`);
    await sleep(5);
  }
}

class Lab {
  readonly tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  readonly host = `bdp${this.tag}`;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v6stack-bench-dp-'));
  readonly stateDir = path.join(this.dir, 'agent');
  readonly labDir = path.join(this.dir, 'lab');
  readonly port = 20000 + Math.floor(Math.random() * 20000);
  readonly url = `http://[::1]:${this.port}`;
  server!: Proc;
  agent: Proc | null = null;
  instances: string[] = [];

  async startServer(): Promise<void> {
    fs.chmodSync(this.dir, 0o755); // dnsmasq reads its files below it as nobody
    this.server = start([process.execPath, 'dist/src/cli/main.js', 'server', '--db', `sqlite:${path.join(this.dir, 'v6stack.db')}`, '--port', String(this.port), '--host', '::1']);
    await waitLine(this.server, /Neutron v2\.0 API on/, 0, 20_000);
  }

  startAgent(): Proc {
    this.agent = start([process.execPath, 'dist/src/cli/main.js', 'agent', '--server', this.url, '--host', this.host, '--state-dir', this.stateDir]);
    return this.agent;
  }

  async api(method: string, p: string, body?: unknown): Promise<any> {
    const res = await fetch(this.url + p, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  labOpts() {
    return { server: this.url, host: this.host, stateDir: this.labDir, log: () => {} };
  }

  async cleanup(): Promise<void> {
    for (const name of this.instances) await labDelete(this.labOpts(), name).catch(() => {});
    await this.agent?.stop().catch(() => {});
    // Whatever the agent made: its ledger, the bridge namespace, and any daemon still running from our directory.
    for (const pid of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        if (Number(pid) !== process.pid && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.dir)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    let owned: string[] = [];
    try {
      owned = JSON.parse(fs.readFileSync(path.join(this.stateDir, 'owned.json'), 'utf8')).namespaces;
    } catch {
      /* none */
    }
    const all = new Set(sh(['ip', 'netns', 'list']).split('\n').map((l) => l.split(' ')[0]!));
    for (const ns of [...owned, `v6stack-br-${this.host}`]) if (all.has(ns)) spawnSync('ip', ['netns', 'del', ns]);
    await this.server?.stop().catch(() => {});
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves with the time (performance.now()) at which `ip monitor` in `ns` first printed a line matching each pattern. */
function watch(ns: string, patterns: RegExp[]): { ready: Promise<void>; done: Promise<number[]>; stop: () => void } {
  const mon = start(['ip', '-n', ns, 'monitor', 'address', 'route']);
  const hits: (number | undefined)[] = patterns.map(() => undefined);
  const done = new Promise<number[]>((resolve, reject) => {
    const t = setInterval(() => {
      for (const { t: at, line } of mon.lines) patterns.forEach((re, i) => (hits[i] ??= re.test(line) ? at : undefined));
      if (hits.every((h) => h !== undefined)) {
        clearInterval(t);
        resolve(hits as number[]);
      }
    }, 2);
    setTimeout(() => {
      clearInterval(t);
      reject(new Error(`ip monitor in ${ns}: no ${patterns.filter((_, i) => hits[i] === undefined).join(', ')} within 120 s`));
    }, 120_000).unref();
  });
  // ip monitor prints nothing when it is ready; a short pause lets it subscribe before the clock starts.
  return { ready: sleep(100), done, stop: () => void mon.stop('SIGKILL') };
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Waits until eth0 in `ns` has its link-local address. A veth's carrier reaches IPv6 through the kernel's linkwatch,
 * which batches events up to a second: before that the link ignores RAs, and that second is not the router's.
 */
async function linkReady(ns: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!/inet6 fe80::\S+ scope link\s*$/m.test(spawnSync('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).stdout.replace(/\n\s+valid_lft.*$/gm, ''))) {
    if (Date.now() > end) throw new Error(`${ns}: eth0 has no link-local address after 10 s`);
    await sleep(20);
  }
}

// ---- 1. interface add -> usable address

interface IfaceRun {
  mode: string;
  first: boolean;
  api_ms: number;
  agent_ms: number;
  address_ms: number;
  route_ms: number;
  usable_ms: number;
}

async function interfaceAdd(lab: Lab, mode: 'slaac' | 'dhcpv6-stateful', count: number, routerId: string): Promise<IfaceRun[]> {
  const out: IfaceRun[] = [];
  for (let i = 0; i < count; i++) {
    const k = mode === 'slaac' ? i : 0x100 + i;
    const cidr = `2001:db8:${(0xb000 + k).toString(16)}::/64`;
    const net = (await lab.api('POST', '/v2.0/networks', { network: { name: `bdp-${mode}-${i}` } })).network;
    const subnet = (
      await lab.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr, ipv6_ra_mode: mode, ipv6_address_mode: mode, dns_nameservers: ['2001:db8:cafe:a::e'] } })
    ).subnet;
    const name = `b${lab.tag}${mode === 'slaac' ? 's' : 'f'}${i}`;
    lab.instances.push(name);
    const port = await labBoot(lab.labOpts(), net.id, name);
    const ns = labNsName(name);
    const address = mode === 'slaac' ? eui64Address(IpPrefix.parse(cidr)!, port.mac_address).toString() : (port.fixed_ips as any[])[0].ip_address;
    // SLAAC: the kernel adds the address when the RA arrives; stateful: dhclient leased it at boot (labBoot waited).
    const have = sh(['ip', '-n', ns, '-6', 'addr', 'show', 'dev', 'eth0']);
    if (mode === 'dhcpv6-stateful' && !have.includes(address)) throw new Error(`${name}: dhclient did not lease ${address}:\n${have}`);
    if (mode === 'slaac' && have.includes(address)) throw new Error(`${name}: has ${address} before any router`);
    const route = /^default via fe80::\S+ dev eth0 proto ra/;
    await linkReady(ns);
    const w = watch(ns, mode === 'slaac' ? [route, new RegExp(`inet6 ${esc(address)}/64`)] : [route]);
    await w.ready;
    const first = (await lab.api('GET', `/v2.0/ports?device_id=${routerId}`)).ports.length === 0;
    const t0 = performance.now();
    await lab.api('PUT', `/v2.0/routers/${routerId}/add_router_interface`, { subnet_id: subnet.id });
    const t1 = performance.now();
    let routeAt: number;
    let addrAt: number | undefined;
    try {
      [routeAt, addrAt] = (await w.done) as [number, number?];
    } finally {
      w.stop();
    }
    const synced = await waitLine(lab.agent!, /in sync:/, t1);
    addrAt ??= t0; // stateful: leased before the router existed
    const r: IfaceRun = {
      mode,
      first,
      api_ms: round(t1 - t0),
      agent_ms: round(synced.t - t0),
      address_ms: round(addrAt - t0),
      route_ms: round(routeAt - t0),
      usable_ms: round(Math.max(addrAt, routeAt) - t0),
    };
    log(`${mode} #${i}${first ? ' (radvd start)' : ''}: api ${r.api_ms} ms, agent in sync ${r.agent_ms} ms, usable ${r.usable_ms} ms`);
    if (process.env.V6STACK_BENCH_VERBOSE) for (const l of lab.agent!.lines.filter((x) => x.t >= t0 && x.t <= synced.t)) log(`  +${round(l.t - t0)} ms ${l.line}`);
    out.push(r);
  }
  return out;
}

// ---- the floor: radvd by hand on ready links

const radvdStanza = (iface: string, prefix: string): string =>
  `interface ${iface}\n{\n   AdvSendAdvert on;\n   MinRtrAdvInterval 30;\n   MaxRtrAdvInterval 100;\n   AdvLinkMTU 1500;\n   prefix ${prefix}\n   {\n        AdvOnLink on;\n        AdvAutonomous on;\n   };\n};\n`;

/**
 * A router namespace with two links to two guest namespaces, radvd's config written by hand: the time from starting
 * radvd (first link) and from its SIGHUP with the second link added, to the guest's address + default route. The
 * same radvd configuration the agent renders, without the API, the change feed and the agent in between.
 */
async function radvdFloor(count: number): Promise<{ start: number[]; reload: number[] }> {
  const out = { start: [] as number[], reload: [] as number[] };
  const tag = `bf${process.pid.toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v6stack-bench-floor-'));
  const nss = [`${tag}r`, `${tag}g0`, `${tag}g1`];
  const [r, g0, g1] = nss as [string, string, string];
  const conf = path.join(dir, 'radvd.conf');
  const pidFile = path.join(dir, 'radvd.pid');
  const route = /^default via fe80::\S+ dev eth0 proto ra/;
  try {
    for (let i = 0; i < count; i++) {
      for (const ns of nss) spawnSync('ip', ['netns', 'del', ns]);
      for (const ns of nss) {
        sh(['ip', 'netns', 'add', ns]);
        sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.addr_gen_mode=0']);
      }
      sh(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
      for (const [k, g] of [[0, g0], [1, g1]] as const) {
        sh(['ip', '-n', r, 'link', 'add', `qr${k}`, 'address', `fa:16:3e:00:0${k}:01`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', g, 'address', `fa:16:3e:00:0${k}:02`]);
        sh(['ip', '-n', r, 'addr', 'add', `2001:db8:bf:${k}::/64`, 'dev', `qr${k}`, 'nodad']);
        sh(['ip', '-n', r, 'link', 'set', `qr${k}`, 'up']);
        sh(['ip', '-n', g, 'link', 'set', 'eth0', 'up']);
      }
      await linkReady(g0);
      await linkReady(g1);
      fs.writeFileSync(conf, radvdStanza('qr0', '2001:db8:bf:0::/64'));
      const w0 = watch(g0, [/inet6 2001:db8:bf:0:f816:3eff:fe00:2\/64/, route]);
      await w0.ready;
      const t0 = performance.now();
      const radvd = start(['ip', 'netns', 'exec', r, 'radvd', '-n', '-m', 'stderr', '-C', conf, '-p', pidFile]);
      try {
        const [a, b] = await w0.done;
        out.start.push(round(Math.max(a!, b!) - t0));
        w0.stop();
        fs.writeFileSync(conf, radvdStanza('qr0', '2001:db8:bf:0::/64') + radvdStanza('qr1', '2001:db8:bf:1::/64'));
        const w1 = watch(g1, [/inet6 2001:db8:bf:1:f816:3eff:fe00:102\/64/, route]);
        await w1.ready;
        const t1 = performance.now();
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGHUP');
        const [c, d] = await w1.done;
        out.reload.push(round(Math.max(c!, d!) - t1));
        w1.stop();
      } finally {
        await radvd.stop();
      }
    }
  } finally {
    for (const ns of nss) spawnSync('ip', ['netns', 'del', ns]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`floor: radvd start -> address + route ${out.start.join(', ')} ms; radvd SIGHUP with a new link ${out.reload.join(', ')} ms`);
  return out;
}

// ---- 2. cold start for N routers

interface ColdRun {
  routers: number;
  cold_ms: number;
  cold_kernel_actions: number;
  warm_ms: number;
  warm_kernel_actions: number;
  radvd_running: number;
}

/** radvd daemons running with a config under `stateDir` (radvd forks a privileged helper: count distinct configs). */
function radvdCount(stateDir: string): number {
  const configs = new Set<string>();
  for (const pid of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const c = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const conf = c[c.indexOf('-C') + 1];
      // Just spawned, it may still be `ip netns exec NS radvd ...` on its way to exec'ing radvd.
      if (c.includes('radvd') && conf?.startsWith(stateDir)) configs.add(conf);
    } catch {
      /* gone */
    }
  }
  return configs.size;
}

async function coldStart(n: number): Promise<ColdRun> {
  const lab = new Lab();
  try {
    await lab.startServer();
    for (let i = 0; i < n; i++) {
      const net = (await lab.api('POST', '/v2.0/networks', { network: { name: `bdp-cold-${i}` } })).network;
      const subnet = (
        await lab.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: `2001:db8:${(0xc000 + i).toString(16)}::/64`, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })
      ).subnet;
      const router = (await lab.api('POST', '/v2.0/routers', { router: { name: `bdp-cold-${i}` } })).router;
      await lab.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    }
    const t0 = performance.now();
    const agent = lab.startAgent();
    const cold = await waitLine(agent, /in sync: (\d+) kernel actions/, t0, 600_000);
    const coldMs = cold.t - t0;
    const coldActions = Number(/in sync: (\d+)/.exec(cold.line)![1]);
    const running = radvdCount(lab.stateDir);
    await agent.stop();
    const t1 = performance.now();
    const again = lab.startAgent();
    const warm = await waitLine(again, /in sync: (\d+) kernel actions/, t1, 600_000);
    const r: ColdRun = {
      routers: n,
      cold_ms: round(coldMs),
      cold_kernel_actions: coldActions,
      warm_ms: round(warm.t - t1),
      warm_kernel_actions: Number(/in sync: (\d+)/.exec(warm.line)![1]),
      radvd_running: running,
    };
    log(`cold start, ${n} routers: ${r.cold_ms} ms (${r.cold_kernel_actions} kernel actions, ${running} radvd); warm restart ${r.warm_ms} ms (${r.warm_kernel_actions} kernel actions)`);
    return r;
  } finally {
    await lab.cleanup();
  }
}

// ---- report

interface DataplaneResults {
  started: string;
  machine: ReturnType<typeof machine>;
  load_before: number[];
  floor_start_ms: LatencyStats;
  floor_reload_ms: LatencyStats;
  slaac: { first: IfaceRun[]; later: LatencyStats; runs: IfaceRun[] };
  stateful: { later: LatencyStats; runs: IfaceRun[] };
  cold: ColdRun[];
}

function table(res: DataplaneResults): string[] {
  const s = (x: LatencyStats): string => `p50 ${x.p50_ms} ms, p90 ${x.p90_ms} ms, max ${x.max_ms} ms (n=${x.n})`;
  const later = (runs: IfaceRun[], k: keyof IfaceRun): LatencyStats => stats(runs.filter((r) => !r.first).map((r) => r[k] as number));
  return [
    `| figure | value |`,
    `|---|---|`,
    `| SLAAC, router's first interface (agent starts radvd) → address + default route | ${res.slaac.first.map((r) => `${r.usable_ms} ms`).join(', ')} |`,
    `| … floor: radvd started by hand on a ready link | ${s(res.floor_start_ms)} |`,
    `| SLAAC, further interface (agent reloads radvd) → address + default route | ${s(res.slaac.later)} |`,
    `| … floor: radvd SIGHUP by hand with the new link in its config | ${s(res.floor_reload_ms)} |`,
    `| … of which: API answered | ${s(later(res.slaac.runs, 'api_ms'))} |`,
    `| … of which: agent in sync (namespace link plugged, radvd reloaded) | ${s(later(res.slaac.runs, 'agent_ms'))} |`,
    `| DHCPv6-stateful (address already leased), further interface → default route | ${s(res.stateful.later)} |`,
    ...res.cold.map((c) => `| agent cold start, ${c.routers} routers (${c.cold_kernel_actions} kernel actions, ${c.radvd_running} radvd) / warm restart | ${c.cold_ms} ms / ${c.warm_ms} ms |`),
  ];
}

function writeDocs(res: DataplaneResults): void {
  const md = path.join(ROOT, 'docs', 'benchmarks.md');
  const m = res.machine;
  const gen = [
    '<!-- BEGIN DATAPLANE GENERATED by `npm run bench:dataplane -- --write-docs` (bench/dataplane.ts); edit outside these markers -->',
    `Run of ${res.started.slice(0, 16).replace('T', ' ')} UTC on ${m.cores} cores (${m.cpu_model}), Linux ${m.kernel}, Node ${m.node}; load average before: ${res.load_before.join(' ')}. Raw figures: \`bench/results/dataplane-latest.json\`.`,
    '',
    ...table(res),
    '<!-- END DATAPLANE GENERATED -->',
  ].join('\n');
  let text = fs.readFileSync(md, 'utf8');
  const re = /<!-- BEGIN DATAPLANE GENERATED[\s\S]*?<!-- END DATAPLANE GENERATED -->/;
  text = re.test(text) ? text.replace(re, gen) : `${text.trimEnd()}\n\n## Data plane\n\n${gen}\n`;
  fs.writeFileSync(md, text);
  log(`wrote ${md}`);
}

async function main(): Promise<void> {
  preflight();
  const started = new Date().toISOString();
  const loadBefore = os.loadavg().map((x) => round(x));
  const floor = await radvdFloor(iterations);
  const lab = new Lab();
  let slaac: IfaceRun[] = [];
  let stateful: IfaceRun[] = [];
  const onSignal = (): void => void lab.cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    await lab.startServer();
    const agent = lab.startAgent();
    await waitLine(agent, /in sync:/, 0);
    const router = (await lab.api('POST', '/v2.0/routers', { router: { name: 'bdp' } })).router;
    slaac = await interfaceAdd(lab, 'slaac', iterations + 1, router.id);
    stateful = await interfaceAdd(lab, 'dhcpv6-stateful', iterations, router.id);
  } finally {
    await lab.cleanup();
  }
  const cold: ColdRun[] = [];
  for (const n of routerCounts) cold.push(await coldStart(n));
  const res: DataplaneResults = {
    started,
    machine: machine(),
    load_before: loadBefore,
    floor_start_ms: stats(floor.start),
    floor_reload_ms: stats(floor.reload),
    slaac: { first: slaac.filter((r) => r.first), later: stats(slaac.filter((r) => !r.first).map((r) => r.usable_ms)), runs: slaac },
    stateful: { later: stats(stateful.filter((r) => !r.first).map((r) => r.usable_ms)), runs: stateful },
    cold,
  };
  console.log(table(res).join('\n'));
  // Like bench/run.ts: every run's figures under var/bench; only a --write-docs run replaces the kept copy.
  const dir = has('write-docs') ? path.join(ROOT, 'bench', 'results') : path.join(ROOT, 'var', 'bench');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, has('write-docs') ? 'dataplane-latest.json' : `dataplane-${started.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  log(`results: ${out}`);
  if (has('write-docs')) writeDocs(res);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
