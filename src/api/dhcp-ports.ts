// The server makes, re-addresses, moves and removes each network's DHCP ports (device_owner network:dhcp) in the
// transaction of the change that needs them: a subnet created, updated or deleted, a network added to or removed
// from a DHCP agent, an agent's heartbeat (a DHCP agent came alive, or one died), an agent deleted, and once at
// start. Where they go is the network's DHCP agent bindings (dhcp-agent-scheduler.ts): one port on the host of each
// agent hosting the network. The rules of one port are domain/dhcp.ts's; this module reads what they need from the
// store and carries out their plan through the port code (IPAM, change feed), so each port is exactly what
// POST /v2.0/ports would have made.

import {
  agentAlive,
  AGENT_DOWN_TIME_MS,
  DEVICE_OWNER_DHCP,
  dhcpDeviceId,
  dhcpPortSubnets,
  planDhcpPort,
  poolAddressesAsked,
  poolCounted,
  poolExhausted,
  servesDhcp,
  servesDhcpRole,
  type DhcpAgent,
  type DhcpPortState,
  type DhcpPortStep,
  type DhcpSubnet,
} from '../domain/dhcp.js';
import type { FixedIpRequest } from '../domain/ipv6/index.js';
import type { Doc, Tx } from '../store/types.js';
import { saveDoc, type RequestContext, type ServerSettings } from './context.js';
import { isDhcpAgent, scheduleNetwork, schedulerView, type SchedulerView } from './dhcp-agent-scheduler.js';
import { createPort, deletePort, ports as portResource } from './resources/ports.js';

/** One host's port plan, with the pools that are full left out of it (a small pool may have no address left). */
async function planFor(tx: Tx, facts: DhcpSubnet[], ports: DhcpPortState[], host: string | null): Promise<DhcpPortStep[]> {
  const live = host === null ? [] : [host];
  let steps = planDhcpPort(facts, ports, live, host);
  if (!steps.length) return steps;
  // A small pool may be full: then the port does without an address there rather than failing the change.
  const full = new Set<string>();
  for (const id of new Set(poolAddressesAsked(steps, facts))) {
    const s = facts.find((x) => x.id === id);
    if (s && poolCounted(s) && poolExhausted(s, (await tx.allocationsOfSubnet(id)).map((a) => a.ip_address))) full.add(id);
  }
  if (full.size) steps = planDhcpPort(facts, ports, live, host, full);
  return steps;
}

/**
 * Carries out one network's ports for the hosts of its DHCP agents (`hosts`, in binding order): each host gets one
 * port on the served subnets; a port on a host no agent of the network is on moves (keeping its addresses) to a
 * bound host that has none, else goes. A network no agent hosts keeps its ports as they are, unless `release` names
 * their host (removed from its agent) or nothing is served any more: a store upgraded from before the bindings has
 * such ports, and they are adopted when their host's DHCP agent reports (dhcp-agent-scheduler.ts pickDhcpAgents).
 */
async function carryOut(
  tx: Tx,
  settings: ServerSettings | undefined,
  networkId: string,
  subnets: Doc[],
  ports: Doc[],
  hosts: readonly string[],
  release?: string,
): Promise<void> {
  const facts = subnets as unknown as DhcpSubnet[];
  const bound = [...new Set(hosts)];
  const served = dhcpPortSubnets(facts).length > 0;
  const onHost = (h: string): Doc[] => ports.filter((p) => p['binding:host_id'] === h);
  let orphans = ports.filter((p) => !bound.includes(p['binding:host_id'] as string));
  const plan: { host: string; move?: Doc; steps: DhcpPortStep[] }[] = [];
  if (!bound.length && served) {
    // Unhosted: of the ports not released, the one the rules keep stays where it is (domain/dhcp.ts, no live host).
    const kept = orphans.filter((p) => p['binding:host_id'] !== release);
    orphans = orphans.filter((p) => p['binding:host_id'] === release);
    if (kept.length) plan.push({ host: '', steps: await planFor(tx, facts, kept as unknown as DhcpPortState[], null) });
  }
  for (const host of bound) {
    const mine = onHost(host);
    const move = served && !mine.length ? orphans.shift() : undefined;
    const state = (move ? [{ ...move, 'binding:host_id': host }] : mine) as unknown as DhcpPortState[];
    plan.push({ host, ...(move ? { move } : {}), steps: await planFor(tx, facts, state, host) });
  }
  const drop = orphans;
  if (!drop.length && plan.every((p) => !p.move && !p.steps.length)) return;
  const network = await tx.get('network', networkId);
  if (!network) return;
  // The port is the network's, in the network's project (Neutron makes it with the network's tenant_id).
  const project = network.project_id as string;
  const ctx: RequestContext = { projectId: project, isAdmin: true, requestId: 'dhcp-port', ...(settings ? { settings } : {}) };
  const byId = new Map(ports.map((p) => [p.id, p]));
  for (const p of drop) await deletePort(tx, p);
  for (const { host, move, steps } of plan) {
    if (move) {
      // Its new agent reports it ACTIVE once plugged (Neutron: a new binding starts DOWN).
      Object.assign(move, { device_id: dhcpDeviceId(host, networkId), 'binding:host_id': host, status: 'DOWN' });
      byId.set(move.id, await saveDoc(tx, 'port', move));
    }
    for (const step of steps) {
      if (step.op === 'create') {
        await createPort(tx, ctx, {
          network_id: networkId,
          project_id: project,
          name: '',
          device_owner: DEVICE_OWNER_DHCP,
          device_id: dhcpDeviceId(step.host, networkId),
          'binding:host_id': step.host,
          fixed_ips: step.subnet_ids.map((id) => ({ subnet_id: id })) as FixedIpRequest[],
        });
      } else if (step.op === 'delete') {
        await deletePort(tx, byId.get(step.port_id)!);
      } else if (step.op === 'bind') {
        const doc = byId.get(step.port_id)!;
        Object.assign(doc, { device_id: dhcpDeviceId(step.host, networkId), 'binding:host_id': step.host, status: 'DOWN' });
        byId.set(doc.id, await saveDoc(tx, 'port', doc));
      } else {
        byId.set(step.port_id, await portResource.update!(tx, ctx, byId.get(step.port_id)!, { fixed_ips: step.fixed_ips }));
      }
    }
  }
}

