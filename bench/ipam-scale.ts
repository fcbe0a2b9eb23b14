// IPAM at scale (issue 9.2), through the real code paths and without HTTP:
//   - addresses: src/api/ipam.ts `allocateAny` on a stateful /64, each allocation its own `store.write` (so its own
//     SAVEPOINT), `batch` writes queued at once so they share one group commit, on a SqliteStore on disk;
//   - prefixes: src/domain/subnetpool.ts `allocateFromPool`, /64s from one /32 pool.
// Per-operation cost is reported for windows at the start, middle and end, plus on-disk bytes and RSS growth per
// allocation. Bounded by count and by time.

import fs from 'node:fs';
import path from 'node:path';
import { fullGc, log, round } from './lib.js';

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
  prefixes?: Record<string, unknown>;
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

/**
 * Prefix allocation from a pool through domain/subnetpool.ts `allocateFromPool`. That module is written by someone
 * else; this adapts to its exported function at run time and reports what it found when it cannot.
 */
