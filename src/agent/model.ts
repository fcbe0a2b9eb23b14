// What the agent's rooms share: the API documents as the agent reads them (typed from the resource schema), the
// options of a plan, the desired state every feature contributes to, what the kernel was seen to hold, and the names
// the agent gives namespaces, bridges and links. PURE and a leaf: it imports nothing of the agent, so every feature
// (features/*), the kernel I/O (linux.ts), the supervisor (daemons.ts) and the reconciler (agent.ts) can import it
// without a circle.

import type { Agent as AgentDoc, FloatingIp, NdpProxy, Network, Port, Router, Subnet } from '../schema/index.js';
import type { NdpRouterPlan, NdpTable } from '../domain/ndp-proxy.js';
import type { FirewallInput, FwAddressGroup, FwGroup, FwRule } from '../domain/firewall.js';
import type { NatActual, NatTable } from '../domain/nat.js';
import type { MeteringActual, MeteringLabel, MeteringRule, MeteringTable } from '../domain/metering.js';
import type { HostedBgpSpeaker } from '../domain/bgp.js';
import { DEVICE_OWNER_DHCP as DHCP_OWNER, DEVICE_OWNER_ROUTER_GW as GATEWAY_OWNER, ROUTER_INTERFACE_OWNERS } from '../domain/ipv6/index.js';

export { ROUTER_INTERFACE_OWNERS, GATEWAY_OWNER, DHCP_OWNER };

// ---- The API state, as GET /v2.0/{networks,subnets,ports,routers} returns it. Each is the schema's document type
// narrowed to the fields the agent reads (a test or the lab may hand over no more than those).

export type NetworkDoc = Pick<Network, 'id' | 'mtu'> & Partial<Pick<Network, 'provider:network_type' | 'provider:segmentation_id' | 'ipv6_address_scope'>>;
export type SubnetDoc = Pick<Subnet, 'id' | 'network_id' | 'ip_version' | 'cidr' | 'enable_dhcp' | 'ipv6_ra_mode' | 'ipv6_address_mode'> &
  Partial<Pick<Subnet, 'gateway_ip' | 'dns_nameservers' | 'host_routes'>>;
export type PortDoc = Pick<Port, 'id' | 'network_id' | 'mac_address' | 'fixed_ips' | 'device_owner' | 'device_id'> &
  Partial<Pick<Port, 'admin_state_up' | 'binding:host_id' | 'status' | 'binding:vif_details'>>;
export type RouterDoc = Pick<Router, 'id'> & Partial<Pick<Router, 'external_gateway_info' | 'ha' | 'routes' | 'enable_ndp_proxy' | 'project_id' | 'admin_state_up' | 'availability_zone_hints'>>;
/** An NDP proxy (l3-ndp-proxy), as features/ndp-proxy.ts reads it. */
export type NdpProxyDoc = Pick<NdpProxy, 'id' | 'router_id' | 'port_id' | 'ip_address'>;
export type FloatingIpDoc = Pick<FloatingIp, 'id' | 'floating_ip_address' | 'router_id' | 'port_id' | 'fixed_ip_address'>;
/** An entry of GET /v2.0/agents, as vxlan peersFromAgents reads it. */
export type AgentEntry = Pick<AgentDoc, 'host' | 'binary' | 'configurations'>;

/** A BGP speaker this host's BGP agent runs, as GET /v6stack/v1/bgp-speakers?host= gives it (routes derived). */
export type BgpSpeakerDoc = HostedBgpSpeaker;

export interface ApiState {
  networks: NetworkDoc[];
  subnets: SubnetDoc[];
  ports: PortDoc[];
  routers: RouterDoc[];
  /** Absent: none (a test or the lab that plans no NAT). */
  floatingips?: FloatingIpDoc[];
  /** The BGP speakers scheduled to this host (features/bgp.ts); absent or empty: none. */
  bgpSpeakers?: BgpSpeakerDoc[];
  /** Security groups and their rules (features/firewall.ts); absent means none. */
  securityGroups?: SecurityGroupDoc[];
  securityGroupRules?: SecurityGroupRuleDoc[];
  /** Address groups (rules' remote_address_group_id); absent means none. */
  addressGroups?: AddressGroupDoc[];
  /** NDP proxies (features/ndp-proxy.ts); absent means none. */
  ndpProxies?: NdpProxyDoc[];
  /** Metering labels and their rules (features/metering.ts); absent means none. */
  meteringLabels?: MeteringLabel[];
  meteringLabelRules?: MeteringRule[];
}
export type SecurityGroupDoc = FwGroup;
export type AddressGroupDoc = FwAddressGroup;
export type SecurityGroupRuleDoc = FwRule;

