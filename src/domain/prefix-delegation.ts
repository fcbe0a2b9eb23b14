// IPv6 prefix delegation, the API half, as Neutron Zed answers it (neutron/db/db_base_plugin_v2.py
// _get_subnetpool_id, _create_subnet_precommit, _validate_subnet_for_pd, _update_subnet_precommit and
// _update_subnet_postcommit; neutron/db/ipam_backend_mixin.py _validate_network_subnetpools). PURE.
//
// A PD subnet is created with the provisional prefix ::/64 (gateway ::, pool ::1 to ::ffff:ffff:ffff:ffff, and
// `subnetpool_id: "prefix_delegation"`); any number of them may coexist. When the router's DHCPv6-PD client obtains a
// prefix, the subnet takes it (gateway = first host, pools regenerated) and every port's address follows: router
// interfaces take the new gateway, the others their EUI-64 address in the new prefix. A release returns it to ::/64.

import { eui64Address } from './eui64.js';
import { NeutronError, badRequest, conflict, httpBadRequest } from './errors.js';
import { IpAddress, IpPrefix } from './ip.js';
import { generatePools, poolOut } from './allocation-pools.js';
import { IPV6_MIN_MTU, type Ipv6Mode } from './ipv6/index.js';
import { ROUTER_INTERFACE_OWNERS } from './ipv6/owners.js';
import type { SubnetFields, SubnetRequest } from './subnet.js';

/** neutron-lib constants.IPV6_PD_POOL_ID. */
export const PD_POOL_ID = 'prefix_delegation';
/** neutron-lib constants.PROVISIONAL_IPV6_PD_PREFIX. */
export const PROVISIONAL_PD_PREFIX = '::/64';
/** The only delegated length a subnet takes: EUI-64 addressing needs a /64 (Neutron's docs: "pd-length must be 64"). */
export const PD_SUBNET_LENGTH = 64;

export function isPdSubnet(s: object): boolean {
  return (s as { subnetpool_id?: unknown }).subnetpool_id === PD_POOL_ID;
}

/** A PD subnet still waiting for (or having released) its prefix. */
export function isProvisional(s: object): boolean {
  return isPdSubnet(s) && (s as { cidr?: unknown }).cidr === PROVISIONAL_PD_PREFIX;
}

/**
 * Whether a create takes the PD path (_get_subnetpool_id, then _create_subnet_precommit): `subnetpool_id:
 * "prefix_delegation"` always (Neutron needs no option for it), `use_default_subnetpool` for IPv6 when the server runs
 * with ipv6_pd_enabled (it then ignores a default IPv6 pool). A request that also names a cidr drops PD ("We do not
 * currently support requesting a specific cidr with IPv6 prefix delegation") and is a plain cidr subnet. The errors
 * _get_subnetpool_id raises before (both pool id and use_default) stay with the general path.
 */
export function isPdRequest(c: SubnetRequest, pdEnabled: boolean): boolean {
  if (c.cidr !== undefined) return false;
  if (c.use_default_subnetpool === true && c.subnetpool_id) return false;
  if (c.subnetpool_id === PD_POOL_ID) return true;
  return c.use_default_subnetpool === true && c.ip_version === 6 && pdEnabled;
}

/**
 * A cidr with the PD pool id: Neutron sets subnetpool_id to None "and allow[s] the request to continue as normal"
 * (a plain cidr subnet). With use_default_subnetpool as well, the request keeps its pool id for the usual error.
 */
export function withoutPdPool<T extends SubnetRequest>(c: T): T {
  if (c.subnetpool_id !== PD_POOL_ID || c.cidr === undefined || c.use_default_subnetpool === true) return c;
  return { ...c, subnetpool_id: null };
}

export interface PdCreateContext {
  networkId: string;
  networkMtu: number;
  /** The network's IPv6 address scope (network.ipv6_address_scope), if any. */
  networkScope: string | null;
  siblings: readonly { ip_version: number; subnetpool_id?: string | null }[];
}

const PD_MODES: readonly Ipv6Mode[] = ['slaac', 'dhcpv6-stateless'];

