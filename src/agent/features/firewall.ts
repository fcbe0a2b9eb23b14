// Security groups and port security: the instance ports bound to this host, on the bridges this host has, with the
// groups and rules they need and every port (remote-group members, the network's router and DHCP ports). The
// compiler is domain/firewall.ts; agent/nft.ts applies its objects in the bridge namespace with `nft -f`. PURE.
//
// Bridge netfilter hands bridged IPv4/IPv6 to the inet family's hooks (where conntrack works) only when the bridge
// namespace's bridge-nf-call sysctls are on; ARP stays with the bridge family (bridge-nf-call-arptables off).

import { isFiltered, type FwPort } from '../../domain/firewall.js';
import { bridgeName, tapName } from '../model.js';
import type { Feature } from './feature.js';

export const BRIDGE_NF_SYSCTLS: [string, string][] = [
  ['net.bridge.bridge-nf-call-ip6tables', '1'],
  ['net.bridge.bridge-nf-call-iptables', '1'],
  ['net.bridge.bridge-nf-call-arptables', '0'],
];

export const firewall: Feature = {
  name: 'firewall',
  applies: ['kernel'],

  plan(ctx, planned) {
    const bridged = new Set(planned.bridges.map((b) => b.networkId));
    const ports = ctx.ports as unknown as FwPort[];
    const local = ports
      .filter((p) => p['binding:host_id'] === ctx.opts.host && bridged.has(p.network_id) && isFiltered(p))
      .map((port) => ({ port, tap: tapName(port.id), bridge: bridgeName(port.network_id) }));
    return {
      ...(local.length ? { bridgeNsSysctls: BRIDGE_NF_SYSCTLS } : {}),
      firewall: {
        namespace: planned.bridgeNs,
        input: { ports, groups: ctx.state.securityGroups ?? [], rules: ctx.state.securityGroupRules ?? [], addressGroups: ctx.state.addressGroups ?? [], local },
      },
    };
  },
};
