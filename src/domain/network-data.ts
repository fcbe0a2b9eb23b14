// What an instance is told about itself: the OpenStack metadata documents (meta_data.json, network_data.json,
// user_data, vendor_data2.json) and the EC2-style tree cloud-init's Ec2 data source reads. One builder, shared by the
// metadata service (agent/features/metadata.ts renders every served port's documents with it) and the config drive
// (`v6stack config-drive`), so the two never disagree. PURE: no I/O.
//
// network_data.json follows Nova's nova/virt/netutils.py get_network_metadata (links, networks, services), with the
// network types cloud-init's convert_net_json understands (cloudinit/sources/helpers/openstack.py):
//   IPv4 with enable_dhcp        -> ipv4_dhcp              (cloud-init: dhcp4)
//   IPv4 without DHCP            -> ipv4, static           (static, with the default route via gateway_ip)
//   IPv6 address mode slaac      -> ipv6_slaac             (the RA gives address and default router)
//   IPv6 dhcpv6-stateless        -> ipv6_dhcpv6-stateless  (RA for the address, DHCPv6 Information-Request for DNS)
//   IPv6 dhcpv6-stateful         -> ipv6_dhcpv6-stateful   (DHCPv6 IA_NA for the address; cloud-init keeps accept_ra)
//   IPv6 with no address mode    -> ipv6, static           (cloud-init turns accept-ra off: the route is written)
// Unlike Nova, every subnet of the port is listed (Nova emits only the first IPv4 and first IPv6 subnet per VIF).

import { IpAddress, IpPrefix } from './ip.js';
import { DHCPV6_STATEFUL, DHCPV6_STATELESS, IPV6_SLAAC } from './ipv6/index.js';

/** The subnet attributes the documents read. */
export interface NdSubnet {
  id: string;
  network_id: string;
  ip_version: number;
  cidr: string;
  enable_dhcp: boolean;
  gateway_ip?: string | null;
  ipv6_ra_mode?: string | null;
  ipv6_address_mode?: string | null;
  dns_nameservers?: string[];
  host_routes?: { destination: string; nexthop: string }[];
}

/** What the user gave for the instance (the port's `instance:metadata`; docs/api.md). */
export interface InstanceMetadata {
  name?: string;
  hostname?: string;
  availability_zone?: string;
  /** Key/value metadata (Nova's `meta`). */
  meta?: Record<string, string>;
  /** ssh public keys by name (Nova's `public_keys`). */
  public_keys?: Record<string, string>;
}

/** The port attributes the documents read. */
export interface NdPort {
  id: string;
  name?: string;
  network_id: string;
  mac_address: string;
  device_id?: string;
  project_id?: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  'instance:metadata'?: Record<string, unknown>;
  'instance:user_data'?: string;
}

export interface NdNetwork {
  id: string;
  mtu?: number;
}

export interface NdRoute {
  network: string;
  netmask: string;
  gateway: string;
}

export interface NdService {
  type: 'dns';
  address: string;
}

export type NdNetworkType = 'ipv4' | 'ipv4_dhcp' | 'ipv6' | 'ipv6_slaac' | 'ipv6_dhcpv6-stateless' | 'ipv6_dhcpv6-stateful';

export interface NdNetworkEntry {
  id: string;
  type: NdNetworkType;
  link: string;
  network_id: string;
  ip_address?: string;
  netmask?: string;
  routes: NdRoute[];
  services: NdService[];
}

export interface NetworkData {
  links: { id: string; vif_id: string; type: 'bridge'; mtu: number | null; ethernet_mac_address: string }[];
  networks: NdNetworkEntry[];
  services: NdService[];
}

/** The network type cloud-init reads for a subnet (see the table at the top). */
export function networkTypeOf(s: NdSubnet): NdNetworkType {
  if (s.ip_version === 4) return s.enable_dhcp ? 'ipv4_dhcp' : 'ipv4';
  switch (s.ipv6_address_mode) {
    case IPV6_SLAAC:
      return 'ipv6_slaac';
    case DHCPV6_STATELESS:
      return 'ipv6_dhcpv6-stateless';
    case DHCPV6_STATEFUL:
      return 'ipv6_dhcpv6-stateful';
    default:
      return 'ipv6';
  }
}

/** A prefix length as a netmask (Nova writes IPv6 masks as addresses too: ffff:ffff:ffff:ffff::). */
export function netmaskOf(version: 4 | 6, length: number): string {
  return IpAddress.of(version, IpPrefix.maskOf(version, length)).toString();
}

function routeOf(destination: string, nexthop: string): NdRoute | null {
  const p = IpPrefix.parse(destination);
  if (!p) return null;
  return { network: p.network.toString(), netmask: netmaskOf(p.version, p.length), gateway: nexthop };
}

