// BGP dynamic routing: which routes a BGP speaker advertises, and why a tenant subnet is not among them. PURE.
//
// Neutron derives the routes with SQL joins (neutron-dynamic-routing db/bgp_db.py); this is the same derivation over
// documents, so the API (get_advertised_routes), the agent (what gobgpd announces) and the `why` explanation share
// one rule:
//
// - Tenant routes (_tenant_networks_by_bgp_speaker_filters, joined to _next_hop_ip_addresses_by_bgp_speaker_filters
//   on router and IP version), only when the speaker has advertise_tenant_networks: the subnets on a router's
//   interface ports (not its gateway or SNAT ports), of a router that is admin_state_up, not on the speaker's gateway
//   network, of the speaker's IP version, from a subnet pool whose address scope is one of the scopes of the gateway
//   network's subnets of that version (_get_address_scope_ids_for_bgp_speaker); the next hop is the router's gateway
//   port address on a subnet of the gateway network of the same IP version. ("It is essential that the same address
//   scope is being used both for the public subnet and the tenant subnets. If there is a mismatch, the BGP
//   announcement will not happen": doc/source/install/usecase-ipv6.rst.)
// - Floating IP host routes (_get_central_fip_host_routes_by_bgp_speaker), only when the speaker has
//   advertise_floating_ip_host_routes: each floating IP on a gateway network, associated with a router that is up
//   and not distributed, as <address>/32 via the router's IPv4 gateway address. IPv4 only, as Neutron's.
//
// Neutron lists floating IP routes first, then tenant routes; so do we, each sorted for a stable answer.

import { IpAddress, IpPrefix } from './ip.js';
import { DEVICE_OWNER_ROUTER_GW, ROUTER_INTERFACE_OWNERS } from './ipv6/owners.js';

export interface BgpSpeakerView {
  id: string;
  ip_version: 4 | 6;
  networks: readonly string[];
  advertise_tenant_networks: boolean;
  advertise_floating_ip_host_routes: boolean;
}

export interface BgpSubnetView {
  id: string;
  network_id: string;
  ip_version: number;
  cidr: string;
  subnetpool_id?: string | null;
}

export interface BgpPortView {
  id: string;
  network_id: string;
  device_owner: string;
  device_id: string;
  fixed_ips: readonly { subnet_id: string; ip_address: string }[];
}

export interface BgpRouterView {
  id: string;
  admin_state_up?: boolean;
  distributed?: boolean;
}

/**
 * A floating IP, as the floating IP resource will store it (another room builds it): the hook is this shape; until
 * floating IPs exist the list is empty and no host routes are advertised.
 */
export interface BgpFloatingIpView {
  floating_ip_address: string;
  floating_network_id: string;
  router_id: string | null;
}

/** Everything the derivation reads. */
export interface BgpTopology {
  subnets: readonly BgpSubnetView[];
  subnetpools: readonly { id: string; address_scope_id?: string | null }[];
  routers: readonly BgpRouterView[];
  ports: readonly BgpPortView[];
  floatingips?: readonly BgpFloatingIpView[];
}

/** Neutron's advertised route: {"destination", "next_hop"}. */
export interface AdvertisedRoute {
  destination: string;
  next_hop: string;
}

export const ipVersionOf = (ip: string): 4 | 6 | null => IpAddress.parse(ip)?.version ?? null;

/** Indexes of a topology, built once per derivation. */
class Index {
  readonly subnets: Map<string, BgpSubnetView>;
  readonly pools: Map<string, { id: string; address_scope_id?: string | null }>;
  readonly routers: Map<string, BgpRouterView>;
  readonly gatewayOf = new Map<string, BgpPortView>();
  constructor(readonly topo: BgpTopology) {
    this.subnets = new Map(topo.subnets.map((s) => [s.id, s]));
    this.pools = new Map(topo.subnetpools.map((p) => [p.id, p]));
    this.routers = new Map(topo.routers.map((r) => [r.id, r]));
    for (const p of topo.ports) if (p.device_owner === DEVICE_OWNER_ROUTER_GW) this.gatewayOf.set(p.device_id, p);
  }

  scopeOf(subnet: BgpSubnetView): string | null {
    const pool = subnet.subnetpool_id ? this.pools.get(subnet.subnetpool_id) : undefined;
    return pool?.address_scope_id ?? null;
  }

