// L2: the bridge namespace `v6stack-br-<host>` (IPv6 off: it only switches), one Linux bridge `v6b-<net id[:11]>`
// per network this host bridges, the instances' taps (plugged by the hypervisor, here `lab boot`) following their
// port's admin_state_up, and the clean-up of bridge ends and bridges the API no longer has. veth + Linux bridge is
// the only L2 this lab kernel offers (docs/dataplane.md). PURE.

import { DHCP_OWNER, GATEWAY_OWNER, ROUTER_INTERFACE_OWNERS, bridgeName, bridgeNsName, tapName, type Action, type ActualLink, type BridgeSpec, type PortWiring } from '../model.js';
import { goneNamespaces, nsSysctls, wiringOf } from './netns.js';
import { sortById, type Feature } from './feature.js';

/** qr-0123456789a -> tap0123456789a: the bridge end the agent gives every link it plugs. */
const peerTap = (link: string): string => `tap${link.slice(link.indexOf('-') + 1)}`;

export const l2: Feature = {
  name: 'l2',
  applies: ['kernel'],

  plan(ctx) {
    const { opts, role, ports } = ctx;
    // A compute host bridges only the networks it has ports of (binding:host_id); others bridge every network.
    const local = new Set(ports.filter((p) => p['binding:host_id'] === opts.host).map((p) => p.network_id));
    const bridges: BridgeSpec[] = sortById(ctx.state.networks)
      .filter((n) => role !== 'compute' || local.has(n.id))
      .map((n) => ({ name: bridgeName(n.id), networkId: n.id, mtu: n.mtu ?? 1500 }));
    const bridged = new Set(bridges.map((b) => b.networkId));
    const wiring: PortWiring[] = [];
    for (const p of ports) {
      const agentOwned = ROUTER_INTERFACE_OWNERS.has(p.device_owner) || p.device_owner === GATEWAY_OWNER || p.device_owner === DHCP_OWNER;
      if (!agentOwned && p['binding:host_id'] === opts.host && bridged.has(p.network_id)) wiring.push(wiringOf(p, 'guest'));
    }
    return {
      bridgeNs: bridgeNsName(opts.host),
      bridgeNsSysctls: [
        ['net.ipv6.conf.all.disable_ipv6', '1'],
        ['net.ipv6.conf.default.disable_ipv6', '1'],
      ],
      bridges,
      knownTaps: ports.map((p) => tapName(p.id)).sort(),
      wiring,
    };
  },

  diff(desired, actual, owned) {
    const build: Action[] = [];
    const brNs = desired.bridgeNs;
    const br = actual.ns.get(brNs);
    build.push(...nsSysctls(brNs, desired.bridgeNsSysctls, br));
    const brLinks = br?.links ?? new Map<string, ActualLink>();
    for (const b of desired.bridges) {
      const have = brLinks.get(b.name);
      if (!have) {
        build.push({ desc: `create bridge ${b.name} (network ${b.networkId}, mtu ${b.mtu})`, cmds: [['ip', '-n', brNs, 'link', 'add', b.name, 'mtu', String(b.mtu), 'type', 'bridge'], ['ip', '-n', brNs, 'link', 'set', b.name, 'up']] });
        continue;
      }
      if (have.mtu !== b.mtu) build.push({ desc: `set bridge ${b.name} mtu ${b.mtu}`, cmds: [['ip', '-n', brNs, 'link', 'set', b.name, 'mtu', String(b.mtu)]] });
      if (!have.up) build.push({ desc: `set bridge ${b.name} up`, cmds: [['ip', '-n', brNs, 'link', 'set', b.name, 'up']] });
    }
    // Instances' taps (plugged by the hypervisor, here `lab boot`) follow their port's admin_state_up.
    for (const w of desired.wiring) {
      const tap = w.pluggedBy === 'guest' ? brLinks.get(w.tap) : undefined;
      if (tap && tap.up !== w.adminUp) {
        build.push({ desc: `set ${w.tap} ${w.adminUp ? 'up' : 'down (admin_state_up false)'} (port ${w.id})`, cmds: [['ip', '-n', brNs, 'link', 'set', w.tap, w.adminUp ? 'up' : 'down']] });
      }
    }

    // Leftovers: bridge ends of ports the API no longer has, bridges of deleted networks. Deleting one end of a veth
    // deletes the other: bridge ends of links (or namespaces) the namespace features delete go by themselves.
    const teardown: Action[] = [];
    const known = new Set([...desired.knownTaps, ...desired.namespaces.flatMap((n) => n.links.map((l) => l.tap))]);
    const vanishing = new Set<string>();
    for (const spec of desired.namespaces) {
      const wanted = new Set(spec.links.map((l) => l.name));
      for (const name of actual.ns.get(spec.name)?.links.keys() ?? []) if (!wanted.has(name)) vanishing.add(peerTap(name));
    }
    for (const ns of goneNamespaces(desired, actual, owned)) for (const name of actual.ns.get(ns)?.links.keys() ?? []) vanishing.add(peerTap(name));
    for (const [name, l] of brLinks) {
      if (name.startsWith('tap') && l.kind === 'veth' && !known.has(name) && !vanishing.has(name)) teardown.push({ desc: `delete ${name} (its port is gone)`, cmds: [['ip', '-n', brNs, 'link', 'del', name]] });
    }
    const bridges = new Set(desired.bridges.map((b) => b.name));
    for (const [name, l] of brLinks) {
      if (name.startsWith('v6b-') && l.kind === 'bridge' && !bridges.has(name)) teardown.push({ desc: `delete bridge ${name}`, cmds: [['ip', '-n', brNs, 'link', 'del', name]] });
    }
    return { build, teardown };
  },
};
