// features/bgp.ts and bgp-bird.ts: a BIRD per scheduled speaker, in the qrouter- namespace of a router whose gateway
// is on the speaker's network, peering from the gateway address of the peer's family, advertising the server's routes
// with their (third-party) next hops; MD5 passwords; no daemon without such a router.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../../src/agent/plan.js';
import type { ApiState, BgpSpeakerDoc } from '../../../src/agent/model.js';
import { bgpRouterId, renderBirdConf } from '../../../src/agent/bgp-bird.js';

const PUB = '11111111-1111-4111-8111-111111111111';
const R1 = '22222222-2222-4222-8222-222222222222';
const SPEAKER: BgpSpeakerDoc = {
  id: '33333333-3333-4333-8333-333333333333',
  local_as: 65001,
  ip_version: 6,
  networks: [PUB],
  peers: [
    { id: '44444444-4444-4444-8444-444444444444', peer_ip: '2001:db8:cafe:17::1', remote_as: 65000, auth_type: 'md5', password: 'talk-secret' },
    { id: '55555555-5555-4555-8555-555555555555', peer_ip: '192.0.2.1', remote_as: 65000, auth_type: 'none', password: null },
  ],
  advertised_routes: [{ destination: '2001:db8:bad:face::/64', next_hop: '2001:db8:cafe:17::7' }],
};

function state(speakers: BgpSpeakerDoc[], withRouter = true): ApiState {
  return {
    networks: [{ id: PUB, mtu: 1500 }],
    subnets: [
      { id: 'pub6', network_id: PUB, ip_version: 6, cidr: '2001:db8:cafe:17::/64', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
      { id: 'pub4', network_id: PUB, ip_version: 4, cidr: '192.0.2.0/24', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
    ],
    ports: withRouter
      ? [{ id: 'gwport-0000', network_id: PUB, mac_address: 'fa:16:3e:00:00:07', device_owner: 'network:router_gateway', device_id: R1, fixed_ips: [{ subnet_id: 'pub4', ip_address: '192.0.2.7' }, { subnet_id: 'pub6', ip_address: '2001:db8:cafe:17::7' }] }]
      : [],
    routers: withRouter ? [{ id: R1 }] : [],
    bgpSpeakers: speakers,
  };
}

test("a speaker runs as BIRD in its gateway router's namespace, one session per peer from the gateway address of its family", () => {
  const d = plan(state([SPEAKER]), { host: 'h', stateDir: '/s' }).daemons.filter((x) => x.kind === 'bird');
  assert.equal(d.length, 1);
  assert.equal(d[0]!.namespace, `qrouter-${R1}`);
  assert.equal(d[0]!.reload, 'hup');
  const conf = d[0]!.files[0]!.content;
  assert.equal(d[0]!.files[0]!.mode, 0o600, 'the passwords are in it');
  assert.match(conf, /router id 192\.0\.2\.7;/);
  assert.match(conf, /route 2001:db8:bad:face::\/64 blackhole \{ bgp_next_hop = 2001:db8:cafe:17::7; \};/);
  assert.match(conf, /local 2001:db8:cafe:17::7 as 65001;\n  neighbor 2001:db8:cafe:17::1 as 65000;\n  password "talk-secret";/);
  assert.match(conf, /local 192\.0\.2\.7 as 65001;\n  neighbor 192\.0\.2\.1 as 65000;\n  graceful restart on;/);
  assert.match(conf, /next hop keep/);
});

test('no BIRD without a router whose gateway is on the speaker network, or without speakers', () => {
  assert.deepEqual(plan(state([SPEAKER], false), { host: 'h', stateDir: '/s' }).daemons.filter((x) => x.kind === 'bird'), []);
  assert.deepEqual(plan(state([]), { host: 'h', stateDir: '/s' }).daemons.filter((x) => x.kind === 'bird'), []);
});

test('protocols are named by peer id, so removing one peer leaves the others unchanged; unsafe passwords are skipped', () => {
  const base = { speakerId: 's', localAs: 65001, ipVersion: 6 as const, routerId: '192.0.2.7', routes: [] };
  const a = { id: 'aaaa', peerIp: '2001:db8::1', remoteAs: 65000, password: null, localIp: '2001:db8::7' };
  const b = { id: 'bbbb', peerIp: '2001:db8::2', remoteAs: 65000, password: null, localIp: '2001:db8::7' };
  const both = renderBirdConf({ ...base, peers: [a, b] });
  const onlyB = renderBirdConf({ ...base, peers: [b] });
  const block = (c: string, name: string) => c.slice(c.indexOf(`protocol bgp ${name}`), c.indexOf('}\n', c.indexOf(`protocol bgp ${name}`)));
  assert.equal(block(both, 'peer_bbbb'), block(onlyB, 'peer_bbbb'));
  assert.match(renderBirdConf({ ...base, peers: [{ ...a, password: 'x"y' }] }), /# peer 2001:db8::1 skipped/);
});

test('the BGP identifier: the IPv4 gateway address, else 32 bits of the speaker id (never 0.0.0.0)', () => {
  assert.equal(bgpRouterId('x', '192.0.2.7'), '192.0.2.7');
  assert.equal(bgpRouterId('6f1b7c3e-0000-4000-8000-000000000000', null), '111.27.124.62');
  assert.equal(bgpRouterId('00000000-0000', '2001:db8::1'), '0.0.0.1');
});