  /** _get_address_scope_ids_for_bgp_speaker: the scopes of the gateway networks' subnets of the speaker's version. */
  speakerScopes(speaker: BgpSpeakerView): Set<string> {
    const nets = new Set(speaker.networks);
    const scopes = new Set<string>();
    for (const s of this.topo.subnets) {
      if (!nets.has(s.network_id) || s.ip_version !== speaker.ip_version) continue;
      const scope = this.scopeOf(s);
      if (scope) scopes.add(scope);
    }
    return scopes;
  }

  /** The router's gateway address on a gateway network of the speaker, of the speaker's IP version. */
  nextHop(speaker: BgpSpeakerView, routerId: string): string | null {
    const gw = this.gatewayOf.get(routerId);
    if (!gw || !speaker.networks.includes(gw.network_id)) return null;
    for (const ip of gw.fixed_ips) {
      const s = this.subnets.get(ip.subnet_id);
      if (s && s.network_id === gw.network_id && s.ip_version === speaker.ip_version) return ip.ip_address;
    }
    return null;
  }
}

const byDestination = (a: AdvertisedRoute, b: AdvertisedRoute): number => {
  const pa = IpPrefix.parse(a.destination);
  const pb = IpPrefix.parse(b.destination);
  if (pa && pb) {
    const c = pa.network.compare(pb.network);
    if (c !== 0) return c;
    if (pa.length !== pb.length) return pa.length - pb.length;
  }
  return a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : a.next_hop < b.next_hop ? -1 : a.next_hop > b.next_hop ? 1 : 0;
};

