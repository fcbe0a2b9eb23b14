// A subnet's allocation pools: Neutron's checks of requested pools (ipam_backend_mixin.pools_to_ip_range,
// validate_allocation_pools, validate_gw_out_of_pools) and the default pools of a new subnet
// (ipam/utils.generate_pools). Pure.

import { IpAddress, IpPrefix, IpRange } from './ip.js';
import { NeutronError, conflict } from './errors.js';
import { pyRepr } from './py.js';

/** A pool as the request gave it: exactly the keys start and end, both valid addresses (the schema checked). */
export interface PoolRequest {
  start: string;
  end: string;
}

/** The usable span of a cidr: IPv4 /30 and wider without network and broadcast, IPv6 without the network address. */
function usable(net: IpPrefix): [bigint, bigint] {
  const trimEnds = net.version === 6 || net.length <= 30;
  return [net.first.value + (trimEnds ? 1n : 0n), net.last.value - (net.version === 4 && trimEnds ? 1n : 0n)];
}

/**
 * netaddr.IPRange refuses start > end or mixed families (the request dict is shown), then each range must be of
 * the subnet's family and inside its usable span, ranges may not overlap (409) and the gateway may not sit in one
 * (409). Returns the ranges in the order given.
 */
export function validatePools(pools: PoolRequest[], net: IpPrefix, gateway: string | null): IpRange[] {
  const ranges: IpRange[] = [];
  for (const p of pools) {
    const start = IpAddress.parse(p.start)!;
    const end = IpAddress.parse(p.end)!;
    if (start.version !== end.version || start.value > end.value) {
      throw new NeutronError(400, 'InvalidAllocationPool', `The allocation pool ${pyRepr(p)} is not valid.`);
    }
    ranges.push(new IpRange(start, end));
  }
  const cidrText = net.toString();
  const [first, last] = usable(net);
  for (const r of ranges) {
    if (r.start.version !== net.version) {
      throw new NeutronError(400, 'InvalidAllocationPool', `The allocation pool ${r.toString()} is not valid.`);
    }
    if (r.start.value < first || r.end.value > last) {
      throw new NeutronError(400, 'OutOfBoundsAllocationPool', `The allocation pool ${r.toString()} spans beyond the subnet cidr ${cidrText}.`);
    }
  }
  for (let l = 0; l < ranges.length; l++) {
    for (let r = l + 1; r < ranges.length; r++) {
      if (ranges[l]!.overlaps(ranges[r]!)) {
        throw conflict(
          'OverlappingAllocationPools',
          `Found overlapping allocation pools: ${ranges[l]!.toString()} ${ranges[r]!.toString()} for subnet ${cidrText}.`,
        );
      }
    }
  }
  if (gateway) checkGatewayOutOfPools(gateway, ranges);
  return ranges;
}

export function checkGatewayOutOfPools(gateway: string, ranges: IpRange[]): void {
  const gw = IpAddress.parse(gateway)!;
  for (const r of ranges) {
    if (r.contains(gw)) {
      throw conflict('GatewayConflictWithAllocationPools', `Gateway ip ${gateway} conflicts with allocation pool ${r.toString()}.`);
    }
  }
}

/**
 * ipam/utils.generate_pools: the whole cidr minus IPv4 network/broadcast (for /30 and wider) or the IPv6 network
 * address, minus the gateway; a single-address cidr keeps its one address.
 */
export function generatePools(net: IpPrefix, gateway: string | null): IpRange[] {
  const v = net.version;
  if (net.size === 1n) return [new IpRange(net.first, net.last)];
  const [first, last] = usable(net);
  const gw = gateway ? IpAddress.parse(gateway) : null;
  const spans: [bigint, bigint][] = [];
  if (gw && gw.version === v && gw.value >= first && gw.value <= last) {
    if (gw.value > first) spans.push([first, gw.value - 1n]);
    if (gw.value < last) spans.push([gw.value + 1n, last]);
  } else spans.push([first, last]);
  return spans.map(([a, b]) => new IpRange(IpAddress.of(v, a), IpAddress.of(v, b)));
}

export const poolOut = (r: IpRange): { start: string; end: string } => ({ start: r.start.toString(), end: r.end.toString() });
