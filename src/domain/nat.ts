// IPv4 NAT of a router, as pure data: what its nftables table holds (source NAT of its internal IPv4 subnets to the
// gateway address when enable_snat is true, and one destination/source NAT pair per floating IP), the one `nft`
// transaction that turns what the kernel has into that, and the reading of `nft -j list table`. IPv6 is never
// translated: the table is of family `ip`, so no IPv6 packet ever meets it. PURE.
//
// Neutron's l3 agent does this with iptables chains (neutron/agent/l3/router_info.py: the snat and float-snat
// rules, DNAT per floating IP in PREROUTING/OUTPUT, `ip addr add <fip>/32 dev qg-`); here the rules are fixed and the
// addresses are elements of maps, so an association change is an element change in one transaction: the rules and
// every other element stay, and conntrack keeps every flow's translation (nothing is flushed). Only the flows of a
// floating IP that moved or went are deleted from conntrack (as Neutron deletes them), so they do not keep reaching
// the old instance.

import { IpAddress, IpPrefix } from './ip.js';

/** The table v6stack owns in each router namespace. */
export const NAT_TABLE = 'v6stack_nat';
export const NAT_FAMILY = 'ip';

export interface FloatingMapping {
  floating: string;
  fixed: string;
}

/** What a router's NAT is made of (from the API: the gateway port, enable_snat, interfaces, floating IPs). */
export interface RouterNatInput {
  /** The gateway link in the router namespace (qg-…). */
  gatewayLink: string;
  /** The gateway port's IPv4 address: the source of SNAT (none: no SNAT). */
  gatewayIpv4: string | null;
  enableSnat: boolean;
  /** The router's internal IPv4 subnets (its interfaces'). */
  internalCidrs: readonly string[];
  floatingIps: readonly FloatingMapping[];
}

/** A router's table: the rules' shape (which only the gateway link names) and the maps' elements. */
export interface NatTable {
  gatewayLink: string;
  /** floating → fixed (DNAT of packets arriving on the gateway link). */
  dnat: Map<string, string>;
  /** fixed → floating (SNAT of a floating IP's instance; before the router-wide SNAT). */
  fipSnat: Map<string, string>;
  /** internal IPv4 subnet → the gateway address (empty with enable_snat false). */
  snat: Map<string, string>;
}

const canonical = (ip: string): string => IpAddress.parse(ip)?.toString() ?? ip;

export function planNat(input: RouterNatInput): NatTable {
  const dnat = new Map<string, string>();
  const fipSnat = new Map<string, string>();
  for (const f of [...input.floatingIps].sort((a, b) => a.floating.localeCompare(b.floating))) {
    const floating = canonical(f.floating);
    const fixed = canonical(f.fixed);
    // A fixed address has one floating IP per external network, and a router one gateway: at most one here.
    if (dnat.has(floating) || fipSnat.has(fixed)) continue;
    dnat.set(floating, fixed);
    fipSnat.set(fixed, floating);
  }
  const snat = new Map<string, string>();
  if (input.enableSnat && input.gatewayIpv4) {
    for (const c of [...input.internalCidrs].sort()) {
      const p = IpPrefix.parse(c);
      if (p && p.version === 4) snat.set(p.toString(), canonical(input.gatewayIpv4));
    }
  }
  return { gatewayLink: input.gatewayLink, dnat, fipSnat, snat };
}

/** The floating addresses a router holds on its gateway link (each a /32, answered by ARP there). */
export function floatingAddresses(floatingIps: readonly FloatingMapping[]): string[] {
  return [...new Set(floatingIps.map((f) => `${canonical(f.floating)}/32`))].sort();
}

// ---- The table's rules: fixed, naming only the gateway link. Their signature is how a read-back table is compared.

interface RuleShape {
  chain: 'prerouting' | 'postrouting';
  iface: 'iifname' | 'oifname';
  nat: 'dnat' | 'snat';
  field: 'daddr' | 'saddr';
  map: 'floating_to_fixed' | 'fixed_to_floating' | 'snat_to';
}

const RULES: readonly RuleShape[] = [
  { chain: 'prerouting', iface: 'iifname', nat: 'dnat', field: 'daddr', map: 'floating_to_fixed' },
  // A floating IP's instance leaves with its floating address; the router-wide SNAT only takes what is left.
  { chain: 'postrouting', iface: 'oifname', nat: 'snat', field: 'saddr', map: 'fixed_to_floating' },
  { chain: 'postrouting', iface: 'oifname', nat: 'snat', field: 'saddr', map: 'snat_to' },
];

const ruleSignature = (r: Omit<RuleShape, 'field'>, link: string): string => `${r.chain}:${r.iface}=${link}>${r.nat}@${r.map}`;

/** The rules' signature for a gateway link, as `readNatTable` computes it from the kernel's. */
export function natSignature(gatewayLink: string): string {
  return RULES.map((r) => ruleSignature(r, gatewayLink)).join('|');
}

const elements = (m: Map<string, string>): string => [...m].map(([k, v]) => `${k} : ${v}`).join(', ');
const T = `${NAT_FAMILY} ${NAT_TABLE}`;