function dedupe(routes: AdvertisedRoute[]): AdvertisedRoute[] {
  const seen = new Set<string>();
  return routes.filter((r) => {
    const k = `${r.destination} ${r.next_hop}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** get_routes_by_bgp_speaker_id: floating IP host routes, then tenant network routes. */
export function advertisedRoutes(speaker: BgpSpeakerView, topo: BgpTopology): AdvertisedRoute[] {
  const ix = new Index(topo);
  return [...floatingIpRoutes(speaker, ix), ...tenantRoutes(speaker, ix)];
}

function floatingIpRoutes(speaker: BgpSpeakerView, ix: Index): AdvertisedRoute[] {
  if (!speaker.advertise_floating_ip_host_routes || speaker.ip_version !== 4) return [];
  const out: AdvertisedRoute[] = [];
  for (const fip of ix.topo.floatingips ?? []) {
    if (!fip.router_id || !speaker.networks.includes(fip.floating_network_id)) continue;
    const router = ix.routers.get(fip.router_id);
    if (!router || router.admin_state_up === false || router.distributed === true) continue;
    const hop = ix.nextHop(speaker, router.id);
    if (hop && ipVersionOf(fip.floating_ip_address) === 4) out.push({ destination: `${fip.floating_ip_address}/32`, next_hop: hop });
  }
  return dedupe(out).sort(byDestination);
}

function tenantRoutes(speaker: BgpSpeakerView, ix: Index): AdvertisedRoute[] {
  if (!speaker.advertise_tenant_networks) return [];
  const scopes = ix.speakerScopes(speaker);
  if (scopes.size === 0) return [];
  const out: AdvertisedRoute[] = [];
  for (const port of ix.topo.ports) {
    if (!ROUTER_INTERFACE_OWNERS.has(port.device_owner)) continue;
    const router = ix.routers.get(port.device_id);
    if (!router || router.admin_state_up === false) continue;
    const hop = ix.nextHop(speaker, router.id);
    if (!hop) continue;
    for (const ip of port.fixed_ips) {
      const s = ix.subnets.get(ip.subnet_id);
      if (!s || s.ip_version !== speaker.ip_version || speaker.networks.includes(s.network_id)) continue;
      const scope = ix.scopeOf(s);
      if (scope && scopes.has(scope)) out.push({ destination: s.cidr, next_hop: hop });
    }
  }
  return dedupe(out).sort(byDestination);
}

/** Why a subnet is or is not advertised by a speaker: v6stack's answer where Neutron stays silent. */
export interface RouteExplanation {
  subnet_id: string;
  cidr: string;
  advertised: boolean;
  /** The next hops it is advertised with (one per router it is attached to). */
  next_hops: string[];
  /** Empty when advertised; otherwise every reason, in the order the rule checks them. */
  reasons: string[];
}

/**
 * The explanation for one subnet. Each reason names the fix: the scope to put the subnet's pool in, the gateway to
 * set, the interface to add.
 */
export function explainSubnet(speaker: BgpSpeakerView, topo: BgpTopology, subnetId: string): RouteExplanation | null {
  const ix = new Index(topo);
  const s = ix.subnets.get(subnetId);
  if (!s) return null;
  const reasons: string[] = [];
  const nextHops: string[] = [];
  const v = speaker.ip_version;
  if (!speaker.advertise_tenant_networks) reasons.push('the speaker has advertise_tenant_networks off');
  if (speaker.networks.length === 0) reasons.push('the speaker has no gateway network (add one with add_gateway_network)');
  if (s.ip_version !== v) {
    reasons.push(`the subnet is IPv${s.ip_version} and the speaker IPv${v}: a speaker carries one address family (a dual-stack network needs two speakers)`);
  }
  if (speaker.networks.includes(s.network_id)) reasons.push("the subnet is on the speaker's gateway network itself, which is never advertised");
  const scopes = ix.speakerScopes(speaker);
  const scope = ix.scopeOf(s);
  if (!s.subnetpool_id) reasons.push('the subnet is from no subnet pool, so in no address scope');
  else if (!scope) reasons.push(`the subnet's pool ${s.subnetpool_id} is in no address scope`);
  if (speaker.networks.length > 0 && scopes.size === 0) {
    reasons.push(`no IPv${v} subnet of the gateway network${speaker.networks.length > 1 ? 's' : ''} is from a pool with an address scope`);
  } else if (scope && scopes.size > 0 && !scopes.has(scope)) {
    reasons.push(`the subnet's address scope ${scope} differs from the gateway network's (${[...scopes].sort().join(', ')})`);
  }
  const attachments = topo.ports.filter((p) => ROUTER_INTERFACE_OWNERS.has(p.device_owner) && p.fixed_ips.some((ip) => ip.subnet_id === s.id));
  if (attachments.length === 0) reasons.push('the subnet is on no router interface');
  const routerReasons: string[] = [];
  for (const port of attachments) {
    const router = ix.routers.get(port.device_id);
    if (!router) continue;
    const gw = ix.gatewayOf.get(router.id);
    if (router.admin_state_up === false) routerReasons.push(`router ${router.id} is administratively down`);
    else if (!gw) routerReasons.push(`router ${router.id} has no external gateway`);
    else if (!speaker.networks.includes(gw.network_id)) routerReasons.push(`router ${router.id}'s gateway is on network ${gw.network_id}, not on a gateway network of the speaker`);
    else {
      const hop = ix.nextHop(speaker, router.id);
      if (hop) nextHops.push(hop);
      else routerReasons.push(`router ${router.id}'s gateway has no IPv${v} address on the gateway network (no next hop)`);
    }
  }
  if (nextHops.length === 0) reasons.push(...routerReasons);
  const advertised = reasons.length === 0 && nextHops.length > 0;
  return { subnet_id: s.id, cidr: s.cidr, advertised, next_hops: advertised ? [...new Set(nextHops)].sort() : [], reasons: advertised ? [] : reasons };
}

/** Explanations for every subnet attached to a router or of the speaker's family not on its gateway networks. */
export function explainAll(speaker: BgpSpeakerView, topo: BgpTopology): RouteExplanation[] {
  return topo.subnets
    .filter((s) => !speaker.networks.includes(s.network_id))
    .map((s) => explainSubnet(speaker, topo, s.id)!)
    .sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : a.subnet_id.localeCompare(b.subnet_id)));
}

/** BGP AS numbers: neutron-lib MIN_ASNUM .. MAX_4BYTE_ASNUM (bgp_4byte_asn; RFC 6793). */
export const MIN_ASNUM = 1;
export const MAX_4BYTE_ASNUM = 4294967295;

/** A BGP speaker as the agent hosting it reads it (GET /v6stack/v1/bgp-speakers?host=): its peers and derived routes. */
export interface HostedBgpSpeaker {
  id: string;
  local_as: number;
  ip_version: 4 | 6;
  networks: string[];
  peers: { id: string; peer_ip: string; remote_as: number; auth_type: 'none' | 'md5'; password: string | null }[];
  advertised_routes: { destination: string; next_hop: string }[];
}
