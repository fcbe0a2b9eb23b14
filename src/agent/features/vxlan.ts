// VXLAN between agent hosts: each network's bridge gets a vxlan link `vx-<network id[:11]>` with the network's
// segmentation id as VNI, the host's tunnel address as source, and one all-zeros FDB entry per peer host that has
// the network too (head-end replication of broadcast, multicast and unknown unicast; the link learns remote MACs
// from what it receives). Which hosts have a network is known from the API, as Neutron's l2population knows it:
// network hosts bridge every network; a compute host bridges the networks of the ports bound to it
// (binding:host_id). A host whose agent is down keeps its tunnels: its instances still run (an agent's death is not
// its host's), and only deleting the agent (DELETE /v2.0/agents/<id>) or its last port takes it out.
//
// The link is created in the agent's own namespace (the host's, where the underlay is) and then moved into the
// bridge namespace: a vxlan link keeps its UDP socket in the namespace it was created in, so the bridges stay out of
// the host's namespace while their tunnels use its underlay. VXLAN over an IPv6 underlay costs 70 bytes per frame
// (50 over IPv4): a network's MTU must leave that much of the underlay's (the server derives it so with
// --overlay-ip-version 6; `underlayProblems` names the networks that do not fit, which the agent logs as errors).
//
// PURE, as every feature: planTunnels from the API state and the agents list, diffTunnels from the desired tunnels
// and what the bridge namespace has. The underlay itself is read by linux.ts (observeUnderlay).

import { encapOverhead } from '../../domain/mtu.js';
import { canonicalIp } from '../../domain/ip.js';
import type { Action, ActualLink, AgentEntry, ApiState, BridgeSpec, FdbEntry, HostRole, Peer, TunnelSpec } from '../model.js';
import type { Feature } from './feature.js';

export type { FdbEntry, Peer, TunnelSpec };

export const VXLAN_PORT = 4789;
export const vxlanName = (networkId: string): string => `vx-${networkId.slice(0, 11)}`;

/** Another agent host, as its heartbeat describes it in GET /v2.0/agents. */
/**
 * The other hosts with a tunnel address, from the agents list: every registered v6stack agent that reports
 * tunneling_ip, alive or not (a dead agent's host still runs its instances and its kernel state).
 */
export function peersFromAgents(agents: readonly AgentEntry[], self: string, binary: string): Peer[] {
  const out = new Map<string, Peer>();
  for (const a of agents) {
    const ip = a.configurations?.tunneling_ip;
    if (a.binary !== binary || a.host === self || typeof ip !== 'string' || !ip) continue;
    const role = a.configurations?.role;
    out.set(a.host, { host: a.host, tunnelIp: ip, role: role === 'compute' || role === 'network' ? role : 'all' });
  }
  return [...out.values()].sort((x, y) => x.host.localeCompare(y.host));
}

/**
 * The tunnels of a host: one per bridged network whose segment is VXLAN, when the host has a tunnel address, each
 * flooding to the peers that have that network (network and all-in-one hosts: every network; compute hosts: those
 * with a port bound to them).
 */
export function planTunnels(state: ApiState, bridges: BridgeSpec[], tunnelIp: string | undefined, peers: Peer[]): TunnelSpec[] {
  if (!tunnelIp) return [];
  const networks = new Map(state.networks.map((n) => [n.id, n]));
  const bound = new Map<string, Set<string>>();
  for (const p of state.ports) {
    const host = p['binding:host_id'];
    if (typeof host !== 'string' || !host) continue;
    if (!bound.has(host)) bound.set(host, new Set());
    bound.get(host)!.add(p.network_id);
  }
  const others = peers.filter((p) => norm(p.tunnelIp) !== norm(tunnelIp));
  const out: TunnelSpec[] = [];
  for (const b of bridges) {
    const n = networks.get(b.networkId);
    if (!n || n['provider:network_type'] !== 'vxlan' || typeof n['provider:segmentation_id'] !== 'number') continue;
    const flood = others.filter((p) => p.role !== 'compute' || bound.get(p.host)?.has(b.networkId)).map((p) => p.tunnelIp);
    out.push({ name: vxlanName(b.networkId), bridge: b.name, networkId: b.networkId, vni: n['provider:segmentation_id'], local: tunnelIp, mtu: b.mtu, peers: [...new Set(flood)].sort() });
  }
  return out;
}

/**
 * Other hosts that also run routers and DHCP servers. Nothing schedules routers or DHCP between network nodes (as
 * Neutron's L3 and DHCP agent schedulers do), so two of them would both build every router and serve every network:
 * two routers with the same addresses and MACs on each tunnelled network. One line each, for the agent's log.
 */
export function networkNodeConflicts(role: HostRole, peers: Peer[]): string[] {
  if (role === 'compute') return [];
  return peers
    .filter((p) => p.role !== 'compute')
    .map((p) => `host ${p.host} (${p.tunnelIp}) runs routers and DHCP too (role ${p.role}), as this one does (role ${role}): both build every router; run one network node and the others with --role compute`);
}

/** The underlay link that carries the tunnels: the interface holding the tunnel address. */
export interface Underlay {
  dev: string;
  mtu: number;
}

