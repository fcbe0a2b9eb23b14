// Subnet rules, as Neutron Zed applies them on POST/PUT /v2.0/subnets: the attribute-level conversion and validation
// of neutron-lib (converters, validators, RESOURCE_ATTRIBUTE_MAP order), then the plugin checks of
// neutron/db/db_base_plugin_v2.py (_create_subnet_precommit, _validate_subnet, _validate_ipv6_attributes),
// neutron/db/ipam_backend_mixin.py (allocation pools, overlap, pool affinity) and neutron/ipam/utils.py (default
// gateway and pools). Checks run in Neutron's order so a request with several faults gets Neutron's first error.
// Pure functions: the caller supplies the network's MTU, its other subnets and any prefix taken from a subnet pool.

import { IpAddress, IpPrefix, IpRange, type IpVersion } from './ip.js';
import { NeutronError, badAttribute, badRequest, conflict, httpBadRequest, invalidInput } from './errors.js';
import { IPV4_MIN_MTU, IPV6_MIN_MTU, IPV6_MODES, ipv6AttributesError, ipv6DhcpUpdateError, type Ipv6Mode } from './ipv6/index.js';

// ---------------------------------------------------------------------------------------------------------------
// Python formatting. Neutron builds many messages with '%s' % value, so a dict from the request shows up as
// {'start': '10.0.0.5', 'end': '10.0.0.1'} and a JSON null as None; clients compare those texts.


/** repr() of a Python str: single quotes unless the text holds a ' and no ". */
export function pyReprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** repr() of the Python value json.loads would have produced. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyReprString(v);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyReprString(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** str() of the same value: strings as they are, everything else as repr(). */
export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** repr() of a Python set of strings, in the order given (Python's own order depends on the hash seed). */
export function pySetRepr(items: Iterable<string>): string {
  return `{${[...items].map(pyReprString).join(', ')}}`;
}

/** Python int(x) as neutron-lib convert_to_int uses it; null when Python would raise. */
export function pyInt(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : null;
  if (typeof v === 'string') {
    const t = v.trim().replaceAll('_', '');
    return /^[+-]?\d+$/.test(t) ? Number(t) : null;
  }
  return null;
}

/** oslo strutils.bool_from_string(strict=True) as converters.convert_to_boolean uses it; null when it raises. */
export function pyBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  const s = pyStr(v).trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Address parsing with netaddr's leniency where Neutron relies on it.

/** neutron-lib validate_ip_address: null when valid, else the reason text. */
export function validateIpAddress(data: unknown): string | null {
  const invalid = `'${pyStr(data)}' is not a valid IP address`;
  if (typeof data !== 'string' || /\s/.test(data)) return invalid;
  if (data.includes(':')) return IpAddress.parse(data) ? null : invalid;
  // IPv4 needs exactly three dots; netaddr's ZEROFILL then reads "010" as 10 and Neutron refuses the ambiguity.
  const parts = data.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p) && Number(p) <= 255)) return invalid;
  const canonical = parts.map((p) => String(Number(p))).join('.');
  return canonical === data ? null : `'${data}' is not an accepted IP address, '${canonical}' is recommended`;
}

/** An IPv4 address as netaddr's IPNetwork reads it: partial ("10", "1.2.3") and zero-padded octets allowed. */
function parseV4Loose(text: string): IpAddress | null {
  const parts = text.split('.');
  if (parts.length > 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  while (parts.length < 4) parts.push('0');
  return IpAddress.parse(parts.map((p) => String(Number(p))).join('.'));
}

/**
 * netaddr.IPNetwork(text) as convert_cidr_to_canonical_format uses it: "10/8", "1.2.3/24", "010.0.0.0/8",
 * a bare address (a /32 or /128) and host bits are all accepted; host bits are cleared here, as
 * _create_subnet_precommit does ('%s/%s' % (net.network, net.prefixlen)). null when netaddr raises.
 */
export function parseCidrLoose(value: unknown): IpPrefix | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const lenText = slash === -1 ? null : text.slice(slash + 1);
  const address = addrText.includes(':') ? IpAddress.parse(addrText) : slash === -1 ? IpAddress.parse(addrText) : parseV4Loose(addrText);
  if (!address) return null;
  let length = address.bits;
  if (lenText !== null) {
    if (/^\d{1,3}$/.test(lenText)) length = Number(lenText);
    else if (address.version === 4 && IpAddress.parse(lenText)?.version === 4) {
      // A dotted netmask ("10.0.0.0/255.255.0.0"); netaddr accepts contiguous ones.
      const mask = IpAddress.parse(lenText)!.value;
      const ones = mask.toString(2).replace(/^(1*).*$/, '$1').length;
      if (mask !== IpPrefix.maskOf(4, ones)) return null;
      length = ones;
    } else return null;
    if (length > address.bits) return null;
  }
  return IpPrefix.of(address, length);
}

