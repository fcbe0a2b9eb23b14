// HA: one keepalived per HA router this host runs (the server bound one of the router's HA ports here), in the
// router's namespace, with VRRP on the router's HA link (keepalived.ts renders the configuration: every address,
// default route and extra route of the router is keepalived's, held by the master only). Its notify script writes
// the node's state to `<dir>/state`; the agent reads it (features/ra.ts runs radvd only on the master, features/pd.ts
// lets only the master's PD client speak, the heartbeat reports it as the API's ha_state). keepalived outlives the agent (DaemonSpec.detached): restarting the agent is not a failover.
// What an HA router's namespace holds besides is l3.ts's plan reshaped by keepalived.ts haNamespace. PURE.

import { vridOf } from '../../domain/ha.js';
import { routerNsName, type DaemonSpec } from '../model.js';
import { renderKeepalivedConf, renderNotifyScript } from '../keepalived.js';
import { gatewayRoutes, hostedRouters } from './l3.js';
import type { Feature } from './feature.js';

/** Where a router's keepalived keeps its files, and the state file its notify script writes. */
export const keepalivedDir = (stateDir: string, routerId: string): string => `${stateDir}/keepalived/${routerId}`;
export const haStateFile = (stateDir: string, routerId: string): string => `${keepalivedDir(stateDir, routerId)}/state`;

export const ha: Feature = {
  name: 'ha',
  applies: ['daemons'],

  plan(ctx, planned) {
    const daemons: DaemonSpec[] = [];
    for (const { router, gateway, haPort } of hostedRouters(ctx)) {
      const vrid = haPort ? vridOf(haPort['binding:vif_details']) : null;
      const ns = planned.namespaces.find((n) => n.name === routerNsName(router.id, ctx.opts.namespaceSuffix));
      const haLink = ns?.links.find((l) => l.name.startsWith('ha-'));
      if (vrid === null || !ns || !haLink) continue;
      const links = ns.links.filter((l) => l.vips === 'all');
      const qg = gateway ? links.find((l) => l.name === `qg-${gateway.id.slice(0, 11)}`) : undefined;
      const dir = keepalivedDir(ctx.opts.stateDir, router.id);
      const conf = renderKeepalivedConf(
        {
          routerId: router.id,
          vrid,
          haLink: haLink.name,
          links: links.map((l) => ({ name: l.name, mac: l.mac, addresses: l.addresses })),
          routes: gateway && qg ? gatewayRoutes(ctx, gateway, qg.name) : [],
          // Sorted: the same routes in another order are the same configuration (no reload).
          extraRoutes: [...(router.routes ?? [])].sort((a, b) => a.destination.localeCompare(b.destination) || a.nexthop.localeCompare(b.nexthop)),
          notifyScript: `${dir}/notify.sh`,
        },
        ctx.opts.vrrp,
      );
      daemons.push({
        id: `keepalived-${router.id}`,
        kind: 'keepalived',
        namespace: ns.name,
        dir,
        // Neutron's command line (-P: VRRP only; both pid files in the router's directory), in the foreground (-n)
        // with its log on the console (-l -D), which the supervisor sends to <dir>/keepalived.log.
        argv: ['keepalived', '-P', '-n', '-l', '-D', '-f', `${dir}/keepalived.conf`, '-p', `${dir}/keepalived.pid`, '-r', `${dir}/keepalived-vrrp.pid`],
        files: [
          { name: 'keepalived.conf', content: conf, mode: 0o444 },
          { name: 'notify.sh', content: renderNotifyScript(haStateFile(ctx.opts.stateDir, router.id)), mode: 0o755 },
        ],
        reload: 'hup',
        detached: true,
        // A new keepalived starts as BACKUP and says so; until then the last one's state (MASTER, if it was killed)
        // is not this node's.
        staleOnStart: ['state'],
      });
    }
    return { daemons };
  },
};