/**
 * Networks whose frames do not fit the underlay once encapsulated (MTU + 50 bytes over IPv4, + 70 over IPv6): the
 * kernel's vxlan link answers such frames with Packet Too Big (or drops them), while the RA told the instances
 * they fit. One line each, for the agent's log.
 */
export function underlayProblems(tunnels: TunnelSpec[], underlay: Underlay): string[] {
  return tunnels
    .map((t) => {
      const overhead = encapOverhead('vxlan', t.local.includes(':') ? 6 : 4);
      return t.mtu + overhead <= underlay.mtu
        ? null
        : `network ${t.networkId} has MTU ${t.mtu}, but VXLAN over IPv${t.local.includes(':') ? 6 : 4} adds ${overhead} bytes and the underlay ${underlay.dev} carries ${underlay.mtu}: ` +
            `frames over ${underlay.mtu - overhead} bytes will not cross the tunnel (set the network's mtu, or start the server with --global-physnet-mtu ${underlay.mtu}${t.local.includes(':') ? ' --overlay-ip-version 6' : ''})`;
    })
    .filter((x): x is string => x !== null);
}

const ZERO_MAC = '00:00:00:00:00:00';
/** An address in canonical form (RFC 5952 for IPv6), so fd00:1:0::a and fd00:1::a compare equal. */
const norm = (a: string): string => canonicalIp(a) ?? a.toLowerCase();

/** The commands that give the bridge namespace exactly `tunnels` (links with these ids, sources and peers). */
export function diffTunnels(tunnels: TunnelSpec[], brNs: string, links: Map<string, ActualLink>, fdb: FdbEntry[]): Action[] {
  const out: Action[] = [];
  const wanted = new Map(tunnels.map((t) => [t.name, t]));
  for (const [name, l] of links) {
    if (l.kind === 'vxlan' && name.startsWith('vx-') && !wanted.has(name)) out.push({ desc: `delete tunnel ${name}`, cmds: [['ip', '-n', brNs, 'link', 'del', name]] });
  }
  for (const t of tunnels) {
    const have = links.get(t.name);
    const create: string[][] = [
      // Made here, in the agent's namespace (the underlay's), then moved: its socket stays where it was made.
      ['ip', 'link', 'add', t.name, 'mtu', String(t.mtu), 'type', 'vxlan', 'id', String(t.vni), 'local', t.local, 'dstport', String(VXLAN_PORT)],
      ['ip', 'link', 'set', t.name, 'netns', brNs],
      ['ip', '-n', brNs, 'link', 'set', t.name, 'master', t.bridge, 'up'],
      ...t.peers.map((p) => ['bridge', '-n', brNs, 'fdb', 'append', ZERO_MAC, 'dev', t.name, 'dst', p]),
    ];
    if (!have) {
      out.push({ desc: `create tunnel ${t.name} (VNI ${t.vni}, local ${t.local}, peers ${t.peers.join(' ') || 'none'}) on ${t.bridge}`, cmds: create });
      continue;
    }
    if (have.kind !== 'vxlan' || have.vxlan?.id !== t.vni || norm(have.vxlan?.local ?? '') !== norm(t.local)) {
      out.push({ desc: `recreate tunnel ${t.name} (VNI ${t.vni}, local ${t.local})`, cmds: [['ip', '-n', brNs, 'link', 'del', t.name], ...create] });
      continue;
    }
    if (have.mtu !== t.mtu) out.push({ desc: `set ${t.name} mtu ${t.mtu}`, cmds: [['ip', '-n', brNs, 'link', 'set', t.name, 'mtu', String(t.mtu)]] });
    if (have.master !== t.bridge || !have.up) out.push({ desc: `attach ${t.name} to ${t.bridge}`, cmds: [['ip', '-n', brNs, 'link', 'set', t.name, 'master', t.bridge, 'up']] });
    const dsts = fdb.filter((e) => e.dev === t.name && e.mac === ZERO_MAC).map((e) => norm(e.dst));
    for (const p of t.peers) if (!dsts.includes(norm(p))) out.push({ desc: `${t.name}: flood to peer ${p}`, cmds: [['bridge', '-n', brNs, 'fdb', 'append', ZERO_MAC, 'dev', t.name, 'dst', p]] });
    for (const d of dsts) if (!t.peers.some((p) => norm(p) === d)) out.push({ desc: `${t.name}: stop flooding to ${d}`, cmds: [['bridge', '-n', brNs, 'fdb', 'del', ZERO_MAC, 'dev', t.name, 'dst', d]] });
  }
  return out;
}

export const vxlan: Feature = {
  name: 'vxlan',
  applies: ['kernel'],
  plan: (ctx, planned) => ({ tunnels: planTunnels(ctx.state, planned.bridges, ctx.opts.tunnelIp, ctx.opts.peers ?? []) }),
  diff(desired, actual) {
    const brLinks = actual.ns.get(desired.bridgeNs)?.links ?? new Map<string, ActualLink>();
    return { build: diffTunnels(desired.tunnels, desired.bridgeNs, brLinks, actual.fdb), teardown: [] };
  },
};
