// BGP: one BIRD per BGP speaker scheduled to this host (GET /v6stack/v1/bgp-speakers?host=), advertising the routes
// the server derived (domain/bgp.ts) to the speaker's peers. PURE.
//
// Where it speaks from: the qrouter- namespace of a router this host runs whose gateway is on one of the speaker's
// networks (the first by id), with that gateway address as the session's local address. That namespace already has
// a leg on the external network, where the data-centre routers (the peers) are, so no port of its own is needed
// (a dedicated dr- namespace would need the server to make and address one more port on the external network). If
// that router goes away the speaker moves to the next one; with none, nothing is advertised (every tenant route's
// next hop is such a router's gateway anyway). Neutron's os-ken driver likewise only connects out; BIRD also
// listens on 179 inside the namespace, which is harmless there.

import { GATEWAY_OWNER, routerNsName, type DaemonSpec } from '../model.js';
import { bgpRouterId, renderBirdConf, type BirdPeer } from '../bgp-bird.js';
import { hostedRouters } from './l3.js';
import type { Feature } from './feature.js';
import { IpAddress } from '../../domain/ip.js';

const versionOf = (ip: string): 4 | 6 | null => IpAddress.parse(ip)?.version ?? null;

export const bgp: Feature = {
  name: 'bgp',
  applies: ['daemons'],

  plan(ctx) {
    const speakers = ctx.state.bgpSpeakers ?? [];
    if (!speakers.length) return {};
    const routers = hostedRouters(ctx);
    const daemons: DaemonSpec[] = [];
    for (const s of speakers) {
      const home = routers.find((r) => r.gateway && r.gateway.device_owner === GATEWAY_OWNER && s.networks.includes(r.gateway.network_id));
      if (!home?.gateway) continue;
      const gwIps = home.gateway.fixed_ips.map((f) => f.ip_address);
      const peers: BirdPeer[] = [];
      for (const p of s.peers) {
        const local = gwIps.find((ip) => versionOf(ip) === versionOf(p.peer_ip));
        if (local) peers.push({ id: p.id, peerIp: p.peer_ip, remoteAs: p.remote_as, password: p.auth_type === 'md5' ? p.password : null, localIp: local });
      }
      const conf = renderBirdConf({
        speakerId: s.id,
        localAs: s.local_as,
        ipVersion: s.ip_version,
        routerId: bgpRouterId(s.id, gwIps.find((ip) => versionOf(ip) === 4) ?? null),
        peers,
        routes: s.advertised_routes,
      });
      const dir = `${ctx.opts.stateDir}/bgp/${s.id}`;
      daemons.push({
        id: `bgp-${s.id}`,
        kind: 'bird',
        namespace: routerNsName(home.router.id, ctx.opts.namespaceSuffix),
        dir,
        argv: ['bird', '-f', '-c', `${dir}/bird.conf`, '-s', `${dir}/bird.ctl`, '-P', `${dir}/bird.pid`],
        // The peers' passwords are in it: readable by root only.
        files: [{ name: 'bird.conf', content: conf, mode: 0o600 }],
        reload: 'hup',
      });
    }
    return { daemons };
  },
};
