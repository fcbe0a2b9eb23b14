// features/nat.ts and l3's floating addresses, from API documents: a router with a dual-stack gateway and an
// interface on a dual-stack network, its floating IPs, enable_snat; and the actions against what the kernel holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff, plan, type ActualState, type ApiState, type FloatingIpDoc } from '../../../src/agent/plan.js';
import { natSignature } from '../../../src/domain/nat.js';

const R = '11111111-1111-4111-8111-111111111111';
const NS = `qrouter-${R}`;
const EXT = 'eeeeeeee-0000-4000-8000-00000000000e';
const PRIV = 'aaaaaaaa-0000-4000-8000-00000000000a';
const GW = 'gw000000001-port';
const QG = 'qg-gw000000001';

function state(enableSnat: boolean | undefined, fips: FloatingIpDoc[]): ApiState {
  return {
    networks: [{ id: EXT, mtu: 1500 }, { id: PRIV, mtu: 1450 }],
    subnets: [
      { id: 'e4', network_id: EXT, ip_version: 4, cidr: '192.0.2.0/24', gateway_ip: '192.0.2.1', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
      { id: 'e6', network_id: EXT, ip_version: 6, cidr: '2001:db8:e::/64', gateway_ip: '2001:db8:e::1', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
      { id: 'p4', network_id: PRIV, ip_version: 4, cidr: '10.0.0.0/24', gateway_ip: '10.0.0.1', enable_dhcp: true, ipv6_ra_mode: null, ipv6_address_mode: null },
      { id: 'p6', network_id: PRIV, ip_version: 6, cidr: '2001:db8:1::/64', gateway_ip: '2001:db8:1::', enable_dhcp: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
    ],
    ports: [
      { id: GW, network_id: EXT, mac_address: 'fa:16:3e:00:00:01', device_owner: 'network:router_gateway', device_id: R, fixed_ips: [{ subnet_id: 'e4', ip_address: '192.0.2.5' }, { subnet_id: 'e6', ip_address: '2001:db8:e::5' }] },
      { id: 'qr400000001-port', network_id: PRIV, mac_address: 'fa:16:3e:00:00:02', device_owner: 'network:router_interface', device_id: R, fixed_ips: [{ subnet_id: 'p4', ip_address: '10.0.0.1' }] },
      { id: 'qr600000001-port', network_id: PRIV, mac_address: 'fa:16:3e:00:00:03', device_owner: 'network:router_interface', device_id: R, fixed_ips: [{ subnet_id: 'p6', ip_address: '2001:db8:1::' }] },
    ],
    routers: [{ id: R, external_gateway_info: enableSnat === undefined ? null : { network_id: EXT, enable_snat: enableSnat } }],
    floatingips: fips,
  };
}

const fip = (id: string, floating: string, fixed: string | null, routerId: string | null = fixed ? R : null): FloatingIpDoc => ({
  id, floating_ip_address: floating, fixed_ip_address: fixed, port_id: fixed ? `port-${fixed}` : null, router_id: routerId,
});

test('plan: SNAT of the IPv4 interface subnet to the gateway address; enable_snat defaults to true', () => {
  for (const snat of [true, undefined]) {
    const p = plan(state(snat, []), { host: 'h', stateDir: '/s' });
    assert.equal(p.nat.length, 1);
    assert.equal(p.nat[0]!.ns, NS);
    assert.equal(p.nat[0]!.table.gatewayLink, QG);
    assert.deepEqual([...p.nat[0]!.table.snat], [['10.0.0.0/24', '192.0.2.5']]);
  }
  const off = plan(state(false, []), { host: 'h', stateDir: '/s' });
  assert.equal(off.nat[0]!.table.snat.size, 0);
});

test('plan: an associated floating IP is a /32 on qg- and a DNAT/SNAT pair; a disassociated one is neither', () => {
  const p = plan(state(true, [fip('f1', '192.0.2.50', '10.0.0.7'), fip('f2', '192.0.2.51', null)]), { host: 'h', stateDir: '/s' });
  const qg = p.namespaces.find((n) => n.name === NS)!.links.find((l) => l.name === QG)!;
  assert.deepEqual(qg.addresses, ['192.0.2.5/24', '2001:db8:e::5/64', '192.0.2.50/32']);
  assert.deepEqual([...p.nat[0]!.table.dnat], [['192.0.2.50', '10.0.0.7']]);
  // Another router's floating IP is not this router's.
  const other = plan(state(true, [fip('f3', '192.0.2.52', '10.0.0.8', '22222222-2222-4222-8222-222222222222')]), { host: 'h', stateDir: '/s' });
  assert.equal(other.nat[0]!.table.dnat.size, 0);
});

test('plan: a compute host and a router without a gateway plan no NAT', () => {
  assert.deepEqual(plan(state(true, []), { host: 'h', stateDir: '/s', role: 'compute' }).nat, []);
  const s = state(true, []);
  s.ports = s.ports.filter((p) => p.id !== GW);
  assert.deepEqual(plan(s, { host: 'h', stateDir: '/s' }).nat, []);
});

function kernelWith(addresses: string[], nat: ActualState['ns'] extends Map<string, infer N> ? N extends { nat?: infer X } ? X : never : never): ActualState {
  return {
    namespaces: new Set([NS]),
    fdb: [],
    ns: new Map([[NS, { links: new Map([[QG, { name: QG, kind: 'veth', mac: 'fa:16:3e:00:00:01', mtu: 1500, up: true, master: null, addresses }]]), routes: [], sysctls: new Map(), nat }]]),
  };
}

test('diff: a new table in one nft transaction, then a gratuitous ARP for a floating address new on qg-', () => {
  const desired = plan(state(true, [fip('f1', '192.0.2.50', '10.0.0.7')]), { host: 'h', stateDir: '/s' });
  const actions = diff(desired, kernelWith(['192.0.2.5/24'], null)).filter((a) => a.desc.includes('NAT') || a.desc.includes('ARP'));
  assert.deepEqual(actions.map((a) => a.desc), [
    `${NS}: make NAT table (1 floating IP(s), SNAT 10.0.0.0/24 to 192.0.2.5)`,
    `${NS}: gratuitous ARP for 192.0.2.50 on ${QG}`,
  ]);
  assert.deepEqual(actions[0]!.cmds[0]!.slice(0, 5), ['ip', 'netns', 'exec', NS, 'nft']);
  assert.deepEqual(actions[1]!.cmds, [['ip', 'netns', 'exec', NS, 'arping', '-U', '-c', '1', '-I', QG, '192.0.2.50']]);
});

test('diff: re-association updates two map entries and deletes the moved floating IP\'s flows, nothing else; in sync is no action', () => {
  const have = { signature: natSignature(QG), dnat: new Map([['192.0.2.50', '10.0.0.7']]), fipSnat: new Map([['10.0.0.7', '192.0.2.50']]), snat: new Map([['10.0.0.0/24', '192.0.2.5']]) };
  const moved = plan(state(true, [fip('f1', '192.0.2.50', '10.0.0.8')]), { host: 'h', stateDir: '/s' });
  const actions = diff(moved, kernelWith(['192.0.2.5/24', '192.0.2.50/32'], have)).filter((a) => a.desc.includes('NAT') || a.desc.includes('ARP'));
  assert.equal(actions.length, 1);
  assert.deepEqual(actions[0]!.cmds.slice(1), [
    ['ip', 'netns', 'exec', NS, 'conntrack', '-D', '-d', '192.0.2.50'],
    ['ip', 'netns', 'exec', NS, 'conntrack', '-D', '-q', '192.0.2.50'],
  ]);
  assert.ok(!actions[0]!.cmds[0]![5]!.includes('table'), actions[0]!.cmds[0]![5]);
  const same = plan(state(true, [fip('f1', '192.0.2.50', '10.0.0.7')]), { host: 'h', stateDir: '/s' });
  assert.deepEqual(diff(same, kernelWith(['192.0.2.5/24', '192.0.2.50/32'], have)).filter((a) => a.desc.includes('NAT') || a.desc.includes('ARP')), []);
});

test('plan: a gateway port without fixed IPs (an external network with no subnet) is plugged with no address, no SNAT, no route', () => {
  const s = state(true, []);
  s.subnets = s.subnets.filter((x) => x.network_id !== EXT);
  s.ports = s.ports.map((p) => (p.id === GW ? { ...p, fixed_ips: [] } : p));
  const p = plan(s, { host: 'h', stateDir: '/s' });
  const ns = p.namespaces.find((n) => n.name === NS)!;
  const qg = ns.links.find((l) => l.name === QG)!;
  assert.deepEqual(qg.addresses, []);
  assert.deepEqual(ns.routes, []);
  // No IPv6 gateway known: the upstream router's RAs may give one (Neutron's l3 agent enables RAs on qg- then).
  assert.equal(qg.acceptRa, 2);
  assert.equal(p.nat[0]!.table.snat.size, 0);
  // With --ipv6-gateway the IPv6 default route goes through qg- all the same (router_info._get_external_gw_ips
  // appends ipv6_gateway whatever the port's subnets); IPv4 gets none.
  const withGw = plan(s, { host: 'h', stateDir: '/s', ipv6Gateway: 'fe80::1' });
  assert.deepEqual(withGw.namespaces.find((n) => n.name === NS)!.routes, [{ family: 6, via: 'fe80::1', dev: QG }]);
  // The actions build it without an address to add (diff does not stumble on the empty gateway).
  const actions = diff(p, { namespaces: new Set(), fdb: [], ns: new Map() });
  assert.ok(actions.some((a) => a.desc.includes(QG)));
  assert.ok(!actions.some((a) => a.cmds.some((c) => c.includes('addr') && c.includes(QG) && c.includes('add') && c.some((x) => x.includes('/')))));
});
