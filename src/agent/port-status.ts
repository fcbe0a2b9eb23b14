// Port status, as an agent reports it (Neutron's update_device_up/down): a port this host wires is ACTIVE once it is
// plugged and its admin state is up, DOWN otherwise. The router and DHCP ports the agent plugs itself are plugged
// once a pass has applied without error; an instance's port is plugged when its tap (made by the hypervisor, here
// `v6stack lab boot`) is on the network's bridge. PURE: the bridge namespace's links are read by the caller.

import type { PortWiring } from './plan.js';

export type PortStatus = 'ACTIVE' | 'DOWN';

/** The status of every port in `wiring`, from the bridge ends found in the bridge namespace (name -> master). */
export function portStatuses(wiring: PortWiring[], bridgeEnds: Map<string, { master: string | null }>): Map<string, PortStatus> {
  const out = new Map<string, PortStatus>();
  for (const w of wiring) {
    const plugged = w.pluggedBy === 'agent' || bridgeEnds.get(w.tap)?.master === w.bridge;
    out.set(w.id, w.adminUp && plugged ? 'ACTIVE' : 'DOWN');
  }
  return out;
}

/** The ports whose status differs from what the API shows (`known`: port id -> status). */
export function statusChanges(want: Map<string, PortStatus>, known: (id: string) => string | undefined): Record<string, PortStatus> {
  const out: Record<string, PortStatus> = {};
  for (const [id, st] of want) if (known(id) !== st) out[id] = st;
  return out;
}
