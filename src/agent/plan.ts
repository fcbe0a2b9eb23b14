// The desired state of one host, computed from the API's documents (as GET /v2.0/{networks,subnets,ports,routers}
// returns them). PURE: no I/O, no clock; the same API state always gives the same plan, which is what makes the
// agent a reconciler (desired = plan(api), actual = observe(), apply(diff(desired, actual))).
//
// Layout (all built from veth + Linux bridge, the only L2 this lab kernel offers; see docs/dataplane.md):
//   bridge namespace `v6stack-br-<host>`: IPv6 off, one bridge `v6b-<net id[:11]>` per network, and the bridge end
//     `tap<port id[:11]>` of every plugged port;
//   `qrouter-<router id>`: `qr-<port id[:11]>` per interface, `qg-<port id[:11]>` for the gateway, forwarding on;
//   `qdhcp-<network id>`: `ns-<port id[:11]>` for the network's DHCP port (device_owner network:dhcp).

import { renderRadvdConf, type RadvdOptions, type RaInterface } from './radvd.js';
import { dhcpSubnets, renderDnsmasq } from './dnsmasq.js';
import { planTunnels, type Peer, type TunnelSpec } from './vxlan.js';
import { ROUTER_INTERFACE_OWNERS, DEVICE_OWNER_ROUTER_GW as GATEWAY_OWNER, DEVICE_OWNER_DHCP as DHCP_OWNER } from '../domain/ipv6/index.js';

export type Doc = Record<string, any>;

export interface ApiState {
  networks: Doc[];
  subnets: Doc[];
  ports: Doc[];
  routers: Doc[];
}

export interface PlanOptions {
  host: string;
  /** Where daemon configs live (one directory per daemon). */
  stateDir: string;
  radvd?: RadvdOptions;
  dnsDomain?: string;
  leaseSeconds?: number;
  /** dnsmasq's --log-facility with --log-dhcp ('-' = stderr, relayed into the agent's log); none by default. */
  dnsmasqLogFacility?: string;
  /**
   * What this host runs: `all` (one host: every network, router and DHCP server), `network` (the same, on a host
   * among several), `compute` (only the bridges of networks with a port bound here: no routers, no DHCP).
   */
  role?: HostRole;
  /** This host's tunnel (underlay) address: its networks' bridges get vxlan links to the peers. */
  tunnelIp?: string;
  /** The other agent hosts with a tunnel address (from the agents list; see vxlan.ts peersFromAgents). */
  peers?: Peer[];
  /**
   * The upstream router's link-local address, for routers whose external network has no IPv6 gateway_ip (Neutron's
   * l3 agent ipv6_gateway). Without it such routers learn their IPv6 default route from the upstream RAs.
   */
  ipv6Gateway?: string;
}

export type HostRole = 'all' | 'network' | 'compute';
export const HOST_ROLES: HostRole[] = ['all', 'network', 'compute'];

export interface LinkSpec {
  /** Name inside the namespace (qr-, qg-, ns-, eth0). */
  name: string;
  /** Bridge end, in the bridge namespace. */
  tap: string;
  bridge: string;
  mac: string;
  mtu: number;
  /** Global addresses, "addr/len", added nodad. */
  addresses: string[];
  /** The port's admin_state_up: when false the bridge end is set down (Neutron's Linux bridge agent does the same). */
  up: boolean;
  /**
   * The link's accept_ra, where the agent manages it (the gateway link): 2 when the router learns its IPv6 default
   * route from the upstream router's RAs (accepted although the router forwards), 0 otherwise.
   */
  acceptRa?: 0 | 2;
}

/**
 * A port whose wiring this host reports (its status): the router and DHCP ports it plugs itself, and the ports of
 * instances bound to this host (binding:host_id), which the hypervisor (here `v6stack lab boot`) plugs into the
 * network's bridge through tap<port id[:11]>.
 */
export interface PortWiring {
  id: string;
  tap: string;
  bridge: string;
  adminUp: boolean;
  pluggedBy: 'agent' | 'guest';
}

export interface RouteSpec {
  family: 4 | 6;
  via: string;
  dev: string;
}

export interface NamespaceSpec {
  name: string;
  kind: 'router' | 'dhcp';
  /** sysctl key, value; applied in this order, before any link is created. */
  sysctls: [string, string][];
  links: LinkSpec[];
  /** Default routes. */
  routes: RouteSpec[];
}

export interface DaemonFile {
  name: string;
  content: string;
  mode: number;
}

export interface DaemonSpec {
  /** Unique and stable: radvd-<router id>, dnsmasq-<network id>. */
  id: string;
  kind: 'radvd' | 'dnsmasq';
  namespace: string;
  dir: string;
  argv: string[];
  files: DaemonFile[];
  /** How a config file change is taken: SIGHUP (radvd, dnsmasq) or a restart; a changed command line always restarts. */
  reload: 'hup' | 'restart';
}

export interface BridgeSpec {
  name: string;
  networkId: string;
  mtu: number;
}