const hostsOf = (ports: readonly Doc[]): Set<string> => new Set(ports.map((p) => p['binding:host_id'] as string));

/**
 * One network's DHCP ports after a change of its subnets or of its agents. Costs three indexed reads when the
 * network needs no DHCP port and has none, and writes nothing when the ports are as the rules want. `schedule`
 * (default true: a subnet change, Neutron's notifier schedules the network then) tops the network up to
 * dhcp_agents_per_network; `release`: the host of an agent the network was just removed from.
 */
export async function syncDhcpPort(tx: Tx, settings: ServerSettings | undefined, networkId: string, opts: { schedule?: boolean; release?: string } = {}): Promise<void> {
  const [subnets, ports, bindings] = await Promise.all([
    tx.list('subnet', { network_id: [networkId] }),
    tx.list('port', { network_id: [networkId], device_owner: [DEVICE_OWNER_DHCP] }),
    tx.list('network_dhcp_agent_binding', { network_id: [networkId] }),
  ]);
  const served = dhcpPortSubnets(subnets as unknown as DhcpSubnet[]).length > 0;
  if (!ports.length && !served) return;
  if (!ports.length && !bindings.length && opts.schedule === false) return;
  const view = await schedulerView(tx, [networkId]);
  const hosts = await scheduleNetwork(tx, settings, view, networkId, { topUp: served && opts.schedule !== false, failover: true, portHosts: hostsOf(ports) });
  await carryOut(tx, settings, networkId, subnets, ports, hosts, opts.release);
}

/**
 * Every network's DHCP ports: at start, at a heartbeat of a DHCP agent (networks bound to dead agents fail over to
 * live ones; `schedule`, when the agent has just come alive: networks short of agents are scheduled, as Neutron's
 * auto_schedule_networks does when an agent starts) and after an agent is deleted. Writes nothing when everything is
 * as the rules want.
 */
export async function syncAllDhcpPorts(tx: Tx, settings: ServerSettings | undefined, opts: { schedule?: boolean; view?: SchedulerView } = {}): Promise<void> {
  const [subnets, ports, view] = await Promise.all([tx.list('subnet'), tx.list('port', { device_owner: [DEVICE_OWNER_DHCP] }), opts.view ?? schedulerView(tx)]);
  const group = (docs: Doc[]): Map<string, Doc[]> => {
    const m = new Map<string, Doc[]>();
    for (const d of docs) {
      const list = m.get(d.network_id as string);
      if (list) list.push(d);
      else m.set(d.network_id as string, [d]);
    }
    return m;
  };
  const subnetsOf = group(subnets);
  const portsOf = group(ports);
  // Only networks with a DHCP port, a subnet dnsmasq serves or an agent can need a change.
  const servedNets = new Set(subnets.filter((s) => servesDhcp(s as unknown as DhcpSubnet)).map((s) => s.network_id as string));
  const candidates = new Set([...portsOf.keys(), ...servedNets, ...view.byNetwork.keys()]);
  // Hosts whose live v6stack agent has not shown its DHCP agent row yet (a store upgraded from before the bindings,
  // the first heartbeats after the restart): an unhosted network with its port there waits for that host.
  const dhcpRowHosts = new Set([...view.agents.values()].filter(isDhcpAgent).map((a) => a.host as string));
  const down = settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS;
  const pending = new Set(
    [...view.agents.values()]
      .filter((a) => servesDhcpRole(a as unknown as DhcpAgent) && agentAlive(a as unknown as DhcpAgent, view.nowMs, down) && !dhcpRowHosts.has(a.host as string))
      .map((a) => a.host as string),
  );
  for (const networkId of [...candidates].sort()) {
    const mine = portsOf.get(networkId) ?? [];
    const netSubnets = subnetsOf.get(networkId) ?? [];
    const served = dhcpPortSubnets(netSubnets as unknown as DhcpSubnet[]).length > 0;
    const waits = !view.byNetwork.get(networkId)?.length && mine.some((p) => pending.has(p['binding:host_id'] as string));
    const hosts = await scheduleNetwork(tx, settings, view, networkId, { topUp: served && opts.schedule === true && !waits, failover: true, portHosts: hostsOf(mine) });
    await carryOut(tx, settings, networkId, netSubnets, mine, hosts);
  }
}