/** What features/firewall.ts plans: the bridge namespace's security-group and port-security input (agent/nft.ts). */
export interface FirewallSpec {
  namespace: string;
  input: Omit<FirewallInput, 'marks'>;
}

// ---- Options.

export type HostRole = 'all' | 'network' | 'compute';
export const HOST_ROLES: HostRole[] = ['all', 'network', 'compute'];

/** radvd's intervals (Neutron's [DEFAULT] min_rtr_adv_interval / max_rtr_adv_interval). */
export interface RadvdOptions {
  /** [DEFAULT] min_rtr_adv_interval, Neutron's default 30 s. */
  minRtrAdvInterval?: number;
  /** [DEFAULT] max_rtr_adv_interval, Neutron's default 100 s. */
  maxRtrAdvInterval?: number;
}

/** VRRP timing of HA routers (keepalived.ts renders it; Neutron's ha_vrrp_advert_int, keepalived's garp_master_delay). */
export interface VrrpOptions {
  /** Seconds between advertisements (centisecond resolution, VRRPv3). Failover takes about 3 x this + skew. */
  advertInt?: number;
  /** Seconds after becoming master before the second round of gratuitous ARPs / unsolicited NAs. */
  garpMasterDelay?: number;
}

/** Another agent host, as its heartbeat describes it in GET /v2.0/agents. */
export interface Peer {
  host: string;
  tunnelIp: string;
  role: HostRole;
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
  /** This host's availability zone: legacy routers hinted to other zones do not run here (features/l3.ts). */
  availabilityZone?: string;
  /** The other agent hosts with a tunnel address (from the agents list; see features/vxlan.ts peersFromAgents). */
  peers?: Peer[];
  /**
   * The upstream router's link-local address, for routers whose external network has no IPv6 gateway_ip (Neutron's
   * l3 agent ipv6_gateway). Without it such routers learn their IPv6 default route from the upstream RAs.
   */
  ipv6Gateway?: string;
  /**
   * Appended to router namespace names: lets the agents of several lab hosts run the same (HA) router on one machine,
   * where namespace names are shared (Neutron's functional tests name them qrouter-<id>@<host> for the same reason).
   */
  namespaceSuffix?: string;
  /** HA routers' VRRP timing (features/ha.ts). */
  vrrp?: VrrpOptions;
  /**
   * This host's keepalived state per HA router (MASTER, BACKUP, FAULT, STOP: the notify script's state files): radvd
   * runs only on the master (features/ra.ts).
   */
  haStates?: Readonly<Record<string, string>>;
}

// ---- The desired state of one host.

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
  /**
   * Addresses keepalived holds on an HA router's link: `all` on qr-/qg- (VIPs on the master only: the agent adds and
   * removes none), `others` on the HA link (the agent adds the HA port's address, and leaves keepalived's primary VIP).
   */
  vips?: 'all' | 'others';
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

/** An extra route as the API gives it: a destination CIDR via a next hop on one of the router's subnets. */
export interface ExtraRoute {
  destination: string;
  nexthop: string;
}

export interface NamespaceSpec {
  name: string;
  kind: 'router' | 'dhcp';
  /** sysctl key, value; applied in this order, before any link is created. */
  sysctls: [string, string][];
  links: LinkSpec[];
  /** Default routes. */
  routes: RouteSpec[];
  /** A legacy router's extra routes (extraroute's `routes`), kept as `proto static` (an HA router's are keepalived's). */
  extraRoutes?: ExtraRoute[];
  /** nft commands (one per line) applied before any link is plugged in: an HA router's (keepalived.ts). */
  firewall?: string;
}

export interface DaemonFile {
  name: string;
  content: string;
  mode: number;
}

export interface DaemonSpec {
  /** Unique and stable: radvd-<router id>, dnsmasq-<network id>, bgp-<speaker id>, pd-<router id>, metadata-<namespace>. */
  id: string;
  kind: 'radvd' | 'dnsmasq' | 'bird' | 'keepalived' | 'pd-client' | 'metadata';
  namespace: string;
  dir: string;
  argv: string[];
  files: DaemonFile[];
  /** How a config file change is taken: SIGHUP (radvd, dnsmasq) or a restart; a changed command line always restarts. */
  reload: 'hup' | 'restart';
  /**
   * Outlives the agent (keepalived): started in its own process group with its output in `<dir>/<kind>.log`, left
   * running when the agent stops, and adopted by the next agent (its pid file) so a restart is not a failover.
   */
  detached?: boolean;
  /** Files in `dir` a fresh start removes first (keepalived's state file: stale once its keepalived is gone). */
  staleOnStart?: string[];
  /** How it is stopped when no longer wanted (default SIGTERM; SIGKILL for an HA router's radvd: no goodbye RA). */
  stopSignal?: 'SIGTERM' | 'SIGKILL';
  /** Links the daemon's own feature keeps in its namespace (metadata: the qm- link holding fe80::a9fe:a9fe). */
  links?: LinkSpec[];
}