/** Canonical text of an address that validateIpAddress accepted (netaddr prints IPv6 compact, IPv4 as given). */
function canonical(text: string): string {
  return IpAddress.parse(text)!.toString();
}

// ---------------------------------------------------------------------------------------------------------------
// Attribute-level conversion and validation (neutron-lib api/attributes.py convert_values), in the attribute map's
// order: ip_version, subnetpool_id, prefixlen, cidr, gateway_ip, allocation_pools, dns_nameservers, host_routes,
// enable_dhcp, ipv6_ra_mode, ipv6_address_mode, then the extension's use_default_subnetpool.

interface RawPool {
  start: string;
  end: string;
  raw: Record<string, unknown>;
}

interface RawRoute {
  destination: string;
  nexthop: string;
}

/** Request attributes after conversion; a key is present only when the request carried it. */
interface Converted {
  ip_version?: IpVersion;
  subnetpool_id?: string | null;
  prefixlen?: number;
  cidr?: IpPrefix;
  gateway_ip?: string | null;
  allocation_pools?: RawPool[];
  dns_nameservers?: string[];
  host_routes?: RawRoute[];
  enable_dhcp?: boolean;
  ipv6_ra_mode?: Ipv6Mode;
  ipv6_address_mode?: Ipv6Mode;
  use_default_subnetpool?: boolean;
}

const has = (body: Record<string, unknown>, key: string): boolean => body[key] !== undefined;

function toInt(v: unknown): number {
  const n = pyInt(v);
  if (n === null) throw invalidInput(`'${pyStr(v)}' is not an integer`);
  return n;
}

function toBool(v: unknown): boolean {
  const b = pyBool(v);
  if (b === null) throw invalidInput(`'${pyStr(v)}' cannot be converted to boolean`);
  return b;
}

