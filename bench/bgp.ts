// `node dist/bench/bgp.js [--prefixes N]` (root; bird2, gobgpd): how long until a BGP peer holds every tenant prefix a
// speaker advertises. The speaker is exactly what the agent runs (bgp-bird.ts's configuration: a static protocol of
// N routes with third-party next hops, one MD5 session), in a namespace on a veth to a GoBGP peer in another; the
// clock starts when BIRD is spawned and stops when `gobgp neighbor` shows N accepted. Then: one more prefix by
// rewriting the configuration and SIGHUP (the agent's incremental path), until the peer holds N+1; and one prefix
// withdrawn the same way, until it holds N again. Namespaces bgpb-<pid>-{s,p}; everything is removed at the end.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderBirdConf } from '../src/agent/bgp-bird.js';

const argv = process.argv.slice(2);
const opt = (k: string): string | undefined => (argv.indexOf(`--${k}`) >= 0 ? argv[argv.indexOf(`--${k}`) + 1] : undefined);
const N = Number(opt('prefixes') ?? 10_000);
const tag = `bgpb-${process.pid}`;
const S = `${tag}-s`;
const P = `${tag}-p`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v6stack-bench-bgp-'));
const sh = (args: string[]): string => {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const accepted = (): number => {
  const r = spawnSync('ip', ['netns', 'exec', P, 'gobgp', '-u', '127.0.0.1', '-p', '50051', 'neighbor', '-j'], { encoding: 'utf8' });
  try {
    const n = (JSON.parse(r.stdout) as { afi_safis?: { state?: { accepted?: number } }[] }[])[0];
    return (n?.afi_safis ?? []).reduce((a, s) => a + (s.state?.accepted ?? 0), 0);
  } catch {
    return -1;
  }
};
async function until(what: string, fn: () => boolean, deadlineMs = 300_000): Promise<number> {
  const t0 = performance.now();
  while (!fn()) {
    if (performance.now() - t0 > deadlineMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}
/** Tenant /64s out of 2001:db8:bad::/48 and 2001:db8:bae::/48, spread over 8 routers' gateway addresses. */
const routes = (n: number) => Array.from({ length: n }, (_, i) => ({ destination: `2001:db8:${(0xbad + (i >> 16)).toString(16)}:${(i & 0xffff).toString(16)}::/64`, next_hop: `2001:db8:cafe:17::${7 + (i % 8)}` }));
const conf = (n: number) =>
  renderBirdConf({ speakerId: 'bench', localAs: 65001, ipVersion: 6, routerId: '192.0.2.7', peers: [{ id: 'dc', peerIp: '2001:db8:cafe:17::1', remoteAs: 65000, password: 'bench-secret', localIp: '2001:db8:cafe:17::7' }], routes: routes(n) });

let bird: ChildProcess | undefined;
let gobgpd: ChildProcess | undefined;
try {
  sh(['ip', 'netns', 'add', S]);
  sh(['ip', 'netns', 'add', P]);
  sh(['ip', 'link', 'add', `${tag}a`, 'netns', S, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', P]);
  sh(['ip', '-n', S, 'addr', 'add', '2001:db8:cafe:17::7/64', 'dev', `${tag}a`, 'nodad']);
  sh(['ip', '-n', P, 'addr', 'add', '2001:db8:cafe:17::1/64', 'dev', `${tag}b`, 'nodad']);
  for (const [ns, l] of [[S, `${tag}a`], [P, `${tag}b`]] as const) {
    sh(['ip', '-n', ns, 'link', 'set', l, 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  fs.writeFileSync(path.join(dir, 'gobgp.toml'), [
    '[global.config]', '  as = 65000', '  router-id = "192.0.2.1"', '  local-address-list = ["2001:db8:cafe:17::1"]',
    '[[neighbors]]', '  [neighbors.config]', '    neighbor-address = "2001:db8:cafe:17::7"', '    peer-as = 65001', '    auth-password = "bench-secret"',
    '  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv6-unicast"', '',
  ].join('\n'));
  gobgpd = spawn('ip', ['netns', 'exec', P, 'gobgpd', '-f', path.join(dir, 'gobgp.toml'), '-p', '--api-hosts=127.0.0.1:50051', '--pprof-disable'], { stdio: 'ignore' });
  await until('gobgpd API', () => accepted() >= 0, 30_000);
  const birdConf = path.join(dir, 'bird.conf');
  fs.writeFileSync(birdConf, conf(N));
  const t0 = performance.now();
  bird = spawn('ip', ['netns', 'exec', S, 'bird', '-f', '-c', birdConf, '-s', path.join(dir, 'bird.ctl'), '-P', path.join(dir, 'bird.pid')], { stdio: 'ignore' });
  await until(`peer holds ${N}`, () => accepted() === N);
  const full = performance.now() - t0;
  const pid = Number(fs.readFileSync(path.join(dir, 'bird.pid'), 'utf8'));
  fs.writeFileSync(birdConf, conf(N + 1));
  process.kill(pid, 'SIGHUP');
  const add = await until(`peer holds ${N + 1}`, () => accepted() === N + 1);
  fs.writeFileSync(birdConf, conf(N));
  process.kill(pid, 'SIGHUP');
  const withdraw = await until(`peer holds ${N} again`, () => accepted() === N);
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(JSON.stringify({ prefixes: N, session_and_full_table_ms: Math.round(full), one_more_prefix_sighup_ms: Math.round(add), one_withdrawal_sighup_ms: Math.round(withdraw), load_average: load, when: new Date().toISOString() }));
} finally {
  bird?.kill('SIGKILL');
  gobgpd?.kill('SIGTERM');
  spawnSync('ip', ['netns', 'del', S]);
  spawnSync('ip', ['netns', 'del', P]);
  fs.rmSync(dir, { recursive: true, force: true });
}
