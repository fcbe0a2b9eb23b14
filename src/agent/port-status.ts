// Port status, as an agent reports it (Neutron's update_device_up/down): a port this host wires is ACTIVE once it is
// plugged and its admin state is up, DOWN otherwise. The router and DHCP ports the agent plugs itself are plugged
// once a pass has applied without error; an instance's port is plugged when its tap (made by the hypervisor, here
// `v6stack lab boot`) is on the network's bridge. PURE: the bridge namespace's links are read by the caller.

import { DHCP_OWNER, ROUTER_INTERFACE_OWNERS, dhcpDeviceId, type PortDoc, type PortWiring } from './model.js';

export type PortStatus = 'ACTIVE' | 'DOWN' | 'ERROR';

/**
 * The status of every port in `wiring`, from the bridge ends found in the bridge namespace (name -> master).
 * `errored`: ports whose daemon keeps failing (servedBy); a port that would be ACTIVE is ERROR instead, Neutron's
 * status for a port its agent could not set up, so `port list -c Status` shows the DHCP port or the router
 * interfaces of a broken dnsmasq or radvd.
 */
export function portStatuses(wiring: PortWiring[], bridgeEnds: Map<string, { master: string | null }>, errored: Set<string> = new Set()): Map<string, PortStatus> {
  const out = new Map<string, PortStatus>();
  for (const w of wiring) {
    const plugged = w.pluggedBy === 'agent' || bridgeEnds.get(w.tap)?.master === w.bridge;
    out.set(w.id, w.adminUp && plugged ? (errored.has(w.id) ? 'ERROR' : 'ACTIVE') : 'DOWN');
  }
  return out;
}

/**
 * The ports a daemon serves, by daemon id: dnsmasq-<network> the network's DHCP port of this host, radvd-<router>
 * the router's interface ports (its gateway port is not radvd's).
 */
export function servedBy(daemonIds: string[], ports: readonly Pick<PortDoc, 'id' | 'device_owner' | 'device_id'>[], host: string): Set<string> {
  const out = new Set<string>();
  for (const id of daemonIds) {
    const dhcp = /^dnsmasq-(.+)$/.exec(id);
    const radvd = /^radvd-(.+)$/.exec(id);
    for (const p of ports) {
      if (dhcp && p.device_owner === DHCP_OWNER && p.device_id === dhcpDeviceId(host, dhcp[1]!)) out.add(p.id);
      if (radvd && p.device_id === radvd[1] && ROUTER_INTERFACE_OWNERS.has(p.device_owner)) out.add(p.id);
    }
  }
  return out;
}

/** The ports whose status differs from what the API shows (`known`: port id -> status). */
export function statusChanges(want: Map<string, PortStatus>, known: (id: string) => string | undefined): Record<string, PortStatus> {
  const out: Record<string, PortStatus> = {};
  for (const [id, st] of want) if (known(id) !== st) out[id] = st;
  return out;
}
