// Neutron's dhcp_agent_scheduler: which DHCP agents host which networks (networkdhcpagentbindings), chosen
// automatically (network_auto_schedule, dhcp_agents_per_network, allow_automatic_dhcp_failover) or by an operator
// (POST/DELETE /v2.0/agents/{id}/dhcp-networks), and shown both ways (GET /v2.0/networks/{id}/dhcp-agents,
// GET /v2.0/agents/{id}/dhcp-networks). The DHCP ports follow the bindings (dhcp-ports.ts), and the agents serve
// the ports bound to their host, so a binding is where dnsmasq runs.
//
// v6stack's agent is one process per host; the server shows its DHCP role as a second agent row of Neutron's type
// "DHCP agent" (binary neutron-dhcp-agent), refreshed by each heartbeat of a v6stack agent that serves DHCP (role
// all or network): Tempest and the openstack client look for that type (neutron_lib constants.AGENT_TYPE_DHCP).
// Bindings name that row.
//
// Sources: neutron/db/agentschedulers_db.py (DhcpAgentSchedulerDbMixin), neutron/scheduler/dhcp_agent_scheduler.py,
// neutron_lib/exceptions/dhcpagentscheduler.py.

import { agentAlive, AGENT_DOWN_TIME_MS } from '../domain/dhcp.js';
import { agentsInZones, type ZoneAgent } from '../domain/availability-zone.js';
import { httpBadRequest, NeutronError, notFound } from '../domain/errors.js';
import type { Doc, Tx } from '../store/types.js';
import { deleteDoc, insertDoc, timestamp, type ServerSettings } from './context.js';
import type { SubCollection } from './resource.js';

/** neutron_lib constants.AGENT_TYPE_DHCP and the binary Neutron's DHCP agent reports. */
export const DHCP_AGENT_TYPE = 'DHCP agent';
export const DHCP_AGENT_BINARY = 'neutron-dhcp-agent';

export interface DhcpSchedulerSettings {
  /** dhcp_agents_per_network: how many DHCP agents host a network (Neutron's default 1). */
  agentsPerNetwork: number;
  /** network_auto_schedule: networks are scheduled by themselves, not only by an operator (default true). */
  networkAutoSchedule: boolean;
}

export const DEFAULT_DHCP_SCHEDULER: DhcpSchedulerSettings = { agentsPerNetwork: 1, networkAutoSchedule: true };

export const dhcpSchedulerSettings = (settings: ServerSettings | undefined): DhcpSchedulerSettings => ({ ...DEFAULT_DHCP_SCHEDULER, ...(settings?.dhcp ?? {}) });

const downTime = (settings: ServerSettings | undefined): number => settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS;

export const isDhcpAgent = (a: Doc): boolean => a.agent_type === DHCP_AGENT_TYPE;

/** Whether the agent may be given a network now: a live DHCP agent, administratively up (services_available). */
export function dhcpAgentUsable(a: Doc, nowMs: number, downTimeMs: number): boolean {
  return isDhcpAgent(a) && a.admin_state_up !== false && agentAlive(a as unknown as { heartbeat_timestamp: string }, nowMs, downTimeMs);
}

/** The binding's id: one row per (network, agent), the pair unique in the store. */
export const bindingId = (networkId: string, agentId: string): string => `${networkId}:${agentId}`;

/**
 * The agents to add to a network (PURE): from `candidates` (usable, not yet hosting it), until it has `wanted`
 * agents. An agent whose host already holds the network's DHCP port first (a store upgraded from before bindings
 * keeps its ports where they are), then the least loaded (fewest networks: Neutron's WeightScheduler), then by host.
 */
export function pickDhcpAgents(
  candidates: readonly { id: string; host: string }[],
  hosting: number,
  wanted: number,
  load: ReadonlyMap<string, number>,
  portHosts: ReadonlySet<string> = new Set(),
): string[] {
  const need = wanted - hosting;
  if (need <= 0) return [];
  return [...candidates]
    .sort(
      (a, b) =>
        Number(portHosts.has(b.host)) - Number(portHosts.has(a.host)) ||
        (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) ||
        a.host.localeCompare(b.host) ||
        a.id.localeCompare(b.id),
    )
    .slice(0, need)
    .map((a) => a.id);
}

/** What scheduling reads once for many networks: the agents, every binding, and the load (networks per agent). */
export interface SchedulerView {
  agents: Map<string, Doc>;
  byNetwork: Map<string, Doc[]>;
  load: Map<string, number>;
  nowMs: number;
}

