// NDP proxy (l3-ndp-proxy): a router with enable_ndp_proxy publishes its proxies' addresses on the external network.
// In its namespace: proxy_ndp 1 on qg-, `ip -6 neigh add proxy <address> dev qg-` per proxy (the kernel answers the
// upstream router's Neighbor Solicitations for it with qg-'s MAC, so the tenant address is reachable without a route
// upstream), and the inbound filter of Neutron's agent extension: from qg-, the internal subnets of the gateway's
// IPv6 address scope are reachable only at proxied addresses (domain/ndp-proxy.ts renders and diffs it all).
// An HA router answers from its master only: a backup keeps the filter (a new master forwards at once) but holds no
// proxy entry, so two nodes never answer for one address. PURE.

import { IpAddress } from '../../domain/ip.js';
import { diffNdpRouter, planNdpRouter, proxyNdpKey, type NdpRouterPlan } from '../../domain/ndp-proxy.js';
import { routerNsName, type Action } from '../model.js';
import { hostedRouters } from './l3.js';
import type { Feature, PlanContext } from './feature.js';

function routerPlans(ctx: PlanContext): NdpRouterPlan[] {
  const out: NdpRouterPlan[] = [];
  for (const { router, internal, gateway, haPort } of hostedRouters(ctx)) {
    if (!gateway) continue;
    const enabled = router.enable_ndp_proxy === true;
    const master = !haPort || ctx.opts.haStates?.[router.id] === 'MASTER';
    const scope = ctx.networks.get(gateway.network_id)?.ipv6_address_scope ?? null;
    // _init_ndp_proxy_rule: the internal ports whose IPv6 scope is the gateway's, their IPv6 subnets.
    const scoped = internal
      .filter((p) => (ctx.networks.get(p.network_id)?.ipv6_address_scope ?? null) === scope)
      .flatMap((p) => p.fixed_ips.map((f) => ctx.subnets.get(f.subnet_id)))
      .filter((s) => s?.ip_version === 6)
      .map((s) => s!.cidr);
    const proxies = master ? (ctx.state.ndpProxies ?? []).filter((n) => n.router_id === router.id && n.ip_address && IpAddress.parse(n.ip_address)?.version === 6).map((n) => n.ip_address!) : [];
    out.push(planNdpRouter({ ns: routerNsName(router.id, ctx.opts.namespaceSuffix), gatewayLink: `qg-${gateway.id.slice(0, 11)}`, enabled, proxies, scoped }));
  }
  return out;
}

export const ndpProxy: Feature = {
  name: 'ndp-proxy',
  applies: ['kernel'],

  plan: (ctx) => ({ ndpProxy: routerPlans(ctx) }),

  diff(desired, actual) {
    const build: Action[] = [];
    const touched = new Set(desired.namespaces.map((n) => n.name));
    for (const p of desired.ndpProxy ?? []) {
      const have = actual.ns.get(p.ns);
      // Only the namespaces this pass reads back (agent.ts applyKernel); a namespace made in this pass has nothing.
      if (!touched.has(p.ns)) continue;
      const cmds = diffNdpRouter(p, {
        // A gateway link made in this pass (l3's build) starts with proxy_ndp 0.
        proxyNdp: have?.sysctls.get(proxyNdpKey(p.gatewayLink)) ?? '0',
        proxies: (have?.ndp?.proxies ?? []).filter((e) => e.dev === p.gatewayLink).map((e) => e.dst).sort(),
        table: have?.ndp?.table ?? null,
      });
      if (cmds.length) build.push({ desc: `${p.ns}: NDP proxy ${p.enabled ? `on ${p.gatewayLink} for ${p.proxies.length ? p.proxies.join(' ') : 'no address'}` : 'off'}`, cmds, ns: p.ns });
    }
    // A router namespace that goes takes its entries and table with it (l3's teardown).
    return { build, teardown: [] };
  },
};
