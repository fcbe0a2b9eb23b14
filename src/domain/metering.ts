// Metering (Neutron's `metering` and `metering_source_and_destination_fields` extensions), as pure rules and data:
// how a rule's prefixes are read and checked (neutron/services/metering/metering_plugin.py
// validate_metering_label_rule, check_for_rule_overlaps), which routers a label meters (metering_db.py
// _process_sync_metering_data: every router of the label's project, every router when it is shared, routers with
// admin_state_up only), and what each router's nftables table holds to count them (Neutron's iptables driver,
// neutron/services/metering/drivers/iptables/iptables_driver.py, as nft). PURE: no I/O.
//
// The data plane. Neutron counts in the router namespace on the external gateway interface: `ingress` is traffic
// that arrives on qg- (from outside, toward the router's networks), `egress` traffic that leaves through qg-. Per
// label it keeps one counting chain, and each rule jumps to it when its prefix matches; an `excluded` rule RETURNs
// before the counting rules do (the iptables driver inserts excluded rules first), so excluded traffic is not
// counted. A `remote_ip_prefix` is the far end: the source of ingress traffic, the destination of egress traffic.
// With source/destination prefixes, each that is set must match. Here each label and direction has a named nft
// counter, so replacing the rules (flush and refill of a chain in one transaction) leaves the counts as they were;
// the counters go only with the label (or with the router's namespace). Packets are counted in the forward hook
// (routed traffic between the router's networks and the outside: what Neutron's FORWARD-chain rules count), both
// IPv4 and IPv6 (an `inet` table; a prefix of either family matches only its family).

import { IpAddress, IpPrefix } from './ip.js';
import { prefixLengthOf } from './netaddr.js';
import { pyRepr } from './py.js';

export const METERING_DIRECTIONS = ['ingress', 'egress'] as const;
export type MeteringDirection = (typeof METERING_DIRECTIONS)[number];

/** The prefix attributes of a rule, in the order Neutron validates them. */
export const METERING_PREFIX_ATTRIBUTES = ['remote_ip_prefix', 'source_ip_prefix', 'destination_ip_prefix'] as const;

/** The table v6stack owns in each router namespace for metering. */
export const METERING_TABLE = 'v6stack_metering';
export const METERING_FAMILY = 'inet';

/**
 * Python's ipaddress.ip_interface(text), as validate_metering_rule_ip_address calls it: an address of either family,
 * optionally with a prefix length (IPv4 also a dotted netmask). The text netaddr.IPNetwork then stores keeps the
 * host bits ("10.0.0.1/24" stays so; a bare address gets /32 or /128). null when ipaddress raises ValueError.
 */
export function parseMeteringPrefix(value: unknown): { stored: string; prefix: IpPrefix } | null {
  if (typeof value !== 'string') return null;
  const slash = value.indexOf('/');
  const addrText = slash === -1 ? value : value.slice(0, slash);
  const address = IpAddress.parse(addrText);
  if (!address) return null;
  const length = prefixLengthOf(address, slash === -1 ? null : value.slice(slash + 1));
  if (length === null) return null;
  return { stored: `${address.toString()}/${length}`, prefix: IpPrefix.of(address, length) };
}

/** ValueError's text for a value ip_interface refuses. */
export function meteringPrefixError(attr: string, value: unknown): string {
  const shown = typeof value === 'string' ? value : pyRepr(value);
  return `${attr}: ${shown} is invalid [${pyRepr(value)} does not appear to be an IPv4 or IPv6 interface].`;
}

/** A rule as stored and shown. */
export interface MeteringRule {
  id: string;
  metering_label_id: string;
  direction: MeteringDirection;
  excluded: boolean;
  remote_ip_prefix: string | null;
  source_ip_prefix: string | null;
  destination_ip_prefix: string | null;
}

export interface MeteringLabel {
  id: string;
  project_id: string;
  shared: boolean;
}

/**
 * validate_metering_label_rule's checks across attributes (each prefix's own form is checked as it is converted):
 * null when the rule may be made, else Neutron's text (its `Invalid`).
 */
export function meteringRuleProblem(rule: Pick<MeteringRule, 'remote_ip_prefix' | 'source_ip_prefix' | 'destination_ip_prefix'>): string | null {
  if (rule.remote_ip_prefix && (rule.source_ip_prefix || rule.destination_ip_prefix)) {
    return "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'.";
  }
  if (!rule.remote_ip_prefix && !rule.source_ip_prefix && !rule.destination_ip_prefix) {
    return "You must define at least one of the following parameters 'remote_ip_prefix', or 'source_ip_prefix' or 'destination_ip_prefix'.";
  }
  return null;
}

/**
 * check_for_rule_overlaps: among the label's rules of the same direction and `excluded`, a new remote_ip_prefix may
 * not overlap a stored one (netaddr.IPSet intersection; prefixes of the two families never overlap). Only
 * remote_ip_prefix is checked, as Neutron checks it. Returns the stored rule it overlaps, if any.
 */
