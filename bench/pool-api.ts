// IPAM at scale, prefixes: /64s from one /32 subnet pool through the real API, as a user makes them (POST /v2.0/subnets
// with subnetpool_id and prefixlen 64), on a `v6stack server` child process with the embedded store, every write
// durable. A network per 100 subnets. 8 clients. The cost per allocation is printed for windows from the start to
// the end of the run (it must stay flat), with the server's memory and the database's size per subnet.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IpAddress, IpPrefix } from '../src/domain/ip.js';
import { Client, log, procRssBytes, round, sleep, stats } from './lib.js';

const SUBNETS_PER_NETWORK = 100;
const CLIENTS = 8;

export async function poolThroughApi(target: number, seconds: number, port = 9798): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v6stack-bench-pool-'));
  const db = path.join(dir, 'pool.db');
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'server', '--db', `sqlite:${db}`, '--port', String(port), '--host', '::1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    for (let i = 0; !out.includes('Neutron v2.0 API on'); i++) {
      if (i > 200 || child.exitCode !== null) throw new Error(`server did not start: ${out}`);
      await sleep(50);
    }
    const c = new Client(`http://[::1]:${port}`, { keepAlive: true, maxSockets: CLIENTS });
    const pool = (await c.request('POST', '/subnetpools', { subnetpool: { name: 'p32', prefixes: ['2001:db8::/32'], default_prefixlen: 64, min_prefixlen: 48, max_prefixlen: 64 } })).json.subnetpool;
    const networks: string[] = [];
    const rss0 = procRssBytes(child.pid!);
    log(`ipam: /64s from one /32 pool through POST /v2.0/subnets (subnetpool_id, prefixlen 64), ${CLIENTS} clients, up to ${target} or ${seconds} s`);
    const windows: { at: number; us_per_op: number; p50_ms: number; p99_ms: number }[] = [];
    const every = Math.max(1000, Math.floor(target / 20));
    let done = 0;
    let next = 0;
    let lat: number[] = [];
    let wStart = performance.now();
    const t0 = wStart;
    const deadline = t0 + seconds * 1000;
    const seen = new Set<string>();
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        if (i >= target || performance.now() > deadline) return;
        const n = Math.floor(i / SUBNETS_PER_NETWORK);
        // Networks are made in order by whoever needs the next one first; the others wait for it.
        while (networks.length <= n) {
          if (networks.length === n && i % SUBNETS_PER_NETWORK === 0) {
            const r = await c.request('POST', '/networks', { network: { name: `pool-${n}` } });
            if (r.status !== 201) throw new Error(`network create: ${r.status} ${JSON.stringify(r.json)}`);
            networks[n] = r.json.network.id;
          } else await sleep(1);
        }
        const r = await c.request('POST', '/subnets', { subnet: { network_id: networks[n], ip_version: 6, subnetpool_id: pool.id, prefixlen: 64 } });
        if (r.status !== 201) throw new Error(`subnet ${i}: ${r.status} ${JSON.stringify(r.json)}`);
        const cidr = r.json.subnet.cidr as string;
        if (seen.has(cidr)) throw new Error(`${cidr} handed out twice`);
        seen.add(cidr);
        lat.push(r.ms);
        done++;
        if (done % every === 0) {
          const now = performance.now();
          const s = stats(lat);
          windows.push({ at: done, us_per_op: round(((now - wStart) * 1000) / lat.length, 1), p50_ms: s.p50_ms, p99_ms: s.p99_ms });
          log(`  prefixes: ${done}, ${windows[windows.length - 1]!.us_per_op} µs per subnet (wall / ops), p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms`);
          lat = [];
          wStart = now;
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, worker));
    const wall = (performance.now() - t0) / 1000;
    // Every /64 handed out is a distinct /64 of the pool.
    const base = IpPrefix.parse('2001:db8::/32')!;
    for (const cidr of seen) {
      const p = IpPrefix.parse(cidr)!;
      if (p.length !== 64 || !base.contains(p.network)) throw new Error(`${cidr} is not a /64 of the pool`);
    }
    const last = [...seen].map((x) => IpPrefix.parse(x)!.network.value).reduce((a, b) => (a > b ? a : b), 0n);
    const rss1 = procRssBytes(child.pid!);
    const dbBytes = ['', '-wal'].reduce((n, s) => n + (fs.existsSync(db + s) ? fs.statSync(db + s).size : 0), 0);
    const first = windows[0];
    const mid = windows[Math.floor(windows.length / 2)];
    const end = windows[windows.length - 1];
    log(`  prefixes: ${done} in ${round(wall, 1)} s; highest ${IpAddress.of(6, last).toString()}/64`);
    return {
      how: `POST /v2.0/subnets with subnetpool_id and prefixlen 64 on a v6stack server (SQLite, durable), ${CLIENTS} clients, a network per ${SUBNETS_PER_NETWORK} subnets`,
      target,
      done,
      wall_s: round(wall, 1),
      windows,
      start_us: first?.us_per_op,
      middle_us: mid?.us_per_op,
      end_us: end?.us_per_op,
      distinct: seen.size,
      server_rss_bytes_per_subnet: done ? round((rss1 - rss0) / done, 1) : null,
      db_bytes_per_subnet: done ? round(dbBytes / done, 1) : null,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
