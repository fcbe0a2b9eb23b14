// Security groups and port security compiled to nftables objects. PURE: documents in, named chains, sets and maps
// out, and the `nft -f` script that moves the kernel from what was applied to what is wanted (agent/nft.ts runs it).
//
// Where it runs (docs/dataplane.md "Security groups"): the bridge namespace, whose Linux bridges carry every port.
// This kernel has no conntrack in the bridge family, so the work is split in two tables:
//   bridge v6stack-fw  stateless, per instance port, before anything else sees the frame: the port's mark, the
//                      rogue-RA / redirect / DHCP-server drops and the MAC+address anti-spoofing (Neutron's
//                      iptables_firewall _spoofing_rule and _drop_dhcp_rule, and the OVS firewall's RA drop); on the
//                      way out of the bridge, the destination port's mark.
//   inet v6stack-fw    stateful, reached through bridge netfilter (bridge-nf-call-ip6tables): conntrack zoned per
//                      network, then the source port's egress chain and the destination port's ingress chain,
//                      dispatched on the marks (the role Neutron's iptables driver gives `-m physdev`, which needs
//                      iptables' userspace; the OVS firewall's reg5 is the same idea).
// A port's chains jump to one chain per security group and direction, so a rule change rewrites one group chain,
// not every port of the group; remote groups are named sets whose elements follow their members.

import { linkLocalFromMac } from './eui64.js';
import { IpAddress, IpPrefix } from './ip.js';

export const FW_TABLE = 'v6stack-fw';

// ---- Inputs: the API documents as the firewall reads them.

export interface FwFixedIp {
  ip_address: string;
  subnet_id?: string;
}
export interface FwAddressPair {
  ip_address: string;
  mac_address?: string | null;
}
export interface FwPort {
  id: string;
  network_id: string;
  mac_address: string;
  device_owner: string;
  fixed_ips: FwFixedIp[];
  allowed_address_pairs?: FwAddressPair[];
  port_security_enabled?: boolean;
  security_groups?: string[];
  'binding:host_id'?: string;
}
export interface FwGroup {
  id: string;
  stateful?: boolean;
}
export interface FwRule {
  id: string;
  security_group_id: string;
  direction: 'ingress' | 'egress' | string;
  ethertype: 'IPv4' | 'IPv6' | string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id?: string | null;
}

/** An address group (the address-group extension): CIDRs of both families, as the API stores them. */
export interface FwAddressGroup {
  id: string;
  addresses: string[];
}

export interface FirewallInput {
  /** Every port the API has (remote-group members, router and DHCP ports are read from all of them). */
  ports: FwPort[];
  groups: FwGroup[];
  rules: FwRule[];
  /** Address groups rules name with remote_address_group_id; absent means none. */
  addressGroups?: FwAddressGroup[];
  /** The instance ports this host filters (see filteredPorts), by id, with the bridge and tap they are on. */
  local: { port: FwPort; tap: string; bridge: string }[];
  /** Each local port's mark (allocateMarks), 1..0xffff. */
  marks: ReadonlyMap<string, number>;
}

// ---- Outputs: named nftables objects.

export type Family = 'bridge' | 'inet';

export interface NftChain {
  kind: 'chain';
  family: Family;
  name: string;
  /** A base chain's `type … hook … priority …; policy accept;`; none for a regular chain. */
  hook?: string;
  rules: string[];
}
export interface NftSet {
  kind: 'set';
  family: Family;
  name: string;
  /** `type …; flags interval;` (the set's declaration, without braces). */
  decl: string;
  elements: string[];
}
export interface NftMap {
  kind: 'map';
  family: Family;
  name: string;
  decl: string;
  /** key → value (a verdict such as `jump eg-…`, or a zone number). */
  elements: Map<string, string>;
}
export type NftObject = NftChain | NftSet | NftMap;

export interface FirewallPlan {
  /** Every object of both tables, base chains included, in the order they may be written. */
  objects: NftObject[];
  /** Per local port, the names of its own objects (for `firewall show`). */
  portObjects: Map<string, string[]>;
}

export const objectKey = (o: { family: Family; kind: string; name: string }): string => `${o.family} ${o.kind} ${o.name}`;

// ---- Names. nft names allow letters, digits, '-', '_', '.'; UUIDs fit as they are.

export const chainNames = (portId: string) => ({
  spoof: `sp-${portId}`,
  dstMark: `dm-${portId}`,
  egress: `eg-${portId}`,
  ingress: `in-${portId}`,
});
export const setNames = (portId: string) => ({ mac6: `m6-${portId}`, mac4: `m4-${portId}`, macs: `mc-${portId}` });
const groupChain = (groupId: string, direction: string): string => `g${direction === 'ingress' ? 'i' : 'e'}-${groupId}`;
const remoteSet = (groupId: string, ethertype: string): string => `r${ethertype === 'IPv6' ? '6' : '4'}-${groupId}`;
/** An address group's CIDRs of one family, as the set a rule with remote_address_group_id matches. */
export const addressGroupSet = (addressGroupId: string, ethertype: string): string => `a${ethertype === 'IPv6' ? '6' : '4'}-${addressGroupId}`;
const networkSets = (networkId: string) => ({ ra: `ra-${networkId}`, dhcp6: `d6-${networkId}`, dhcp4: `d4-${networkId}` });

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