export async function schedulerView(tx: Tx, networkIds?: readonly string[]): Promise<SchedulerView> {
  const [agents, bindings] = await Promise.all([tx.list('agent'), tx.list('network_dhcp_agent_binding')]);
  const byNetwork = new Map<string, Doc[]>();
  const load = new Map<string, number>();
  for (const b of bindings) {
    const a = b.dhcp_agent_id as string;
    load.set(a, (load.get(a) ?? 0) + 1);
    const n = b.network_id as string;
    if (networkIds && !networkIds.includes(n)) continue;
    const list = byNetwork.get(n);
    if (list) list.push(b);
    else byNetwork.set(n, [b]);
  }
  return { agents: new Map(agents.map((a) => [a.id, a])), byNetwork, load, nowMs: Date.now() };
}

async function bind(tx: Tx, view: SchedulerView, networkId: string, agentId: string): Promise<Doc> {
  const doc = await insertDoc(tx, 'network_dhcp_agent_binding', { id: bindingId(networkId, agentId), project_id: null, name: null, network_id: networkId, dhcp_agent_id: agentId, created_at: timestamp() });
  view.load.set(agentId, (view.load.get(agentId) ?? 0) + 1);
  const list = view.byNetwork.get(networkId);
  if (list) list.push(doc);
  else view.byNetwork.set(networkId, [doc]);
  return doc;
}

async function unbind(tx: Tx, view: SchedulerView, binding: Doc): Promise<void> {
  await deleteDoc(tx, 'network_dhcp_agent_binding', binding.id);
  const a = binding.dhcp_agent_id as string;
  view.load.set(a, Math.max(0, (view.load.get(a) ?? 0) - 1));
  const n = binding.network_id as string;
  view.byNetwork.set(n, (view.byNetwork.get(n) ?? []).filter((b) => b.id !== binding.id));
}

/**
 * The one place a network's DHCP agents are chosen; returns the hosts of the agents hosting it afterwards, in
 * binding order. Bindings to agents that no longer exist go. `failover` (Neutron's allow_automatic_dhcp_failover):
 * a binding to a dead agent goes when a usable agent can take its place. `topUp`: with network_auto_schedule the
 * network gets agents until it has dhcp_agents_per_network (or no usable agent is left). `portHosts`: the hosts of
 * the network's DHCP ports (preferred, see pickDhcpAgents).
 */
export async function scheduleNetwork(
  tx: Tx,
  settings: ServerSettings | undefined,
  view: SchedulerView,
  networkId: string,
  opts: { topUp: boolean; failover: boolean; portHosts?: ReadonlySet<string> },
): Promise<string[]> {
  const cfg = dhcpSchedulerSettings(settings);
  const down = downTime(settings);
  let topUp = opts.topUp;
  for (const b of [...(view.byNetwork.get(networkId) ?? [])]) {
    if (!view.agents.has(b.dhcp_agent_id as string)) {
      await unbind(tx, view, b);
      topUp = true;
    }
  }
  const usable = (a: Doc): boolean => dhcpAgentUsable(a, view.nowMs, down);
  const bound = (): Set<string> => new Set((view.byNetwork.get(networkId) ?? []).map((b) => b.dhcp_agent_id as string));
  // network_availability_zone: with hints, only agents in the hinted zones are candidates (Neutron's DHCP scheduler
  // filters by az_hints; a binding made before a host changed zone stays, as in Neutron).
  const hints = (await tx.get('network', networkId))?.availability_zone_hints as string[] | undefined;
  const candidates = (): Doc[] => agentsInZones([...view.agents.values()].filter((a) => usable(a) && !bound().has(a.id)) as (Doc & ZoneAgent)[], hints);
  if (opts.failover) {
    for (const b of [...(view.byNetwork.get(networkId) ?? [])]) {
      const agent = view.agents.get(b.dhcp_agent_id as string)!;
      if (agentAlive(agent as unknown as { heartbeat_timestamp: string }, view.nowMs, down) || !candidates().length) continue;
      await unbind(tx, view, b);
      topUp = true;
    }
  }
  if (topUp && cfg.networkAutoSchedule) {
    const pick = pickDhcpAgents(
      candidates().map((a) => ({ id: a.id, host: a.host as string })),
      bound().size,
      cfg.agentsPerNetwork,
      view.load,
      opts.portHosts,
    );
    for (const id of pick) await bind(tx, view, networkId, id);
  }
  return (view.byNetwork.get(networkId) ?? []).map((b) => view.agents.get(b.dhcp_agent_id as string)?.host as string).filter((h) => h !== undefined);
}

/** A deleted network's bindings go with it (Neutron's foreign key cascades). */
export async function dropDhcpBindingsOfNetwork(tx: Tx, networkId: string): Promise<void> {
  for (const b of await tx.list('network_dhcp_agent_binding', { network_id: [networkId] })) await deleteDoc(tx, 'network_dhcp_agent_binding', b.id);
}

