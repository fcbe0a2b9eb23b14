// IPAM against the store: which addresses a port gets on which subnets (Neutron's rules, facts note A.4), and
// the allocation itself (domain/ipam.ts's next-fit walk over the store's cursor, allocation and released rows).

import { eui64Address } from '../domain/eui64.js';
import { badAttribute, invalidInput, ipam as ipamError } from '../domain/errors.js';
import { IpAddress, IpPrefix } from '../domain/ip.js';
import { isBehindCursor, nextCandidate, poolRanges } from '../domain/ipam.js';
import { isAutoAddressSubnet } from '../domain/ipv6-modes.js';
import type { Doc, Tx } from '../store/types.js';

/** Neutron's ROUTER_INTERFACE_OWNERS_SNAT: they take the gateway address and get no EUI-64 addresses. */
export const ROUTER_INTERFACE_OWNERS = new Set([
  'network:router_interface',
  'network:ha_router_replicated_interface',
  'network:router_interface_distributed',
  'network:router_centralized_snat',
]);

/** Neutron's max_fixed_ips_per_port default. */
const MAX_FIXED_IPS_PER_PORT = 5;

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

type Subnet = Doc & {
  network_id: string;
  ip_version: 4 | 6;
  cidr: string;
  allocation_pools: { start: string; end: string }[];
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
};