// ---- Which ports are filtered, and their marks.

const ROUTER_OWNERS = new Set(['network:router_interface', 'network:ha_router_replicated_interface', 'network:router_interface_distributed', 'network:router_centralized_snat']);
const DHCP_OWNER = 'network:dhcp';

/**
 * Instance ports: Neutron applies no firewall to "trusted" ports (device_owner network:*, neutron_lib
 * utils.net.is_port_trusted), nor to ports with port_security_enabled false. Absent means enabled (the default).
 */
export function isFiltered(p: FwPort): boolean {
  return !p.device_owner.startsWith('network:') && p.port_security_enabled !== false;
}

/**
 * Marks for the filtered ports: a port keeps the mark it had (from the kernel's dispatch map after a restart, so
 * the rebuilt ruleset is the same), a new one takes the lowest free mark. 16 bits: the source port's mark sits in
 * the low half of the packet mark, the destination's in the high half.
 */
export function allocateMarks(portIds: readonly string[], previous: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const id of [...portIds].sort()) {
    const m = previous.get(id);
    if (m !== undefined && m >= 1 && m <= 0xffff && !used.has(m)) {
      out.set(id, m);
      used.add(m);
    }
  }
  let next = 1;
  for (const id of [...portIds].sort()) {
    if (out.has(id)) continue;
    while (used.has(next)) next++;
    if (next > 0xffff) throw new Error('more than 65535 filtered ports on one host');
    out.set(id, next);
    used.add(next);
  }
  return out;
}

/** A conntrack zone per network (1..65535), so overlapping addresses of two networks never share an entry. */
export function zoneOf(networkId: string): number {
  let h = 0x811c9dc5;
  for (const c of networkId) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return (h % 0xffff) + 1;
}

// ---- Addresses.

/** A host address or a prefix, as nft writes it: hosts without /len. */
function prefixText(text: string): { version: 4 | 6; text: string; prefix: IpPrefix } | null {
  const p = IpPrefix.parse(text.includes('/') ? text : `${text}/${IpAddress.parse(text)?.bits ?? 0}`);
  if (!p) return null;
  const bits = p.version === 6 ? 128 : 32;
  return { version: p.version, text: p.length === bits ? p.network.toString() : p.toString(), prefix: p };
}

/**
 * Drops the prefixes another one covers (nft refuses overlapping intervals), keeping the order stable. Only a
 * network (not a host address) can cover another entry, and sets are mostly host addresses: each entry is checked
 * against the networks only (a members' set of 1,000 addresses is not a million comparisons).
 */
function uncovered<T extends { prefix: IpPrefix; tag: string }>(items: T[]): T[] {
  const nets = items.map((b, j) => ({ b, j })).filter(({ b }) => b.prefix.length < (b.prefix.version === 6 ? 128 : 32));
  return items.filter((a, i) => !nets.some(({ b, j }) => j !== i && b.tag === a.tag && b.prefix.covers(a.prefix) && (!a.prefix.equals(b.prefix) || j < i)));
}

interface SourcePair {
  mac: string;
  version: 4 | 6;
  text: string;
  prefix: IpPrefix;
  tag: string;
}

/**
 * What a port may send from (iptables_firewall _build_ipv4v6_mac_ip_list): its MAC with each fixed IP and the
 * link-local address of that MAC; each allowed address pair with its MAC (the port's when it names none) and, for an
 * IPv6 pair, that MAC's link-local address too.
 */
export function sourcePairs(p: FwPort): SourcePair[] {
  const out: SourcePair[] = [];
  const add = (mac: string, ip: string): void => {
    const t = prefixText(ip);
    if (!t) return;
    const m = mac.toLowerCase();
    if (out.some((o) => o.mac === m && o.text === t.text)) return;
    out.push({ mac: m, version: t.version, text: t.text, prefix: t.prefix, tag: m });
    if (t.version === 6) add(m, linkLocalFromMac(m).toString());
  };
  for (const f of p.fixed_ips) add(p.mac_address, f.ip_address);
  for (const pair of p.allowed_address_pairs ?? []) add(pair.mac_address || p.mac_address, pair.ip_address);
  // A port without an IPv6 address still has its link-local one (ND, MLD, router solicitations).
  add(p.mac_address, linkLocalFromMac(p.mac_address).toString());
  return uncovered(out);
}

/** The addresses a remote group stands for: its members' fixed IPs and allowed address pairs, of one family. */
function memberAddresses(ports: readonly FwPort[], groupId: string, version: 4 | 6): string[] {
  const items: { prefix: IpPrefix; tag: string; text: string }[] = [];
  for (const p of ports) {
    if (!(p.security_groups ?? []).includes(groupId)) continue;
    for (const ip of [...p.fixed_ips.map((f) => f.ip_address), ...(p.allowed_address_pairs ?? []).map((a) => a.ip_address)]) {
      const t = prefixText(ip);
      if (t && t.version === version && !items.some((i) => i.text === t.text)) items.push({ prefix: t.prefix, tag: '', text: t.text });
    }
  }
  return uncovered(items).map((i) => i.text).sort();
}