/** A deleted agent's bindings go with it; returns the networks it hosted (to be rescheduled). */
export async function dropDhcpBindingsOfAgent(tx: Tx, agentId: string): Promise<string[]> {
  const out: string[] = [];
  for (const b of await tx.list('network_dhcp_agent_binding', { dhcp_agent_id: [agentId] })) {
    await deleteDoc(tx, 'network_dhcp_agent_binding', b.id);
    out.push(b.network_id as string);
  }
  return out;
}

function presentAgent(a: Doc, settings: ServerSettings | undefined): Doc {
  return { ...a, alive: agentAlive(a as unknown as { heartbeat_timestamp: string }, Date.now(), downTime(settings)) };
}

/** GET /v2.0/networks/{id}/dhcp-agents (list_dhcp_agents_hosting_network): every agent bound, alive or not. */
export async function dhcpAgentsHostingNetwork(tx: Tx, network: Doc, settings: ServerSettings | undefined): Promise<{ agents: Doc[] }> {
  const ids = (await tx.list('network_dhcp_agent_binding', { network_id: [network.id] })).map((b) => b.dhcp_agent_id as string);
  const agents = ids.length ? await tx.list('agent', { id: ids }) : [];
  return { agents: agents.map((a) => presentAgent(a, settings)) };
}

const invalidDhcpAgent = (id: string): NeutronError => new NeutronError(404, 'InvalidDHCPAgent', `Agent ${id} is not a valid DHCP Agent or has been disabled.`);

/**
 * The dhcp-networks collection under an agent. `sync` re-plans one network's DHCP port after its bindings change
 * (dhcp-ports.ts syncDhcpPort, passed in: that module schedules through this one).
 */
export function dhcpNetworksOfAgent(sync: (tx: Tx, settings: ServerSettings | undefined, networkId: string, opts?: { schedule?: boolean; release?: string }) => Promise<void>): SubCollection {
  return {
    /** list_networks_on_dhcp_agent: an agent that is down administratively hosts nothing as far as the API says. */
    async list(tx, _ctx, agent) {
      if (!isDhcpAgent(agent) || agent.admin_state_up === false) return { networks: [] };
      const ids = (await tx.list('network_dhcp_agent_binding', { dhcp_agent_id: [agent.id] })).map((b) => b.network_id as string);
      return { networks: ids.length ? await tx.list('network', { id: ids }) : [] };
    },
    /** add_network_to_dhcp_agent: 201 with a null body, as Neutron answers. */
    async create(tx, ctx, agent, body) {
      const networkId = body.network_id;
      if (networkId === undefined) throw httpBadRequest("Failed to parse request. Required attribute 'network_id' not specified");
      if (typeof networkId !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(networkId)) {
        throw httpBadRequest(`Invalid input for network_id. Reason: '${String(networkId)}' is not a valid UUID.`);
      }
      // Neutron looks the network up first (_get_network), then the agent.
      if (!(await tx.get('network', networkId))) throw notFound('network', networkId);
      if (!isDhcpAgent(agent) || agent.admin_state_up === false) throw invalidDhcpAgent(agent.id);
      if (await tx.get('network_dhcp_agent_binding', bindingId(networkId, agent.id))) {
        throw new NeutronError(409, 'NetworkHostedByDHCPAgent', `The network ${networkId} has been already hosted by the DHCP Agent ${agent.id}.`);
      }
      await insertDoc(tx, 'network_dhcp_agent_binding', { id: bindingId(networkId, agent.id), project_id: null, name: null, network_id: networkId, dhcp_agent_id: agent.id, created_at: timestamp() });
      await sync(tx, ctx.settings, networkId, { schedule: false });
      return null;
    },
    /**
     * remove_network_from_dhcp_agent: the agent stops serving the network (its DHCP port there goes; Neutron keeps
     * it reserved for the next agent, v6stack moves it when another agent hosts the network and drops it otherwise).
     */
    async remove(tx, ctx, agent, networkId) {
      const binding = await tx.get('network_dhcp_agent_binding', bindingId(networkId, agent.id));
      if (!binding) throw new NeutronError(409, 'NetworkNotHostedByDhcpAgent', `The network ${networkId} is not hosted by the DHCP Agent ${agent.id}.`);
      await deleteDoc(tx, 'network_dhcp_agent_binding', binding.id);
      // Not rescheduled (Neutron neither): the network stays unhosted until an operator or a new agent hosts it.
      await sync(tx, ctx.settings, networkId, { schedule: false, release: agent.host as string });
    },
  };
}
