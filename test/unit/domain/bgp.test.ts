// domain/bgp.ts: neutron-dynamic-routing's route derivation (bgp_db.py's joins) and v6stack's explanation of a
// subnet that is not advertised.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advertisedRoutes, explainSubnet, type BgpSpeakerView, type BgpTopology } from '../../../src/domain/bgp.js';

const PUB = 'net-public';
const SCOPE = 'scope-v6';
const speaker = (over: Partial<BgpSpeakerView> = {}): BgpSpeakerView => ({
  id: 'sp', ip_version: 6, networks: [PUB], advertise_tenant_networks: true, advertise_floating_ip_host_routes: true, ...over,
});

/** The talk: public 2001:db8:cafe:17::/64 and the tenant /64 in one scope, router r1's gateway 2001:db8:cafe:17::7. */
function talk(): BgpTopology & { subnets: any[]; ports: any[]; routers: any[]; subnetpools: any[] } {
  return {
    subnetpools: [{ id: 'pool-pub', address_scope_id: SCOPE }, { id: 'pool-tenant', address_scope_id: SCOPE }, { id: 'pool-other', address_scope_id: 'scope-other' }, { id: 'pool-none', address_scope_id: null }],
    subnets: [
      { id: 'pub6', network_id: PUB, ip_version: 6, cidr: '2001:db8:cafe:17::/64', subnetpool_id: 'pool-pub' },
      { id: 'pub4', network_id: PUB, ip_version: 4, cidr: '192.0.2.0/24', subnetpool_id: null },
      { id: 'face', network_id: 'net-a', ip_version: 6, cidr: '2001:db8:bad:face::/64', subnetpool_id: 'pool-tenant' },
      { id: 'beef', network_id: 'net-b', ip_version: 6, cidr: '2001:db8:bad:beef::/64', subnetpool_id: 'pool-tenant' },
      { id: 'other', network_id: 'net-c', ip_version: 6, cidr: '2001:db8:e000::/64', subnetpool_id: 'pool-other' },
      { id: 'nopool', network_id: 'net-d', ip_version: 6, cidr: '2001:db8:d::/64', subnetpool_id: null },
      { id: 'v4', network_id: 'net-a', ip_version: 4, cidr: '10.0.0.0/24', subnetpool_id: null },
    ],
    routers: [{ id: 'r1', admin_state_up: true }, { id: 'r2', admin_state_up: true }],
    ports: [
      { id: 'gw1', network_id: PUB, device_owner: 'network:router_gateway', device_id: 'r1', fixed_ips: [{ subnet_id: 'pub4', ip_address: '192.0.2.7' }, { subnet_id: 'pub6', ip_address: '2001:db8:cafe:17::7' }] },
      { id: 'i1', network_id: 'net-a', device_owner: 'network:router_interface', device_id: 'r1', fixed_ips: [{ subnet_id: 'face', ip_address: '2001:db8:bad:face::' }] },
      { id: 'i1v4', network_id: 'net-a', device_owner: 'network:router_interface', device_id: 'r1', fixed_ips: [{ subnet_id: 'v4', ip_address: '10.0.0.1' }] },
      { id: 'i2', network_id: 'net-c', device_owner: 'network:router_interface', device_id: 'r1', fixed_ips: [{ subnet_id: 'other', ip_address: '2001:db8:e000::' }] },
      { id: 'i3', network_id: 'net-d', device_owner: 'network:router_interface', device_id: 'r1', fixed_ips: [{ subnet_id: 'nopool', ip_address: '2001:db8:d::' }] },
      { id: 'i4', network_id: 'net-b', device_owner: 'network:ha_router_replicated_interface', device_id: 'r2', fixed_ips: [{ subnet_id: 'beef', ip_address: '2001:db8:bad:beef::' }] },
    ],
  };
}

test("the talk's prefix via the router's gateway address; other scopes, no pool and IPv4 are not advertised", () => {
  assert.deepEqual(advertisedRoutes(speaker(), talk()), [{ destination: '2001:db8:bad:face::/64', next_hop: '2001:db8:cafe:17::7' }]);
});

