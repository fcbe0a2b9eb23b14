// Subnet rules, as Neutron Zed applies them on POST/PUT /v2.0/subnets after the attribute conversion (which is the
// schema's, src/schema/resources/subnet.ts): the plugin checks of neutron/db/db_base_plugin_v2.py
// (_create_subnet_precommit, _validate_subnet, _validate_ipv6_attributes), neutron/db/ipam_backend_mixin.py
// (overlap, pool affinity) and the gateway defaults of neutron/ipam/utils.py; the pools are allocation-pools.ts'.
// Checks run in Neutron's order so a request with several faults gets Neutron's first error.
// Pure functions: the caller supplies the converted request, the network's MTU, its other subnets and any prefix
// taken from a subnet pool.

import { IpAddress, IpPrefix, IpRange, type IpVersion } from './ip.js';
import { NeutronError, badRequest, conflict, httpBadRequest, invalidInput } from './errors.js';
import { IPV4_MIN_MTU, IPV6_MIN_MTU, ipv6AttributesError, ipv6DhcpUpdateError, type Ipv6Mode } from './ipv6/index.js';
import { canonicalIp, parseCidrLoose } from './netaddr.js';
import { checkGatewayOutOfPools, generatePools, poolOut, validatePools, type PoolRequest } from './allocation-pools.js';
import { checkNetworkPoolAffinity } from './subnetpool.js';

export { generatePools } from './allocation-pools.js';

/**
 * A converted POST/PUT body (the schema's converters ran): a key is present only when the request carried it.
 * cidr and the routes are as given (valid); gateway_ip is canonical.
 */
