// subnets: neutron-lib api/definitions/subnet.py (+ default-subnetpools' use_default_subnetpool, subnet-service-types,
// segment). Converters and validators in the map's order — ip_version, subnetpool_id, prefixlen, cidr, gateway_ip,
// allocation_pools, dns_nameservers, host_routes, enable_dhcp, ipv6_ra_mode, ipv6_address_mode — so a request with
// several faults gets Neutron's first. The plugin's rules across attributes are domain/subnet.ts's.

import { badAttribute, invalidInput } from '../../domain/errors.js';
import { IPV6_MODES } from '../../domain/ipv6/index.js';
import { canonicalIp, parseCidrLoose, validateIpAddress, validateRouteCidr } from '../../domain/netaddr.js';
import { pyInt, pyRepr, pyStr } from '../../domain/py.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import {
  bool,
  cidrText,
  ipAddress,
  isStorableText,
  isUuid,
  listOf,
  nonNegativeInt,
  nullable,
  oneOf,
  record,
  string,
  uuid,
  verifyDictKeys,
  withConverter,
  type Type,
} from '../types.js';
import { id, name, project, standardTail } from './standard.js';

/** neutron-lib constants.IPV6_PD_POOL_ID: the subnetpool_id that asks for prefix delegation. */
export const PD_POOL_ID = 'prefix_delegation';

const ipVersion = oneOf([4, 6] as const);
const ipVersionType: Type<4 | 6> = withConverter(ipVersion, (v, attr) => {
  const n = pyInt(v);
  if (n === null) throw invalidInput(`'${pyStr(v)}' is not an integer`);
  return ipVersion.convert(n, attr);
});