test("a router with an HA interface and a gateway on the speaker's network is advertised too (RESULTS.md: the HA router is included)", () => {
  const t = talk();
  t.ports.push({ id: 'gw2', network_id: PUB, device_owner: 'network:router_gateway', device_id: 'r2', fixed_ips: [{ subnet_id: 'pub6', ip_address: '2001:db8:cafe:17::8' }] });
  assert.deepEqual(advertisedRoutes(speaker(), t), [
    { destination: '2001:db8:bad:beef::/64', next_hop: '2001:db8:cafe:17::8' },
    { destination: '2001:db8:bad:face::/64', next_hop: '2001:db8:cafe:17::7' },
  ]);
});

test('nothing without advertise_tenant_networks, without a gateway network, or when the gateway subnet has no scope', () => {
  assert.deepEqual(advertisedRoutes(speaker({ advertise_tenant_networks: false }), talk()), []);
  assert.deepEqual(advertisedRoutes(speaker({ networks: [] }), talk()), []);
  const t = talk();
  t.subnets[0].subnetpool_id = null;
  assert.deepEqual(advertisedRoutes(speaker(), t), []);
});

test('a router that is down, or whose gateway is elsewhere, advertises nothing; an IPv4 speaker takes the IPv4 next hop', () => {
  const down = talk();
  down.routers[0].admin_state_up = false;
  assert.deepEqual(advertisedRoutes(speaker(), down), []);
  const elsewhere = talk();
  elsewhere.ports[0].network_id = 'net-x';
  assert.deepEqual(advertisedRoutes(speaker(), elsewhere), []);
  const v4 = talk();
  v4.subnetpools.push({ id: 'pool4', address_scope_id: 'scope4' });
  v4.subnets.find((s) => s.id === 'pub4')!.subnetpool_id = 'pool4';
  v4.subnets.find((s) => s.id === 'v4')!.subnetpool_id = 'pool4';
  assert.deepEqual(advertisedRoutes(speaker({ ip_version: 4 }), v4), [{ destination: '10.0.0.0/24', next_hop: '192.0.2.7' }]);
});

test('floating IP host routes: IPv4 speakers with the flag, /32 via the router gateway; none for IPv6 or a distributed router', () => {
  const t = { ...talk(), floatingips: [{ floating_ip_address: '192.0.2.50', floating_network_id: PUB, router_id: 'r1' }, { floating_ip_address: '192.0.2.51', floating_network_id: PUB, router_id: null }] };
  assert.deepEqual(advertisedRoutes(speaker({ ip_version: 4 }), t), [{ destination: '192.0.2.50/32', next_hop: '192.0.2.7' }]);
  assert.deepEqual(advertisedRoutes(speaker({ ip_version: 4, advertise_floating_ip_host_routes: false }), t), []);
  assert.deepEqual(advertisedRoutes(speaker(), t).filter((r) => r.destination.endsWith('/32')), []);
  t.routers[0].distributed = true;
  assert.deepEqual(advertisedRoutes(speaker({ ip_version: 4 }), t), []);
});

test('explains each subnet: advertised with its next hop, or every reason it is not', () => {
  const t = talk();
  assert.deepEqual(explainSubnet(speaker(), t, 'face'), { subnet_id: 'face', cidr: '2001:db8:bad:face::/64', advertised: true, next_hops: ['2001:db8:cafe:17::7'], reasons: [] });
  assert.deepEqual(explainSubnet(speaker(), t, 'other')!.reasons, ["the subnet's address scope scope-other differs from the gateway network's (scope-v6)"]);
  assert.deepEqual(explainSubnet(speaker(), t, 'nopool')!.reasons, ['the subnet is from no subnet pool, so in no address scope']);
  assert.match(explainSubnet(speaker(), t, 'v4')!.reasons[0]!, /^the subnet is IPv4 and the speaker IPv6/);
  assert.deepEqual(explainSubnet(speaker(), t, 'beef')!.reasons, ['router r2 has no external gateway']);
  assert.deepEqual(explainSubnet(speaker(), t, 'pub6')!.reasons, ["the subnet is on the speaker's gateway network itself, which is never advertised", 'the subnet is on no router interface']);
  t.routers[0].admin_state_up = false;
  assert.deepEqual(explainSubnet(speaker(), t, 'face')!.reasons, ['router r1 is administratively down']);
  assert.equal(explainSubnet(speaker(), t, 'nope'), null);
  t.subnets[0].subnetpool_id = 'pool-none';
  assert.deepEqual(explainSubnet(speaker(), t, 'face')!.reasons, ['no IPv6 subnet of the gateway network is from a pool with an address scope', 'router r1 is administratively down']);
});

