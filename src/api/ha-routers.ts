// The server's side of HA routers (Neutron's l3-ha and l3_agent_scheduler): the per-project HA network and its
// subnet, one network:router_ha_interface port per hosting L3 agent (bound to its host, carrying the router's VRID in
// binding:vif_details), the conversion between HA and legacy, GET /v2.0/routers/{id}/l3-agents with each agent's
// ha_state and GET /v2.0/agents/{id}/l3-routers. The rules are domain/ha.ts's; everything here runs in the
// transaction of the request (or of the heartbeat) that needs it.
//
// The agents report each router's VRRP state in their heartbeat (configurations.ha_routers: {router id: active |
// standby}), sent at once when keepalived changes state; the API shows it as Neutron's ha_state.

import { agentAlive, AGENT_DOWN_TIME_MS, dhcpHosts, servesDhcpRole, V6STACK_AGENT_BINARY, type DhcpAgent } from '../domain/dhcp.js';
import {
  DEFAULT_HA_SETTINGS,
  DEVICE_OWNER_ROUTER_HA_INTF,
  haNetworkName,
  haPortName,
  haSubnetName,
  noVridAvailable,
  pickVrid,
  scheduleHaHosts,
  shownHaStates,
  vridOf,
  type HaSettings,
  type HaState,
} from '../domain/ha.js';
import { DEVICE_OWNER_HA_REPLICATED_INT, DEVICE_OWNER_ROUTER_INTF } from '../domain/ipv6/index.js';
import { agentsInZones } from '../domain/availability-zone.js';
import { legacyRouterAgents } from './availability-zones.js';
import { checkBody, network as networkSchema, subnet as subnetSchema } from '../schema/index.js';
import type { Doc, Tx } from '../store/types.js';
import { saveDoc, type RequestContext, type ServerSettings } from './context.js';
import { networks } from './resources/networks.js';
import { createPort, deletePort } from './resources/ports.js';
import { subnets } from './resources/subnets.js';

export { DEVICE_OWNER_ROUTER_HA_INTF };

export const haSettings = (settings: ServerSettings | undefined): HaSettings => ({ ...DEFAULT_HA_SETTINGS, ...(settings?.ha ?? {}) });

/** Whether a router being created is an HA router: its `ha`, else the server's --l3-ha (Neutron's _is_ha). */
export function createsHaRouter(input: Record<string, unknown>, settings: ServerSettings | undefined): boolean {
  return (input.ha as boolean | undefined) ?? haSettings(settings).l3Ha;
}

const adminCtx = (settings: ServerSettings | undefined, project: string): RequestContext => ({
  projectId: project,
  isAdmin: true,
  requestId: 'l3-ha',
  ...(settings ? { settings } : {}),
});

/** The project's HA network (named after the project, owned by no project), if it has one. */
async function findHaNetwork(tx: Tx, project: string): Promise<Doc | undefined> {
  return (await tx.list('network', { name: [haNetworkName(project)] })).find((n) => n.project_id === '');
}

/** _create_ha_network + _create_ha_subnet: the project's HA network, made on its first HA router. */
async function ensureHaNetwork(tx: Tx, settings: ServerSettings | undefined, project: string): Promise<Doc> {
  const found = await findHaNetwork(tx, project);
  if (found) return found;
  const ha = haSettings(settings);
  const ctx = adminCtx(settings, '');
  const net = await networks.create(
    tx,
    ctx,
    checkBody(networkSchema, { name: haNetworkName(project), project_id: '', shared: false, admin_state_up: true, ...(ha.l3HaNetworkType ? { 'provider:network_type': ha.l3HaNetworkType } : {}) }, 'create'),
  );
  await subnets.create(
    tx,
    ctx,
    checkBody(subnetSchema, { network_id: net.id, project_id: '', name: haSubnetName(project), ip_version: 4, cidr: ha.l3HaNetCidr, enable_dhcp: false, gateway_ip: null }, 'create'),
  );
  return (await tx.get('network', net.id as string))!;
}

const haPortsOf = (tx: Tx, routerId: string): Promise<Doc[]> => tx.list('port', { device_id: [routerId], device_owner: [DEVICE_OWNER_ROUTER_HA_INTF] });