/** An address group's CIDRs of one family, none covered by another (nft refuses overlapping intervals). */
export function addressGroupElements(group: FwAddressGroup | undefined, version: 4 | 6): string[] {
  const items: { prefix: IpPrefix; tag: string; text: string }[] = [];
  for (const a of group?.addresses ?? []) {
    const t = prefixText(a);
    if (t && t.version === version && !items.some((i) => i.text === t.text)) items.push({ prefix: t.prefix, tag: '', text: t.text });
  }
  return uncovered(items).map((i) => i.text).sort();
}

/** Router ports' link-local addresses on a network (RAs come from there), and its DHCP ports' addresses. */
function networkServers(ports: readonly FwPort[], networkId: string): { ra: string[]; dhcp6: string[]; dhcp4: string[] } {
  const ra = new Set<string>();
  const dhcp6 = new Set<string>();
  const dhcp4 = new Set<string>();
  for (const p of ports) {
    if (p.network_id !== networkId) continue;
    if (ROUTER_OWNERS.has(p.device_owner)) ra.add(linkLocalFromMac(p.mac_address).toString());
    if (p.device_owner === DHCP_OWNER) {
      dhcp6.add(linkLocalFromMac(p.mac_address).toString());
      for (const f of p.fixed_ips) {
        const a = IpAddress.parse(f.ip_address);
        if (a?.version === 6) dhcp6.add(a.toString());
        if (a?.version === 4) dhcp4.add(a.toString());
      }
    }
  }
  const sorted = (s: Set<string>): string[] => [...s].sort();
  // A network without a router port of ours (a provider network, whose router is outside, like the talk's DC) takes
  // RAs from any source: instances' own RAs are already dropped where they enter the bridge, so only the outside
  // router (or a port without port security) can send one. Neutron allows the subnet's gateway_ip there, which works
  // only when that is the upstream router's link-local address.
  return { ra: ra.size ? sorted(ra) : ['::/0'], dhcp6: sorted(dhcp6), dhcp4: sorted(dhcp4) };
}

// ---- Security group rules.

/** neutron-lib IP_PROTOCOL_MAP (and its aliases): the numbers nft matches with `meta l4proto`. */
const PROTOCOL_NUMBERS: Record<string, number> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ipip: 4, ipv6_encap: 41, 'ipv6-encap': 41,
  ipv6_frag: 44, 'ipv6-frag': 44, ipv6_icmp: 58, 'ipv6-icmp': 58, icmpv6: 58, ipv6_nonxt: 59, 'ipv6-nonxt': 59,
  ipv6_opts: 60, 'ipv6-opts': 60, ipv6_route: 43, 'ipv6-route': 43, ospf: 89, pgm: 113, rsvp: 46, sctp: 132, tcp: 6,
  udp: 17, udplite: 136, vrrp: 112,
};
/** Protocols whose port range is a destination port range (neutron/common/_constants SG_PORT_PROTO_NUMS). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);

export function protocolNumber(protocol: string | null): number | null {
  if (protocol === null) return null;
  if (/^\d+$/.test(protocol)) return Number(protocol);
  return PROTOCOL_NUMBERS[protocol.toLowerCase()] ?? null;
}

/**
 * One security group rule as an nft rule inside its group's chain. Ingress rules match the remote as the source,
 * egress as the destination; a remote group or address group is a named set (its elements change, the rule does
 * not); an ICMP rule's port_range_min/max are the ICMP type and code (Neutron's convention).
 */
export function ruleText(rule: FwRule): string | null {
  const v6 = rule.ethertype === 'IPv6';
  const l3 = v6 ? 'ip6' : 'ip';
  const parts: string[] = [`meta nfproto ${v6 ? 'ipv6' : 'ipv4'}`];
  const remoteDir = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  if (rule.remote_ip_prefix) {
    const t = prefixText(rule.remote_ip_prefix);
    if (t && t.prefix.length > 0) parts.push(`${l3} ${remoteDir} ${t.text}`);
  } else if (rule.remote_group_id) {
    parts.push(`${l3} ${remoteDir} @${remoteSet(rule.remote_group_id, rule.ethertype)}`);
  } else if (rule.remote_address_group_id) {
    parts.push(`${l3} ${remoteDir} @${addressGroupSet(rule.remote_address_group_id, rule.ethertype)}`);
  }
  const proto = protocolNumber(rule.protocol);
  if (proto !== null) {
    const min = rule.port_range_min;
    const max = rule.port_range_max;
    if (PORT_PROTOCOLS.has(proto)) {
      parts.push(`meta l4proto ${proto}`);
      if (min !== null && max !== null) parts.push(`th dport ${min === max ? min : `${min}-${max}`}`);
    } else if ((proto === 58 && v6) || (proto === 1 && !v6)) {
      const icmp = v6 ? 'icmpv6' : 'icmp';
      parts.push(`meta l4proto ${v6 ? 'ipv6-icmp' : 'icmp'}`);
      if (min !== null) parts.push(`${icmp} type ${min}`);
      if (min !== null && max !== null) parts.push(`${icmp} code ${max}`);
    } else {
      parts.push(`meta l4proto ${proto}`);
    }
  }
  return `${parts.join(' ')} accept comment "rule ${rule.id}"`;
}

