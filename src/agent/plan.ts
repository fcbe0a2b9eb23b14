// The two pure walks of the feature table (features/index.ts): plan, from the API's documents (as GET
// /v2.0/{networks,subnets,ports,routers} returns them) to the host's desired state, each feature adding its part;
// and diff, from the desired state and what the kernel has to the commands that make them equal. PURE: no I/O, no
// clock; the same API state always gives the same plan, which is what makes the agent a reconciler
// (desired = plan(api), actual = observe(), apply(diff(desired, actual))).
//
// Layout (all built from veth + Linux bridge, the only L2 this lab kernel offers; see docs/dataplane.md):
//   bridge namespace `v6stack-br-<host>`: IPv6 off, one bridge `v6b-<net id[:11]>` per network, and the bridge end
//     `tap<port id[:11]>` of every plugged port (features/l2.ts);
//   `qrouter-<router id>`: `qr-<port id[:11]>` per interface, `qg-<port id[:11]>` for the gateway, forwarding on
//     (features/l3.ts), and radvd (features/ra.ts);
//   `qdhcp-<network id>`: `ns-<port id[:11]>` for the network's DHCP port (device_owner network:dhcp) and dnsmasq
//     (features/dhcp.ts); vx-<net id[:11]> tunnels on the bridges (features/vxlan.ts).

import { FEATURES } from './features/index.js';
import { planContext, type Feature } from './features/feature.js';
import type { Action, ActualState, ApiState, DesiredState, PlanOptions } from './model.js';

export * from './model.js';
export { networksNeedingDhcp } from './features/dhcp.js';

const LIST_KEYS = ['bridges', 'namespaces', 'daemons', 'knownTaps', 'tunnels', 'wiring', 'nat', 'metering'] as const;

export function plan(state: ApiState, opts: PlanOptions, features: readonly Feature[] = FEATURES): DesiredState {
  const ctx = planContext(state, opts);
  const desired: DesiredState = { bridgeNs: '', bridgeNsSysctls: [], bridges: [], namespaces: [], daemons: [], knownTaps: [], tunnels: [], wiring: [], nat: [], metering: [] };
  for (const f of features) {
    const part = f.plan(ctx, desired);
    if (part.bridgeNs !== undefined) desired.bridgeNs = part.bridgeNs;
    if (part.bridgeNsSysctls) desired.bridgeNsSysctls.push(...part.bridgeNsSysctls);
    if (part.firewall) desired.firewall = part.firewall;
    if (part.ndpProxy) (desired.ndpProxy ??= []).push(...part.ndpProxy);
    for (const k of LIST_KEYS) {
      const add = part[k];
      if (add) (desired[k] as unknown[]).push(...add);
    }
  }
  desired.wiring.sort((a, b) => a.id.localeCompare(b.id));
  return desired;
}

/**
 * The commands that turn `actual` into `desired`: each feature's build in table order, then each feature's teardown
 * in reverse order. Only differences produce commands; the agent's own namespaces (those it planned before, the
 * `owned` ledger) that are no longer desired are deleted, with everything in them.
 */
export function diff(desired: DesiredState, actual: ActualState, owned: Iterable<string> = [], features: readonly Feature[] = FEATURES): Action[] {
  const ledger = [...owned];
  const parts = features.map((f) => f.diff?.(desired, actual, ledger) ?? { build: [], teardown: [] });
  return [...parts.flatMap((p) => p.build), ...parts.reverse().flatMap((p) => p.teardown)];
}