/** The whole table, for `nft`: made from nothing (or replacing a table of another shape) in one transaction. */
export function renderNatTable(t: NatTable): string {
  const maps: [RuleShape['map'], Map<string, string>, boolean][] = [
    ['floating_to_fixed', t.dnat, false],
    ['fixed_to_floating', t.fipSnat, false],
    ['snat_to', t.snat, true],
  ];
  const lines = [`add table ${T} { comment "v6stack: IPv4 NAT of this router (SNAT, floating IPs)"; }`];
  for (const [name, m, interval] of maps) {
    lines.push(`add map ${T} ${name} { type ipv4_addr : ipv4_addr;${interval ? ' flags interval;' : ''}${m.size ? ` elements = { ${elements(m)} };` : ''} }`);
  }
  lines.push(`add chain ${T} prerouting { type nat hook prerouting priority dstnat; policy accept; }`);
  lines.push(`add chain ${T} postrouting { type nat hook postrouting priority srcnat; policy accept; }`);
  for (const r of RULES) lines.push(`add rule ${T} ${r.chain} ${r.iface} "${t.gatewayLink}" ${r.nat} to ip ${r.field} map @${r.map}`);
  return lines.join('\n');
}

/** What the kernel's table holds, read back with `nft -j list table ip v6stack_nat`. */
export interface NatActual {
  signature: string;
  dnat: Map<string, string>;
  fipSnat: Map<string, string>;
  snat: Map<string, string>;
}

type Json = Record<string, any>;

function elemKey(k: unknown): string {
  if (typeof k === 'string') return k;
  const p = (k as Json | null)?.prefix;
  if (p) return `${p.addr}/${p.len}`;
  return JSON.stringify(k);
}

/** Parses `nft -j list table ip v6stack_nat` (null: the table is absent). */
export function readNatTable(json: string | null): NatActual | null {
  if (!json) return null;
  const items = (JSON.parse(json) as { nftables?: Json[] }).nftables ?? [];
  if (!items.some((i) => i.table?.name === NAT_TABLE)) return null;
  const maps = new Map<string, Map<string, string>>();
  for (const i of items) {
    if (!i.map || i.map.table !== NAT_TABLE) continue;
    const m = new Map<string, string>();
    for (const e of (i.map.elem ?? []) as unknown[][]) {
      let key = elemKey(e[0]);
      // An interval map shows a /32 as a bare address.
      if (i.map.name === 'snat_to' && !key.includes('/')) key = `${key}/32`;
      m.set(key, String(e[1]));
    }
    maps.set(i.map.name, m);
  }
  const rules: string[] = [];
  for (const i of items) {
    if (!i.rule || i.rule.table !== NAT_TABLE) continue;
    const expr = i.rule.expr as Json[];
    const match = expr.find((x) => x.match?.left?.meta);
    const nat = expr.find((x) => x.dnat || x.snat);
    const kind = nat?.dnat ? 'dnat' : 'snat';
    const map = String(nat?.[kind]?.addr?.map?.data ?? '').replace(/^@/, '');
    rules.push(`${i.rule.chain}:${match?.match.left.meta.key}=${match?.match.right}>${kind}@${map}`);
  }
  return {
    signature: rules.join('|'),
    dnat: maps.get('floating_to_fixed') ?? new Map(),
    fipSnat: maps.get('fixed_to_floating') ?? new Map(),
    snat: maps.get('snat_to') ?? new Map(),
  };
}

/** What a change of the table is: the `nft` script (one transaction) and the floating IPs whose flows must go. */
export interface NatChange {
  script: string;
  /** Floating addresses that went or now map to another fixed address: their conntrack entries are deleted. */
  staleFloating: string[];
  /** Only the elements changed (false: the table was made or remade). */
  incremental: boolean;
}

function mapDiff(name: string, want: Map<string, string>, have: Map<string, string>): { del: string[]; add: string[] } {
  const del: string[] = [];
  const add: string[] = [];
  for (const [k, v] of have) if (want.get(k) !== v) del.push(k);
  for (const [k, v] of want) if (have.get(k) !== v) add.push(`${k} : ${v}`);
  return {
    del: del.length ? [`delete element ${T} ${name} { ${del.join(', ')} }`] : [],
    add: add.length ? [`add element ${T} ${name} { ${add.join(', ')} }`] : [],
  };
}

/**
 * The transaction from `actual` to `desired` (null: nothing to do). A table of the expected shape has only its
 * elements changed; a missing one is made; one of another shape (the gateway link changed) is replaced whole, in
 * the same transaction, so no packet ever meets a half-built table.
 */
export function diffNat(desired: NatTable | null, actual: NatActual | null): NatChange | null {
  if (!desired) {
    if (!actual) return null;
    return { script: `delete table ${T}`, staleFloating: [...actual.dnat.keys()].sort(), incremental: false };
  }
  const stale = actual ? [...actual.dnat].filter(([f, fixed]) => desired.dnat.get(f) !== fixed).map(([f]) => f).sort() : [];
  if (!actual || actual.signature !== natSignature(desired.gatewayLink)) {
    // `add table` first: `delete table` of a missing one would fail the transaction.
    const remake = actual ? [`add table ${T}`, `delete table ${T}`] : [];
    return { script: [...remake, renderNatTable(desired)].join('\n'), staleFloating: stale, incremental: false };
  }
  const parts = [mapDiff('floating_to_fixed', desired.dnat, actual.dnat), mapDiff('fixed_to_floating', desired.fipSnat, actual.fipSnat), mapDiff('snat_to', desired.snat, actual.snat)];
  // Deletions first: a key that changes its value is deleted then added again.
  const lines = [...parts.flatMap((p) => p.del), ...parts.flatMap((p) => p.add)];
  if (!lines.length) return null;
  return { script: lines.join('\n'), staleFloating: stale, incremental: true };
}