// ---- The fixed rules of every filtered port.

/** ICMPv6 a port may receive from anyone (neutron/agent/firewall.py ICMPV6_ALLOWED_INGRESS_TYPES). */
const ICMPV6_INGRESS = 'mld-listener-query, nd-neighbor-solicit, nd-neighbor-advert';
/**
 * ICMPv6 a port may send (the OVS firewall's ICMPV6_ALLOWED_EGRESS_TYPES and NA, plus the MLD reports a host sends
 * so that its multicast groups keep working); RAs and redirects never leave an instance (the bridge chain drops them).
 */
const ICMPV6_EGRESS = 'nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report';
/** Sent from :: during duplicate address detection (neutron-lib ICMPV6_ALLOWED_UNSPEC_ADDR_TYPES). */
const ICMPV6_UNSPECIFIED = 'mld-listener-report, nd-neighbor-solicit, mld2-listener-report';

function spoofChain(name: string, mark: number, sets: ReturnType<typeof setNames>): string[] {
  return [
    `meta mark set ${hex(mark)}`,
    // Never from an instance: router advertisements and redirects (rogue RA, RFC 6104/6105), DHCP server messages.
    'icmpv6 type { nd-router-advert, nd-redirect } drop comment "rogue RA or redirect"',
    'udp sport 547 udp dport 546 drop comment "DHCPv6 server"',
    'udp sport 67 udp dport 68 drop comment "DHCPv4 server"',
    `ip6 saddr :: ip6 daddr ff02::/16 icmpv6 type { ${ICMPV6_UNSPECIFIED} } accept comment "DAD and MLD from ::"`,
    `ether saddr . ip6 saddr @${sets.mac6} accept`,
    'ether type ip6 drop comment "spoofed IPv6 source or MAC"',
    'ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept comment "DHCPv4 discover"',
    `ether saddr . ip saddr @${sets.mac4} accept`,
    'ether type ip drop comment "spoofed IPv4 source or MAC"',
    `arp saddr ether . arp saddr ip @${sets.mac4} ether saddr @${sets.macs} accept`,
    `arp saddr ip 0.0.0.0 ether saddr @${sets.macs} accept comment "ARP probe"`,
    `drop comment "${name}: other ethertypes and spoofed ARP"`,
  ];
}

// ---- The plan.

const BRIDGE_PRIORITY = -200; // bridge "filter": before bridge netfilter (priority 0) hands the frame to inet

function baseObjects(): NftObject[] {
  return [
    { kind: 'map', family: 'bridge', name: 'spoof-ports', decl: 'type ifname : verdict;', elements: new Map() },
    { kind: 'map', family: 'bridge', name: 'dst-ports', decl: 'type ifname : verdict;', elements: new Map() },
    { kind: 'map', family: 'inet', name: 'zones', decl: 'typeof iifname : ct zone;', elements: new Map() },
    { kind: 'set', family: 'inet', name: 'notrack-ports', decl: 'type mark;', elements: [] },
    { kind: 'map', family: 'inet', name: 'egress-ports', decl: 'type mark : verdict;', elements: new Map() },
    { kind: 'map', family: 'inet', name: 'ingress-ports', decl: 'type mark : verdict;', elements: new Map() },
    {
      kind: 'chain', family: 'bridge', name: 'prerouting', hook: `type filter hook prerouting priority ${BRIDGE_PRIORITY}; policy accept;`,
      rules: ['meta mark set 0x00000000', 'iifname vmap @spoof-ports'],
    },
    { kind: 'chain', family: 'bridge', name: 'forward', hook: `type filter hook forward priority ${BRIDGE_PRIORITY}; policy accept;`, rules: ['oifname vmap @dst-ports'] },
    {
      kind: 'chain', family: 'inet', name: 'raw-prerouting', hook: 'type filter hook prerouting priority raw; policy accept;',
      rules: ['ct zone set iifname map @zones', 'meta mark & 0x0000ffff @notrack-ports notrack'],
    },
    // Two base chains: `accept` ends only its own, so a packet passes its source port's egress chain and then its
    // destination port's ingress chain; `drop` in either is final.
    { kind: 'chain', family: 'inet', name: 'forward-egress', hook: 'type filter hook forward priority filter; policy accept;', rules: ['meta mark & 0x0000ffff vmap @egress-ports'] },
    { kind: 'chain', family: 'inet', name: 'forward-ingress', hook: 'type filter hook forward priority 10; policy accept;', rules: ['meta mark & 0xffff0000 vmap @ingress-ports'] },
  ];
}

