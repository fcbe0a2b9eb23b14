// Metering: each router's traffic through its external gateway, counted per metering label in an nftables table of
// its own (`inet v6stack_metering` in qrouter-<id>), as Neutron's metering agent counts it with iptables
// (neutron/services/metering/drivers/iptables/iptables_driver.py). A label applies to the routers of its project,
// or to every router when shared; a router with admin_state_up false or without a gateway meters nothing. What the
// table holds is domain/metering.ts's plan; the change is one `nft` transaction that keeps the named counters (so a
// rule change never loses a count), and a table read back equal to the plan is left alone. The agent reads the
// counters and reports them (agent.ts reportMetering). PURE.

import { labelsOfRouter, meteringScript, planMeteringTable, type MeteringLabel, type MeteringTable } from '../../domain/metering.js';
import { routerNsName, type Action } from '../model.js';
import { hostedRouters } from './l3.js';
import type { Feature, PlanContext } from './feature.js';

function routerTables(ctx: PlanContext): { ns: string; routerId: string; table: MeteringTable }[] {
  const labels = ctx.state.meteringLabels ?? [];
  if (!labels.length) return [];
  const rules = ctx.state.meteringLabelRules ?? [];
  const out: { ns: string; routerId: string; table: MeteringTable }[] = [];
  for (const { router, gateway } of hostedRouters(ctx)) {
    if (!gateway) continue;
    const mine = labelsOfRouter({ id: router.id, project_id: router.project_id ?? '', admin_state_up: router.admin_state_up !== false }, labels as MeteringLabel[]);
    if (!mine.length) continue;
    out.push({ ns: routerNsName(router.id, ctx.opts.namespaceSuffix), routerId: router.id, table: planMeteringTable(`qg-${gateway.id.slice(0, 11)}`, mine, rules) });
  }
  return out;
}

export const metering: Feature = {
  name: 'metering',
  applies: ['kernel'],

  plan: (ctx) => ({ metering: routerTables(ctx) }),

  diff(desired, actual) {
    const build: Action[] = [];
    const wanted = new Map(desired.metering.map((m) => [m.ns, m.table]));
    for (const spec of desired.namespaces) {
      if (spec.kind !== 'router') continue;
      const want = wanted.get(spec.name) ?? null;
      const script = meteringScript(want, actual.ns.get(spec.name)?.metering ?? null);
      if (!script) continue;
      const what = want ? `${want.counters.length / 2} label(s) on ${want.gatewayLink}` : 'no label: table removed';
      build.push({ desc: `${spec.name}: metering table (${what})`, cmds: [['ip', 'netns', 'exec', spec.name, 'nft', script]], ns: spec.name });
    }
    // A router namespace that goes takes its table and counters with it (l3's teardown).
    return { build, teardown: [] };
  },
};
