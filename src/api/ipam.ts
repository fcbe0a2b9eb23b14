// IPAM against the store: carries out the address plans of domain/ipv6/port-addresses.ts (which addresses a port
// gets, Neutron's rules, pure) with domain/ipam.ts's next-fit walk over the store's cursor, allocation and released
// rows. No addressing rule is decided here.

import { ipam as ipamError } from '../domain/errors.js';
import { IpAddress } from '../domain/ip.js';
import { isBehindCursor, nextCandidate, poolRanges } from '../domain/ipam.js';
import {
  isAutoAddressSubnet,
  planEui64Renumbering,
  planPortAddresses,
  planPortAddressUpdate,
  type AddressedPort,
  type AddressStep,
  type FixedIp,
  type FixedIpRequest,
} from '../domain/ipv6/index.js';
import type { Doc, Tx } from '../store/types.js';

export type { FixedIp, FixedIpRequest };

type Subnet = Doc & {
  network_id: string;
  ip_version: 4 | 6;
  cidr: string;
  allocation_pools: { start: string; end: string }[];
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
};

/** Hands out the next free pool address of a subnet, or null when the subnet is full. */
export async function allocateAny(tx: Tx, subnet: Subnet, portId: string): Promise<string | null> {
  const ranges = poolRanges(subnet.allocation_pools);
  const cursorText = await tx.ipamCursor(subnet.id);
  let candidate = nextCandidate(ranges, cursorText === null ? null : IpAddress.parse(cursorText));
  while (candidate) {
    const ip = candidate.toString();
    if (await tx.tryAllocate({ subnet_id: subnet.id, ip_address: ip, port_id: portId, network_id: subnet.network_id }, true)) return ip;
    candidate = nextCandidate(ranges, candidate);
  }
  // The walk has reached the end of the pools: park the cursor there and reuse what was freed behind it.
  if (ranges.length && cursorText !== ranges[ranges.length - 1]!.end.toString()) {
    await tx.setIpamCursor(subnet.id, ranges[ranges.length - 1]!.end.toString());
  }
  for (;;) {
    const ip = await tx.takeReleased(subnet.id);
    if (ip === undefined) return null;
    // A released address may have been taken since as a fixed IP; then try the next one.
    if (await tx.tryAllocate({ subnet_id: subnet.id, ip_address: ip, port_id: portId, network_id: subnet.network_id })) return ip;
  }
}

/** Takes one given address on a subnet (one statement); 409 IpAddressAlreadyAllocated when someone holds it. */
export async function allocateSpecific(tx: Tx, subnet: Subnet, ip: string, portId: string): Promise<void> {
  if (!(await tx.tryAllocate({ subnet_id: subnet.id, ip_address: ip, port_id: portId, network_id: subnet.network_id }))) {
    throw ipamError.alreadyAllocated(ip, subnet.id);
  }
}

export async function releaseAddress(tx: Tx, subnet: Subnet | undefined, subnetId: string, ip: string): Promise<void> {
  let behind = false;
  if (subnet && !isAutoAddressSubnet(subnet)) {
    const cursor = await tx.ipamCursor(subnetId);
    behind = isBehindCursor(poolRanges(subnet.allocation_pools), IpAddress.parse(ip)!, cursor === null ? null : IpAddress.parse(cursor));
  }
  await tx.release(subnetId, ip, behind);
}

export async function releasePortAddresses(tx: Tx, port: Doc): Promise<void> {
  const cache = new Map<string, Subnet | undefined>();
  for (const f of port.fixed_ips as FixedIp[]) {
    if (!cache.has(f.subnet_id)) cache.set(f.subnet_id, (await tx.get('subnet', f.subnet_id)) as Subnet | undefined);
    await releaseAddress(tx, cache.get(f.subnet_id), f.subnet_id, f.ip_address);
  }
}

type PortRef = AddressedPort & { id: string };

/**
 * Takes the planned addresses: the named and EUI-64 ones first, then the pool ones (so a pool walk cannot take an
 * address another entry names, as Neutron sorts specific requests first); fixed_ips in the plan's order.
 */
async function carryOut(tx: Tx, port: PortRef, subnets: readonly Subnet[], steps: readonly AddressStep[]): Promise<FixedIp[]> {
  const byId = new Map(subnets.map((s) => [s.id as string, s]));
  const got: (FixedIp | null)[] = steps.map(() => null);
  for (const [i, step] of steps.entries()) {
    if (step.kind === 'pool') continue;
    await allocateSpecific(tx, byId.get(step.subnet_id)!, step.ip_address, port.id);
    got[i] = { subnet_id: step.subnet_id, ip_address: step.ip_address };
  }
  for (const [i, step] of steps.entries()) {
    if (step.kind !== 'pool') continue;
    for (const id of step.subnet_ids) {
      const ip = await allocateAny(tx, byId.get(id)!, port.id);
      if (ip !== null) {
        got[i] = { subnet_id: id, ip_address: ip };
        break;
      }
    }
    if (!got[i]) throw ipamError.generationFailure(port.network_id);
  }
  return got as FixedIp[];
}

/** Allocates a new port's addresses (planPortAddresses); `requested` undefined when the request had no fixed_ips. */
export async function assignAddresses(tx: Tx, port: PortRef, subnets: Subnet[], requested: FixedIpRequest[] | undefined): Promise<FixedIp[]> {
  return carryOut(tx, port, subnets, planPortAddresses(port, subnets, requested));
}

/** A PUT of a port's fixed_ips (planPortAddressUpdate): frees what is no longer named, takes what is new. */
export async function updatePortAddresses(tx: Tx, port: PortRef, subnets: Subnet[], current: FixedIp[], requested: FixedIpRequest[]): Promise<FixedIp[]> {
  const plan = planPortAddressUpdate(port, subnets, current, requested);
  for (const f of plan.release) await releaseAddress(tx, subnets.find((s) => s.id === f.subnet_id), f.subnet_id, f.ip_address);
  const added = await carryOut(tx, port, subnets, plan.steps);
  return [...plan.keep, ...added.filter((a) => !plan.keep.some((k) => k.subnet_id === a.subnet_id && k.ip_address === a.ip_address))];
}

/** A MAC change: each EUI-64 address moves to the new MAC's (planEui64Renumbering). */
export async function renumberEui64(tx: Tx, port: { id: string; device_owner: string }, subnets: Subnet[], fixedIps: FixedIp[], newMac: string): Promise<FixedIp[]> {
  const moves = planEui64Renumbering(port, subnets, fixedIps, newMac);
  const out: FixedIp[] = [];
  for (const f of fixedIps) {
    const move = moves.find((m) => m.subnet_id === f.subnet_id && m.from === f.ip_address);
    if (!move) {
      out.push(f);
      continue;
    }
    const subnet = subnets.find((s) => s.id === f.subnet_id)!;
    await releaseAddress(tx, subnet, f.subnet_id, f.ip_address);
    await allocateSpecific(tx, subnet, move.to, port.id);
    out.push({ subnet_id: f.subnet_id, ip_address: move.to });
  }
  return out;
}

export type { Subnet };