export function overlappingRule(existing: readonly MeteringRule[], rule: Pick<MeteringRule, 'metering_label_id' | 'direction' | 'excluded' | 'remote_ip_prefix'>): MeteringRule | null {
  if (!rule.remote_ip_prefix) return null;
  const mine = parseMeteringPrefix(rule.remote_ip_prefix)?.prefix;
  if (!mine) return null;
  for (const other of existing) {
    if (other.metering_label_id !== rule.metering_label_id || other.direction !== rule.direction || other.excluded !== rule.excluded) continue;
    const theirs = other.remote_ip_prefix ? parseMeteringPrefix(other.remote_ip_prefix)?.prefix : undefined;
    if (theirs && theirs.overlaps(mine)) return other;
  }
  return null;
}

/** A router as metering sees it. */
export interface MeteredRouter {
  id: string;
  project_id: string;
  admin_state_up: boolean;
}

/** _process_sync_metering_data: the labels that apply to a router (its project's, and the shared ones). */
export function labelsOfRouter(router: MeteredRouter, labels: readonly MeteringLabel[]): MeteringLabel[] {
  if (!router.admin_state_up) return [];
  return labels.filter((l) => l.shared || l.project_id === router.project_id).sort((a, b) => a.id.localeCompare(b.id));
}

/** The name of a label's counter for one direction (nft object names are at most 255 characters). */
export function counterName(labelId: string, direction: MeteringDirection): string {
  return `${direction === 'ingress' ? 'in' : 'out'}-${labelId}`;
}

/** What one router's metering table holds. */
export interface MeteringTable {
  /** The gateway link (qg-…) the counted traffic crosses. */
  gatewayLink: string;
  /** The named counters, sorted. */
  counters: string[];
  /** The rules of the `ingress` and `egress` chains, in order (nft syntax, without `add rule`). */
  ingress: string[];
  egress: string[];
  /** One chain per label and direction (`in-<label>`, `out-<label>`) with its rules, in order. */
  labelChains: { name: string; rules: string[] }[];
}

/** One rule's match, in nft syntax; null when its prefixes cannot meet one family (nothing to count). */
export function ruleMatch(rule: MeteringRule): string | null {
  const parts: string[] = [];
  const family = new Set<4 | 6>();
  const add = (text: string | null, side: 'saddr' | 'daddr'): boolean => {
    if (!text) return true;
    const p = parseMeteringPrefix(text)?.prefix;
    if (!p) return false;
    family.add(p.version);
    parts.push(`${p.version === 4 ? 'ip' : 'ip6'} ${side} ${p.toString()}`);
    return true;
  };
  // remote_ip_prefix is the far side: the source of what comes in, the destination of what goes out.
  const ok = rule.remote_ip_prefix
    ? add(rule.remote_ip_prefix, rule.direction === 'ingress' ? 'saddr' : 'daddr')
    : add(rule.source_ip_prefix, 'saddr') && add(rule.destination_ip_prefix, 'daddr');
  if (!ok || family.size !== 1) return null;
  return parts.join(' ');
}

/**
 * The table of a router with a gateway on `gatewayLink`, metering `labels` with their `rules`: per label and
 * direction a named counter; per direction a chain whose excluded rules return first (Neutron's driver puts them
 * first), then one counting rule per rule. A label counts a packet once even when several of its rules match it:
 * after the count the packet returns from the label's chain.
 */
export function planMeteringTable(gatewayLink: string, labels: readonly MeteringLabel[], rules: readonly MeteringRule[]): MeteringTable {
  const counters: string[] = [];
  const chains: Record<MeteringDirection, string[]> = { ingress: [], egress: [] };
  const labelChains: { name: string; rules: string[] }[] = [];
  for (const label of [...labels].sort((a, b) => a.id.localeCompare(b.id))) {
    const mine = rules.filter((r) => r.metering_label_id === label.id).sort((a, b) => a.id.localeCompare(b.id));
    for (const direction of METERING_DIRECTIONS) {
      const counter = counterName(label.id, direction);
      counters.push(counter);
      const ofDirection = mine.filter((r) => r.direction === direction);
      const body: string[] = [];
      for (const r of ofDirection.filter((x) => x.excluded)) {
        const m = ruleMatch(r);
        if (m) body.push(`${m} return`);
      }
      for (const r of ofDirection.filter((x) => !x.excluded)) {
        const m = ruleMatch(r);
        if (m) body.push(`${m} counter name "${counter}" return`);
      }
      const chain = `${direction === 'ingress' ? 'in' : 'out'}-${label.id}`;
      labelChains.push({ name: chain, rules: body });
      chains[direction].push(`jump ${chain}`);
    }
  }
  counters.sort();
  return { gatewayLink, counters, ingress: chains.ingress, egress: chains.egress, labelChains };
}

