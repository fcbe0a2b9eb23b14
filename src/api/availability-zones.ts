// The server's side of availability zones (domain/availability-zone.ts has the rules): GET /v2.0/availability_zones,
// the check of a network's or router's availability_zone_hints against the zones agents report, the zones a network
// or router really runs in (its `availability_zones`, computed when shown, so an agent that moves zone or dies shows
// at once), and the hint filters the DHCP and L3 scheduling apply.
//
// A v6stack agent that is not compute-only is both Neutron's DHCP agent and its L3 agent: its zone serves networks
// and routers alike. Compute-only agents (Neutron's L2 agents) serve neither, whatever zone they report.

import {
  agentsInZones,
  availabilityZoneNotFound,
  availabilityZones,
  missingZone,
  zonesOf,
  type ZoneAgent,
  type ZoneResource,
} from '../domain/availability-zone.js';
import { DEVICE_OWNER_DHCP, servesDhcpRole, V6STACK_AGENT_BINARY, type DhcpAgent } from '../domain/dhcp.js';
import { DEVICE_OWNER_ROUTER_HA_INTF } from '../domain/ha.js';
import { notFound } from '../domain/errors.js';
import type { Doc, Tx } from '../store/types.js';
import type { RequestContext } from './context.js';
import { applyList, parseListQuery } from './list.js';
import { hasRole } from './policy.js';

/** The agents whose zone serves networks and routers: v6stack agents that are not compute-only (live or dead). */
export async function zoneServingAgents(tx: Tx): Promise<Doc[]> {
  return (await tx.list('agent')).filter((a) => servesDhcpRole(a as unknown as DhcpAgent));
}

/** The filters availability_zone_filter adds (name, resource, state), as Neutron's list accepts them. */
const ATTRIBUTES = new Set(['name', 'resource', 'state']);

/**
 * GET /v2.0/availability_zones. Policy `get_availability_zone` is `role:reader` (any project's reader, the zones
 * belong to no project); a caller without it is shown nothing, as Neutron's list drops what policy refuses.
 */
export async function listAvailabilityZones(tx: Tx, ctx: RequestContext, url: URL): Promise<string> {
  const q = parseListQuery(url.searchParams, ATTRIBUTES, new Set());
  let rows: Doc[] = [];
  if (hasRole(ctx, 'reader')) {
    const agents = (await zoneServingAgents(tx)) as unknown as ZoneAgent[];
    const byResource = new Map<ZoneResource, ZoneAgent[]>([
      ['network', agents],
      ['router', agents],
    ]);
    // The id is only the paging marker's key: Neutron's rows have none.
    rows = availabilityZones(byResource).map((z) => ({ id: `${z.name}:${z.resource}`, ...z }));
  }
  const result = applyList(rows, q, url, (m) => notFound('availability_zone', m));
  const items = result.items.map(({ id: _id, ...rest }) => rest);
  const body: Record<string, unknown> = { availability_zones: items };
  if (result.links.length) body.availability_zones_links = result.links;
  return JSON.stringify(body);
}

/** validate_availability_zones: 404 AvailabilityZoneNotFound for a hint no DHCP (network) or L3 (router) agent reports. */
export async function checkZoneHints(tx: Tx, hints: readonly string[] | undefined): Promise<void> {
  if (!hints || !hints.length) return;
  const missing = missingZone(hints, (await zoneServingAgents(tx)) as unknown as ZoneAgent[]);
  if (missing !== null) throw availabilityZoneNotFound(missing);
}

/**
 * What `availability_zones` is computed from: the agents by host and the hosts serving each network (its DHCP port)
 * or HA router (its HA ports). A list presents all its documents in one synchronous turn (docs.map(present)), so
 * they share one read of each kind instead of one query per document; the memo is dropped at the end of that turn,
 * so a later call in the same transaction (a bulk create, after more writes) reads afresh.
 */
interface Serving {
  agentsByHost: Map<string, ZoneAgent>;
  hostsOf: Map<string, string[]>;
}
type ServingKind = 'network' | 'router';
const memo = { network: new WeakMap<Tx, Promise<Serving>>(), router: new WeakMap<Tx, Promise<Serving>>() };

async function loadServing(tx: Tx, kind: ServingKind): Promise<Serving> {
  const [agents, ports] = await Promise.all([
    tx.list('agent'),
    tx.list('port', { device_owner: [kind === 'network' ? DEVICE_OWNER_DHCP : DEVICE_OWNER_ROUTER_HA_INTF] }),
  ]);
  const agentsByHost = new Map(agents.filter((a) => a.binary === V6STACK_AGENT_BINARY).map((a) => [a.host as string, a as unknown as ZoneAgent]));
  const hostsOf = new Map<string, string[]>();
  for (const p of ports) {
    const key = (kind === 'network' ? p.network_id : p.device_id) as string;
    const host = p['binding:host_id'] as string;
    if (!host) continue;
    const list = hostsOf.get(key);
    if (list) list.push(host);
    else hostsOf.set(key, [host]);
  }
  return { agentsByHost, hostsOf };
}

function serving(tx: Tx, kind: ServingKind): Promise<Serving> {
  let s = memo[kind].get(tx);
  if (!s) {
    s = loadServing(tx, kind);
    memo[kind].set(tx, s);
    queueMicrotask(() => memo[kind].delete(tx));
  }
  return s;
}

const zonesOfHosts = (s: Serving, id: string): string[] =>
  zonesOf((s.hostsOf.get(id) ?? []).map((h) => s.agentsByHost.get(h)).filter((a): a is ZoneAgent => !!a));

/** get_network_availability_zones: the zones of the agents whose host holds the network's DHCP port. */
export async function networkAvailabilityZones(tx: Tx, network: Doc): Promise<string[]> {
  return zonesOfHosts(await serving(tx, 'network'), network.id);
}

/**
 * The L3 agents that run a legacy (non-HA) router: every network-node agent, narrowed to the router's hinted zones
 * (AZLeastRoutersScheduler._get_candidates). The agent applies the same rule to itself (agent/features/l3.ts).
 */
export function legacyRouterAgents<A extends Doc>(l3Agents: readonly A[], router: Doc): A[] {
  return agentsInZones(l3Agents as unknown as (A & ZoneAgent)[], router.availability_zone_hints as string[] | undefined);
}

/** get_router_availability_zones: the zones of the agents running the router (an HA router's: its HA ports' hosts). */
export async function routerAvailabilityZones(tx: Tx, router: Doc): Promise<string[]> {
  const s = await serving(tx, 'router');
  if (router.ha === true) return zonesOfHosts(s, router.id);
  const l3 = [...s.agentsByHost.values()].filter((a) => servesDhcpRole(a as unknown as DhcpAgent));
  return zonesOf(legacyRouterAgents(l3 as unknown as Doc[], router) as unknown as ZoneAgent[]);
}
