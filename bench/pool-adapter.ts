// Drives domain/subnetpool.ts `allocateFromPool(pool, allocatedCidrs, request)` for the IPAM-at-scale section:
// /64s from one /32 pool, the way src/api/resources/subnets.ts calls it (every call is given the cidrs of all the
// pool's subnets). Two measurements:
//   - a real walk from an empty pool, each answer appended to the taken list, bounded by count and time;
//   - spot costs at 0, half and all-but-one of the target, on taken lists built directly (the /64s the walk hands
//     out in order: lowest address first), each answer checked against the expected next /64.

import { IpAddress } from '../src/domain/ip.js';
import { fullGc, log, round } from './lib.js';

type Alloc = (pool: unknown, allocated: string[], request: Record<string, unknown>) => string;

const BASE = IpAddress.parse('2001:db8::')!.value;
const nth = (i: number): string => `${IpAddress.of(6, BASE + (BigInt(i) << 64n)).toString()}/64`;

export async function prefixAdapter(
  fn: (...a: unknown[]) => unknown,
  _mod: Record<string, unknown>,
  target: number,
  seconds: number,
): Promise<Record<string, unknown>> {
  const alloc = fn as unknown as Alloc;
  const pool = { prefixes: ['2001:db8::/32'], min_prefixlen: '64', max_prefixlen: '128', default_prefixlen: '64' };
  const walkSeconds = Math.min(seconds, 120);
  log(`ipam: /64s from a /32 pool with allocateFromPool: real walk (up to ${target} or ${walkSeconds} s), then spot costs`);

  // Real walk.
  const taken: string[] = [];
  const windows: { at: number; us_per_op: number }[] = [];
  const deadline = performance.now() + walkSeconds * 1000;
  const t0 = performance.now();
  let wStart = t0;
  let wCount = 0;
  const every = Math.max(100, Math.floor(target / 20));
  while (taken.length < target && performance.now() < deadline) {
    const got = alloc(pool, taken, {});
    if (got !== nth(taken.length)) throw new Error(`allocateFromPool gave ${got}, expected ${nth(taken.length)}`);
    taken.push(got);
    wCount++;
    if (taken.length === 1 || taken.length % every === 0) {
      const now = performance.now();
      windows.push({ at: taken.length, us_per_op: round(((now - wStart) * 1000) / wCount, 2) });
      log(`  prefixes: ${taken.length}, ${windows[windows.length - 1]!.us_per_op} µs per allocation`);
      wStart = now;
      wCount = 0;
    }
  }
  const walkWall = (performance.now() - t0) / 1000;
  const walked = taken.length;
  taken.length = 0;

  // Spot costs on built lists, and the memory of the taken list per allocation.
  fullGc();
  const heap0 = process.memoryUsage().heapUsed;
  const built: string[] = [];
  for (let i = 0; i < target; i++) built.push(nth(i));
  fullGc();
  const heapPer = (process.memoryUsage().heapUsed - heap0) / target;
  const spot = (size: number): number => {
    const list = built.slice(0, size);
    const reps = 3;
    const a = performance.now();
    for (let r = 0; r < reps; r++) {
      const got = alloc(pool, list, {});
      if (got !== nth(size)) throw new Error(`allocateFromPool with ${size} taken gave ${got}, expected ${nth(size)}`);
    }
    return round(((performance.now() - a) * 1000) / reps, 1);
  };
  const start = spot(0);
  const middle = spot(Math.floor(target / 2));
  const end = spot(target - 1);
  log(`  prefixes: spot cost ${start} µs empty, ${middle} µs at ${Math.floor(target / 2)}, ${end} µs at ${target - 1}`);
  // The walk's total is the sum of per-call costs, about linear in the taken count: N * (start + end) / 2.
  const projected = (target * (start + end)) / 2 / 1e6;
  return {
    how: 'allocateFromPool(pool, cidrs of all the pool\'s subnets, {}) per call, as src/api/resources/subnets.ts does',
    target,
    done: walked,
    wall_s: round(walkWall, 1),
    walk_windows: windows,
    start_us: start,
    middle_us: middle,
    end_us: end,
    projected_total_s_for_target: round(projected, 0),
    bytes_per_allocation: round(heapPer, 1),
    memory_note: 'JS heap of the taken-cidr list the allocator is given; the API also parses every subnet document of the pool per create',
  };
}
