// NAT: each router's IPv4 translation, in an nftables table of its own (`ip v6stack_nat` in qrouter-<id>): source
// NAT of its internal IPv4 subnets to the gateway's address when enable_snat is true, and a DNAT/SNAT pair per
// floating IP (whose /32 features/l3.ts puts on qg-). What the table holds is domain/nat.ts's plan; the change is
// one `nft` transaction of only the elements that changed, so flows of other floating IPs and of SNAT keep their
// conntrack state. After a restart the table read back equals the plan and nothing is done. IPv6 stays routed:
// the table is of family ip. PURE.

import { diffNat, planNat, type NatTable } from '../../domain/nat.js';
import { IpAddress } from '../../domain/ip.js';
import { routerNsName, type Action } from '../model.js';
import { floatingIpsOf, hostedRouters } from './l3.js';
import type { Feature, PlanContext } from './feature.js';

const isV4 = (ip: string): boolean => IpAddress.parse(ip)?.version === 4;

function routerTables(ctx: PlanContext): { ns: string; table: NatTable; garp?: boolean }[] {
  const out: { ns: string; table: NatTable; garp?: boolean }[] = [];
  for (const { router, internal, gateway, haPort } of hostedRouters(ctx)) {
    if (!gateway) continue;
    const internalCidrs = internal.flatMap((p) => p.fixed_ips.map((f) => ctx.subnets.get(f.subnet_id))).filter((s) => s?.ip_version === 4).map((s) => s!.cidr);
    const table = planNat({
      gatewayLink: `qg-${gateway.id.slice(0, 11)}`,
      gatewayIpv4: gateway.fixed_ips.find((f) => isV4(f.ip_address))?.ip_address ?? null,
      // ext-gw-mode: enable_snat defaults to true.
      enableSnat: router.external_gateway_info?.enable_snat !== false,
      internalCidrs,
      floatingIps: floatingIpsOf(ctx, router.id),
    });
    // An HA router: every node keeps the table (a new master translates at once), but the floating addresses are
    // keepalived's VIPs, which keepalived adds on the master (after this feature's pass, at its reload) and announces
    // itself (gratuitous ARPs at each transition). The agent sends none: on a backup its ARP would carry the shared
    // MAC, and on the master arping fails while the address is not there yet, which would fail the pass before
    // keepalived is reloaded to add it.
    out.push({ ns: routerNsName(router.id, ctx.opts.namespaceSuffix), table, ...(haPort ? { garp: false } : {}) });
  }
  return out;
}

const inNs = (ns: string, argv: string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

export const nat: Feature = {
  name: 'nat',
  applies: ['kernel'],

  plan: (ctx) => ({ nat: routerTables(ctx) }),

  diff(desired, actual) {
    const build: Action[] = [];
    const wanted = new Map(desired.nat.map((n) => [n.ns, n.table]));
    const quiet = new Set(desired.nat.filter((n) => n.garp === false).map((n) => n.ns));
    for (const spec of desired.namespaces) {
      if (spec.kind !== 'router') continue;
      const want = wanted.get(spec.name) ?? null;
      const have = actual.ns.get(spec.name);
      const change = diffNat(want, have?.nat ?? null);
      if (change) {
        const cmds = [inNs(spec.name, ['nft', change.script])];
        // The flows of a floating IP that went or moved: both directions (to it from outside, and its instance's
        // flows that leave translated to it), as Neutron's l3 agent deletes them; other flows are not touched.
        for (const f of change.staleFloating) cmds.push(inNs(spec.name, ['conntrack', '-D', '-d', f]), inNs(spec.name, ['conntrack', '-D', '-q', f]));
        const what = change.incremental ? 'update' : want ? 'make' : 'remove';
        const summary = want ? ` (${want.dnat.size} floating IP(s), SNAT ${want.snat.size ? [...want.snat.keys()].join(' ') + ' to ' + [...want.snat.values()][0] : 'off'})` : '';
        build.push({ desc: `${spec.name}: ${what} NAT table${summary}`, cmds, ns: spec.name });
      }
      if (!want || quiet.has(spec.name)) continue;
      // A floating address new on qg- (just added by l3's build): a gratuitous ARP, so the external network's
      // neighbours (the upstream router) learn where it now is, as Neutron's l3 agent sends one.
      const qg = have?.links.get(want.gatewayLink);
      const held = new Set(qg?.addresses ?? []);
      for (const floating of want.dnat.keys()) {
        if (held.has(`${floating}/32`)) continue;
        build.push({ desc: `${spec.name}: gratuitous ARP for ${floating} on ${want.gatewayLink}`, cmds: [inNs(spec.name, ['arping', '-U', '-c', '1', '-I', want.gatewayLink, floating])], ns: spec.name });
      }
    }
    // A router namespace that goes takes its table with it (l3's teardown).
    return { build, teardown: [] };
  },
};