/** The link name Nova gives a VIF (the host-side tap: "tap" + the port id's first 11 characters). */
export const linkIdOf = (portId: string): string => `tap${portId.slice(0, 11)}`;

/**
 * network_data.json for a port. Static types carry the address, netmask, the default route via gateway_ip and the
 * subnet's host routes; dynamic types carry only host routes (the RA or DHCP gives the rest). DNS services are the
 * subnet's dns_nameservers, per network and once each at the top (cloud-init 22.4 reads the top-level list).
 */
export function buildNetworkData(port: NdPort, network: NdNetwork | undefined, subnets: ReadonlyMap<string, NdSubnet>): NetworkData {
  const link = linkIdOf(port.id);
  const networks: NdNetworkEntry[] = [];
  const services: NdService[] = [];
  const seen = new Set<string>();
  port.fixed_ips.forEach((ip) => {
    const s = subnets.get(ip.subnet_id);
    if (!s) return;
    const version = s.ip_version === 4 ? 4 : 6;
    const type = networkTypeOf(s);
    const dns: NdService[] = (s.dns_nameservers ?? []).map((address) => ({ type: 'dns', address }));
    for (const d of dns) if (!seen.has(d.address)) seen.add(d.address) && services.push(d);
    const routes = (s.host_routes ?? []).map((r) => routeOf(r.destination, r.nexthop)).filter((r): r is NdRoute => r !== null);
    const entry: NdNetworkEntry = { id: `network${networks.length}`, type, link, network_id: port.network_id, routes, services: dns };
    if (type === 'ipv4' || type === 'ipv6') {
      const length = Number(s.cidr.split('/')[1]);
      entry.ip_address = ip.ip_address;
      entry.netmask = netmaskOf(version, length);
      if (s.gateway_ip) routes.unshift({ network: version === 4 ? '0.0.0.0' : '::', netmask: version === 4 ? '0.0.0.0' : '::', gateway: s.gateway_ip });
    }
    networks.push(entry);
  });
  return {
    links: [{ id: link, vif_id: port.id, type: 'bridge', mtu: network?.mtu ?? null, ethernet_mac_address: port.mac_address.toLowerCase() }],
    networks,
    services,
  };
}

const HOSTNAME_BAD = /[^a-z0-9-]+/g;