export interface BridgeSpec {
  name: string;
  networkId: string;
  mtu: number;
}

export interface TunnelSpec {
  name: string;
  bridge: string;
  networkId: string;
  vni: number;
  /** This host's tunnel (underlay) address. */
  local: string;
  mtu: number;
  /** The tunnel addresses of the other hosts that have this network, sorted. */
  peers: string[];
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
  /** Security groups and port security in the bridge namespace (features/firewall.ts; applied by agent/nft.ts). */
  firewall?: FirewallSpec;
  /** Each router namespace's IPv4 NAT table (features/nat.ts); a router without a gateway has none. */
  /** Each router namespace's NDP proxy (features/ndp-proxy.ts): proxy_ndp, proxy entries, the inbound filter. */
  ndpProxy?: NdpRouterPlan[];
  nat: { ns: string; table: NatTable; /** false on an HA router: keepalived announces its floating IPs, not the agent (features/nat.ts). */ garp?: boolean }[];
  /** Each metered router namespace's counting table (features/metering.ts): a router with a gateway and labels. */
  metering: { ns: string; routerId: string; table: MeteringTable }[];
}

// ---- What the kernel has (linux.ts observe reads it; the features' diffs compare against it).

export interface ActualLink {
  name: string;
  kind: string | null;
  mac: string;
  mtu: number;
  up: boolean;
  master: string | null;
  /** Global-scope addresses, "addr/len" (the kernel's link-locals are not ours to manage). */
  addresses: string[];
  /** Link-scope addresses, "addr/len" (read for the metadata link's fe80::a9fe:a9fe). */
  linkLocal?: string[];
  /** A vxlan link's VNI and source address. */
  vxlan?: { id: number; local: string } | null;
}

export interface ActualNamespace {
  links: Map<string, ActualLink>;
  routes: RouteSpec[];
  /** A router namespace's `proto static` routes (absent: not read). */
  extraRoutes?: ExtraRoute[];
  sysctls: Map<string, string>;
  /** A router namespace's NAT table as read back (null: none; absent: not read). */
  nat?: NatActual | null;
  /** A router namespace's NDP proxy state (absent: not read). */
  ndp?: { proxies: { dst: string; dev: string }[]; table: NdpTable | null };
  /** A router namespace's metering table as read back (null: none; absent: not read). */
  metering?: MeteringActual | null;
}

/** One FDB entry of a vxlan link: `bridge fdb show` as JSON gives mac, ifname and dst. */
export interface FdbEntry {
  mac: string;
  dev: string;
  dst: string;
}

export interface ActualState {
  namespaces: Set<string>;
  ns: Map<string, ActualNamespace>;
  /** The bridge namespace's FDB entries of vxlan links (read only when there are tunnels to check). */
  fdb: FdbEntry[];
}

/** One step of a plan: a line for the log and the commands that do it. */
export interface Action {
  desc: string;
  cmds: string[][];
  /**
   * The namespace whose own links, addresses and routes it changes. Consecutive actions of different namespaces
   * are independent and run side by side; an action without one is a barrier (bridges before plugs, deletions last).
   */
  ns?: string;
}

// ---- Names.

export const bridgeNsName = (host: string): string => `v6stack-br-${host}`;
export const bridgeName = (networkId: string): string => `v6b-${networkId.slice(0, 11)}`;
export const tapName = (portId: string): string => `tap${portId.slice(0, 11)}`;
/** `suffix`: the agent's --namespace-suffix (several hosts' agents on one machine, as Neutron's functional tests do). */
export const routerNsName = (routerId: string, suffix = ''): string => `qrouter-${routerId}${suffix}`;
/** With the same suffix as the router namespaces: two network nodes on one machine each run their own dnsmasq. */
export const dhcpNsName = (networkId: string, suffix = ''): string => `qdhcp-${networkId}${suffix}`;
/** The network a qdhcp- namespace of this agent serves (its name without prefix and suffix), or null. */
export function dhcpNsNetwork(name: string, suffix = ''): string | null {
  if (!name.startsWith('qdhcp-') || !name.endsWith(suffix)) return null;
  return name.slice('qdhcp-'.length, name.length - suffix.length) || null;
}
/** The device_id of the DHCP port a host serves on a network: the server names it (domain/dhcp). */
export { dhcpDeviceId } from '../domain/dhcp.js';

/** Namespace prefixes the agent manages. */
export const MANAGED_NS_PREFIXES = ['qrouter-', 'qdhcp-'];
/** Link name prefixes the agent manages inside its namespaces. */
export const MANAGED_LINK_PREFIXES = ['qr-', 'qg-', 'ns-', 'ha-'];
