// IPAM at scale (issue 9.2), through the real code paths:
//   - addresses: src/api/ipam.ts `allocateAny` on a stateful /64, in process and without HTTP, each allocation its
//     own `store.write`, `batch` writes queued at once so they share one group commit, on a SqliteStore on disk;
//   - prefixes: over HTTP, as a user would: a v6stack server (embedded store) with one /32 subnet pool
//     (default_prefixlen 64), and for each /64 a `POST /v2.0/networks` then a `POST /v2.0/subnets` with
//     `subnetpool_id` and `prefixlen: 64`, from a few concurrent clients.
// Per-operation cost is reported for windows at the start, middle and end, plus on-disk bytes and memory growth per
// allocation. Bounded by count and by time.

import fs from 'node:fs';
import path from 'node:path';
import type { Client } from './lib.js';
import { fullGc, log, pool, procRssBytes, round } from './lib.js';

export interface Window {
  at: number;
  us_per_op: number;
}

export interface IpamScaleResult {
  addresses?: {
    target: number;
    done: number;
    batch: number;
    wall_s: number;
    per_s: number;
    windows: Window[];
    start_us: number;
    middle_us: number;
    end_us: number;
    disk_bytes_per_allocation: number;
    rss_bytes_per_allocation: number;
    heap_bytes_per_allocation: number;
    last_address: string;
  };
  prefixes?: PrefixScaleResult | { error: string };
  error?: string;
}

function fileSize(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

function windowsSummary(points: Window[], total: number): { start: number; middle: number; end: number } {
  const near = (x: number): number => {
    const w = points.reduce((best, p) => (Math.abs(p.at - x) < Math.abs(best.at - x) ? p : best), points[0]!);
    return w.us_per_op;
  };
  return { start: near(0), middle: near(total / 2), end: near(total) };
}

export async function ipamAddresses(dir: string, target: number, batch: number, seconds: number): Promise<IpamScaleResult['addresses']> {
  // Imported here so that the rest of the benchmark runs even while these modules are being written.
  const { SqliteStore } = await import('../src/store/sqlite.js');
  const { allocateAny } = await import('../src/api/ipam.js');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'ipam-scale.db');
  for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
  const store = new SqliteStore(file);
  const subnet = {
    id: '5a1b0000-0000-4000-8000-000000000001',
    network_id: '5a1b0000-0000-4000-8000-000000000002',
    ip_version: 6 as const,
    cidr: '2001:db8:1234:5678::/64',
    allocation_pools: [{ start: '2001:db8:1234:5678::1', end: '2001:db8:1234:5678:ffff:ffff:ffff:ffff' }],
    ipv6_ra_mode: 'dhcpv6-stateful',
    ipv6_address_mode: 'dhcpv6-stateful',
  };
  fullGc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const windows: Window[] = [];
  const deadline = Date.now() + seconds * 1000;
  const t0 = performance.now();
  let done = 0;
  let last = '';
  const windowEvery = Math.max(batch, Math.floor(target / 20 / batch) * batch);
  let wStart = performance.now();
  let wCount = 0;
  log(`ipam: ${target} stateful allocations in one /64, ${batch} writes per group commit`);
  while (done < target && Date.now() < deadline) {
    const n = Math.min(batch, target - done);
    const jobs: Promise<string | null>[] = [];
    for (let j = 0; j < n; j++) {
      const portId = `00000000-0000-4000-8000-${(done + j).toString(16).padStart(12, '0')}`;
      jobs.push(store.write((tx) => allocateAny(tx, subnet, portId)));
    }
    const got = await Promise.all(jobs);
    last = got[got.length - 1] ?? last;
    // The first window starts at 0; later ones are reported at their midpoint.
    if (done === 0) windows.push({ at: 0, us_per_op: round(((performance.now() - wStart) * 1000) / n, 2) });
    done += n;
    wCount += n;
    if (done % windowEvery === 0 || done === target) {
      const now = performance.now();
      windows.push({ at: done, us_per_op: round(((now - wStart) * 1000) / wCount, 2) });
      log(`  ipam: ${done}/${target}, ${windows[windows.length - 1]!.us_per_op} µs per allocation`);
      wStart = now;
      wCount = 0;
    }
  }
  const wall = (performance.now() - t0) / 1000;
  fullGc();
  const rss1 = process.memoryUsage().rss;
  const heap1 = process.memoryUsage().heapUsed;
  await store.close();
  const disk = fileSize(file) + fileSize(`${file}-wal`);
  const s = windowsSummary(windows, done);
  for (const x of ['', '-wal', '-shm']) fs.rmSync(file + x, { force: true });
  return {
    target,
    done,
    batch,
    wall_s: round(wall, 1),
    per_s: round(done / wall, 0),
    windows,
    start_us: s.start,
    middle_us: s.middle,
    end_us: s.end,
    disk_bytes_per_allocation: round(disk / Math.max(1, done), 1),
    rss_bytes_per_allocation: round((rss1 - rss0) / Math.max(1, done), 2),
    heap_bytes_per_allocation: round((heap1 - heap0) / Math.max(1, done), 2),
    last_address: last,
  };
}

