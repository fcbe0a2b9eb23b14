// RA: one radvd per router that has an internal port on an IPv6 subnet with an RA mode, in the router's namespace,
// configured as Neutron's L3 agent configures it (radvd.ts renders the stanzas; domain/ipv6 decides the flags).
// Applied by the supervisor (daemons.ts): a changed radvd.conf is a SIGHUP, an interface leaving a router whose
// radvd stays gets a goodbye RA. A compute host runs no routers. PURE.

import { routerNsName, type DaemonSpec, type SubnetDoc } from '../model.js';
import { renderRadvdConf, type RaInterface } from '../radvd.js';
import { hostedRouters } from './l3.js';
import { isProvisional } from '../../domain/prefix-delegation.js';
import type { Feature } from './feature.js';

export const ra: Feature = {
  name: 'ra',
  applies: ['daemons'],

  plan(ctx) {
    const { networks, subnets, opts } = ctx;
    const daemons: DaemonSpec[] = [];
    for (const { router, internal, haPort } of hostedRouters(ctx)) {
      // An HA router advertises from its master only (Neutron: radvd only on the primary).
      if (haPort && opts.haStates?.[router.id] !== 'MASTER') continue;
      const ifaces: RaInterface[] = internal.map((p) => ({
        name: `qr-${p.id.slice(0, 11)}`,
        mtu: networks.get(p.network_id)?.mtu ?? 1500,
        // A PD subnet is advertised once it has its delegated prefix (its cidr), never its temporary ::/64.
        subnets: p.fixed_ips.map((ip) => subnets.get(ip.subnet_id)).filter((s): s is SubnetDoc => !!s && !isProvisional(s)),
      }));
      const conf = renderRadvdConf(ifaces, opts.radvd);
      if (conf === null) continue;
      const dir = `${opts.stateDir}/radvd/${router.id}`;
      daemons.push({
        id: `radvd-${router.id}`,
        kind: 'radvd',
        namespace: routerNsName(router.id, opts.namespaceSuffix),
        dir,
        argv: ['radvd', '-n', '-m', 'stderr', '-C', `${dir}/radvd.conf`, '-p', `${dir}/radvd.pid`],
        files: [{ name: 'radvd.conf', content: conf, mode: 0o444 }],
        reload: 'hup',
        // On an HA router's standby-to-be no goodbye RA: the new master keeps the same default router for the hosts.
        ...(haPort ? { stopSignal: 'SIGKILL' as const } : {}),
      });
    }
    return { daemons };
  },
};
