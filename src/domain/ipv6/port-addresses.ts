// Which addresses a port gets, as a plan the store carries out (api/ipam.ts). Neutron's rules, from
// neutron/db/ipam_pluggable_backend.py (_allocate_ips_for_port, _test_fixed_ips_for_port, _get_auto_address_ips,
// _update_ips_for_port, add_auto_addrs_on_network_ports), neutron/db/ipam_backend_mixin.py (_get_subnet_for_fixed_ip,
// _classify_subnets, _get_changed_ips_for_port, _is_ip_required_by_subnet) and neutron/ipam/utils.py
// (check_subnet_ip). PURE: no store, no allocation; the errors are Neutron's, raised before anything is allocated.

import { eui64Address } from '../eui64.js';
import { badAttribute, invalidInput, ipam as ipamError } from '../errors.js';
import { IpAddress, IpPrefix } from '../ip.js';
import { isAutoAddressSubnet, type Modes } from './modes.js';
import { AUTO_DELETE_PORT_OWNERS, ROUTER_INTERFACE_OWNERS, ROUTER_INTERFACE_OWNERS_SNAT, ROUTER_PORT_OWNERS, getsAutoAddresses } from './owners.js';

/** Neutron's max_fixed_ips_per_port default. */
export const MAX_FIXED_IPS_PER_PORT = 5;

