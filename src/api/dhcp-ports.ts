// The server makes, re-addresses, moves and removes each network's DHCP port (device_owner network:dhcp) in the
// transaction of the change that needs it: a subnet created, updated or deleted, an agent's heartbeat (a DHCP host
// came or went), an agent deleted, and once at start (which adopts the ports agents made before the server did).
// The rules are domain/dhcp.ts's; this module reads what they need from the store and carries out their plan
// through the port code (IPAM, change feed), so the port is exactly what POST /v2.0/ports would have made.

import {
  AGENT_DOWN_TIME_MS,
  DEVICE_OWNER_DHCP,
  dhcpDeviceId,
  dhcpHosts,
  dhcpPortSubnets,
  planDhcpPort,
  poolAddressesAsked,
  poolCounted,
  poolExhausted,
  scheduleDhcpHost,
  servesDhcp,
  type DhcpAgent,
  type DhcpPortState,
  type DhcpSubnet,
} from '../domain/dhcp.js';
import type { FixedIpRequest } from '../domain/ipv6/index.js';
import type { Doc, Tx } from '../store/types.js';
import { saveDoc, type RequestContext, type ServerSettings } from './context.js';
import { createPort, deletePort, ports as portResource } from './resources/ports.js';
import { dhcpHostsInHintedZones } from './availability-zones.js';

/** The hosts whose agents may serve DHCP now (alive, up, role all or network). */
async function liveDhcpHosts(tx: Tx, settings: ServerSettings | undefined): Promise<string[]> {
  return dhcpHosts((await tx.list('agent')) as unknown as DhcpAgent[], Date.now(), settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS);
}

/** DHCP ports per host, for the least-loaded choice (read only when there is a choice). */
async function dhcpLoad(tx: Tx, hosts: readonly string[]): Promise<Map<string, number>> {
  const load = new Map<string, number>();
  if (hosts.length < 2) return load;
  for (const p of await tx.list('port', { device_owner: [DEVICE_OWNER_DHCP] })) {
    const h = p['binding:host_id'] as string;
    load.set(h, (load.get(h) ?? 0) + 1);
  }
  return load;
}

/** Carries out one network's plan; `load` counts the ports it makes and moves. */
async function carryOut(
  tx: Tx,
  settings: ServerSettings | undefined,
  networkId: string,
  subnets: Doc[],
  ports: Doc[],
  hosts: readonly string[],
  load: Map<string, number>,
): Promise<void> {
  hosts = await dhcpHostsInHintedZones(tx, networkId, hosts); // network_availability_zone: only agents in its hinted zones
  const facts = subnets as unknown as DhcpSubnet[];
  const scheduled = scheduleDhcpHost(hosts, load);
  let steps = planDhcpPort(facts, ports as unknown as DhcpPortState[], hosts, scheduled);
  if (!steps.length) return;
  // A small pool may be full: then the port does without an address there rather than failing the change.
  const full = new Set<string>();
  for (const id of new Set(poolAddressesAsked(steps, facts))) {
    const s = facts.find((x) => x.id === id);
    if (s && poolCounted(s) && poolExhausted(s, (await tx.allocationsOfSubnet(id)).map((a) => a.ip_address))) full.add(id);
  }
  if (full.size) steps = planDhcpPort(facts, ports as unknown as DhcpPortState[], hosts, scheduled, full);
  if (!steps.length) return;
  const network = await tx.get('network', networkId);
  if (!network) return;
  // The port is the network's, in the network's project (Neutron makes it with the network's tenant_id).
  const project = network.project_id as string;
  const ctx: RequestContext = { projectId: project, isAdmin: true, requestId: 'dhcp-port', ...(settings ? { settings } : {}) };
  const byId = new Map(ports.map((p) => [p.id, p]));
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
      load.set(step.host, (load.get(step.host) ?? 0) + 1);
    } else if (step.op === 'delete') {
      await deletePort(tx, byId.get(step.port_id)!);
    } else if (step.op === 'bind') {
      const doc = byId.get(step.port_id)!;
      // Its new agent reports it ACTIVE once plugged (Neutron: a new binding starts DOWN).
      Object.assign(doc, { device_id: dhcpDeviceId(step.host, networkId), 'binding:host_id': step.host, status: 'DOWN' });
      byId.set(doc.id, await saveDoc(tx, 'port', doc));
      load.set(step.host, (load.get(step.host) ?? 0) + 1);
    } else {
      byId.set(step.port_id, await portResource.update!(tx, ctx, byId.get(step.port_id)!, { fixed_ips: step.fixed_ips }));
    }
  }
}

/**
 * One network's DHCP port after a change of its subnets. Costs two indexed reads when the network needs no DHCP
 * port and has none (no agent is consulted then), and writes nothing when the port is as the rules want.
 */
export async function syncDhcpPort(tx: Tx, settings: ServerSettings | undefined, networkId: string): Promise<void> {
  const [subnets, ports] = await Promise.all([
    tx.list('subnet', { network_id: [networkId] }),
    tx.list('port', { network_id: [networkId], device_owner: [DEVICE_OWNER_DHCP] }),
  ]);
  if (!ports.length && !dhcpPortSubnets(subnets as unknown as DhcpSubnet[]).length) return;
  const hosts = await liveDhcpHosts(tx, settings);
  await carryOut(tx, settings, networkId, subnets, ports, hosts, await dhcpLoad(tx, hosts));
}

/**
 * Every network's DHCP port: at start (adopting agent-made ports: same device_owner, device_id and binding, so they
 * are kept as they are), and when a DHCP-capable agent heartbeats or is deleted (networks no live host serves are
 * scheduled or moved). Writes nothing when everything is as the rules want.
 */
export async function syncAllDhcpPorts(tx: Tx, settings: ServerSettings | undefined): Promise<void> {
  const [subnets, ports, hosts] = await Promise.all([tx.list('subnet'), tx.list('port', { device_owner: [DEVICE_OWNER_DHCP] }), liveDhcpHosts(tx, settings)]);
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
  const load = new Map<string, number>();
  for (const p of ports) load.set(p['binding:host_id'] as string, (load.get(p['binding:host_id'] as string) ?? 0) + 1);
  // Only networks with a DHCP port or a subnet dnsmasq serves can need a change.
  const candidates = new Set([...portsOf.keys(), ...subnets.filter((s) => servesDhcp(s as unknown as DhcpSubnet)).map((s) => s.network_id as string)]);
  for (const networkId of [...candidates].sort()) {
    await carryOut(tx, settings, networkId, subnetsOf.get(networkId) ?? [], portsOf.get(networkId) ?? [], hosts, load);
  }
}
