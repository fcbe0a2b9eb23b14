// Availability zones (Neutron's availability_zone, network_availability_zone, router_availability_zone and
// availability_zone_filter extensions). A zone is nothing but a name an agent reports (Neutron's `[AGENT]
// availability_zone`, default `nova`); networks and routers carry `availability_zone_hints` (create-only) that restrict
// which agents may serve them, and show `availability_zones`, the zones of the agents that really do. PURE.
//
// Neutron: neutron/db/agents_db.py AgentAvailabilityZoneMixin (_list_availability_zones, validate_availability_zones),
// neutron/scheduler/l3_agent_scheduler.py AZLeastRoutersScheduler (_get_candidates, _choose_router_agents_for_ha),
// neutron/scheduler/dhcp_agent_scheduler.py (candidates filtered by the network's hints), neutron-lib
// api/validators/availability_zone.py (_validate_availability_zone_hints, AZ_HINTS_DB_LEN) and
// exceptions/availability_zone.py (AvailabilityZoneNotFound).

import { NeutronError } from './errors.js';

/** Neutron's default for `[AGENT] availability_zone` ("nova", to match Nova's and Cinder's default zone). */
export const DEFAULT_AVAILABILITY_ZONE = 'nova';

/** The resources a zone can serve: a DHCP agent's zone serves networks, an L3 agent's zone routers. */
export type ZoneResource = 'network' | 'router';
export const ZONE_RESOURCES: readonly ZoneResource[] = ['network', 'router'];

/** What the zone rules read of an agent (a v6stack agent is both Neutron's DHCP and L3 agent unless it is compute-only). */
export interface ZoneAgent {
  host: string;
  availability_zone?: string | null;
  admin_state_up?: boolean;
}

export interface AvailabilityZone {
  name: string;
  resource: ZoneResource;
  state: 'available' | 'unavailable';
}

/**
 * GET /v2.0/availability_zones: one row per (zone, resource) among the agents that serve that resource, live or dead;
 * `available` when any of those agents is administratively up (Neutron looks at admin_state_up only, not at the
 * heartbeat). Agents without a zone are left out. Sorted by name, then resource.
 */
export function availabilityZones(agentsByResource: ReadonlyMap<ZoneResource, readonly ZoneAgent[]>): AvailabilityZone[] {
  const up = new Map<string, boolean>();
  for (const resource of ZONE_RESOURCES) {
    for (const a of agentsByResource.get(resource) ?? []) {
      if (!a.availability_zone) continue;
      const key = `${resource}\n${a.availability_zone}`;
      up.set(key, (up.get(key) ?? false) || a.admin_state_up !== false);
    }
  }
  return [...up]
    .map(([key, available]) => {
      const [resource, name] = key.split('\n') as [ZoneResource, string];
      return { name, resource, state: available ? ('available' as const) : ('unavailable' as const) };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
}

/**
 * The scheduler's candidate filter (AZLeastRoutersScheduler._get_candidates, the DHCP scheduler's az_hints filter):
 * with no hints every agent qualifies; with hints only the agents whose zone is one of them.
 */
export function agentsInZones<A extends ZoneAgent>(agents: readonly A[], hints: readonly string[] | undefined | null): A[] {
  if (!hints || !hints.length) return [...agents];
  const zones = new Set(hints);
  return agents.filter((a) => !!a.availability_zone && zones.has(a.availability_zone));
}

/** The zones a resource runs in: the distinct zones of the agents hosting it (get_router/network_availability_zones). Sorted. */
export function zonesOf(hosting: readonly ZoneAgent[]): string[] {
  return [...new Set(hosting.map((a) => a.availability_zone).filter((z): z is string => !!z))].sort();
}

/** neutron-lib AvailabilityZoneNotFound (a NotFound: 404). */
export function availabilityZoneNotFound(zone: string): NeutronError {
  return new NeutronError(404, 'AvailabilityZoneNotFound', `AvailabilityZone ${zone} could not be found.`);
}

/**
 * validate_availability_zones: every hint must be the zone of some agent serving the resource (live or dead: Neutron
 * queries the agents table by type only). Neutron names one missing zone (set.pop(); we name the first given).
 */
export function missingZone(hints: readonly string[], agents: readonly ZoneAgent[]): string | null {
  const known = new Set(agents.map((a) => a.availability_zone).filter((z): z is string => !!z));
  return hints.find((h) => !known.has(h)) ?? null;
}

/** AZ_HINTS_DB_LEN: the hints are stored as their JSON text in a column of 255 characters. */
export const AZ_HINTS_DB_LEN = 255;

/** Python's json.dumps of a list of strings (", " between items, non-ASCII as \uXXXX): what Neutron measures. */
export function pyJsonStringList(items: readonly string[]): string {
  const SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
  const u = (code: number): string => `\\u${code.toString(16).padStart(4, '0')}`;
  // JS strings are UTF-16 already: each code unit above 0x7f (a surrogate too) is one \uXXXX, as ensure_ascii writes it.
  const quote = (s: string): string => `"${Array.from({ length: s.length }, (_, i) => s[i]!).map((ch) => SHORT[ch] ?? (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) > 0x7f ? u(ch.charCodeAt(0)) : ch)).join('')}"`;
  return `[${items.map(quote).join(', ')}]`;
}

/** _validate_availability_zone_hints' length rule: null when the hints fit, else Neutron's InvalidInput text. */
export function hintsTooLong(hints: readonly string[]): string | null {
  return pyJsonStringList(hints).length > AZ_HINTS_DB_LEN ? 'Too many availability_zone_hints specified' : null;
}

/**
 * AZLeastRoutersScheduler._choose_router_agents_for_ha, generalised to a router that already has hosts: the hosts
 * to add, one at a time, each from the zone that holds the fewest of the router's hosts so far (so the router spreads
 * over its zones), and within a zone the least loaded (ties by name). `ordered` is the candidates least loaded first.
 */
export function spreadOverZones(ordered: readonly string[], zoneOf: ReadonlyMap<string, string | null | undefined>, current: readonly string[], count: number): string[] {
  const inZone = new Map<string, number>();
  const zone = (h: string): string => zoneOf.get(h) ?? '';
  for (const h of current) inZone.set(zone(h), (inZone.get(zone(h)) ?? 0) + 1);
  const left = ordered.filter((h) => !current.includes(h));
  const out: string[] = [];
  while (out.length < count && left.length) {
    let best = 0;
    for (let i = 1; i < left.length; i++) if ((inZone.get(zone(left[i]!)) ?? 0) < (inZone.get(zone(left[best]!)) ?? 0)) best = i;
    const [h] = left.splice(best, 1);
    out.push(h!);
    inZone.set(zone(h!), (inZone.get(zone(h!)) ?? 0) + 1);
  }
  return out;
}