function nonNegative(attr: string, n: number): void {
  if (n < 0) throw badAttribute(attr, `'${n}' should be non-negative`);
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** validators._verify_dict_keys (strict): the reason text, or null. */
function verifyDictKeys(expected: string[], target: unknown): string | null {
  if (typeof target !== 'object' || target === null || Array.isArray(target)) {
    return `Invalid input. '${pyStr(target)}' must be a dictionary with keys: ${pyRepr(expected)}`;
  }
  const provided = Object.keys(target);
  const same = provided.length === expected.length && expected.every((k) => provided.includes(k));
  if (same) return null;
  return `Validation of dictionary's keys failed. Expected keys: ${pySetRepr(expected)} Provided keys: ${pySetRepr(provided)}`;
}

function convertPools(v: unknown): RawPool[] {
  if (!Array.isArray(v)) throw badAttribute('allocation_pools', `Invalid data format for IP pool: '${pyStr(v)}'`);
  const out: RawPool[] = [];
  for (const pool of v) {
    const keys = verifyDictKeys(['start', 'end'], pool);
    if (keys) throw badAttribute('allocation_pools', keys);
    const p = pool as Record<string, unknown>;
    for (const k of ['start', 'end']) {
      const msg = validateIpAddress(p[k]);
      if (msg) throw badAttribute('allocation_pools', msg);
    }
    out.push({ start: p.start as string, end: p.end as string, raw: p });
  }
  return out;
}

/** Python iterates a string by character and a dict by key; numbers and booleans are not iterable. */
function pyIterable(v: unknown): unknown[] | null {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (typeof v === 'object' && v !== null) return Object.keys(v);
  return null;
}

function convertNameservers(v: unknown): string[] {
  if (v === null) return [];
  const items = pyIterable(v);
  if (items === null) throw badAttribute('dns_nameservers', `Invalid data format for nameserver: '${pyStr(v)}'`);
  const seen: unknown[] = [];
  for (const host of items) {
    const msg = validateIpAddress(host);
    if (msg) throw badAttribute('dns_nameservers', `'${pyStr(host)}' is not a valid nameserver. ${msg}`);
    // The duplicate test is on the text: "2001:DB8::1" and "2001:db8::1" are both accepted, as Neutron does.
    if (seen.includes(host)) throw badAttribute('dns_nameservers', `Duplicate nameserver '${pyStr(host)}'`);
    seen.push(host);
  }
  return items as string[];
}

/** validators.validate_route_cidr: null when valid, else the reason. */
function validateRouteCidr(data: unknown): string | null {
  if (typeof data !== 'string' || /\s/.test(data)) return `'${pyStr(data)}' is not a valid CIDR`;
  const net = parseCidrLoose(data);
  if (!net) return `'${data}' is not a valid CIDR`;
  const slash = data.indexOf('/');
  const ip = slash === -1 ? null : parseCidrLoose(`${data.slice(0, slash)}/${net.network.bits}`);
  if (slash === -1 || !ip || ip.network.value !== net.network.value) {
    return `'${data}' is not a recognized CIDR, '${net.toString()}' is recommended`;
  }
  // netaddr's IPNetwork.is_loopback: inside 127.0.0.0/8 (an IPv6 ::1/128 network is not caught by it).
  if (net.version === 4 && IpPrefix.parse('127.0.0.0/8')!.covers(net)) return `'${data}' is not a routable CIDR`;
  return null;
}

function samePyDict(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && a[k] === b[k]);
}

function convertRoutes(v: unknown): RawRoute[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw badAttribute('host_routes', `Invalid data format for hostroute: '${pyStr(v)}'`);
  const seen: Record<string, unknown>[] = [];
  for (const route of v) {
    const keys = verifyDictKeys(['destination', 'nexthop'], route);
    if (keys) throw badAttribute('host_routes', keys);
    const r = route as Record<string, unknown>;
    const msg = validateRouteCidr(r.destination) ?? validateIpAddress(r.nexthop);
    if (msg) throw badAttribute('host_routes', msg);
    if (seen.some((s) => samePyDict(s, r))) throw badAttribute('host_routes', `Duplicate hostroute '${pyRepr(r)}'`);
    seen.push(r);
  }
  return (v as Record<string, string>[]).map((r) => ({ destination: r.destination!, nexthop: r.nexthop! }));
}

function convertMode(attr: string, v: unknown): Ipv6Mode {
  if (typeof v !== 'string' || !(IPV6_MODES as readonly string[]).includes(v)) {
    throw badAttribute(attr, `${pyStr(v)} is not in valid_values`);
  }
  return v as Ipv6Mode;
}

