// PD: a DHCPv6 prefix-delegation client for every router hosted here that has an external gateway and interfaces on
// prefix-delegation subnets (subnetpool_id "prefix_delegation"). The client (agent/pd-client.ts, started by the
// supervisor as `node pd-client-main.js DIR` inside the router's namespace) asks the delegating server on the
// gateway network for one IA_PD per subnet from the qg- interface; the agent reports what it obtained to the API
// (agent/pd-report.ts), which renumbers the subnet and its ports; the RA and L3 features then follow the subnet's
// new cidr like any other. Applied by the supervisor: a changed pd.json is a SIGHUP (subnets that left are
// released); a router that no longer needs a client gets SIGTERM (every prefix released). PURE.

import { fileURLToPath } from 'node:url';
import { duidLl, hex } from '../../domain/dhcpv6/codec.js';
import { iaidOf } from '../../domain/dhcpv6/pd.js';
import { PD_SUBNET_LENGTH, isPdSubnet } from '../../domain/prefix-delegation.js';
import { routerNsName, type DaemonSpec } from '../model.js';
import type { PdClientConfig } from '../pd-client.js';
import { hostedRouters } from './l3.js';
import type { Feature, PlanContext } from './feature.js';

/** The client's entry point, beside this folder in the build. */
export const PD_CLIENT_MAIN = fileURLToPath(new URL('../pd-client-main.js', import.meta.url));

export const pdStateDir = (stateDir: string, routerId: string): string => `${stateDir}/pd/${routerId}`;

/** The routers that need a client, with their clients' configurations. */
export function pdClients(ctx: PlanContext): { routerId: string; config: PdClientConfig }[] {
  const out = [];
  for (const { router, internal, gateway } of hostedRouters(ctx)) {
    if (!gateway) continue;
    const subnetIds = [...new Set(internal.flatMap((p) => p.fixed_ips.map((f) => f.subnet_id)))].sort();
    const pd = subnetIds.map((id) => ctx.subnets.get(id)).filter((s) => s !== undefined && isPdSubnet(s));
    if (!pd.length) continue;
    out.push({
      routerId: router.id,
      config: {
        interface: `qg-${gateway.id.slice(0, 11)}`,
        // DUID-LL of the gateway port's MAC: stable for the router's life, so the server sees the same client.
        duid: hex(duidLl(gateway.mac_address)),
        ias: pd.map((s) => ({ subnet_id: s!.id, iaid: iaidOf(s!.id), length: PD_SUBNET_LENGTH })),
      },
    });
  }
  return out;
}

export const pd: Feature = {
  name: 'pd',
  applies: ['daemons'],

  plan(ctx) {
    const daemons: DaemonSpec[] = pdClients(ctx).map(({ routerId, config }) => {
      const dir = pdStateDir(ctx.opts.stateDir, routerId);
      return {
        id: `pd-${routerId}`,
        kind: 'pd-client',
        namespace: routerNsName(routerId),
        dir,
        argv: [process.execPath, PD_CLIENT_MAIN, dir],
        files: [{ name: 'pd.json', content: JSON.stringify(config, null, 1) + '\n', mode: 0o444 }],
        reload: 'hup',
      };
    });
    return { daemons };
  },
};