export function compileFirewall(input: FirewallInput): FirewallPlan {
  const base = baseObjects();
  const map = (family: Family, name: string): NftMap => base.find((o): o is NftMap => o.kind === 'map' && o.family === family && o.name === name)!;
  const notrack = base.find((o): o is NftSet => o.kind === 'set' && o.name === 'notrack-ports')!;
  const objects: NftObject[] = [];
  const portObjects = new Map<string, string[]>();
  const groups = new Map(input.groups.map((g) => [g.id, g]));
  const rulesByGroup = new Map<string, FwRule[]>();
  for (const r of [...input.rules].sort((a, b) => a.id.localeCompare(b.id))) {
    const list = rulesByGroup.get(r.security_group_id) ?? [];
    list.push(r);
    rulesByGroup.set(r.security_group_id, list);
  }

  const usedGroups = new Set<string>();
  const networks = new Set<string>();
  const bridges = new Map<string, string>();
  for (const { port, tap, bridge } of [...input.local].sort((a, b) => a.port.id.localeCompare(b.port.id))) {
    const mark = input.marks.get(port.id);
    if (mark === undefined) continue;
    const c = chainNames(port.id);
    const s = setNames(port.id);
    const pairs = sourcePairs(port);
    const macs = [...new Set([port.mac_address.toLowerCase(), ...pairs.map((p) => p.mac)])].sort();
    objects.push(
      { kind: 'set', family: 'bridge', name: s.mac6, decl: 'type ether_addr . ipv6_addr; flags interval;', elements: pairs.filter((p) => p.version === 6).map((p) => `${p.mac} . ${p.text}`) },
      { kind: 'set', family: 'bridge', name: s.mac4, decl: 'type ether_addr . ipv4_addr; flags interval;', elements: pairs.filter((p) => p.version === 4).map((p) => `${p.mac} . ${p.text}`) },
      { kind: 'set', family: 'bridge', name: s.macs, decl: 'type ether_addr;', elements: macs },
      { kind: 'chain', family: 'bridge', name: c.spoof, rules: spoofChain(c.spoof, mark, s) },
      { kind: 'chain', family: 'bridge', name: c.dstMark, rules: [`meta mark set meta mark | ${hex(mark << 16)}`] },
    );
    map('bridge', 'spoof-ports').elements.set(`"${tap}"`, `jump ${c.spoof}`);
    map('bridge', 'dst-ports').elements.set(`"${tap}"`, `jump ${c.dstMark}`);
    map('inet', 'egress-ports').elements.set(hex(mark), `jump ${c.egress}`);
    map('inet', 'ingress-ports').elements.set(hex(mark << 16), `jump ${c.ingress}`);
    bridges.set(bridge, port.network_id);
    networks.add(port.network_id);

    const portGroups = (port.security_groups ?? []).filter((g) => groups.has(g));
    // Neutron refuses mixing stateful and stateless groups on a port; if it happens, stateful wins (safer).
    const stateful = portGroups.length === 0 || portGroups.some((g) => groups.get(g)!.stateful !== false);
    if (!stateful) notrack.elements.push(hex(mark));
    for (const g of portGroups) usedGroups.add(g);
    const n = networkSets(port.network_id);
    const tracked = stateful ? ['ct state established,related accept', 'ct state invalid drop'] : [];
    objects.push(
      {
        kind: 'chain', family: 'inet', name: c.egress,
        rules: [
          `icmpv6 type { ${ICMPV6_EGRESS} } accept`,
          'udp sport 546 udp dport 547 accept comment "DHCPv6 client"',
          'udp sport 68 udp dport 67 accept comment "DHCPv4 client"',
          ...tracked,
          ...portGroups.map((g) => `jump ${groupChain(g, 'egress')}`),
          'drop',
        ],
      },
      {
        kind: 'chain', family: 'inet', name: c.ingress,
        rules: [
          `icmpv6 type { ${ICMPV6_INGRESS} } accept`,
          `ip6 saddr @${n.ra} icmpv6 type nd-router-advert accept comment "RAs of the network's routers"`,
          `ip6 saddr @${n.dhcp6} udp sport 547 udp dport 546 accept comment "the network's DHCPv6 servers"`,
          `ip saddr @${n.dhcp4} udp sport 67 udp dport 68 accept comment "the network's DHCPv4 servers"`,
          ...tracked,
          ...portGroups.map((g) => `jump ${groupChain(g, 'ingress')}`),
          'drop',
        ],
      },
    );
    portObjects.set(port.id, [objectKey({ family: 'bridge', kind: 'chain', name: c.spoof }), objectKey({ family: 'bridge', kind: 'set', name: s.mac6 }), objectKey({ family: 'bridge', kind: 'set', name: s.mac4 }), objectKey({ family: 'inet', kind: 'chain', name: c.egress }), objectKey({ family: 'inet', kind: 'chain', name: c.ingress })]);
  }

  const remoteSets = new Set<string>();
  const addressSets = new Set<string>();
  for (const g of [...usedGroups].sort()) {
    for (const direction of ['egress', 'ingress']) {
      const rules: string[] = [];
      for (const r of rulesByGroup.get(g) ?? []) {
        if (r.direction !== direction) continue;
        const text = ruleText(r);
        if (text === null) continue;
        if (r.remote_group_id && !r.remote_ip_prefix) remoteSets.add(`${r.remote_group_id} ${r.ethertype}`);
        else if (r.remote_address_group_id && !r.remote_ip_prefix) addressSets.add(`${r.remote_address_group_id} ${r.ethertype}`);
        rules.push(text);
      }
      objects.push({ kind: 'chain', family: 'inet', name: groupChain(g, direction), rules });
    }
  }
  for (const key of [...remoteSets].sort()) {
    const [gid, ethertype] = key.split(' ') as [string, string];
    const v6 = ethertype === 'IPv6';
    objects.push({ kind: 'set', family: 'inet', name: remoteSet(gid, ethertype), decl: `type ${v6 ? 'ipv6_addr' : 'ipv4_addr'}; flags interval;`, elements: memberAddresses(input.ports, gid, v6 ? 6 : 4) });
  }
  const addressGroups = new Map((input.addressGroups ?? []).map((a) => [a.id, a]));
  for (const key of [...addressSets].sort()) {
    const [agId, ethertype] = key.split(' ') as [string, string];
    const v6 = ethertype === 'IPv6';
    objects.push({ kind: 'set', family: 'inet', name: addressGroupSet(agId, ethertype), decl: `type ${v6 ? 'ipv6_addr' : 'ipv4_addr'}; flags interval;`, elements: addressGroupElements(addressGroups.get(agId), v6 ? 6 : 4) });
  }
  for (const net of [...networks].sort()) {
    const n = networkSets(net);
    const servers = networkServers(input.ports, net);
    objects.push(
      { kind: 'set', family: 'inet', name: n.ra, decl: 'type ipv6_addr; flags interval;', elements: servers.ra },
      { kind: 'set', family: 'inet', name: n.dhcp6, decl: 'type ipv6_addr;', elements: servers.dhcp6 },
      { kind: 'set', family: 'inet', name: n.dhcp4, decl: 'type ipv4_addr;', elements: servers.dhcp4 },
    );
  }
  for (const [bridge, net] of [...bridges].sort()) map('inet', 'zones').elements.set(`"${bridge}"`, String(zoneOf(net)));
  notrack.elements.sort();

  // Sets and maps first (rules refer to them), then regular chains (base chains jump through maps to them), the
  // base chains last.
  const all = [...base, ...objects];
  const rank = (o: NftObject): number => (o.kind !== 'chain' ? 0 : o.hook ? 2 : 1);
  return { objects: all.sort((a, b) => rank(a) - rank(b)), portObjects };
}