/** Converts and validates every attribute the body carries, raising the first error in Neutron's order. */
function convertBody(body: Record<string, unknown>): Converted {
  const c: Converted = {};
  if (has(body, 'ip_version')) {
    const v = toInt(body.ip_version);
    if (v !== 4 && v !== 6) throw badAttribute('ip_version', `${v} is not in valid_values`);
    c.ip_version = v;
  }
  if (has(body, 'subnetpool_id')) {
    const v = body.subnetpool_id;
    if (v !== null && v !== PD_POOL_ID && !(typeof v === 'string' && UUID_RE.test(v))) {
      throw badAttribute('subnetpool_id', `'${pyStr(v)}' is not a valid UUID`);
    }
    c.subnetpool_id = v as string | null;
  }
  if (has(body, 'prefixlen')) {
    c.prefixlen = toInt(body.prefixlen);
    nonNegative('prefixlen', c.prefixlen);
  }
  if (has(body, 'cidr')) {
    const net = parseCidrLoose(body.cidr);
    if (!net) throw invalidInput(`${pyStr(body.cidr)} is not in a CIDR format`);
    c.cidr = net;
  }
  if (has(body, 'gateway_ip')) {
    const v = body.gateway_ip;
    if (v !== null) {
      const msg = validateIpAddress(v);
      if (msg) throw badAttribute('gateway_ip', msg);
    }
    c.gateway_ip = v === null ? null : canonical(v as string);
  }
  if (has(body, 'allocation_pools')) c.allocation_pools = convertPools(body.allocation_pools);
  if (has(body, 'dns_nameservers')) c.dns_nameservers = convertNameservers(body.dns_nameservers);
  if (has(body, 'host_routes')) c.host_routes = convertRoutes(body.host_routes);
  if (has(body, 'enable_dhcp')) c.enable_dhcp = toBool(body.enable_dhcp);
  if (has(body, 'ipv6_ra_mode')) c.ipv6_ra_mode = convertMode('ipv6_ra_mode', body.ipv6_ra_mode);
  if (has(body, 'ipv6_address_mode')) c.ipv6_address_mode = convertMode('ipv6_address_mode', body.ipv6_address_mode);
  if (has(body, 'use_default_subnetpool')) c.use_default_subnetpool = toBool(body.use_default_subnetpool);
  return c;
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
  /** Set when the caller allocated the cidr from a subnet pool (allocateFromPool). */
  fromPool?: { subnetpoolId: string; cidr: string };
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

/** neutron-lib constants.IPV6_PD_POOL_ID and PROVISIONAL_IPV6_PD_PREFIX. */
export const PD_POOL_ID = 'prefix_delegation';
const PD_PREFIX = '::/64';
/** neutron.conf max_dns_nameservers and max_subnet_host_routes defaults. */
export const MAX_DNS_NAMESERVERS = 5;
export const MAX_SUBNET_HOST_ROUTES = 20;

// ---------------------------------------------------------------------------------------------------------------
// Request kind (db_base_plugin_v2._create_subnet_precommit and _get_subnetpool_id).

function requestKind(c: Converted): 'cidr' | 'pool' | 'default-pool' {
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
export function subnetRequestKind(body: Record<string, unknown>): 'cidr' | 'pool' | 'default-pool' {
  return requestKind(convertBody(body));
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
  c: Converted;
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

function rangeText(r: IpRange): string {
  return r.toString();
}

/**
 * ipam_backend_mixin.pools_to_ip_range + validate_allocation_pools + validate_gw_out_of_pools:
 * netaddr.IPRange refuses start > end or mixed families (the request dict is shown), then each range must be of
 * the subnet's family and inside it (IPv4 /30 and wider without network and broadcast, IPv6 without the network
 * address), ranges may not overlap (409) and the gateway may not sit in one (409).
 */
function validatePools(pools: RawPool[], net: IpPrefix, gateway: string | null): IpRange[] {
  const ranges: IpRange[] = [];
  for (const p of pools) {
    const start = IpAddress.parse(p.start)!;
    const end = IpAddress.parse(p.end)!;
    if (start.version !== end.version || start.value > end.value) {
      throw new NeutronError(400, 'InvalidAllocationPool', `The allocation pool ${pyRepr(p.raw)} is not valid.`);
    }
    ranges.push(new IpRange(start, end));
  }
  const cidrText = net.toString();
  const trimEnds = net.version === 6 || net.length <= 30;
  const first = net.first.value + (trimEnds ? 1n : 0n);
  const last = net.last.value - (net.version === 4 && trimEnds ? 1n : 0n);
  for (const r of ranges) {
    if (r.start.version !== net.version) {
      throw new NeutronError(400, 'InvalidAllocationPool', `The allocation pool ${rangeText(r)} is not valid.`);
    }
    if (r.start.value < first || r.end.value > last) {
      throw new NeutronError(
        400,
        'OutOfBoundsAllocationPool',
        `The allocation pool ${rangeText(r)} spans beyond the subnet cidr ${cidrText}.`,
      );
    }
  }
  for (let l = 0; l < ranges.length; l++) {
    for (let r = l + 1; r < ranges.length; r++) {
      if (ranges[l]!.overlaps(ranges[r]!)) {
        throw conflict(
          'OverlappingAllocationPools',
          `Found overlapping allocation pools: ${rangeText(ranges[l]!)} ${rangeText(ranges[r]!)} for subnet ${cidrText}.`,
        );
      }
    }
  }
  if (gateway) checkGatewayOutOfPools(gateway, ranges);
  return ranges;
}

function checkGatewayOutOfPools(gateway: string, ranges: IpRange[]): void {
  const gw = IpAddress.parse(gateway)!;
  for (const r of ranges) {
    if (r.contains(gw)) {
      throw conflict('GatewayConflictWithAllocationPools', `Gateway ip ${gateway} conflicts with allocation pool ${rangeText(r)}.`);
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
  const trimEnds = v === 6 || net.length <= 30;
  const first = net.first.value + (trimEnds ? 1n : 0n);
  const last = net.last.value - (v === 4 && trimEnds ? 1n : 0n);
  const gw = gateway ? IpAddress.parse(gateway) : null;
  const spans: [bigint, bigint][] = [];
  if (gw && gw.version === v && gw.value >= first && gw.value <= last) {
    if (gw.value > first) spans.push([first, gw.value - 1n]);
    if (gw.value < last) spans.push([gw.value + 1n, last]);
  } else spans.push([first, last]);
  return spans.map(([a, b]) => new IpRange(IpAddress.of(v, a), IpAddress.of(v, b)));
}

const poolOut = (r: IpRange) => ({ start: r.start.toString(), end: r.end.toString() });

/** Neutron stores a route's destination as given and its next hop as netaddr prints it. */
const routeOut = (r: RawRoute) => ({ destination: r.destination, nexthop: canonical(r.nexthop) });

// ---------------------------------------------------------------------------------------------------------------
// Create.

/**
 * The stored fields of a new subnet, or the NeutronError Neutron Zed gives for the request. Defaults: an IPv6 cidr
 * subnet's gateway is the subnet-router anycast address (prefix::), IPv4's is the first host; pools are the cidr
 * minus the gateway (and IPv6's network address / IPv4's network and broadcast). A subnet allocated from a pool
 * without an explicit cidr gets prefix+1 as gateway (pool from +2) — even when gateway_ip is null, as Zed does.
 */
export function buildSubnet(body: Record<string, unknown>, ctx: SubnetCreateContext): SubnetFields {
  const c = convertBody(body);
  if (c.ip_version === undefined) throw httpBadRequest("Failed to parse request. Required attribute 'ip_version' not specified");
  const version = c.ip_version;
  const kind = requestKind(c);
  const fromPool = kind === 'cidr' ? undefined : ctx.fromPool;
  if (kind !== 'cidr' && !fromPool) throw new Error('buildSubnet: a subnet pool request needs ctx.fromPool');
  const net = fromPool ? IpPrefix.parse(fromPool.cidr)! : c.cidr!;

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
  for (const s of ctx.siblings) {
    const sameFamily = Number(s.ip_version) === version;
    const clash = poolId ? sameFamily && (s.subnetpool_id ?? null) !== poolId : sameFamily && !!s.subnetpool_id;
    if (clash) {
      throw new NeutronError(
        400,
        'NetworkSubnetPoolAffinityError',
        'Subnets hosted on the same network must be allocated from the same subnet pool.',
      );
    }
  }

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
  body: Record<string, unknown>,
  _ctx: { siblings: SubnetDoc[] },
): Partial<SubnetFields> {
  const semantic = ['gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes', 'enable_dhcp'];
  const c = convertBody(Object.fromEntries(Object.entries(body).filter(([k]) => semantic.includes(k))));
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