export interface DesiredState {
  bridgeNs: string;
  bridgeNsSysctls: [string, string][];
  bridges: BridgeSpec[];
  namespaces: NamespaceSpec[];
  daemons: DaemonSpec[];
  /** tap<port id[:11]> of every port the API knows: bridge ends of other plugs (lab instances) are left alone. */
  knownTaps: string[];
  tunnels: TunnelSpec[];
  /** The ports whose status this host reports, sorted by id (see port-status.ts). */
  wiring: PortWiring[];
}

export { ROUTER_INTERFACE_OWNERS, GATEWAY_OWNER, DHCP_OWNER };

export const bridgeNsName = (host: string): string => `v6stack-br-${host}`;
export const bridgeName = (networkId: string): string => `v6b-${networkId.slice(0, 11)}`;
export const tapName = (portId: string): string => `tap${portId.slice(0, 11)}`;
export const routerNsName = (routerId: string): string => `qrouter-${routerId}`;
export const dhcpNsName = (networkId: string): string => `qdhcp-${networkId}`;
/** The device_id of the DHCP port this host's agent owns on a network (Neutron: dhcp<host uuid>-<network id>). */
export const dhcpDeviceId = (host: string, networkId: string): string => `dhcp-${host}-${networkId}`;

/** Namespace prefixes the agent manages. */
export const MANAGED_NS_PREFIXES = ['qrouter-', 'qdhcp-'];
/** Link name prefixes the agent manages inside its namespaces. */
export const MANAGED_LINK_PREFIXES = ['qr-', 'qg-', 'ns-'];

const ROUTER_SYSCTLS: [string, string][] = [
  ['net.ipv6.conf.default.addr_gen_mode', '0'],
  ['net.ipv6.conf.all.accept_dad', '0'],
  ['net.ipv6.conf.default.accept_dad', '0'],
  ['net.ipv6.conf.all.forwarding', '1'],
  ['net.ipv4.ip_forward', '1'],
];
const DHCP_SYSCTLS: [string, string][] = [
  ['net.ipv6.conf.default.addr_gen_mode', '0'],
  ['net.ipv6.conf.all.accept_dad', '0'],
  ['net.ipv6.conf.default.accept_dad', '0'],
  // The DHCP namespace must not configure itself from the router's RAs (Neutron 904f85e2f9).
  ['net.ipv6.conf.all.accept_ra', '0'],
  ['net.ipv6.conf.default.accept_ra', '0'],
];

const byId = <T extends Doc>(docs: T[]): Map<string, T> => new Map(docs.map((d) => [d.id as string, d]));
function groupBy(docs: Doc[], key: string): Map<string, Doc[]> {
  const m = new Map<string, Doc[]>();
  for (const d of docs) {
    const k = String(d[key]);
    const list = m.get(k);
    if (list) list.push(d);
    else m.set(k, [d]);
  }
  return m;
}
const sortById = <T extends Doc>(docs: T[]): T[] => [...docs].sort((a, b) => String(a.id).localeCompare(String(b.id)));

/**
 * The networks that need a DHCP server: an enable_dhcp IPv6 subnet in dhcpv6-stateful or -stateless address mode,
 * or an enable_dhcp IPv4 subnet.
 */
export function networksNeedingDhcp(state: ApiState): string[] {
  const ids = new Set(dhcpSubnets(state.subnets as any).map((s) => (s as Doc).network_id as string));
  return state.networks.map((n) => n.id as string).filter((id) => ids.has(id)).sort();
}

function linkFor(port: Doc, prefix: string, subnets: Map<string, Doc>, network: Doc | undefined): LinkSpec {
  const addresses = (port.fixed_ips as Doc[])
    .map((ip) => {
      const s = subnets.get(ip.subnet_id);
      return s ? `${ip.ip_address}/${String(s.cidr).split('/')[1]}` : null;
    })
    .filter((a): a is string => a !== null);
  return {
    name: `${prefix}${String(port.id).slice(0, 11)}`,
    tap: tapName(port.id),
    bridge: bridgeName(port.network_id),
    mac: String(port.mac_address).toLowerCase(),
    mtu: (network?.mtu as number | undefined) ?? 1500,
    addresses,
    up: port.admin_state_up !== false,
  };
}

const wiringOf = (port: Doc, pluggedBy: PortWiring['pluggedBy']): PortWiring => ({
  id: String(port.id),
  tap: tapName(port.id),
  bridge: bridgeName(port.network_id),
  adminUp: port.admin_state_up !== false,
  pluggedBy,
});