// ---- The script: from what was applied to what is wanted, in one `nft -f` transaction.

/** What the kernel holds, by object key: a chain's or set's text as last written, a map's elements. */
export interface AppliedFirewall {
  objects: Map<string, NftObject>;
}

const fingerprint = (o: NftObject): string =>
  o.kind === 'chain' ? `${o.hook ?? ''}|${o.rules.join('\n')}` : o.kind === 'set' ? `${o.decl}|${o.elements.join(',')}` : o.decl;

function declare(o: NftObject): string {
  const where = `${o.family} ${FW_TABLE} ${o.name}`;
  if (o.kind === 'chain') return `add chain ${where}${o.hook ? ` { ${o.hook} }` : ''}`;
  return `add ${o.kind} ${where} { ${o.decl} }`;
}

const ELEMENT_CHUNK = 500;
function addElements(o: NftObject, items: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += ELEMENT_CHUNK) out.push(`add element ${o.family} ${FW_TABLE} ${o.name} { ${items.slice(i, i + ELEMENT_CHUNK).join(', ')} }`);
  return out;
}
function deleteElements(o: NftObject, keys: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += ELEMENT_CHUNK) out.push(`delete element ${o.family} ${FW_TABLE} ${o.name} { ${keys.slice(i, i + ELEMENT_CHUNK).join(', ')} }`);
  return out;
}

/**
 * The nft script that turns `applied` into `plan` (null when nothing differs). Only objects whose text changed are
 * written: a changed chain is flushed and refilled, a changed set's and map's elements are added and deleted one by
 * one (a set read back from the kernel, whose contents are unknown, is flushed and refilled), all inside the one
 * transaction `nft -f` makes of a file, so no packet sees a half-written port. Objects of `applied` no longer wanted are deleted once nothing refers to them.
 */
