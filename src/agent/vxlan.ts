// VXLAN between agent hosts: each network's bridge gets a vxlan link `vx-<network id[:11]>` with the network's
// segmentation id as VNI, the host's tunnel address as source, and one all-zeros FDB entry per peer host (head-end
// replication of broadcast, multicast and unknown unicast; the link learns remote MACs from what it receives).
//
// The link is created in the agent's own namespace (the host's, where the underlay is) and then moved into the
// bridge namespace: a vxlan link keeps its UDP socket in the namespace it was created in, so the bridges stay out of
// the host's namespace while their tunnels use its underlay. VXLAN over an IPv6 underlay costs 70 bytes per frame
// (50 over IPv4): a network's MTU (1450 by default, Neutron's figure for an IPv4 underlay of 1500) needs an underlay
// MTU of at least MTU + 70.
//
// diffTunnels is PURE, like plan() and diff(): from the desired tunnels and what the bridge namespace has, the
// commands that make them equal.

import type { Action, ActualLink } from './linux.js';
import type { ApiState, BridgeSpec } from './plan.js';

export const VXLAN_PORT = 4789;
export const vxlanName = (networkId: string): string => `vx-${networkId.slice(0, 11)}`;

export interface TunnelSpec {
  name: string;
  bridge: string;
  networkId: string;
  vni: number;
  /** This host's tunnel (underlay) address. */
  local: string;
  mtu: number;
  /** The other hosts' tunnel addresses, sorted. */
  peers: string[];
}

/** One FDB entry of a vxlan link: `bridge fdb show` as JSON gives mac, ifname and dst. */
export interface FdbEntry {
  mac: string;
  dev: string;
  dst: string;
}

/** The tunnels of a host: one per bridged network whose segment is VXLAN, when the host has a tunnel address. */
export function planTunnels(state: ApiState, bridges: BridgeSpec[], tunnelIp: string | undefined, peers: string[]): TunnelSpec[] {
  if (!tunnelIp) return [];
  const networks = new Map(state.networks.map((n) => [n.id as string, n]));
  const others = [...new Set(peers.filter((p) => p !== tunnelIp))].sort();
  const out: TunnelSpec[] = [];
  for (const b of bridges) {
    const n = networks.get(b.networkId);
    if (!n || n['provider:network_type'] !== 'vxlan' || typeof n['provider:segmentation_id'] !== 'number') continue;
    out.push({ name: vxlanName(b.networkId), bridge: b.name, networkId: b.networkId, vni: n['provider:segmentation_id'], local: tunnelIp, mtu: b.mtu, peers: others });
  }
  return out;
}

const ZERO_MAC = '00:00:00:00:00:00';
const norm = (a: string): string => a.toLowerCase();

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