export interface SubnetRequest {
  ip_version?: IpVersion;
  subnetpool_id?: string | null;
  prefixlen?: number;
  cidr?: string;
  gateway_ip?: string | null;
  allocation_pools?: PoolRequest[];
  dns_nameservers?: string[];
  host_routes?: { destination: string; nexthop: string }[];
  enable_dhcp?: boolean;
  ipv6_ra_mode?: Ipv6Mode | null;
  ipv6_address_mode?: Ipv6Mode | null;
  use_default_subnetpool?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Public types.

/** A stored subnet: the fields the rules decide, plus its identity and the standard attributes. */
export interface SubnetDoc extends SubnetFields {
  id: string;
  network_id: string;
  [k: string]: unknown;
}

export interface SubnetCreateContext {
  networkId: string;
  networkMtu: number;
  /** Other subnets on the same network. */
  siblings: SubnetDoc[];
  /** Set when the caller allocated the cidr from a subnet pool (allocateFromPool); addressScopeId: the pool's scope. */
  fromPool?: { subnetpoolId: string; cidr: string; addressScopeId?: string | null };
  /** The address scope the network's subnets of this family participate in (ipv4/ipv6_address_scope). */
  networkScopeId?: string | null;
}

export interface SubnetFields {
  ip_version: 4 | 6;
  cidr: string;
  gateway_ip: string | null;
  allocation_pools: { start: string; end: string }[];
  dns_nameservers: string[];
  host_routes: { destination: string; nexthop: string }[];
  enable_dhcp: boolean;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  subnetpool_id: string | null;
}

/** neutron-lib constants.PROVISIONAL_IPV6_PD_PREFIX. */
const PD_PREFIX = '::/64';
/** neutron.conf max_dns_nameservers and max_subnet_host_routes defaults. */
export const MAX_DNS_NAMESERVERS = 5;
export const MAX_SUBNET_HOST_ROUTES = 20;

// ---------------------------------------------------------------------------------------------------------------
// Request kind (db_base_plugin_v2._create_subnet_precommit and _get_subnetpool_id).

function requestKind(c: SubnetRequest): 'cidr' | 'pool' | 'default-pool' {
  if (c.cidr && c.prefixlen !== undefined) throw badRequest('subnets', 'cidr and prefixlen must not be supplied together');
  const poolId = c.subnetpool_id ?? null;
  const useDefault = c.use_default_subnetpool === true;
  if (useDefault && poolId) throw badRequest('subnets', 'subnetpool_id and use_default_subnetpool cannot both be specified');
  const kind = poolId ? 'pool' : useDefault ? 'default-pool' : 'cidr';
  if (kind === 'cidr' && !c.cidr) throw badRequest('subnets', 'a subnetpool must be specified in the absence of a cidr');
  // ipam_backend_mixin.validate_pools_with_subnetpool: only a specific (cidr) request may carry pools.
  if (kind !== 'cidr' && !c.cidr && c.allocation_pools !== undefined) {
    throw badRequest('subnets', 'allocation_pools allowed only for specific subnet requests.');
  }
  return kind;
}

/**
 * Which path a create takes: an explicit cidr, a named subnet pool (subnetpool_id) or the default pool of the IP
 * family (use_default_subnetpool). Validates every attribute first, so attribute errors come before these.
 * With a pool, the caller allocates with allocateFromPool and passes the result to buildSubnet as ctx.fromPool.
 */
export function subnetRequestKind(c: SubnetRequest): 'cidr' | 'pool' | 'default-pool' {
  return requestKind(c);
}

// ---------------------------------------------------------------------------------------------------------------
// Plugin-level checks.

function ipVersionMismatch(name: string, addr: string, version: IpVersion): NeutronError {
  return invalidInput(`${name} '${addr}' does not match the ip_version '${version}'`);
}

/** ipam/utils.check_gateway_invalid_in_subnet: only an IPv4 network or broadcast address inside the cidr. */
function gatewayInvalidInSubnet(net: IpPrefix, gateway: IpAddress): boolean {
  return net.version === 4 && net.contains(gateway) && (gateway.equals(net.first) || gateway.equals(net.last));
}

interface ValidateInput {
  version: IpVersion;
  net: IpPrefix;
  c: SubnetRequest;
  /** Present on update: the subnet being changed. */
  current?: SubnetDoc;
  /** The value for messages that name the subnet ("new subnet" on create). */
  subnetLabel: string;
}

/** db_base_plugin_v2._validate_subnet. */
function validateSubnet({ version, net, c, current, subnetLabel }: ValidateInput): void {
  const cidrText = net.toString();
  if (net.version !== version) throw ipVersionMismatch('cidr', cidrText, version);
  // LP#2028159 (Neutron 2024.1): a subnet on the unspecified address breaks agents. Zed still accepts it; a /0
  // falls through to the "0 is not allowed" check further down, as the recorded catalogue shows for ::/0.
  if (version === 6 && net.network.value === 0n && net.length > 0) throw invalidInput("IPv6 subnet '::' is not supported");
  const dhcpWasEnabled = current ? current.enable_dhcp : false;
  const enableDhcp = current ? c.enable_dhcp : (c.enable_dhcp ?? true);
  if (enableDhcp && !dhcpWasEnabled) {
    if ((version === 4 && net.length > 30) || (version === 6 && net.length > 126)) {
      throw invalidInput('Subnet has a prefix length that is incompatible with DHCP service enabled');
    }
    const multicast = version === 4 ? '224.0.0.0/4' : 'ff00::/8';
    if (IpPrefix.parse(multicast)!.contains(net.network)) {
      throw invalidInput('Multicast IP subnet is not supported if enable_dhcp is True');
    }
    const loopback = version === 4 ? IpPrefix.parse('127.0.0.0/8')!.contains(net.network) : net.network.value === 1n && net.length === 128;
    if (loopback) throw invalidInput('Loopback IP subnet is not supported if enable_dhcp is True');
    if (version === 4 && net.network.value === 0n) {
      // Neutron's text ends in a period and InvalidInput adds another.
      throw invalidInput("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.");
    }
  }
  if (c.gateway_ip !== undefined && c.gateway_ip !== null) {
    const gw = IpAddress.parse(c.gateway_ip)!;
    if (gw.version !== version) throw ipVersionMismatch('gateway_ip', c.gateway_ip, version);
    if (gatewayInvalidInSubnet(net, gw)) throw invalidInput('Gateway is not valid on subnet');
  }
  if (c.dns_nameservers !== undefined) {
    if (c.dns_nameservers.length > MAX_DNS_NAMESERVERS) {
      throw new NeutronError(
        400,
        'DNSNameServersExhausted',
        `Unable to complete operation for ${subnetLabel}. The number of DNS nameservers exceeds the limit ${MAX_DNS_NAMESERVERS}.`,
      );
    }
    for (const dns of c.dns_nameservers) {
      if (IpAddress.parse(dns)?.version !== version) throw ipVersionMismatch('dns_nameserver', dns, version);
    }
  }
  if (c.host_routes !== undefined) {
    if (c.host_routes.length > MAX_SUBNET_HOST_ROUTES) {
      throw new NeutronError(
        400,
        'HostRoutesExhausted',
        `Unable to complete operation for ${subnetLabel}. The number of host routes exceeds the limit ${MAX_SUBNET_HOST_ROUTES}.`,
      );
    }
    for (const r of c.host_routes) {
      if (IpAddress.parse(r.nexthop)!.version !== version) throw ipVersionMismatch('nexthop', r.nexthop, version);
      if (parseCidrLoose(r.destination)!.version !== version) throw ipVersionMismatch('destination', r.destination, version);
    }
  }
  if (current) {
    // _validate_ipv6_update_dhcp: modes cannot change on PUT, so only the current ones matter.
    const dhcpOff = ipv6DhcpUpdateError({ ...current, ip_version: version }, c.enable_dhcp);
    if (dhcpOff) throw invalidInput(dhcpOff);
    return;
  }
  // The modes on an IPv4 subnet, then _validate_ipv6_attributes (domain/ipv6).
  const ipv6 = ipv6AttributesError({ ip_version: version, enable_dhcp: enableDhcp ?? true, ipv6_ra_mode: c.ipv6_ra_mode, ipv6_address_mode: c.ipv6_address_mode }, cidrText, net.length);
  if (ipv6) throw invalidInput(ipv6);
}

/** db_base_plugin_v2._validate_subnet_network_mtu (Neutron 2024.1; Zed had no such check). */
function validateNetworkMtu(networkId: string, mtu: number, version: IpVersion): void {
  if (!mtu || mtu >= IPV6_MIN_MTU) return;
  const mtuConflict = (min: number) =>
    conflict('NetworkMTUSubnetConflict', `MTU of ${networkId} is not valid, subnet requires a minimum of ${min}`);
  if (mtu < IPV4_MIN_MTU) throw mtuConflict(IPV4_MIN_MTU);
  if (version === 6) throw mtuConflict(IPV6_MIN_MTU);
}


/** Neutron stores a route's destination as given and its next hop as netaddr prints it. */
const routeOut = (r: { destination: string; nexthop: string }) => ({ destination: r.destination, nexthop: canonicalIp(r.nexthop) });

// ---------------------------------------------------------------------------------------------------------------
// Create.

/**
 * The stored fields of a new subnet, or the NeutronError Neutron Zed gives for the request. Defaults: an IPv6 cidr
 * subnet's gateway is the subnet-router anycast address (prefix::), IPv4's is the first host; pools are the cidr
 * minus the gateway (and IPv6's network address / IPv4's network and broadcast). A subnet allocated from a pool
 * without an explicit cidr gets prefix+1 as gateway (pool from +2) — even when gateway_ip is null, as Zed does.
 */
export function buildSubnet(c: SubnetRequest, ctx: SubnetCreateContext): SubnetFields {
  if (c.ip_version === undefined) throw httpBadRequest("Failed to parse request. Required attribute 'ip_version' not specified");
  const version = c.ip_version;
  const kind = requestKind(c);
  const fromPool = kind === 'cidr' ? undefined : ctx.fromPool;
  if (kind !== 'cidr' && !fromPool) throw new Error('buildSubnet: a subnet pool request needs ctx.fromPool');
  const net = fromPool ? IpPrefix.parse(fromPool.cidr)! : parseCidrLoose(c.cidr)!;

  // ipam_backend_mixin._validate_ip_version_with_subnetpool (allocateFromPool checks it too when told the version).
  if (fromPool && net.version !== version) {
    throw badRequest('subnets', `Cannot allocate IPv${version} subnet from IPv${net.version} subnet pool`);
  }
  validateSubnet({ version, net, c, subnetLabel: 'new subnet' });
  validateNetworkMtu(ctx.networkId, ctx.networkMtu, version);

  // ipam_backend_mixin._gateway_ip_str for specific requests; subnet_alloc._allocate_any_subnet otherwise.
  const specific = c.cidr !== undefined || (fromPool !== undefined && c.gateway_ip !== undefined && c.gateway_ip !== null);
  let gateway: string | null;
  if (specific) {
    gateway =
      c.gateway_ip !== undefined ? c.gateway_ip : (version === 6 ? net.network : net.network.add(1n)).toString();
  } else {
    gateway = net.network.add(1n).toString();
  }

  const given = c.allocation_pools !== undefined && c.allocation_pools.length > 0;
  const ranges = given ? validatePools(c.allocation_pools!, net, gateway) : generatePools(net, gateway);
  // SpecificSubnetRequest._validate_gateway_ip_in_subnet catches a default gateway that is the IPv4 broadcast
  // address (a /31); an explicit one was refused above.
  if (gateway && gatewayInvalidInSubnet(net, IpAddress.parse(gateway)!)) {
    throw conflict('IpamValueInvalid', `Gateway IP ${gateway} cannot be allocated in CIDR ${net.toString()}`);
  }
  ranges.sort((a, b) => (a.start.value < b.start.value ? -1 : a.start.value > b.start.value ? 1 : 0));

  // ipam_backend_mixin._save_subnet: _validate_subnet_cidr, then _validate_network_subnetpools.
  if (net.length === 0) throw invalidInput('0 is not allowed as CIDR prefix length');
  for (const s of ctx.siblings) {
    if (s.cidr === PD_PREFIX) continue;
    const other = IpPrefix.parse(s.cidr);
    if (other && other.overlaps(net)) {
      throw invalidInput(`Requested subnet with cidr: ${net.toString()} for network: ${ctx.networkId} overlaps with another subnet`);
    }
  }
  const poolId = fromPool?.subnetpoolId ?? null;
  checkNetworkPoolAffinity(
    version,
    fromPool ? { id: fromPool.subnetpoolId, address_scope_id: fromPool.addressScopeId ?? null } : null,
    ctx.networkScopeId ?? null,
    ctx.siblings,
  );

  // db_base_plugin_common._make_subnet_args keeps the modes only on IPv6 subnets with DHCP on.
  const enableDhcp = c.enable_dhcp ?? true;
  const keepModes = version === 6 && enableDhcp;
  return {
    ip_version: version,
    cidr: net.toString(),
    gateway_ip: gateway,
    allocation_pools: ranges.map(poolOut),
    dns_nameservers: c.dns_nameservers ?? [],
    host_routes: (c.host_routes ?? []).map(routeOut),
    enable_dhcp: enableDhcp,
    ipv6_ra_mode: keepModes ? (c.ipv6_ra_mode ?? null) : null,
    ipv6_address_mode: keepModes ? (c.ipv6_address_mode ?? null) : null,
    subnetpool_id: poolId,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Update.

/**
 * The changed fields of a PUT, or Neutron's error (db_base_plugin_v2._update_subnet_precommit). Only gateway_ip,
 * allocation_pools, dns_nameservers, host_routes and enable_dhcp are looked at; the API layer refuses the others.
 * Changing the gateway does not regenerate the pools; new pools replace the old ones as given (an empty list
 * leaves the subnet without pools). GatewayIpInUse (the old gateway held by a router port) needs the store and is
 * the caller's.
 */
export function applySubnetUpdate(
  existing: SubnetDoc,
  input: SubnetRequest,
  _ctx: { siblings: SubnetDoc[] },
): Partial<SubnetFields> {
  const { gateway_ip, allocation_pools, dns_nameservers, host_routes, enable_dhcp } = input;
  const c: SubnetRequest = { gateway_ip, allocation_pools, dns_nameservers, host_routes, enable_dhcp };
  const version = Number(existing.ip_version) as IpVersion;
  const net = IpPrefix.parse(existing.cidr)!;
  validateSubnet({ version, net, c, current: existing, subnetLabel: existing.id });

  const changes: Partial<SubnetFields> = {};
  let ranges: IpRange[] | undefined;
  if (c.allocation_pools !== undefined) ranges = validatePools(c.allocation_pools, net, null);
  const oldGateway = existing.gateway_ip || null;
  const gateway = c.gateway_ip !== undefined ? c.gateway_ip : oldGateway;
  if ((gateway !== oldGateway || ranges !== undefined) && gateway) {
    const pools = ranges ?? existing.allocation_pools.map((p) => new IpRange(IpAddress.parse(p.start)!, IpAddress.parse(p.end)!));
    checkGatewayOutOfPools(gateway, pools);
  }
  if (c.gateway_ip !== undefined) changes.gateway_ip = c.gateway_ip;
  if (ranges !== undefined) changes.allocation_pools = ranges.map(poolOut);
  if (c.dns_nameservers !== undefined) changes.dns_nameservers = c.dns_nameservers;
  if (c.host_routes !== undefined) changes.host_routes = c.host_routes.map(routeOut);
  if (c.enable_dhcp !== undefined) changes.enable_dhcp = c.enable_dhcp;
  return changes;
}