export interface AddressingSubnet extends Modes {
  id: string;
  ip_version: number;
  cidr: string;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

/** One fixed_ips entry of a request: a subnet, an address, or both. */
export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

export interface AddressedPort {
  network_id: string;
  mac_address: string;
  device_owner: string;
}

/**
 * One address to take. `eui64`: computed from the MAC on an auto-address subnet; `fixed`: named by the request;
 * `pool`: the next free pool address of the first of `subnet_ids` with room (IpAddressGenerationFailure when none).
 */
export type AddressStep =
  | { kind: 'eui64'; subnet_id: string; ip_address: string }
  | { kind: 'fixed'; subnet_id: string; ip_address: string }
  | { kind: 'pool'; subnet_ids: string[] };

function isAuto(s: AddressingSubnet): boolean {
  return s.ip_version === 6 && isAutoAddressSubnet(s);
}

function eui64Of(s: AddressingSubnet, mac: string): string {
  return eui64Address(IpPrefix.parse(s.cidr)!, mac).toString();
}

/**
 * ipam/utils.check_subnet_ip: the address is inside the subnet; for IPv4 it is neither the network address nor the
 * broadcast address (netaddr has no broadcast for a /31 or /32); for IPv6 the subnet-router anycast address (the
 * network address) is only for router ports, or for a port whose owner is not known yet ('').
 */
export function checkSubnetIp(cidr: string, ip: IpAddress, deviceOwner: string): boolean {
  const prefix = IpPrefix.parse(cidr)!;
  if (prefix.version !== ip.version || !prefix.contains(ip)) return false;
  if (prefix.version === 4) return !ip.equals(prefix.first) && (prefix.length >= 31 || !ip.equals(prefix.last));
  return deviceOwner === '' || ROUTER_PORT_OWNERS.has(deviceOwner) || !ip.equals(prefix.first);
}

/** _get_subnet_for_fixed_ip: the subnet a fixed_ips entry is on, with Neutron's errors. */
function subnetForFixedIp(port: AddressedPort, subnets: readonly AddressingSubnet[], r: FixedIpRequest, ip: IpAddress | null): AddressingSubnet {
  if (!subnets.length) throw invalidInput('IP allocation requires subnets for network');
  if (r.subnet_id !== undefined) {
    const subnet = subnets.find((s) => s.id === r.subnet_id);
    if (!subnet) {
      throw invalidInput(`Failed to create port on network ${port.network_id}, because fixed_ips included invalid subnet ${r.subnet_id}`);
    }
    if (ip && !checkSubnetIp(subnet.cidr, ip, port.device_owner)) throw ipamError.invalidIpForSubnet(ip.toString());
    return subnet;
  }
  if (!ip) throw badAttribute('fixed_ips', 'Exactly one of subnet_id or ip_address must be given');
  const subnet = subnets.find((s) => checkSubnetIp(s.cidr, ip, port.device_owner));
  if (!subnet) throw ipamError.invalidIpForNetwork(ip.toString());
  return subnet;
}

/**
 * The addresses of a port, in the order they appear in its fixed_ips:
 * - no fixed_ips asked for: one address from the IPv4 subnets and one from the stateful (non-auto) IPv6 subnets, each
 *   from the first subnet of its group with room (_classify_subnets, IpamSubnetGroup);
 * - fixed_ips asked for: each entry as asked. An address on an auto-address subnet must be the port's EUI-64 address
 *   (else AllocationOnAutoAddressSubnet) unless a router interface holds it; a subnet_id alone on an auto-address
 *   subnet adds nothing for ports that get automatic addresses anyway;
 * - then, unless the owner is a router interface (ROUTER_INTERFACE_OWNERS_SNAT), the EUI-64 address on every
 *   SLAAC / DHCPv6-stateless subnet not yet covered (by a step here or by an address in `have`).
 * Every entry is checked before anything is allocated, as Neutron tests all fixed IPs first.
 */
export function planPortAddresses(
  port: AddressedPort,
  subnets: readonly AddressingSubnet[],
  requested: readonly FixedIpRequest[] | undefined,
  have: readonly FixedIp[] = [],
): AddressStep[] {
  const steps: AddressStep[] = [];
  if (requested === undefined) {
    const v4 = subnets.filter((s) => s.ip_version === 4);
    const v6Stateful = subnets.filter((s) => s.ip_version === 6 && !isAuto(s));
    for (const group of [v4, v6Stateful]) if (group.length) steps.push({ kind: 'pool', subnet_ids: group.map((s) => s.id) });
  } else {
    if (requested.length > MAX_FIXED_IPS_PER_PORT) throw invalidInput('Exceeded maximum amount of fixed ips per port');
    for (const r of requested) {
      const ip = r.ip_address === undefined ? null : IpAddress.parse(r.ip_address);
      if (r.ip_address !== undefined && !ip) throw badAttribute('fixed_ips', `'${r.ip_address}' is not a valid IP address`);
      const subnet = subnetForFixedIp(port, subnets, r, ip);
      if (ip) {
        if (isAuto(subnet) && !ROUTER_INTERFACE_OWNERS.has(port.device_owner) && eui64Of(subnet, port.mac_address) !== ip.toString()) {
          throw ipamError.onAutoAddressSubnet(ip.toString(), subnet.id);
        }
        steps.push({ kind: 'fixed', subnet_id: subnet.id, ip_address: ip.toString() });
      } else if (!isAuto(subnet) || ROUTER_INTERFACE_OWNERS_SNAT.has(port.device_owner)) {
        steps.push({ kind: 'pool', subnet_ids: [subnet.id] });
      }
    }
  }
  if (getsAutoAddresses(port.device_owner)) {
    const covered = new Set([...have.map((f) => f.subnet_id), ...steps.flatMap((s) => (s.kind === 'pool' ? [] : [s.subnet_id]))]);
    for (const s of subnets) {
      if (isAuto(s) && !covered.has(s.id)) steps.push({ kind: 'eui64', subnet_id: s.id, ip_address: eui64Of(s, port.mac_address) });
    }
  }
  return steps;
}

export interface AddressUpdatePlan {
  /** Addresses the port keeps. */
  keep: FixedIp[];
  /** Addresses it gives back. */
  release: FixedIp[];
  /** New addresses, after the kept ones. */
  steps: AddressStep[];
}

/**
 * A PUT of fixed_ips (_get_changed_ips_for_port): an entry naming an address the port has (or only the subnet of one)
 * keeps it; the others are new. Addresses no longer named are released, except the automatic addresses of ports that
 * get them: those stay until their subnet goes (_is_ip_required_by_subnet).
 */
export function planPortAddressUpdate(
  port: AddressedPort,
  subnets: readonly AddressingSubnet[],
  current: readonly FixedIp[],
  requested: readonly FixedIpRequest[],
): AddressUpdatePlan {
  const keep: FixedIp[] = [];
  const fresh: FixedIpRequest[] = [];
  for (const r of requested) {
    const wanted = r.ip_address === undefined ? null : IpAddress.parse(r.ip_address);
    const match = current.find(
      (c) =>
        !keep.includes(c) &&
        (r.subnet_id === undefined || r.subnet_id === c.subnet_id) &&
        (wanted === null || wanted.equals(IpAddress.parse(c.ip_address)!)),
    );
    if (match) keep.push(match);
    else fresh.push(r);
  }
  const auto = new Set(subnets.filter(isAuto).map((s) => s.id));
  if (getsAutoAddresses(port.device_owner)) for (const c of current) if (auto.has(c.subnet_id) && !keep.includes(c)) keep.push(c);
  const release = current.filter((c) => !keep.includes(c));
  return { keep, release, steps: planPortAddresses(port, subnets, fresh, keep) };
}

/**
 * A MAC change moves every EUI-64 address with it (Neutron LP#1671548): the new address of each fixed IP on an
 * auto-address subnet, for ports that get automatic addresses. Returns the moves; other addresses stay.
 */
export function planEui64Renumbering(
  port: { device_owner: string },
  subnets: readonly AddressingSubnet[],
  fixedIps: readonly FixedIp[],
  newMac: string,
): { subnet_id: string; from: string; to: string }[] {
  if (!getsAutoAddresses(port.device_owner)) return [];
  const byId = new Map(subnets.map((s) => [s.id, s]));
  return fixedIps.flatMap((f) => {
    const s = byId.get(f.subnet_id);
    return s && isAuto(s) ? [{ subnet_id: f.subnet_id, from: f.ip_address, to: eui64Of(s, newMac) }] : [];
  });
}

/**
 * add_auto_addrs_on_network_ports: the EUI-64 address a port already on the network gets when an auto-address subnet
 * is added; null for router interfaces, for ports that have an address there, and for other subnets.
 */
export function backfillAddress(subnet: AddressingSubnet, port: AddressedPort & { fixed_ips: readonly FixedIp[] }): string | null {
  if (!isAuto(subnet) || !getsAutoAddresses(port.device_owner)) return null;
  if (port.fixed_ips.some((f) => f.subnet_id === subnet.id)) return null;
  return eui64Of(subnet, port.mac_address);
}

/**
 * Whether deleting a subnet may take a port's address on it instead of failing with SubnetInUse
 * (db_base_plugin_v2._remove_subnet_ip_allocations_from_ports): never from router interfaces; always from DHCP (and
 * the other AUTO_DELETE_PORT_OWNERS); from every other port on an auto-address (SLAAC / DHCPv6-stateless) subnet, even
 * when it is the port's only address (Neutron Zed answers 204 there and leaves the port without addresses; Tempest's
 * IPv6 tests delete such subnets under their ports).
 */
export function subnetDeleteTakesAddress(subnet: AddressingSubnet, deviceOwner: string): boolean {
  if (ROUTER_INTERFACE_OWNERS.has(deviceOwner)) return false;
  if (AUTO_DELETE_PORT_OWNERS.has(deviceOwner)) return true;
  return isAuto(subnet);
}