const subnetpoolIdConverted: Type<string | null> = withConverter(nullable(uuid), (v, attr) => {
  if (v !== null && v !== PD_POOL_ID && !isUuid(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a valid UUID`);
  return v as string | null;
});
/** A PD subnet stores the pool id "prefix_delegation" (domain/prefix-delegation.ts). */
const subnetpoolId: Type<string | null> = { ...subnetpoolIdConverted, is: (v) => v === PD_POOL_ID || subnetpoolIdConverted.is(v) };

/** convert_cidr_to_canonical_format + validate_subnet (netaddr's leniency); the rules parse it again. */
const cidr: Type<string> = withConverter(cidrText, (v) => {
  if (typeof v !== 'string' || !isStorableText(v) || parseCidrLoose(v) === null) throw invalidInput(`${pyStr(v)} is not in a CIDR format`);
  return v;
});

/** validate_ip_address_or_none; stored as netaddr prints it. */
const gatewayIp: Type<string | null> = withConverter(nullable(ipAddress), (v, attr) => {
  if (v === null) return null;
  const msg = validateIpAddress(v);
  if (msg) throw badAttribute(attr, msg);
  return canonicalIp(v as string);
});

const pool = record({ start: ipAddress, end: ipAddress });
/** validate_ip_pools: each a dict of exactly start and end, both addresses; the objects are kept as given. */
const allocationPools: Type<{ start: string; end: string }[]> = withConverter(listOf(pool) as Type<{ start: string; end: string }[]>, (v, attr) => {
  if (!Array.isArray(v)) throw badAttribute(attr, `Invalid data format for IP pool: '${pyStr(v)}'`);
  for (const p of v) {
    const keys = verifyDictKeys(['start', 'end'], p);
    if (keys) throw badAttribute(attr, keys);
    for (const k of ['start', 'end']) {
      const msg = validateIpAddress((p as Record<string, unknown>)[k]);
      if (msg) throw badAttribute(attr, msg);
    }
  }
  return v as { start: string; end: string }[];
});

/** Python iterates a string by character and a dict by key; numbers and booleans are not iterable. */
function pyIterable(v: unknown): unknown[] | null {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (typeof v === 'object' && v !== null) return Object.keys(v);
  return null;
}

/** validate_nameservers (a string is iterated by character, as Python does). */
const dnsNameservers: Type<string[]> = withConverter(listOf(ipAddress), (v, attr) => {
  if (v === null) return [];
  const items = pyIterable(v);
  if (items === null) throw badAttribute(attr, `Invalid data format for nameserver: '${pyStr(v)}'`);
  const seen: unknown[] = [];
  for (const host of items) {
    const msg = validateIpAddress(host);
    if (msg) throw badAttribute(attr, `'${pyStr(host)}' is not a valid nameserver. ${msg}`);
    // The duplicate test is on the text: "2001:DB8::1" and "2001:db8::1" are both accepted, as Neutron does.
    if (seen.includes(host)) throw badAttribute(attr, `Duplicate nameserver '${pyStr(host)}'`);
    seen.push(host);
  }
  return items as string[];
});

function samePyDict(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && a[k] === b[k]);
}

const route = record({ destination: cidrText, nexthop: ipAddress });
/** validate_hostroutes; both kept as given (the rules quote them; the next hop is stored as netaddr prints it). */
const hostRoutes: Type<{ destination: string; nexthop: string }[]> = withConverter(
  listOf(route) as Type<{ destination: string; nexthop: string }[]>,
  (v, attr) => {
    if (v === null) return [];
    if (!Array.isArray(v)) throw badAttribute(attr, `Invalid data format for hostroute: '${pyStr(v)}'`);
    const seen: Record<string, unknown>[] = [];
    for (const r of v) {
      const keys = verifyDictKeys(['destination', 'nexthop'], r);
      if (keys) throw badAttribute(attr, keys);
      const o = r as Record<string, unknown>;
      const msg = validateRouteCidr(o.destination) ?? validateIpAddress(o.nexthop);
      if (msg) throw badAttribute(attr, msg);
      if (seen.some((s) => samePyDict(s, o))) throw badAttribute(attr, `Duplicate hostroute '${pyRepr(o)}'`);
      seen.push(o);
    }
    return (v as Record<string, string>[]).map((r) => ({ destination: r.destination!, nexthop: r.nexthop! }));
  },
);

/** validate_values with IPV6_MODES; an explicit null is refused ("None is not in valid_values"), as Zed does. */
const ipv6Mode = withConverter(nullable(oneOf(IPV6_MODES)), (v, attr) => oneOf(IPV6_MODES).convert(v, attr));

export const subnet = defineResource({
  kind: 'subnet',
  singular: 'subnet',
  plural: 'subnets',
  doc: "Every attribute of the talk's tables; the IPv6 mode matrix; pools, gateway (`null` = none), DNS, host routes; from a subnet pool by id or `use_default_subnetpool`; EUI-64 back-fill of existing ports when a SLAAC/stateless subnet is added.",
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete', 'tags'],
  attributes: {
    id,
    name,
    ip_version: { type: ipVersionType, post: true, required: true },
    network_id: { type: uuid, post: true, required: true },
    subnetpool_id: { type: subnetpoolId, post: true, default: null, doc: 'allocate the cidr from this pool' },
    prefixlen: { filter: false, type: nonNegativeInt, post: true, optional: true, hidden: true, doc: "with a pool: the prefix length (the pool's default otherwise)" },
    cidr: { type: cidr, post: true, doc: 'required unless a pool is named (host bits are cleared)' },
    gateway_ip: { type: gatewayIp, post: true, put: true, doc: 'default: `prefix::` (IPv6), the first address (IPv4); `null` = none' },
    allocation_pools: { filter: false, type: allocationPools, post: true, put: true, doc: 'default: the cidr less the gateway' },
    dns_nameservers: { filter: false, type: dnsNameservers, post: true, put: true, default: [] },
    host_routes: { filter: false, type: hostRoutes, post: true, put: true, default: [] },
    ...project,
    enable_dhcp: { type: bool, post: true, put: true, default: true },
    ipv6_ra_mode: { type: ipv6Mode, post: true, default: null },
    ipv6_address_mode: { type: ipv6Mode, post: true, default: null },
    use_default_subnetpool: { filter: false, type: bool, post: true, optional: true, hidden: true, doc: "allocate from the family's default pool" },
    service_types: { filter: false, type: listOf(string(255)), post: true, put: true, default: [] },
    segment_id: { type: nullable(uuid), post: true, put: true, default: null },
    // neutron-lib: is_visible False, is_filter True: never shown nor stored; `?shared=` selects by the network's.
    shared: { type: bool, hidden: true, optional: true, doc: "a filter only: whether the subnet's network is shared with the caller" },
    ...standardTail,
  },
});

export type Subnet = DocOf<typeof subnet>;
export type SubnetInput = InputOf<typeof subnet>;