/** HA ports per host (the scheduler's load). */
async function haLoad(tx: Tx): Promise<Map<string, number>> {
  const load = new Map<string, number>();
  for (const p of await tx.list('port', { device_owner: [DEVICE_OWNER_ROUTER_HA_INTF] })) {
    const h = p['binding:host_id'] as string;
    load.set(h, (load.get(h) ?? 0) + 1);
  }
  return load;
}

/** The live L3 agents: their hosts (sorted) and each host's zone (AZLeastRoutersScheduler reads both). */
async function liveL3Agents(tx: Tx, settings: ServerSettings | undefined): Promise<{ hosts: string[]; zoneOf: Map<string, string | null> }> {
  const agents = await tx.list('agent');
  const hosts = dhcpHosts(agents as unknown as DhcpAgent[], Date.now(), settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS);
  const zoneOf = new Map(agents.filter((a) => a.binary === V6STACK_AGENT_BINARY && hosts.includes(a.host as string)).map((a) => [a.host as string, (a.availability_zone as string | null) ?? null]));
  return { hosts, zoneOf };
}

/** AZLeastRoutersScheduler._get_candidates: only the hosts in the router's hinted zones (all without hints). */
const hostsForRouter = (live: { hosts: string[]; zoneOf: Map<string, string | null> }, router: Doc): string[] =>
  agentsInZones(live.hosts.map((host) => ({ host, availability_zone: live.zoneOf.get(host) ?? null })), router.availability_zone_hints as string[] | undefined).map((a) => a.host);

/**
 * Gives an HA router its HA ports: one per newly scheduled live L3 host (domain/ha scheduleHaHosts), each bound to
 * its host and carrying the router's VRID (allocated with the first port, unique on the project's HA network).
 */
async function scheduleHaRouter(
  tx: Tx,
  settings: ServerSettings | undefined,
  router: Doc,
  live: { hosts: string[]; zoneOf: Map<string, string | null> },
  load: Map<string, number>,
): Promise<void> {
  const project = router.project_id as string;
  const ports = await haPortsOf(tx, router.id);
  const add = scheduleHaHosts(hostsForRouter(live, router), ports.map((p) => p['binding:host_id'] as string), haSettings(settings).maxL3AgentsPerRouter, load, live.zoneOf);
  if (!add.length) return;
  const net = await ensureHaNetwork(tx, settings, project);
  let vrid = ports.map((p) => vridOf(p['binding:vif_details'])).find((v) => v !== null) ?? null;
  if (vrid === null) {
    const others = (await tx.list('port', { network_id: [net.id], device_owner: [DEVICE_OWNER_ROUTER_HA_INTF] })).filter((p) => p.device_id !== router.id);
    vrid = pickVrid(others.map((p) => vridOf(p['binding:vif_details'])).filter((v): v is number => v !== null));
    if (vrid === null) throw noVridAvailable(router.id);
  }
  for (const host of add) {
    const port = await createPort(tx, adminCtx(settings, ''), {
      network_id: net.id,
      project_id: '',
      name: haPortName(project),
      admin_state_up: true,
      device_id: router.id,
      device_owner: DEVICE_OWNER_ROUTER_HA_INTF,
      'binding:host_id': host,
    });
    port['binding:vif_details'] = { ha_vr_id: vrid };
    await saveDoc(tx, 'port', port);
    load.set(host, (load.get(host) ?? 0) + 1);
  }
}

/** A new HA router (or one converted to HA): scheduled over the live L3 agents now. */
export async function setupHaRouter(tx: Tx, settings: ServerSettings | undefined, router: Doc): Promise<void> {
  await scheduleHaRouter(tx, settings, router, await liveL3Agents(tx, settings), await haLoad(tx));
}

/** safe_delete_ha_network: the project's HA network goes with its last HA port. */
async function cleanupHaNetwork(tx: Tx, settings: ServerSettings | undefined, project: string): Promise<void> {
  const net = await findHaNetwork(tx, project);
  if (!net) return;
  if ((await tx.list('port', { network_id: [net.id] })).length) return;
  await networks.remove!(tx, adminCtx(settings, ''), net);
}

/** A deleted HA router (its ports already gone) or one converted to legacy: its HA ports and maybe the HA network go. */
export async function teardownHaRouter(tx: Tx, settings: ServerSettings | undefined, router: Doc): Promise<void> {
  for (const p of await haPortsOf(tx, router.id)) await deletePort(tx, p);
  await cleanupHaNetwork(tx, settings, router.project_id as string);
}

