// `node dist/bench/ha-failover.js [--runs N] [--advert-int S ...]` (root, iproute2, keepalived, nftables, ping): the
// outage of an HA router's failover, as the data plane sees it. Two router namespaces built as the agent builds an
// HA router's (features/ha.ts, keepalived.ts: addr_gen_mode 1, the nft table, the same qr-/qg- MACs on both, the
// keepalived.conf the agent renders) on three bridges (tenant, HA, external), an instance with the router's
// link-local as its default router, and an upstream host. A ping every 20 ms from the instance to the upstream host
// runs throughout; each failover takes the master's HA link down (keepalived goes FAULT, the other node takes over),
// and its outage is the longest gap between two replies around it. The HA link comes back between runs (the old
// master goes BACKUP: nopreempt). The figures go to bench/results/ha-failover-latest.json; docs/benchmarks.md quotes
// them. Everything the run makes carries the `hb<pid>` prefix and is removed at the end.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { haNamespaceFirewall, renderKeepalivedConf, renderNotifyScript, vrrpLinkLocal } from '../src/agent/keepalived.js';

const args = process.argv.slice(2);
const opt = (name: string): string[] => args.flatMap((a, i) => (a === name && args[i + 1] ? [args[i + 1]!] : []));
const RUNS = Number(opt('--runs')[0] ?? 10);
const ADVERTS = opt('--advert-int').length ? opt('--advert-int').map(Number) : [0.2, 1];
const P = `hb${process.pid.toString(36)}`;
const MAC_QR = 'fa:16:3e:b0:00:01';
const MAC_QG = 'fa:16:3e:b0:00:02';

function must(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, fn: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

const ns = { br: `${P}br`, a: `${P}ra`, b: `${P}rb`, vm: `${P}vm`, up: `${P}up` };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v6stack-ha-bench-'));
const children: ChildProcess[] = [];

function plug(router: string, link: string, bridge: string, tap: string, mac?: string): void {
  must(['ip', '-n', ns.br, 'link', 'add', tap, 'type', 'veth', 'peer', 'name', link, 'netns', router, ...(mac ? ['address', mac] : [])]);
  must(['ip', '-n', ns.br, 'link', 'set', tap, 'master', bridge, 'up']);
  must(['ip', '-n', router, 'link', 'set', link, 'up']);
}

function build(): void {
  for (const n of Object.values(ns)) must(['ip', 'netns', 'add', n]);
  must(['ip', 'netns', 'exec', ns.br, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  for (const b of ['tbr', 'hbr', 'ebr']) must(['ip', '-n', ns.br, 'link', 'add', b, 'type', 'bridge']), must(['ip', '-n', ns.br, 'link', 'set', b, 'up']);
  for (const [k, r] of [['a', ns.a], ['b', ns.b]] as const) {
    must(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv6.conf.default.addr_gen_mode=1', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.forwarding=1']);
    must(['ip', '-n', r, 'link', 'set', 'lo', 'up']);
    must(['ip', 'netns', 'exec', r, 'nft', haNamespaceFirewall().replaceAll('\n', ' ; ')]);
    plug(r, 'qr-x', 'tbr', `tq${k}`, MAC_QR);
    plug(r, 'qg-x', 'ebr', `tg${k}`, MAC_QG);
    plug(r, 'ha-x', 'hbr', `th${k}`);
    must(['ip', '-n', r, 'addr', 'add', `169.254.192.${k === 'a' ? 1 : 2}/18`, 'dev', 'ha-x']);
  }
  plug(ns.vm, 'eth0', 'tbr', 'tvm');
  must(['ip', '-n', ns.vm, 'addr', 'add', '2001:db8:b0::10/64', 'dev', 'eth0', 'nodad']);
  must(['ip', '-n', ns.vm, '-6', 'route', 'add', 'default', 'via', vrrpLinkLocal(MAC_QR).split('/')[0]!, 'dev', 'eth0']);
  plug(ns.up, 'eth0', 'ebr', 'tup');
  must(['ip', '-n', ns.up, 'addr', 'add', '2001:db8:b1::1/64', 'dev', 'eth0', 'nodad']);
  must(['ip', '-n', ns.up, '-6', 'route', 'add', '2001:db8:b0::/64', 'via', '2001:db8:b1::5', 'dev', 'eth0']);
}

const stateOf = (k: 'a' | 'b'): string => {
  try {
    return fs.readFileSync(path.join(dir, k, 'state'), 'utf8').trim();
  } catch {
    return '';
  }
};

function startKeepalived(k: 'a' | 'b', advertInt: number): ChildProcess {
  const d = path.join(dir, k);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'notify.sh'), renderNotifyScript(path.join(d, 'state')), { mode: 0o755 });
  const conf = renderKeepalivedConf(
    {
      routerId: `bench-${k}`,
      vrid: 1,
      haLink: 'ha-x',
      links: [{ name: 'qr-x', mac: MAC_QR, addresses: ['2001:db8:b0::1/64'] }, { name: 'qg-x', mac: MAC_QG, addresses: ['2001:db8:b1::5/64'] }],
      routes: [{ family: 6, via: '2001:db8:b1::1', dev: 'qg-x' }],
      notifyScript: path.join(d, 'notify.sh'),
    },
    { advertInt },
  );
  fs.writeFileSync(path.join(d, 'keepalived.conf'), conf);
  const log = fs.openSync(path.join(d, 'keepalived.log'), 'a');
  const c = spawn('ip', ['netns', 'exec', k === 'a' ? ns.a : ns.b, 'keepalived', '-P', '-n', '-l', '-D', '-f', path.join(d, 'keepalived.conf'), '-p', path.join(d, 'k.pid'), '-r', path.join(d, 'v.pid')], { stdio: ['ignore', log, log] });
  children.push(c);
  return c;
}