export function plan(state: ApiState, opts: PlanOptions): DesiredState {
  const networks = byId(state.networks);
  const subnets = byId(state.subnets);
  const ports = sortById(state.ports);
  // Grouped once: a router's ports and a network's ports, so planning stays linear in the size of the state.
  const byDevice = groupBy(ports, 'device_id');
  const byNetwork = groupBy(ports, 'network_id');
  const subnetsByNetwork = groupBy(state.subnets, 'network_id');
  const role = opts.role ?? 'all';
  // A compute host bridges only the networks it has ports of (binding:host_id); others bridge every network.
  const local = new Set(ports.filter((p) => p['binding:host_id'] === opts.host).map((p) => p.network_id as string));
  const bridges: BridgeSpec[] = sortById(state.networks)
    .filter((n) => role !== 'compute' || local.has(n.id))
    .map((n) => ({ name: bridgeName(n.id), networkId: n.id, mtu: n.mtu ?? 1500 }));
  const namespaces: NamespaceSpec[] = [];
  const daemons: DaemonSpec[] = [];
  const wiring: PortWiring[] = [];
  const bridged = new Set(bridges.map((b) => b.networkId));
  for (const p of ports) {
    const agentOwned = ROUTER_INTERFACE_OWNERS.has(p.device_owner) || p.device_owner === GATEWAY_OWNER || p.device_owner === DHCP_OWNER;
    if (!agentOwned && p['binding:host_id'] === opts.host && bridged.has(p.network_id)) wiring.push(wiringOf(p, 'guest'));
  }

  for (const router of role === 'compute' ? [] : sortById(state.routers)) {
    const ns = routerNsName(router.id);
    const mine = byDevice.get(router.id) ?? [];
    const internal = mine.filter((p) => ROUTER_INTERFACE_OWNERS.has(p.device_owner));
    const gateway = mine.find((p) => p.device_owner === GATEWAY_OWNER);
    const links = internal.map((p) => linkFor(p, 'qr-', subnets, networks.get(p.network_id)));
    for (const p of [...internal, ...(gateway ? [gateway] : [])]) wiring.push(wiringOf(p, 'agent'));
    const routes: RouteSpec[] = [];
    if (gateway) {
      const qg = linkFor(gateway, 'qg-', subnets, networks.get(gateway.network_id));
      links.push(qg);
      for (const family of [6, 4] as const) {
        const s = (gateway.fixed_ips as Doc[])
          .map((ip) => subnets.get(ip.subnet_id))
          .find((sub) => sub && sub.ip_version === family && sub.gateway_ip);
        if (s) routes.push({ family, via: s.gateway_ip, dev: qg.name });
        else if (family === 6 && opts.ipv6Gateway) routes.push({ family, via: opts.ipv6Gateway, dev: qg.name });
      }
      // No IPv6 gateway known: as Neutron's l3 agent, accept the upstream router's RAs on qg- (accept_ra 2, since
      // the router forwards) and take the default route they give; the kernel keeps it (proto ra).
      qg.acceptRa = routes.some((r) => r.family === 6) ? 0 : 2;
    }
    namespaces.push({ name: ns, kind: 'router', sysctls: ROUTER_SYSCTLS, links, routes });

    const ra: RaInterface[] = internal.map((p) => ({
      name: `qr-${String(p.id).slice(0, 11)}`,
      mtu: networks.get(p.network_id)?.mtu ?? 1500,
      subnets: (p.fixed_ips as Doc[]).map((ip) => subnets.get(ip.subnet_id)).filter((s): s is Doc => !!s) as any,
    }));
    const conf = renderRadvdConf(ra, opts.radvd);
    if (conf !== null) {
      const dir = `${opts.stateDir}/radvd/${router.id}`;
      daemons.push({
        id: `radvd-${router.id}`,
        kind: 'radvd',
        namespace: ns,
        dir,
        argv: ['radvd', '-n', '-m', 'stderr', '-C', `${dir}/radvd.conf`, '-p', `${dir}/radvd.pid`],
        files: [{ name: 'radvd.conf', content: conf, mode: 0o444 }],
        reload: 'hup',
      });
    }
  }

  for (const networkId of role === 'compute' ? [] : networksNeedingDhcp(state)) {
    const port = (byDevice.get(dhcpDeviceId(opts.host, networkId)) ?? []).find((p) => p.device_owner === DHCP_OWNER);
    if (!port) continue; // the agent creates it through the API first (agent.ts), then plans again
    const network = networks.get(networkId)!;
    const ns = dhcpNsName(networkId);
    const link = linkFor(port, 'ns-', subnets, network);
    wiring.push(wiringOf(port, 'agent'));
    namespaces.push({ name: ns, kind: 'dhcp', sysctls: DHCP_SYSCTLS, links: [link], routes: [] });
    const dir = `${opts.stateDir}/dhcp/${networkId}`;
    const cfg = renderDnsmasq({
      networkMtu: network.mtu ?? 0,
      subnets: (subnetsByNetwork.get(networkId) ?? []) as any,
      ports: (byNetwork.get(networkId) ?? []) as any,
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

  return {
    bridgeNs: bridgeNsName(opts.host),
    bridgeNsSysctls: [
      ['net.ipv6.conf.all.disable_ipv6', '1'],
      ['net.ipv6.conf.default.disable_ipv6', '1'],
    ],
    bridges,
    namespaces,
    daemons,
    knownTaps: ports.map((p) => tapName(p.id)).sort(),
    tunnels: planTunnels(state, bridges, opts.tunnelIp, opts.peers ?? []),
    wiring: wiring.sort((a, b) => a.id.localeCompare(b.id)),
  };
}
