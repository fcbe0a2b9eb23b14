// Next-fit address selection over a subnet's allocation pools, without enumerating them.
//
// A subnet keeps a cursor: the last address the walk handed out. The next candidate is the address after the
// cursor (moving from one pool to the next at a pool's end); addresses already taken (fixed IPs, EUI-64s, the
// gateway) are skipped one index look-up at a time. Addresses freed behind the cursor go to a released list that
// is drawn on once the walk reaches the end. Every free address is therefore either ahead of the cursor or on the
// released list, and one allocation costs O(1) look-ups whether the subnet holds ten addresses or a million.
// Neutron instead loads every allocation of the subnet and subtracts sets (1 ms empty, 34 ms at 5,000).

import { IpAddress, IpRange } from './ip.js';

export interface PoolText {
  start: string;
  end: string;
}

/** The pools as ranges, in address order. */
export function poolRanges(pools: readonly PoolText[]): IpRange[] {
  return pools
    .map((p) => new IpRange(IpAddress.parse(p.start)!, IpAddress.parse(p.end)!))
    .sort((a, b) => a.start.compare(b.start));
}

/** The first pool address after `after` (or the very first when `after` is null); null past the last pool. */
export function nextCandidate(ranges: readonly IpRange[], after: IpAddress | null): IpAddress | null {
  for (const r of ranges) {
    if (after === null || after.value < r.start.value) return r.start;
    if (after.value < r.end.value) return after.add(1n);
  }
  return null;
}

/** Whether an address lies inside the pools at or before the cursor (so the walk will not meet it again). */
export function isBehindCursor(ranges: readonly IpRange[], ip: IpAddress, cursor: IpAddress | null): boolean {
  return cursor !== null && ip.value <= cursor.value && ranges.some((r) => r.contains(ip));
}

/** Total addresses in the pools (exact, BigInt). */
export function poolSize(ranges: readonly IpRange[]): bigint {
  return ranges.reduce((n, r) => n + r.size, 0n);
}
