// PD: a DHCPv6 prefix-delegation client for every router hosted here that has an external gateway and interfaces on
// prefix-delegation subnets (subnetpool_id "prefix_delegation"). The client (agent/pd-client.ts, started by the
// supervisor as `node pd-client-main.js DIR` inside the router's namespace) asks the delegating server on the
// gateway network for one IA_PD per subnet from the qg- interface; the agent reports what it obtained to the API
// (agent/pd-report.ts), which renumbers the subnet and its ports; the RA and L3 features then follow the subnet's
// new cidr like any other. Applied by the supervisor: a changed pd.json is a SIGHUP (subnets that left are
// released); a router that no longer needs a client gets SIGTERM (every prefix released). PURE.
//
// HA routers (issue 20): the client runs on every node that hosts the router, but only the master's asks, renews and
// releases ("only the active node renews delegated prefixes"; Neutron's pd.py process_ha_state stopped the dibbler
// clients of a router turned backup). A backup's client is on standby (pd.json `standby`): it sends nothing and
// holds no lease, and a master turned backup is told so by a SIGHUP, not stopped, so that it forgets its leases
// without a Release (the binding is the router's, not the node's: the new master goes on with it). The binding is
// keyed by DUID + IAID at the server, and both are the router's on every node: the DUID is DUID-LL of the gateway
// port's MAC (one port, replicated on every node), the IAID the subnet's (domain/dhcpv6/pd.ts iaidOf); Neutron's
// dibbler used DUID-EN of its vendor PEN and the subnet id, also the same on every node. A new master does not
// Solicit: each IA carries the prefix the API shows for its subnet (`prefix`), which the client reclaims with a
// Rebind (RFC 8415 §18.2.5: a client that may have moved extends its binding with any server), and the subnet keeps
// its cidr meanwhile (pd-report.ts).

import { fileURLToPath } from 'node:url';
import { duidLl, hex } from '../../domain/dhcpv6/codec.js';
import { iaidOf } from '../../domain/dhcpv6/pd.js';
import { PD_SUBNET_LENGTH, isPdSubnet, isProvisional } from '../../domain/prefix-delegation.js';
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
  for (const { router, internal, gateway, haPort } of hostedRouters(ctx)) {
    if (!gateway) continue;
    const subnetIds = [...new Set(internal.flatMap((p) => p.fixed_ips.map((f) => f.subnet_id)))].sort();
    const pd = subnetIds.map((id) => ctx.subnets.get(id)).filter((s) => s !== undefined && isPdSubnet(s));
    if (!pd.length) continue;
    const standby = haPort !== undefined && ctx.opts.haStates?.[router.id] !== 'MASTER';
    out.push({
      routerId: router.id,
      config: {
        interface: `qg-${gateway.id.slice(0, 11)}`,
        // DUID-LL of the gateway port's MAC: stable for the router's life, and the same on every node of an HA
        // router, so the server sees one client.
        duid: hex(duidLl(gateway.mac_address)),
        ias: pd.map((s) => ({
          subnet_id: s!.id,
          iaid: iaidOf(s!.id),
          length: PD_SUBNET_LENGTH,
          // An HA router's subnet that has its prefix: what a new master reclaims (the other node delegated it).
          ...(haPort && !isProvisional(s!) ? { prefix: s!.cidr } : {}),
        })),
        ...(standby ? { standby: true } : {}),
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
        namespace: routerNsName(routerId, ctx.opts.namespaceSuffix),
        dir,
        argv: [process.execPath, PD_CLIENT_MAIN, dir],
        files: [{ name: 'pd.json', content: JSON.stringify(config, null, 1) + '\n', mode: 0o444 }],
        reload: 'hup',
      };
    });
    return { daemons };
  },
};
