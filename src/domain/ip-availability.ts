// network-ip-availability (neutron/db/network_ip_availability_db.py): per network and per subnet, how many addresses
// the allocation pools hold (total_ips) and how many are allocated (used_ips). Pure: the caller reads the store.
//
// An IPv6 /64's pools hold 2^64 - 2 addresses, far past 2^53, so the totals are BigInt and the JSON is written with
// exactJson (JSON.stringify cannot write a BigInt, and a float would round it): Neutron answers Python integers,
// exact, and Tempest compares them exactly (calc_total_ips in neutron_tempest_plugin).

import { poolRanges, poolSize, type PoolText } from './ipam.js';

export interface AvailabilityNetwork {
  id: string;
  name: string;
  project_id: string;
}

export interface AvailabilitySubnet {
  id: string;
  name: string;
  cidr: string;
  ip_version: number;
  network_id: string;
  allocation_pools: readonly PoolText[];
}

export interface SubnetIpAvailability {
  subnet_id: string;
  subnet_name: string;
  cidr: string;
  ip_version: number;
  total_ips: bigint;
  used_ips: bigint;
}

export interface NetworkIpAvailability {
  network_id: string;
  network_name: string;
  tenant_id: string;
  project_id: string;
  total_ips: bigint;
  used_ips: bigint;
  subnet_ip_availability: SubnetIpAvailability[];
}

/**
 * One network's availability. `used` counts each subnet's allocation rows (Neutron counts IPAllocation rows, in the
 * pools or not: the gateway of a router interface, a fixed IP outside the pools); `total` is the pools' size, so a
 * subnet without pools counts 0. The network's figures are its subnets' sums.
 */
export function networkIpAvailability(
  network: AvailabilityNetwork,
  subnets: readonly AvailabilitySubnet[],
  used: ReadonlyMap<string, number>,
): NetworkIpAvailability {
  const rows: SubnetIpAvailability[] = subnets.map((s) => ({
    subnet_id: s.id,
    subnet_name: s.name,
    cidr: s.cidr,
    ip_version: s.ip_version,
    total_ips: poolSize(poolRanges(s.allocation_pools)),
    used_ips: BigInt(used.get(s.id) ?? 0),
  }));
  return {
    network_id: network.id,
    network_name: network.name,
    tenant_id: network.project_id,
    project_id: network.project_id,
    total_ips: rows.reduce((n, r) => n + r.total_ips, 0n),
    used_ips: rows.reduce((n, r) => n + r.used_ips, 0n),
    subnet_ip_availability: rows,
  };
}

/**
 * JSON text of a value that may hold BigInts, each written as its exact decimal integer (JSON numbers have no size
 * limit; Python's json reads them as ints). Everything else is JSON.stringify's.
 */
export function exactJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : exactJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      parts.push(`${JSON.stringify(k)}:${exactJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}