async function stopAll(cs: ChildProcess[]): Promise<void> {
  await Promise.all(
    cs.map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once('exit', () => res());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
}

async function measure(advertInt: number): Promise<number[]> {
  const ks = [startKeepalived('a', advertInt), startKeepalived('b', advertInt)];
  const replies: number[] = [];
  const ping = spawn('ip', ['netns', 'exec', ns.vm, 'ping', '-6', '-D', '-n', '-i', '0.02', '-W', '1', '2001:db8:b1::1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(ping);
  let buf = '';
  ping.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      const m = /^\[(\d+\.\d+)\].*bytes from/.exec(l);
      if (m) replies.push(Number(m[1]) * 1000);
    }
  });
  const gaps: number[] = [];
  try {
    await until('a master', () => stateOf('a') === 'MASTER' || stateOf('b') === 'MASTER', 60_000);
    await until('traffic', () => replies.length > 20, 30_000);
    for (let i = 0; i < RUNS; i++) {
      const m: 'a' | 'b' = stateOf('a') === 'MASTER' ? 'a' : 'b';
      const o: 'a' | 'b' = m === 'a' ? 'b' : 'a';
      const at = Date.now();
      must(['ip', '-n', m === 'a' ? ns.a : ns.b, 'link', 'set', 'ha-x', 'down']);
      await until(`${o} takes over`, () => stateOf(o) === 'MASTER', 60_000);
      await until('traffic resumes', () => (replies[replies.length - 1] ?? 0) > Date.now() - 100 && (replies[replies.length - 1] ?? 0) > at, 60_000);
      await sleep(300);
      const r = replies.filter((t) => t >= at - 500);
      let gap = 0;
      for (let j = 1; j < r.length; j++) gap = Math.max(gap, r[j]! - r[j - 1]!);
      gaps.push(Math.round(gap));
      console.log(`advert_int ${advertInt}: failover ${i + 1}/${RUNS} ${m} -> ${o}: longest gap ${Math.round(gap)} ms`);
      must(['ip', '-n', m === 'a' ? ns.a : ns.b, 'link', 'set', 'ha-x', 'up']);
      await until(`${m} back to BACKUP`, () => stateOf(m) === 'BACKUP', 60_000);
      await sleep(1000);
    }
  } finally {
    ping.kill('SIGTERM');
    await stopAll(ks);
  }
  return gaps;
}

async function main(): Promise<void> {
  const results: Record<string, { gaps_ms: number[]; median_ms: number; max_ms: number }> = {};
  try {
    build();
    for (const a of ADVERTS) {
      const gaps = await measure(a);
      const sorted = [...gaps].sort((x, y) => x - y);
      results[String(a)] = { gaps_ms: gaps, median_ms: sorted[Math.floor(sorted.length / 2)]!, max_ms: sorted[sorted.length - 1]! };
    }
  } finally {
    await stopAll(children);
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const out = { when: new Date().toISOString(), runs: RUNS, keepalived: spawnSync('keepalived', ['--version'], { encoding: 'utf8' }).stderr.split('\n')[0], cpus: os.cpus().length, loadavg: os.loadavg(), results };
  console.log(JSON.stringify(out, null, 2));
  const here = path.dirname(fileURLToPath(import.meta.url));
  const file = path.resolve(here, '../../bench/results/ha-failover-latest.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