export interface PrefixWindow {
  /** Allocations done when the window closed. */
  at: number;
  /** Wall time per /64 (network + subnet) in the window, with `concurrency` clients. */
  us_per_op: number;
  network_p50_ms: number;
  subnet_p50_ms: number;
}

export interface PrefixScaleResult {
  how: string;
  target: number;
  done: number;
  concurrency: number;
  wall_s: number;
  per_s: number;
  windows: PrefixWindow[];
  start: PrefixWindow;
  middle: PrefixWindow;
  end: PrefixWindow;
  distinct_cidrs: number;
  first_cidr: string;
  last_cidr: string;
  errors: Record<string, number>;
  server_rss_bytes_per_allocation: number;
  disk_bytes_per_allocation: number;
}

export interface PrefixServer {
  client: Client;
  pid: number;
  /** The embedded store's file, for its size. */
  dbFile: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

/**
 * /64s from one /32 pool through the API over HTTP: network create, then subnet create from the pool, `concurrency`
 * clients at a time, until `target` subnets exist or `seconds` have passed.
 */
export async function ipamPrefixes(server: PrefixServer, target: number, seconds: number, concurrency: number): Promise<PrefixScaleResult> {
  const c = server.client;
  const made = await c.ok('POST', '/subnetpools', { subnetpool: { name: 'v6bench-ipam-pool', prefixes: ['2001:db8::/32'], default_prefixlen: 64 } }, 201);
  const poolId = made.json.subnetpool.id as string;
  log(`ipam: ${target} /64s from one /32 pool over HTTP (network + subnet create, ${concurrency} clients)`);
  const rss0 = procRssBytes(server.pid);
  const disk0 = fileSize(server.dbFile) + fileSize(`${server.dbFile}-wal`);
  const cidrs = new Set<string>();
  let first = '';
  let last = '';
  const errors: Record<string, number> = {};
  const windows: PrefixWindow[] = [];
  const every = Math.max(concurrency, Math.floor(target / 20));
  let wStart = performance.now();
  let wNet: number[] = [];
  let wSub: number[] = [];
  let done = 0;
  let nextWindow = every;
  const t0 = performance.now();
  const deadline = Date.now() + seconds * 1000;
  const fail = (what: string): void => void (errors[what] = (errors[what] ?? 0) + 1);
  await pool(target, concurrency, deadline, async (i) => {
    const n = await c.request('POST', '/networks', { network: { name: `v6bench-ipam-${i}` } });
    if (n.status !== 201) return fail(`network ${n.status}`);
    const s = await c.request('POST', '/subnets', {
      subnet: { network_id: n.json.network.id, ip_version: 6, subnetpool_id: poolId, prefixlen: 64 },
    });
    if (s.status !== 201) return fail(`subnet ${s.status} ${JSON.stringify(s.json).slice(0, 160)}`);
    const cidr = s.json.subnet.cidr as string;
    cidrs.add(cidr);
    if (!first) first = cidr;
    last = cidr;
    wNet.push(n.ms);
    wSub.push(s.ms);
    done++;
    if (done === 1 || done >= nextWindow || done === target) {
      const now = performance.now();
      const count = wNet.length;
      windows.push({
        at: done,
        us_per_op: round(((now - wStart) * 1000) / count, 1),
        network_p50_ms: round(median(wNet), 3),
        subnet_p50_ms: round(median(wSub), 3),
      });
      const w = windows[windows.length - 1]!;
      log(`  prefixes: ${done}/${target}, ${w.us_per_op} µs per /64; p50 network ${w.network_p50_ms} ms, subnet ${w.subnet_p50_ms} ms`);
      wStart = now;
      wNet = [];
      wSub = [];
      if (done >= nextWindow) nextWindow += every;
    }
  });
  const wall = (performance.now() - t0) / 1000;
  const rss1 = procRssBytes(server.pid);
  const disk1 = fileSize(server.dbFile) + fileSize(`${server.dbFile}-wal`);
  // Start, middle and end: the first full window, the one nearest half way, the last.
  const full = windows.filter((w) => w.at > 1);
  const near = (x: number): PrefixWindow => full.reduce((b, w) => (Math.abs(w.at - x) < Math.abs(b.at - x) ? w : b), full[0] ?? windows[0]!);
  return {
    how: 'HTTP: POST /v2.0/networks, then POST /v2.0/subnets {subnetpool_id, ip_version: 6, prefixlen: 64}; embedded store',
    target,
    done,
    concurrency,
    wall_s: round(wall, 1),
    per_s: round(done / wall, 0),
    windows,
    start: full[0] ?? windows[0]!,
    middle: near(done / 2),
    end: full[full.length - 1] ?? windows[windows.length - 1]!,
    distinct_cidrs: cidrs.size,
    first_cidr: first,
    last_cidr: last,
    errors,
    server_rss_bytes_per_allocation: round((rss1 - rss0) / Math.max(1, done), 1),
    disk_bytes_per_allocation: round((disk1 - disk0) / Math.max(1, done), 1),
  };
}