/** The stored fields of a new PD subnet, or Neutron's error, in Neutron's order. */
export function buildPdSubnet(c: SubnetRequest, ctx: PdCreateContext): SubnetFields {
  if (c.ip_version === undefined) throw httpBadRequest("Failed to parse request. Required attribute 'ip_version' not specified");
  // ipam.validate_pools_with_subnetpool: only a specific (cidr) request may carry pools.
  if (c.allocation_pools !== undefined) throw badRequest('subnets', 'allocation_pools allowed only for specific subnet requests.');
  // _validate_subnet_for_pd: the messages end in "." and BadRequest adds another (Neutron prints "..").
  if (c.ip_version !== 6) throw badRequest('subnets', 'Prefix Delegation can only be used with IPv6 subnets.');
  if (!PD_MODES.includes(c.ipv6_ra_mode as Ipv6Mode)) throw badRequest('subnets', 'IPv6 RA Mode must be SLAAC or Stateless for Prefix Delegation.');
  if (!PD_MODES.includes(c.ipv6_address_mode as Ipv6Mode)) throw badRequest('subnets', 'IPv6 Address Mode must be SLAAC or Stateless for Prefix Delegation.');
  // _validate_subnet is skipped for PD (validate = False); _validate_subnet_network_mtu is not.
  if (ctx.networkMtu && ctx.networkMtu < IPV6_MIN_MTU) {
    const min = ctx.networkMtu < 68 ? 68 : IPV6_MIN_MTU;
    throw conflict('NetworkMTUSubnetConflict', `MTU of ${ctx.networkId} is not valid, subnet requires a minimum of ${min}`);
  }
  // _validate_network_subnetpools: PD has no pool object, so a network in an address scope refuses it, and every
  // other IPv6 subnet of the network must be a PD subnet too.
  if (ctx.networkScope) {
    throw new NeutronError(400, 'NetworkAddressScopeAffinityError', 'Subnets of the same address family hosted on the same network must all participate in the same address scope.');
  }
  if (ctx.siblings.some((s) => Number(s.ip_version) === 6 && s.subnetpool_id !== PD_POOL_ID)) {
    throw new NeutronError(400, 'NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.');
  }
  const net = IpPrefix.parse(PROVISIONAL_PD_PREFIX)!;
  // allocate_subnet treats ::/64 as a specific request: _gateway_ip_str gives IPv6 the subnet-router anycast address.
  const gateway = c.gateway_ip !== undefined ? c.gateway_ip : net.network.toString();
  const enableDhcp = c.enable_dhcp ?? true;
  return {
    ip_version: 6,
    cidr: net.toString(),
    gateway_ip: gateway,
    allocation_pools: generatePools(net, gateway).map(poolOut),
    dns_nameservers: c.dns_nameservers ?? [],
    host_routes: (c.host_routes ?? []).map((r) => ({ destination: r.destination, nexthop: IpAddress.parse(r.nexthop)?.toString() ?? r.nexthop })),
    enable_dhcp: enableDhcp,
    ipv6_ra_mode: enableDhcp ? (c.ipv6_ra_mode ?? null) : null,
    ipv6_address_mode: enableDhcp ? (c.ipv6_address_mode ?? null) : null,
    subnetpool_id: PD_POOL_ID,
  };
}

/**
 * The prefix a PD subnet takes, from what its router's client obtained: null (released) is the provisional ::/64;
 * else an IPv6 /64 outside the link-local, multicast and unspecified ranges. Throws a 400 for anything else.
 */
export function parseDelegatedPrefix(value: unknown): IpPrefix {
  if (value === null) return IpPrefix.parse(PROVISIONAL_PD_PREFIX)!;
  const p = typeof value === 'string' ? IpPrefix.parse(value) : null;
  if (!p || p.version !== 6) throw httpBadRequest(`prefix must be an IPv6 prefix such as 2001:db8:face::/64, or null to release, not ${JSON.stringify(value)}`);
  if (p.length !== PD_SUBNET_LENGTH) throw httpBadRequest(`a delegated subnet prefix must be a /${PD_SUBNET_LENGTH} (EUI-64 addressing), not /${p.length}`);
  if (!IpPrefix.parse(value, true)) throw httpBadRequest(`${JSON.stringify(value)} has host bits set`);
  const special = ['fe80::/10', 'ff00::/8'].map((x) => IpPrefix.parse(x)!);
  if (p.network.value === 0n || special.some((s) => s.contains(p.network))) throw httpBadRequest(`${p.toString()} cannot be delegated to a subnet`);
  return p;
}

/**
 * _update_subnet_precommit for a PD subnet given a new cidr: gateway_ip = the first host (utils.get_first_host_ip),
 * allocation pools regenerated around it. So a release gives ::/64 with gateway ::1 (not the :: of a new PD subnet).
 */
export function delegatedSubnetFields(prefix: IpPrefix): Pick<SubnetFields, 'cidr' | 'gateway_ip' | 'allocation_pools'> {
  const gateway = prefix.network.add(1n).toString();
  return { cidr: prefix.toString(), gateway_ip: gateway, allocation_pools: generatePools(prefix, gateway).map(poolOut) };
}

export interface PdPort {
  id: string;
  mac_address: string;
  device_owner: string;
  fixed_ips: readonly { subnet_id: string; ip_address: string }[];
}

/**
 * _update_subnet_postcommit: every port with an address on the subnet moves to the new prefix; router interfaces
 * take the new gateway, other ports their EUI-64 address (the IPAM driver's eui64_address path). Returns each
 * port's new fixed_ips (other subnets' addresses unchanged) with what to release and take.
 */
export function planPdRenumbering(
  subnet: { id: string; gateway_ip: string | null; cidr: string },
  ports: readonly PdPort[],
): { port_id: string; release: string[]; take: string[]; fixed_ips: { subnet_id: string; ip_address: string }[] }[] {
  const prefix = IpPrefix.parse(subnet.cidr)!;
  const out = [];
  for (const port of ports) {
    const mine = port.fixed_ips.filter((f) => f.subnet_id === subnet.id);
    if (!mine.length) continue;
    const router = ROUTER_INTERFACE_OWNERS.has(port.device_owner);
    const next = router ? (subnet.gateway_ip ?? prefix.network.add(1n).toString()) : eui64Address(prefix, port.mac_address).toString();
    const release = mine.map((f) => f.ip_address).filter((ip) => ip !== next);
    const take = mine.some((f) => f.ip_address === next) ? [] : [next];
    if (!release.length && !take.length) continue;
    // The subnet's one address keeps its place among the port's fixed_ips.
    const at = port.fixed_ips.findIndex((f) => f.subnet_id === subnet.id);
    const others = port.fixed_ips.filter((f) => f.subnet_id !== subnet.id);
    const fixedIps = [...others.slice(0, at), { subnet_id: subnet.id, ip_address: next }, ...others.slice(at)];
    out.push({ port_id: port.id, release, take, fixed_ips: fixedIps });
  }
  return out;
}