export function firewallScript(plan: FirewallPlan, applied: AppliedFirewall): string | null {
  const lines: string[] = [];
  const wanted = new Map(plan.objects.map((o) => [objectKey(o), o]));
  const changed = plan.objects.filter((o) => {
    const have = applied.objects.get(objectKey(o));
    return !have || fingerprint(have) !== fingerprint(o);
  });
  const maps = plan.objects.filter((o): o is NftMap => o.kind === 'map');
  const mapDeletes: string[] = [];
  const mapAdds: string[] = [];
  for (const m of maps) {
    const have = applied.objects.get(objectKey(m)) as NftMap | undefined;
    const old = have?.elements ?? new Map<string, string>();
    const gone = [...old].filter(([k, v]) => m.elements.get(k) !== v).map(([k]) => k);
    const added = [...m.elements].filter(([k, v]) => old.get(k) !== v).map(([k, v]) => `${k} : ${v}`);
    mapDeletes.push(...deleteElements(m, gone));
    mapAdds.push(...addElements(m, added));
  }
  const stale = [...applied.objects.values()].filter((o) => !wanted.has(objectKey(o)));
  if (!changed.length && !mapDeletes.length && !mapAdds.length && !stale.length) return null;

  lines.push(`add table bridge ${FW_TABLE}`, `add table inet ${FW_TABLE}`);
  // 1. every new or changed object exists (sets and maps before the chains that name them).
  for (const o of changed) {
    const have = applied.objects.get(objectKey(o));
    if (!(o.kind === 'set' && have?.kind === 'set' && have.decl === o.decl)) lines.push(declare(o));
  }
  // 2. dispatch entries to ports that go away, before their chains do.
  lines.push(...mapDeletes);
  // 3. sets and chains take their new contents.
  for (const o of changed) {
    if (o.kind === 'map') continue;
    const where = `${o.family} ${FW_TABLE} ${o.name}`;
    if (o.kind === 'set') {
      const have = applied.objects.get(objectKey(o));
      if (have?.kind === 'set' && have.decl === o.decl) {
        // Known contents, same type: only the difference (a member joining, an address added to an address group),
        // so the set is never empty in between and a large set is not rewritten for one element.
        const now = new Set(o.elements);
        const before = new Set(have.elements);
        lines.push(...deleteElements(o, have.elements.filter((e) => !now.has(e))));
        lines.push(...addElements(o, o.elements.filter((e) => !before.has(e))));
      } else {
        if (have) lines.push(`flush set ${where}`);
        lines.push(...addElements(o, o.elements));
      }
    } else {
      if (applied.objects.has(objectKey(o))) lines.push(`flush chain ${where}`);
      for (const r of o.rules) lines.push(`add rule ${where} ${r}`);
    }
  }
  // 4. dispatch entries to new ports, whose chains now exist.
  lines.push(...mapAdds);
  // 5. what is no longer wanted: chains emptied first (a port chain jumps to group chains), then deleted; sets last.
  const staleChains = stale.filter((o) => o.kind === 'chain');
  for (const o of staleChains) lines.push(`flush chain ${o.family} ${FW_TABLE} ${o.name}`);
  for (const o of staleChains) lines.push(`delete chain ${o.family} ${FW_TABLE} ${o.name}`);
  for (const o of stale) if (o.kind !== 'chain') lines.push(`delete ${o.kind} ${o.family} ${FW_TABLE} ${o.name}`);
  return lines.join('\n') + '\n';
}

/** A port's objects as nft would list them (for `v6stack firewall show` and the lab). */
export function describePort(plan: FirewallPlan, portId: string): string {
  const keys = plan.portObjects.get(portId);
  if (!keys) return '';
  const byKey = new Map(plan.objects.map((o) => [objectKey(o), o]));
  const out: string[] = [];
  const shown = new Set<string>();
  const show = (o: NftObject | undefined): void => {
    if (!o || shown.has(objectKey(o))) return;
    shown.add(objectKey(o));
    if (o.kind === 'chain') {
      out.push(`${o.family} chain ${o.name}`, ...o.rules.map((r) => `  ${r}`));
      for (const r of o.rules) {
        const jump = /^jump (\S+)$/.exec(r);
        if (jump) show(byKey.get(`${o.family} chain ${jump[1]}`));
        for (const m of r.matchAll(/@([A-Za-z0-9_.-]+)/g)) show(byKey.get(`${o.family} set ${m[1]}`));
      }
    } else if (o.kind === 'set') {
      out.push(`${o.family} set ${o.name} = { ${o.elements.join(', ')} }`);
    }
  };
  for (const k of keys) show(byKey.get(k));
  return out.join('\n') + '\n';
}

// ---- Connection tracking clean-up.

const CONNTRACK_PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 33: 'dccp', 58: 'icmpv6', 132: 'sctp', 136: 'udplite' };

/** The rules that apply to a filtered port: its groups' rules, by id. */
function portRules(input: Omit<FirewallInput, 'marks'>, port: FwPort): Map<string, FwRule> {
  const groups = new Set((port.security_groups ?? []).filter((g) => input.groups.some((x) => x.id === g)));
  return new Map(input.rules.filter((r) => groups.has(r.security_group_id)).map((r) => [r.id, r]));
}

/** The addresses a rule's remote set holds (members of a remote group, CIDRs of an address group), or null. */
function remoteElements(input: Omit<FirewallInput, 'marks'>, rule: FwRule, memo: Map<string, string[]>): string[] | null {
  const version = rule.ethertype === 'IPv6' ? 6 : 4;
  if (rule.remote_ip_prefix) return null;
  const key = rule.remote_group_id ? `g ${rule.remote_group_id} ${version}` : rule.remote_address_group_id ? `a ${rule.remote_address_group_id} ${version}` : null;
  if (key === null) return null;
  let elements = memo.get(key);
  if (!elements) {
    elements = rule.remote_group_id
      ? memberAddresses(input.ports, rule.remote_group_id, version)
      : addressGroupElements(input.addressGroups?.find((a) => a.id === rule.remote_address_group_id), version);
    memo.set(key, elements);
  }
  return elements;
}