/** What the kernel's metering table holds, as `nft -j list table inet v6stack_metering` shows it. */
export interface MeteringActual {
  counters: Map<string, { packets: number; bytes: number }>;
  /** Each chain's number of rules. */
  chains: Map<string, number>;
  /** The interface names the forward chain's rules match (the gateway link, twice). */
  gatewayNames: string[];
}

/** Reads `nft -j list table` output (a counter's packets and bytes; the chains and their rules). */
export function readMeteringTable(json: string): MeteringActual {
  const counters = new Map<string, { packets: number; bytes: number }>();
  const chains = new Map<string, number>();
  const gatewayNames: string[] = [];
  const items = (JSON.parse(json) as { nftables?: Record<string, any>[] }).nftables ?? [];
  for (const item of items) {
    if (item.counter) counters.set(String(item.counter.name), { packets: Number(item.counter.packets ?? 0), bytes: Number(item.counter.bytes ?? 0) });
    else if (item.chain) chains.set(String(item.chain.name), chains.get(String(item.chain.name)) ?? 0);
    else if (item.rule) {
      const chain = String(item.rule.chain);
      chains.set(chain, (chains.get(chain) ?? 0) + 1);
      if (chain === 'forward') for (const e of item.rule.expr ?? []) if (e?.match?.left?.meta) gatewayNames.push(String(e.match.right));
    }
  }
  return { counters, chains, gatewayNames };
}

/** Each chain of a planned table with its number of rules. */
function plannedChains(want: MeteringTable): Map<string, number> {
  return new Map([['forward', 2], ['ingress', want.ingress.length], ['egress', want.egress.length], ...want.labelChains.map((c) => [c.name, c.rules.length] as [string, number])]);
}

/** Whether the kernel's table is the planned one (a rule replaced by another of the same count is not seen). */
export function meteringTableMatches(want: MeteringTable, have: MeteringActual): boolean {
  const chains = plannedChains(want);
  if (chains.size !== have.chains.size || [...chains].some(([c, n]) => have.chains.get(c) !== n)) return false;
  if (want.counters.length !== have.counters.size || want.counters.some((c) => !have.counters.has(c))) return false;
  return have.gatewayNames.length === 2 && have.gatewayNames.every((g) => g === want.gatewayLink);
}

/**
 * The one `nft -f` script that makes the kernel hold `want` (null: no table), given what it has: counters that
 * exist are kept (their counts survive), missing ones are added, unwanted ones deleted after the rules that named
 * them; every chain is flushed and refilled in the same transaction, so a rule change never loses a count or leaves
 * the table half made. null when nothing is to be done (the table read back is the plan: re-applying changes
 * nothing).
 */
export function meteringScript(want: MeteringTable | null, have: MeteringActual | null): string | null {
  const T = `${METERING_FAMILY} ${METERING_TABLE}`;
  if (!want) return have ? `delete table ${T}\n` : null;
  if (have && meteringTableMatches(want, have)) return null;
  const lines: string[] = [`add table ${T}`];
  for (const c of want.counters) if (!have?.counters.has(c)) lines.push(`add counter ${T} ${c}`);
  const labelChains = want.labelChains;
  // Before the firewall's and NAT's forward work (priority filter - 10): every routed packet through qg- is seen.
  lines.push(`add chain ${T} forward { type filter hook forward priority filter - 10; policy accept; }`);
  for (const name of ['ingress', 'egress', ...labelChains.map((c) => c.name)]) lines.push(`add chain ${T} ${name}`, `flush chain ${T} ${name}`);
  lines.push(`flush chain ${T} forward`);
  lines.push(`add rule ${T} forward iifname "${want.gatewayLink}" jump ingress`);
  lines.push(`add rule ${T} forward oifname "${want.gatewayLink}" jump egress`);
  for (const r of want.ingress) lines.push(`add rule ${T} ingress ${r}`);
  for (const r of want.egress) lines.push(`add rule ${T} egress ${r}`);
  for (const c of labelChains) for (const r of c.rules) lines.push(`add rule ${T} ${c.name} ${r}`);
  // Chains and counters of labels that went: after every rule that named them is gone (the flushes above).
  const keep = plannedChains(want);
  const stale = [...(have?.chains.keys() ?? [])].filter((c) => !keep.has(c));
  for (const c of stale) lines.push(`flush chain ${T} ${c}`);
  for (const c of stale) lines.push(`delete chain ${T} ${c}`);
  for (const c of have?.counters.keys() ?? []) if (!want.counters.includes(c)) lines.push(`delete counter ${T} ${c}`);
  return lines.join('\n') + '\n';
}

/** A counter name back to its label and direction (null for a name that is not one of ours). */
export function parseCounterName(name: string): { labelId: string; direction: MeteringDirection } | null {
  const m = /^(in|out)-([0-9a-f-]{36})$/.exec(name);
  if (!m) return null;
  return { labelId: m[2]!, direction: m[1] === 'in' ? 'ingress' : 'egress' };
}
