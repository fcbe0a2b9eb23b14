// L3: one namespace `qrouter-<router id>` per router (forwarding on), `qr-<port id[:11]>` per interface and
// `qg-<port id[:11]>` for the gateway, each a veth plugged into its network's bridge; the default routes through
// the external subnets' gateways (or, without an IPv6 gateway, the upstream router's RAs, as Neutron's l3 agent).
// A compute host runs no routers. PURE.

import { GATEWAY_OWNER, ROUTER_INTERFACE_OWNERS, routerNsName, type NamespaceSpec, type PortDoc, type PortWiring, type RouteSpec, type RouterDoc } from '../model.js';
import { haNamespace, haPortHere } from '../keepalived.js';
import { diffNamespaces, linkFor, wiringOf } from './netns.js';
import { sortById, type Feature, type PlanContext } from './feature.js';
import { floatingAddresses } from '../../domain/nat.js';
import { agentsInZones, DEFAULT_AVAILABILITY_ZONE } from '../../domain/availability-zone.js';

const ROUTER_SYSCTLS: [string, string][] = [
  ['net.ipv6.conf.default.addr_gen_mode', '0'],
  ['net.ipv6.conf.all.accept_dad', '0'],
  ['net.ipv6.conf.default.accept_dad', '0'],
  ['net.ipv6.conf.all.forwarding', '1'],
  ['net.ipv4.ip_forward', '1'],
];

/** A router this host runs, with its interface ports and its gateway port. */
export interface HostedRouter {
  router: RouterDoc;
  internal: PortDoc[];
  gateway: PortDoc | undefined;
  /** An HA router's HA port on this host (features/ha.ts); undefined for a legacy router. */
  haPort?: PortDoc;
}

/** The routers this host runs, sorted by id, with their ports (the RA feature plans radvd on the same interfaces). */
export function hostedRouters(ctx: PlanContext): HostedRouter[] {
  const out: HostedRouter[] = [];
  for (const router of ctx.role === 'compute' ? [] : sortById(ctx.state.routers)) {
    const mine = ctx.byDevice.get(router.id) ?? [];
    // An HA router runs only on the hosts the server scheduled it to (its HA port bound here).
    const haPort = router.ha === true ? haPortHere(mine, ctx.opts.host) : undefined;
    if (router.ha === true && !haPort) continue;
    // A legacy router runs on every network node in its hinted zones (the server shows the same: api/availability-zones.ts).
    if (router.ha !== true && !agentsInZones([{ host: ctx.opts.host, availability_zone: ctx.opts.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE }], router.availability_zone_hints).length) continue;
    out.push({ router, internal: mine.filter((p) => ROUTER_INTERFACE_OWNERS.has(p.device_owner)), gateway: mine.find((p) => p.device_owner === GATEWAY_OWNER), ...(haPort ? { haPort } : {}) });
  }
  return out;
}

/** The default routes through the gateway port's link: its subnets' gateways, else the configured IPv6 gateway. */
export function gatewayRoutes(ctx: PlanContext, gateway: PortDoc, dev: string): RouteSpec[] {
  const routes: RouteSpec[] = [];
  for (const family of [6, 4] as const) {
    const s = gateway.fixed_ips.map((ip) => ctx.subnets.get(ip.subnet_id)).find((sub) => sub && sub.ip_version === family && sub.gateway_ip);
    if (s?.gateway_ip) routes.push({ family, via: s.gateway_ip, dev });
    else if (family === 6 && ctx.opts.ipv6Gateway) routes.push({ family, via: ctx.opts.ipv6Gateway, dev });
  }
  return routes;
}

/** A router's associated floating IPs (router_id is set only while the floating IP maps to a port). */
export function floatingIpsOf(ctx: PlanContext, routerId: string): { floating: string; fixed: string }[] {
  return (ctx.state.floatingips ?? [])
    .filter((f) => f.router_id === routerId && f.port_id && f.fixed_ip_address && f.floating_ip_address)
    .map((f) => ({ floating: f.floating_ip_address!, fixed: f.fixed_ip_address! }));
}

export const l3: Feature = {
  name: 'l3',
  applies: ['kernel'],

  plan(ctx) {
    const { networks, subnets } = ctx;
    const namespaces: NamespaceSpec[] = [];
    const wiring: PortWiring[] = [];
    for (const { router, internal, gateway, haPort } of hostedRouters(ctx)) {
      const links = internal.map((p) => linkFor(p, 'qr-', subnets, networks.get(p.network_id)));
      for (const p of [...internal, ...(gateway ? [gateway] : [])]) wiring.push(wiringOf(p, 'agent'));
      let routes: RouteSpec[] = [];
      if (gateway) {
        const qg = linkFor(gateway, 'qg-', subnets, networks.get(gateway.network_id));
        links.push(qg);
        // Floating IPs are /32s on qg-, so the router answers ARP for them on the external network (features/nat.ts NATs them).
        qg.addresses.push(...floatingAddresses(floatingIpsOf(ctx, router.id)));
        routes = gatewayRoutes(ctx, gateway, qg.name);
        // No IPv6 gateway known: as Neutron's l3 agent, accept the upstream router's RAs on qg- (accept_ra 2, since
        // the router forwards) and take the default route they give; the kernel keeps it (proto ra).
        qg.acceptRa = routes.some((r) => r.family === 6) ? 0 : 2;
      }
      const spec: NamespaceSpec = { name: routerNsName(router.id, ctx.opts.namespaceSuffix), kind: 'router', sysctls: ROUTER_SYSCTLS, links, routes };
      if (haPort) {
        // keepalived holds the addresses and routes; the HA link is plugged and addressed like any other (ha.ts).
        wiring.push(wiringOf(haPort, 'agent'));
        namespaces.push(haNamespace(spec, linkFor(haPort, 'ha-', subnets, networks.get(haPort.network_id))));
      } else {
        // A legacy router's extra routes are the agent's to apply (an HA router's are keepalived's virtual_routes).
        spec.extraRoutes = [...(router.routes ?? [])].map((r) => ({ destination: r.destination, nexthop: r.nexthop }));
        namespaces.push(spec);
      }
    }
    return { namespaces, wiring };
  },

  diff: (desired, actual, owned) => diffNamespaces('router', routerNsName(''), desired, actual, owned),
};