/**
 * `ha` changing on an update (the router's admin_state_up already checked false, as Neutron's _validate_migration
 * requires): the interfaces change owner (_migrate_router_ports) and the HA resources come or go
 * (_reconfigure_ha_resources).
 */
export async function migrateHa(tx: Tx, settings: ServerSettings | undefined, router: Doc, toHa: boolean): Promise<void> {
  const [from, to] = toHa ? [DEVICE_OWNER_ROUTER_INTF, DEVICE_OWNER_HA_REPLICATED_INT] : [DEVICE_OWNER_HA_REPLICATED_INT, DEVICE_OWNER_ROUTER_INTF];
  for (const p of await tx.list('port', { device_id: [router.id], device_owner: [from] })) {
    p.device_owner = to;
    await saveDoc(tx, 'port', p);
  }
  if (toHa) await setupHaRouter(tx, settings, { ...router, ha: true });
  else await teardownHaRouter(tx, settings, router);
}

/** An L3 agent heartbeat: HA routers short of hosts are scheduled to the live ones (Neutron's auto_schedule_routers). */
export async function syncAllHaRouters(tx: Tx, settings: ServerSettings | undefined): Promise<void> {
  const routers = (await tx.list('router')).filter((r) => r.ha === true);
  if (!routers.length) return;
  const live = await liveL3Agents(tx, settings);
  if (!live.hosts.length) return;
  const load = await haLoad(tx);
  for (const r of routers) await scheduleHaRouter(tx, settings, r, live, load);
}

function presentAgent(agent: Doc, settings: ServerSettings | undefined): Doc {
  return { ...agent, alive: agentAlive(agent as unknown as DhcpAgent, Date.now(), settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS) };
}

const isL3Agent = (a: Doc): boolean => servesDhcpRole(a as unknown as DhcpAgent);

/** What the agent on a host last said of a router's VRRP state (standby until it says: Neutron's binding default). */
function reportedState(agent: Doc, routerId: string): HaState {
  const s = ((agent.configurations as Record<string, unknown> | undefined)?.ha_routers as Record<string, unknown> | undefined)?.[routerId];
  return s === 'active' ? 'active' : 'standby';
}

/**
 * GET /v2.0/routers/{id}/l3-agents (l3_hascheduler_db list_l3_agents_hosting_router): an HA router's agents are
 * those of its HA ports' hosts, each with its ha_state; a legacy router is run by every non-compute v6stack agent,
 * with ha_state null.
 */
export async function l3AgentsHostingRouter(tx: Tx, router: Doc, settings: ServerSettings | undefined): Promise<{ agents: Doc[] }> {
  const agents = (await tx.list('agent')).filter((a) => a.binary === V6STACK_AGENT_BINARY);
  if (router.ha !== true) {
    return { agents: legacyRouterAgents(agents.filter(isL3Agent), router).map((a) => ({ ...presentAgent(a, settings), ha_state: null })) };
  }
  const hosts = (await haPortsOf(tx, router.id)).map((p) => p['binding:host_id'] as string);
  const hosting = hosts.map((h) => agents.find((a) => a.host === h)).filter((a): a is Doc => !!a).map((a) => presentAgent(a, settings));
  const states = shownHaStates(hosting.map((a) => ({ host: a.host as string, reported: reportedState(a, router.id), live: a.alive === true && a.admin_state_up !== false })));
  return { agents: hosting.map((a, i) => ({ ...a, ha_state: states[i]! })) };
}

/** GET /v2.0/agents/{id}/l3-routers: the HA routers with an HA port on the agent's host, and (unless it is a compute host) every legacy router. */
export async function l3RoutersOnAgent(tx: Tx, agent: Doc): Promise<{ routers: Doc[] }> {
  if (agent.binary !== V6STACK_AGENT_BINARY || !isL3Agent(agent)) return { routers: [] };
  const mine = new Set((await tx.list('port', { device_owner: [DEVICE_OWNER_ROUTER_HA_INTF] })).filter((p) => p['binding:host_id'] === agent.host).map((p) => p.device_id as string));
  return { routers: (await tx.list('router')).filter((r) => (r.ha === true ? mine.has(r.id) : legacyRouterAgents([agent], r).length > 0)) };
}