/** The instance's metadata as the port carries it, keeping only well-typed fields. */
export function instanceMetadataOf(port: NdPort): InstanceMetadata {
  const raw = port['instance:metadata'] ?? {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const dict = (v: unknown): Record<string, string> | undefined =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string> : undefined;
  const out: InstanceMetadata = {};
  for (const k of ['name', 'hostname', 'availability_zone'] as const) {
    const v = str(raw[k]);
    if (v !== undefined) out[k] = v;
  }
  const meta = dict(raw.meta);
  if (meta) out.meta = meta;
  const keys = dict(raw.public_keys);
  if (keys) out.public_keys = keys;
  return out;
}

/** The instance's UUID: the port's device_id when it is one (Nova's instance), else the port's own id. */
export function instanceUuidOf(port: NdPort): string {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(port.device_id ?? '') ? port.device_id! : port.id;
}

/** A host name from the instance's name as Nova sanitizes it (lower case, [a-z0-9-], at most 63 characters). */
export function hostnameOf(port: NdPort): string {
  const md = instanceMetadataOf(port);
  const base = (md.hostname ?? md.name ?? port.name ?? '').toLowerCase().replace(HOSTNAME_BAD, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return base || `host-${port.id.slice(0, 8)}`;
}

export interface MetaData {
  uuid: string;
  name: string;
  hostname: string;
  launch_index: 0;
  availability_zone: string;
  project_id: string;
  meta: Record<string, string>;
  public_keys?: Record<string, string>;
  keys?: { name: string; type: 'ssh'; data: string }[];
  devices: never[];
}

/** meta_data.json (Nova's InstanceMetadata._metadata_as_json, the fields cloud-init reads). */
export function buildMetaData(port: NdPort): MetaData {
  const md = instanceMetadataOf(port);
  const out: MetaData = {
    uuid: instanceUuidOf(port),
    name: md.name ?? port.name ?? '',
    hostname: hostnameOf(port),
    launch_index: 0,
    availability_zone: md.availability_zone ?? 'nova',
    project_id: port.project_id ?? '',
    meta: md.meta ?? {},
    devices: [],
  };
  const keys = Object.entries(md.public_keys ?? {});
  if (keys.length) {
    out.public_keys = Object.fromEntries(keys);
    out.keys = keys.map(([name, data]) => ({ name, type: 'ssh', data }));
  }
  return out;
}

/**
 * Every file an instance can read, by path, as the metadata service serves it and (the openstack/ part) as the
 * config drive holds it. A path ending in '/' is a directory whose listing is its children, one per line.
 */
export type MetadataFiles = Map<string, string>;

/** The OpenStack versions a guest may ask for: each serves the same documents (v6stack has one format). */
export const OPENSTACK_VERSIONS = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2016-10-06', '2017-02-22', '2018-08-27', 'latest'];
/** The EC2 versions cloud-init's Ec2 data source asks for (it tries 2009-04-04 first, then latest). */
export const EC2_VERSIONS = ['2009-04-04', 'latest'];

export function buildMetadataFiles(port: NdPort, network: NdNetwork | undefined, subnets: ReadonlyMap<string, NdSubnet>): MetadataFiles {
  const files: MetadataFiles = new Map();
  const metaData = JSON.stringify(buildMetaData(port));
  const networkData = JSON.stringify(buildNetworkData(port, network, subnets));
  const userData = port['instance:user_data'];
  for (const v of OPENSTACK_VERSIONS) {
    files.set(`openstack/${v}/meta_data.json`, metaData);
    files.set(`openstack/${v}/network_data.json`, networkData);
    files.set(`openstack/${v}/vendor_data.json`, '{}');
    files.set(`openstack/${v}/vendor_data2.json`, '{}');
    if (userData !== undefined && userData !== '') files.set(`openstack/${v}/user_data`, userData);
  }
  // The EC2 tree: the keys cloud-init's Ec2 data source and ec2metadata read.
  const md = buildMetaData(port);
  const v4 = port.fixed_ips.find((ip) => !ip.ip_address.includes(':'))?.ip_address;
  const v6 = port.fixed_ips.find((ip) => ip.ip_address.includes(':'))?.ip_address;
  const ec2: [string, string][] = [
    ['ami-id', 'ami-00000000'],
    ['ami-launch-index', '0'],
    ['hostname', md.hostname],
    ['instance-id', md.uuid],
    ['instance-type', 'v6stack.lab'],
    ['local-hostname', md.hostname],
    ['mac', port.mac_address.toLowerCase()],
    ['placement/availability-zone', md.availability_zone],
    ['reservation-id', 'r-00000000'],
    ['security-groups', 'default'],
  ];
  if (v4) ec2.push(['local-ipv4', v4]);
  if (v6) ec2.push(['ipv6', v6]);
  (md.keys ?? []).forEach((k, i) => ec2.push([`public-keys/${i}=${k.name}`, ''], [`public-keys/${i}/openssh-key`, k.data]));
  for (const v of EC2_VERSIONS) {
    for (const [k, val] of ec2) if (!k.includes('=')) files.set(`${v}/meta-data/${k}`, val);
    if (userData !== undefined && userData !== '') files.set(`${v}/user-data`, userData);
  }
  return withListings(files, ec2.filter(([k]) => k.includes('=')).map(([k]) => k));
}

/**
 * Adds directory listings: each directory 'a/b/' lists its children ('x' for files, 'y/' for directories). EC2's
 * public-keys listing is `0=name` (`extraNames`: 'public-keys/0=name' replaces the plain '0/').
 */
function withListings(files: MetadataFiles, extraNames: string[]): MetadataFiles {
  const dirs = new Map<string, Set<string>>();
  const add = (dir: string, child: string): void => {
    let set = dirs.get(dir);
    if (!set) dirs.set(dir, (set = new Set()));
    set.add(child);
  };
  for (const path of files.keys()) {
    const parts = path.split('/');
    // EC2 listings mark directories with a trailing '/'; OpenStack's do not (cloud-init compares `latest` as is).
    const ec2 = EC2_VERSIONS.includes(parts[0]!);
    for (let i = 0; i < parts.length; i++) add(parts.slice(0, i).join('/') + (i ? '/' : ''), parts[i]! + (ec2 && i > 1 && i < parts.length - 1 ? '/' : ''));
  }
  for (const name of extraNames) {
    const [dir, entry] = [name.slice(0, name.lastIndexOf('/') + 1), name.slice(name.lastIndexOf('/') + 1)];
    for (const v of EC2_VERSIONS) {
      const set = dirs.get(`${v}/meta-data/${dir}`);
      if (!set) continue;
      set.delete(entry.split('=')[0] + '/');
      set.add(entry);
    }
  }
  const out: MetadataFiles = new Map(files);
  for (const [dir, children] of dirs) out.set(dir, [...children].sort().join('\n'));
  return out;
}