/**
 * The `conntrack -D` commands that cut the established flows a change stops allowing, as Neutron's firewall drivers
 * do (iptables_firewall _remove_conntrack_entries_from_sg_updates, agent/linux/ip_conntrack.py): for each filtered
 * port that stays, every rule it no longer has (the rule deleted, or the port out of the rule's group), and every
 * address that left a remote set one of its rules matches (a member port deleted, out of the group or re-addressed;
 * an address removed from an address group). Each command names the port's zone, family, the rule's protocol (and
 * its port when the range is one port), the port's own address on the rule's side and the remote address when it
 * is a host. Deleting an entry does not drop the flow by itself: its next packet is tracked anew (TCP's loose
 * pick-up) and judged by the new ruleset, so a flow another rule still allows goes on and the others stop.
 */
export function conntrackCuts(before: Omit<FirewallInput, 'marks'>, after: Omit<FirewallInput, 'marks'>): string[][] {
  const out = new Map<string, string[]>();
  const stays = new Map(after.local.map((l) => [l.port.id, l.port]));
  const memoBefore = new Map<string, string[]>();
  const memoAfter = new Map<string, string[]>();
  for (const { port: old } of before.local) {
    const now = stays.get(old.id);
    if (!now) continue; // the port is gone: its flows have nowhere to go
    const was = portRules(before, old);
    const is = portRules(after, now);
    const cut = (rule: FwRule, remote: string | null): void => {
      const v6 = rule.ethertype === 'IPv6';
      const proto = protocolNumber(rule.protocol);
      const own = sourcePairs(old).filter((p) => p.version === (v6 ? 6 : 4) && p.prefix.length === (v6 ? 128 : 32)).map((p) => p.text);
      for (const ip of [...new Set(own)]) {
        const argv = ['conntrack', '-D', '-w', String(zoneOf(old.network_id)), '-f', v6 ? 'ipv6' : 'ipv4'];
        if (proto !== null) {
          argv.push('-p', CONNTRACK_PROTOCOLS[proto] ?? String(proto));
          if (PORT_PROTOCOLS.has(proto) && rule.port_range_min !== null && rule.port_range_min === rule.port_range_max) argv.push('--dport', String(rule.port_range_min));
        }
        const ingress = rule.direction === 'ingress';
        argv.push(ingress ? '-d' : '-s', ip);
        const host = remote ?? (rule.remote_ip_prefix ? prefixText(rule.remote_ip_prefix)?.text ?? null : null);
        if (host && !host.includes('/')) argv.push(ingress ? '-s' : '-d', host);
        out.set(argv.join(' '), argv);
      }
    };
    for (const [id, rule] of was) {
      const still = is.get(id);
      if (!still) {
        cut(rule, null);
        continue;
      }
      const prev = remoteElements(before, rule, memoBefore);
      const next = new Set(remoteElements(after, still, memoAfter) ?? []);
      for (const e of prev ?? []) if (!next.has(e)) cut(rule, e);
    }
  }
  return [...out.values()];
}

/**
 * What conntrackCuts needs to remember of an applied input across an agent restart, and nothing more: the local
 * ports, their groups and those groups' rules, the ports that are members of the remote groups those rules name
 * (only the fields memberAddresses reads) and the address groups they name. conntrackCuts(firewallMemory(a), b)
 * equals conntrackCuts(a, b); the agent keeps this in its state dir (agent/nft.ts), so that a change made while it
 * was down still cuts the flows it stops allowing, without storing every port of the cloud.
 */
export function firewallMemory(input: Omit<FirewallInput, 'marks'>): Omit<FirewallInput, 'marks'> {
  const groupIds = new Set(input.local.flatMap((l) => l.port.security_groups ?? []));
  const groups = input.groups.filter((g) => groupIds.has(g.id));
  const rules = input.rules.filter((r) => groupIds.has(r.security_group_id));
  const remoteGroups = new Set(rules.filter((r) => !r.remote_ip_prefix && r.remote_group_id).map((r) => r.remote_group_id!));
  const addressGroupIds = new Set(rules.filter((r) => !r.remote_ip_prefix && !r.remote_group_id && r.remote_address_group_id).map((r) => r.remote_address_group_id!));
  const ports = input.ports
    .filter((p) => (p.security_groups ?? []).some((g) => remoteGroups.has(g)))
    .map((p) => ({
      id: p.id,
      network_id: p.network_id,
      mac_address: p.mac_address,
      device_owner: p.device_owner,
      fixed_ips: p.fixed_ips.map((f) => ({ ip_address: f.ip_address })),
      allowed_address_pairs: (p.allowed_address_pairs ?? []).map((a) => ({ ip_address: a.ip_address })),
      security_groups: (p.security_groups ?? []).filter((g) => remoteGroups.has(g)),
    }));
  return {
    ports,
    groups: groups.map((g) => ({ id: g.id, ...(g.stateful !== undefined ? { stateful: g.stateful } : {}) })),
    rules,
    addressGroups: (input.addressGroups ?? []).filter((a) => addressGroupIds.has(a.id)).map((a) => ({ id: a.id, addresses: a.addresses })),
    local: input.local.map((l) => ({ port: l.port, tap: l.tap, bridge: l.bridge })),
  };
}