function isAuto(s: Subnet): boolean {
  return s.ip_version === 6 && isAutoAddressSubnet(s);
}

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
  if (subnet && !isAuto(subnet)) {
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

/** Checks a requested address against its subnet the way Neutron's check_subnet_ip does. */
function checkAddressInSubnet(subnet: Subnet, ip: IpAddress, owner: string): void {
  const prefix = IpPrefix.parse(subnet.cidr)!;
  if (!prefix.contains(ip)) throw ipamError.invalidIpForSubnet(ip.toString());
  if (prefix.version === 4 && prefix.length < 31 && (ip.equals(prefix.first) || ip.equals(prefix.last))) {
    throw ipamError.invalidIpForSubnet(ip.toString());
  }
  // The IPv6 subnet-router anycast address belongs to routers (and to ports whose owner is not yet known).
  if (prefix.version === 6 && ip.equals(prefix.first) && owner !== '' && !ROUTER_INTERFACE_OWNERS.has(owner)) {
    throw ipamError.invalidIpForSubnet(ip.toString());
  }
}

/**
 * Allocates a new port's addresses. With no request: one address from the first IPv4 subnet with room, one from
 * the first stateful IPv6 subnet with room, and an EUI-64 address on every SLAAC / DHCPv6-stateless subnet
 * (router interfaces excepted). With a request: exactly the requested addresses, plus the automatic ones.
 */
export async function assignAddresses(
  tx: Tx,
  port: { id: string; network_id: string; mac_address: string; device_owner: string },
  subnets: Subnet[],
  requested: FixedIpRequest[] | undefined,
): Promise<FixedIp[]> {
  const routerOwner = ROUTER_INTERFACE_OWNERS.has(port.device_owner);
  const out: FixedIp[] = [];
  if (requested === undefined) {
    const groups = [subnets.filter((s) => s.ip_version === 4), subnets.filter((s) => s.ip_version === 6 && !isAuto(s))];
    for (const group of groups) {
      if (!group.length) continue;
      let got: FixedIp | null = null;
      for (const s of group) {
        const ip = await allocateAny(tx, s, port.id);
        if (ip !== null) {
          got = { subnet_id: s.id, ip_address: ip };
          break;
        }
      }
      if (!got) throw ipamError.generationFailure(port.network_id);
      out.push(got);
    }
  } else {
    if (requested.length > MAX_FIXED_IPS_PER_PORT) throw invalidInput('Exceeded maximum amount of fixed ips per port');
    for (const r of requested) out.push(...(await assignRequested(tx, port, subnets, r, routerOwner)));
  }
  if (!routerOwner) {
    for (const s of subnets.filter(isAuto)) {
      if (out.some((f) => f.subnet_id === s.id)) continue;
      const ip = eui64Address(IpPrefix.parse(s.cidr)!, port.mac_address).toString();
      await allocateSpecific(tx, s, ip, port.id);
      out.push({ subnet_id: s.id, ip_address: ip });
    }
  }
  return out;
}

async function assignRequested(
  tx: Tx,
  port: { id: string; network_id: string; mac_address: string; device_owner: string },
  subnets: Subnet[],
  r: FixedIpRequest,
  routerOwner: boolean,
): Promise<FixedIp[]> {
  let subnet: Subnet | undefined;
  if (r.subnet_id !== undefined) {
    subnet = subnets.find((s) => s.id === r.subnet_id);
    if (!subnet) {
      throw invalidInput(
        `Failed to create port on network ${port.network_id}, because fixed_ips included invalid subnet ${r.subnet_id}`,
      );
    }
  }
  if (r.ip_address === undefined) {
    if (!subnet) throw badAttribute('fixed_ips', 'Exactly one of subnet_id or ip_address must be given');
    if (isAuto(subnet) && !routerOwner) return []; // the automatic EUI-64 address comes anyway
    const ip = await allocateAny(tx, subnet, port.id);
    if (ip === null) throw ipamError.generationFailure(port.network_id);
    return [{ subnet_id: subnet.id, ip_address: ip }];
  }
  const ip = IpAddress.parse(r.ip_address);
  if (!ip) throw badAttribute('fixed_ips', `'${r.ip_address}' is not a valid IP address`);
  if (!subnet) {
    subnet = subnets.find((s) => IpPrefix.parse(s.cidr)!.contains(ip));
    if (!subnet) throw ipamError.invalidIpForNetwork(ip.toString());
  }
  checkAddressInSubnet(subnet, ip, port.device_owner);
  if (isAuto(subnet) && !routerOwner) {
    const eui = eui64Address(IpPrefix.parse(subnet.cidr)!, port.mac_address);
    if (!eui.equals(ip)) throw ipamError.onAutoAddressSubnet(ip.toString(), subnet.id);
  }
  await allocateSpecific(tx, subnet, ip.toString(), port.id);
  return [{ subnet_id: subnet.id, ip_address: ip.toString() }];
}

/** Parses a fixed_ips attribute value (validation only; allocation happens in assignAddresses). */
export function parseFixedIps(value: unknown): FixedIpRequest[] {
  if (!Array.isArray(value)) throw badAttribute('fixed_ips', `'${String(value)}' is not a list`);
  return value.map((e) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) {
      throw badAttribute('fixed_ips', `'${JSON.stringify(e)}' is not a dictionary`);
    }
    const entry = e as Record<string, unknown>;
    const extra = Object.keys(entry).filter((k) => k !== 'subnet_id' && k !== 'ip_address');
    if (extra.length) throw badAttribute('fixed_ips', `Unrecognized attribute(s) '${extra.join(', ')}'`);
    const out: FixedIpRequest = {};
    if (entry.subnet_id !== undefined) {
      if (typeof entry.subnet_id !== 'string') throw badAttribute('fixed_ips', `'${String(entry.subnet_id)}' is not a valid UUID`);
      out.subnet_id = entry.subnet_id;
    }
    if (entry.ip_address !== undefined) {
      if (typeof entry.ip_address !== 'string' || !IpAddress.parse(entry.ip_address)) {
        throw badAttribute('fixed_ips', `'${String(entry.ip_address)}' is not a valid IP address`);
      }
      out.ip_address = entry.ip_address;
    }
    if (out.subnet_id === undefined && out.ip_address === undefined) {
      throw badAttribute('fixed_ips', 'Exactly one of subnet_id or ip_address must be given');
    }
    return out;
  });
}

export type { Subnet };
