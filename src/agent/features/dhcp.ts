// DHCP: for each network that needs a DHCP server (an enable_dhcp IPv6 subnet in dhcpv6-stateful or -stateless
// address mode, or an enable_dhcp IPv4 subnet) and whose DHCP port the server put on this host (the network is
// bound to this host's DHCP agent: api/dhcp-agent-scheduler.ts), the namespace `qdhcp-<network id>[suffix]` with `ns-<port id[:11]>` for the
// network's DHCP port of this host (device_owner network:dhcp), and a dnsmasq in it configured as Neutron's DHCP
// agent configures it (dnsmasq.ts renders it). The namespace is applied through the kernel, dnsmasq by the
// supervisor (SIGHUP for new hosts, a restart for a changed command line). A compute host serves no DHCP. PURE.

import { isProvisional } from '../../domain/prefix-delegation.js';
import { DHCP_OWNER, dhcpDeviceId, dhcpNsName, type ApiState, type DaemonSpec, type NamespaceSpec, type PortWiring } from '../model.js';
import { dhcpSubnets, renderDnsmasq } from '../dnsmasq.js';
import { diffNamespaces, linkFor, wiringOf } from './netns.js';
import type { Feature } from './feature.js';

const DHCP_SYSCTLS: [string, string][] = [
  ['net.ipv6.conf.default.addr_gen_mode', '0'],
  ['net.ipv6.conf.all.accept_dad', '0'],
  ['net.ipv6.conf.default.accept_dad', '0'],
  // The DHCP namespace must not configure itself from the router's RAs (Neutron 904f85e2f9).
  ['net.ipv6.conf.all.accept_ra', '0'],
  ['net.ipv6.conf.default.accept_ra', '0'],
];

/** The networks that need a DHCP server, sorted. */
export function networksNeedingDhcp(state: ApiState): string[] {
  const ids = new Set(dhcpSubnets(state.subnets).map((s) => s.network_id));
  return state.networks.map((n) => n.id).filter((id) => ids.has(id)).sort();
}

export const dhcp: Feature = {
  name: 'dhcp',
  applies: ['kernel', 'daemons'],

  plan(ctx) {
    const { opts, networks, subnets } = ctx;
    const namespaces: NamespaceSpec[] = [];
    const daemons: DaemonSpec[] = [];
    const wiring: PortWiring[] = [];
    for (const networkId of ctx.role === 'compute' ? [] : networksNeedingDhcp(ctx.state)) {
      const port = (ctx.byDevice.get(dhcpDeviceId(opts.host, networkId)) ?? []).find((p) => p.device_owner === DHCP_OWNER);
      if (!port) continue; // no DHCP port of this host yet: planned again when it appears
      const network = networks.get(networkId)!;
      const ns = dhcpNsName(networkId, opts.namespaceSuffix);
      const link = linkFor(port, 'ns-', subnets, network);
      wiring.push(wiringOf(port, 'agent'));
      namespaces.push({ name: ns, kind: 'dhcp', sysctls: DHCP_SYSCTLS, links: [link], routes: [] });
      const dir = `${opts.stateDir}/dhcp/${networkId}`;
      const cfg = renderDnsmasq({
        networkMtu: network.mtu ?? 0,
        // Neutron's dhcp.py skips a PD subnet still on its temporary ::/64.
        subnets: (ctx.subnetsByNetwork.get(networkId) ?? []).filter((s) => !isProvisional(s)),
        ports: ctx.byNetwork.get(networkId) ?? [],
        interfaceName: link.name,
        dir,
        ...(opts.leaseSeconds !== undefined ? { leaseSeconds: opts.leaseSeconds } : {}),
        ...(opts.dnsDomain !== undefined ? { dnsDomain: opts.dnsDomain } : {}),
        ...(opts.dnsmasqLogFacility !== undefined ? { logFacility: opts.dnsmasqLogFacility } : {}),
      });
      daemons.push({
        id: `dnsmasq-${networkId}`,
        kind: 'dnsmasq',
        namespace: ns,
        dir,
        argv: cfg.argv,
        files: [
          { name: 'host', content: cfg.hosts, mode: 0o644 },
          { name: 'opts', content: cfg.opts, mode: 0o644 },
          { name: 'addn_hosts', content: cfg.addnHosts, mode: 0o644 },
        ],
        // Neutron's reload_allocations: SIGHUP makes dnsmasq re-read the hosts, opts and addn_hosts files, so a new
        // port is served without a restart (which would drop in-flight exchanges). Range changes are on the command
        // line and restart it.
        reload: 'hup',
      });
    }
    return { namespaces, daemons, wiring };
  },

  diff: (desired, actual, owned) => diffNamespaces('dhcp', dhcpNsName(''), desired, actual, owned),
};
