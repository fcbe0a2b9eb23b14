// plan() on a small topology, pure: one router with an interface on each of three networks (slaac,
// dhcpv6-stateless, dhcpv6-stateful), the agent's DHCP ports, an instance port per network and another host's DHCP
// port. Which namespaces, interfaces, addresses, radvd stanzas and dnsmasq files it plans for each mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, networksNeedingDhcp, type ApiState, type NetworkDoc, type PlanOptions, type SubnetDoc } from '../../../src/agent/plan.js';
import type { Ipv6Mode } from '../../../src/domain/ipv6/index.js';

const ROUTER = '11111111-1111-4111-8111-111111111111';
const NA = 'aaaaaaaa-0000-4000-8000-00000000000a'; // slaac
const NB = 'bbbbbbbb-0000-4000-8000-00000000000b'; // dhcpv6-stateless
const NC = 'cccccccc-0000-4000-8000-00000000000c'; // dhcpv6-stateful
const subnet = (id: string, net: string, cidr: string, mode: Ipv6Mode, dns: string[] = []): SubnetDoc => ({ id, network_id: net, ip_version: 6, cidr, gateway_ip: cidr.replace('/64', ''), enable_dhcp: true, ipv6_ra_mode: mode, ipv6_address_mode: mode, dns_nameservers: dns });
const port = (id: string, net: string, mac: string, owner: string, device: string, ips: [string, string][]) => ({
  id,
  network_id: net,
  mac_address: mac,
  device_owner: owner,
  device_id: device,
  fixed_ips: ips.map(([subnet_id, ip_address]) => ({ subnet_id, ip_address })),
});

function topology(): ApiState {
  return {
    networks: [
      { id: NA, mtu: 1450 },
      { id: NB, mtu: 1450 },
      { id: NC, mtu: 1200 },
    ],
    subnets: [
      subnet('sa', NA, '2001:db8:a::/64', 'slaac', ['2001:db8::53']),
      subnet('sb', NB, '2001:db8:b::/64', 'dhcpv6-stateless', ['2001:db8::53']),
      subnet('sc', NC, '2001:db8:c::/64', 'dhcpv6-stateful', ['2001:db8::53', '2001:db8::54']),
    ],
    ports: [
      port('ra000000001-x', NA, 'fa:16:3e:00:0a:01', 'network:router_interface', ROUTER, [['sa', '2001:db8:a::']]),
      port('rb000000001-x', NB, 'fa:16:3e:00:0b:01', 'network:router_interface', ROUTER, [['sb', '2001:db8:b::']]),
      port('rc000000001-x', NC, 'FA:16:3E:00:0C:01', 'network:router_interface', ROUTER, [['sc', '2001:db8:c::']]),
      port('db000000001-x', NB, 'fa:16:3e:00:0b:02', 'network:dhcp', `dhcp-h1-${NB}`, [['sb', '2001:db8:b:0:f816:3eff:fe00:b02']]),
      port('dc000000001-x', NC, 'fa:16:3e:00:0c:02', 'network:dhcp', `dhcp-h1-${NC}`, [['sc', '2001:db8:c::1']]),
      port('dx000000001-x', NC, 'fa:16:3e:00:0c:09', 'network:dhcp', `dhcp-h2-${NC}`, [['sc', '2001:db8:c::9']]),
      port('va000000001-x', NA, 'fa:16:3e:00:0a:03', 'compute:nova', 'vm-a', [['sa', '2001:db8:a:0:f816:3eff:fe00:a03']]),
      port('vb000000001-x', NB, 'fa:16:3e:00:0b:03', 'compute:nova', 'vm-b', [['sb', '2001:db8:b:0:f816:3eff:fe00:b03']]),
      port('vc000000001-x', NC, 'fa:16:3e:00:0c:03', 'compute:nova', 'vm-c', [['sc', '2001:db8:c::3']]),
    ],
    routers: [{ id: ROUTER }],
  };
}

const OPTS = { host: 'h1', stateDir: '/s' };

test('plan: the bridge namespace, one bridge per network with its mtu, and every port as a known tap', () => {
  const p = plan(topology(), OPTS);
  assert.equal(p.bridgeNs, 'v6stack-br-h1');
  assert.deepEqual(p.bridgeNsSysctls, [['net.ipv6.conf.all.disable_ipv6', '1'], ['net.ipv6.conf.default.disable_ipv6', '1']]);
  assert.deepEqual(p.bridges, [
    { name: 'v6b-aaaaaaaa-00', networkId: NA, mtu: 1450 },
    { name: 'v6b-bbbbbbbb-00', networkId: NB, mtu: 1450 },
    { name: 'v6b-cccccccc-00', networkId: NC, mtu: 1200 },
  ]);
  assert.equal(p.knownTaps.length, 9);
  assert.ok(p.knownTaps.includes('tapvc000000001'));
});

test('plan: the router namespace has a qr- link per interface (port MAC lowercased, address with the prefix length), forwarding on', () => {
  const p = plan(topology(), OPTS);
  assert.deepEqual(p.namespaces.map((n) => [n.name, n.kind]), [
    [`qrouter-${ROUTER}`, 'router'],
    [`qdhcp-${NB}`, 'dhcp'],
    [`qdhcp-${NC}`, 'dhcp'],
  ]);
  const r = p.namespaces[0]!;
  assert.deepEqual(r.links, [
    { name: 'qr-ra000000001', tap: 'tapra000000001', bridge: 'v6b-aaaaaaaa-00', mac: 'fa:16:3e:00:0a:01', mtu: 1450, addresses: ['2001:db8:a::/64'], up: true },
    { name: 'qr-rb000000001', tap: 'taprb000000001', bridge: 'v6b-bbbbbbbb-00', mac: 'fa:16:3e:00:0b:01', mtu: 1450, addresses: ['2001:db8:b::/64'], up: true },
    { name: 'qr-rc000000001', tap: 'taprc000000001', bridge: 'v6b-cccccccc-00', mac: 'fa:16:3e:00:0c:01', mtu: 1200, addresses: ['2001:db8:c::/64'], up: true },
  ]);
  assert.deepEqual(r.routes, []);
  assert.ok(r.sysctls.some(([k, v]) => k === 'net.ipv6.conf.all.forwarding' && v === '1'));
  assert.ok(r.sysctls.some(([k, v]) => k === 'net.ipv6.conf.default.addr_gen_mode' && v === '0'), 'EUI-64 link-locals: instances route via linkLocalFromMac(port MAC)');
});

test('plan: radvd stanzas per mode — slaac A=1 with RDNSS, stateless A=1 O=1, stateful M=1 A=0; AdvLinkMTU only for mtu >= 1280', () => {
  const p = plan(topology(), OPTS);
  const radvd = p.daemons.find((d) => d.kind === 'radvd')!;
  assert.equal(radvd.id, `radvd-${ROUTER}`);
  assert.equal(radvd.namespace, `qrouter-${ROUTER}`);
  assert.equal(radvd.reload, 'hup');
  assert.deepEqual(radvd.argv, ['radvd', '-n', '-m', 'stderr', '-C', `/s/radvd/${ROUTER}/radvd.conf`, '-p', `/s/radvd/${ROUTER}/radvd.pid`]);
  assert.equal(radvd.files.length, 1);
  assert.equal(radvd.files[0]!.mode, 0o444);
  assert.equal(
    radvd.files[0]!.content,
    [
      'interface qr-ra000000001',
      '{',
      '   AdvSendAdvert on;',
      '   MinRtrAdvInterval 30;',
      '   MaxRtrAdvInterval 100;',
      '   AdvLinkMTU 1450;',
      '   RDNSS 2001:db8::53 {};',
      '',
      '   prefix 2001:db8:a::/64',
      '   {',
      '        AdvOnLink on;',
      '        AdvAutonomous on;',
      '   };',
      '};',
      'interface qr-rb000000001',
      '{',
      '   AdvSendAdvert on;',
      '   MinRtrAdvInterval 30;',
      '   MaxRtrAdvInterval 100;',
      '   AdvLinkMTU 1450;',
      '   AdvOtherConfigFlag on;',
      '',
      '   prefix 2001:db8:b::/64',
      '   {',
      '        AdvOnLink on;',
      '        AdvAutonomous on;',
      '   };',
      '};',
      'interface qr-rc000000001',
      '{',
      '   AdvSendAdvert on;',
      '   MinRtrAdvInterval 30;',
      '   MaxRtrAdvInterval 100;',
      '   AdvManagedFlag on;',
      '',
      '   prefix 2001:db8:c::/64',
      '   {',
      '        AdvOnLink on;',
      '        AdvAutonomous off;',
      '   };',
      '};',
      '',
    ].join('\n'),
  );
});

test('plan: a qdhcp namespace and dnsmasq only for the DHCPv6 networks, on this host\'s DHCP port; none for slaac', () => {
  const p = plan(topology(), OPTS);
  assert.deepEqual(networksNeedingDhcp(topology()), [NB, NC]);
  const b = p.namespaces.find((n) => n.name === `qdhcp-${NB}`)!;
  const c = p.namespaces.find((n) => n.name === `qdhcp-${NC}`)!;
  assert.deepEqual(b.links, [{ name: 'ns-db000000001', tap: 'tapdb000000001', bridge: 'v6b-bbbbbbbb-00', mac: 'fa:16:3e:00:0b:02', mtu: 1450, addresses: ['2001:db8:b:0:f816:3eff:fe00:b02/64'], up: true }]);
  assert.deepEqual(c.links, [{ name: 'ns-dc000000001', tap: 'tapdc000000001', bridge: 'v6b-cccccccc-00', mac: 'fa:16:3e:00:0c:02', mtu: 1200, addresses: ['2001:db8:c::1/64'], up: true }]);
  for (const ns of [b, c]) {
    assert.ok(ns.sysctls.some(([k, v]) => k === 'net.ipv6.conf.default.accept_ra' && v === '0'), 'the DHCP namespace ignores RAs');
    assert.deepEqual(ns.routes, []);
  }
  assert.deepEqual(p.daemons.map((d) => d.id), [`radvd-${ROUTER}`, `dnsmasq-${NB}`, `dnsmasq-${NC}`, `metadata-qrouter-${ROUTER}`]);
});

test('plan: dnsmasq for stateless has the static range and options but no hosts; stateful has a host line per port address; both reload by SIGHUP', () => {
  const p = plan(topology(), OPTS);
  const b = p.daemons.find((d) => d.id === `dnsmasq-${NB}`)!;
  const c = p.daemons.find((d) => d.id === `dnsmasq-${NC}`)!;
  const file = (d: typeof b, name: string) => d.files.find((f) => f.name === name)!.content;
  for (const d of [b, c]) {
    assert.equal(d.kind, 'dnsmasq');
    assert.equal(d.reload, 'hup', 'a new port is served by SIGHUP (hosts/opts re-read), not a restart');
    assert.deepEqual(d.files.map((f) => [f.name, f.mode]), [['host', 0o644], ['opts', 0o644], ['addn_hosts', 0o644]]);
    assert.ok(!d.argv.includes('--log-dhcp'));
  }
  assert.equal(b.namespace, `qdhcp-${NB}`);
  assert.ok(b.argv.includes('--dhcp-range=set:subnet-sb,2001:db8:b::,static,64,86400s'));
  assert.ok(b.argv.includes('--interface=ns-db000000001'));
  assert.ok(b.argv.includes(`--dhcp-hostsfile=/s/dhcp/${NB}/host`));
  assert.equal(file(b, 'host'), '');
  assert.equal(file(b, 'opts'), 'tag:subnet-sb,option6:dns-server,[2001:db8::53]\ntag:subnet-sb,option6:domain-search,openstacklocal\n');

  assert.ok(c.argv.includes('--dhcp-range=set:subnet-sc,2001:db8:c::,static,64,86400s'));
  assert.ok(c.argv.includes('--dhcp-option-force=option:mtu,1200'));
  // Every port on the stateful subnet, sorted by port id (the MAC as the API gives it); nothing from other networks.
  assert.equal(
    file(c, 'host'),
    [
      'fa:16:3e:00:0c:02,tag:dhcpv6,host-2001-db8-c--1.openstacklocal,[2001:db8:c::1]',
      'fa:16:3e:00:0c:09,tag:dhcpv6,host-2001-db8-c--9.openstacklocal,[2001:db8:c::9]',
      'FA:16:3E:00:0C:01,tag:dhcpv6,host-2001-db8-c--.openstacklocal,[2001:db8:c::]',
      'fa:16:3e:00:0c:03,tag:dhcpv6,host-2001-db8-c--3.openstacklocal,[2001:db8:c::3]',
      '',
    ].join('\n'),
  );
  assert.equal(file(c, 'opts'), 'tag:subnet-sc,option6:dns-server,[2001:db8::53],[2001:db8::54]\ntag:subnet-sc,option6:domain-search,openstacklocal\n');
  assert.match(file(c, 'addn_hosts'), /^2001:db8:c::3\thost-2001-db8-c--3\.openstacklocal host-2001-db8-c--3$/m);
});

test('plan: dnsmasq logs DHCP transactions only when asked (the agent relays stderr)', () => {
  const p = plan(topology(), { ...OPTS, dnsmasqLogFacility: '-' });
  const c = p.daemons.find((d) => d.id === `dnsmasq-${NC}`)!;
  assert.deepEqual(c.argv.slice(-2), ['--log-dhcp', '--log-facility=-']);
});

test('plan: no qdhcp namespace before the agent has made its DHCP port; another host\'s DHCP port is not used', () => {
  const s = topology();
  s.ports = s.ports.filter((x) => x.id !== 'dc000000001-x');
  const p = plan(s, OPTS);
  assert.equal(p.namespaces.find((n) => n.name === `qdhcp-${NC}`), undefined);
  assert.equal(p.daemons.find((d) => d.id === `dnsmasq-${NC}`), undefined);
  // Host h2 plans its own DHCP namespace from its own port.
  const h2 = plan(topology(), { host: 'h2', stateDir: '/s' });
  assert.deepEqual(h2.namespaces.find((n) => n.name === `qdhcp-${NC}`)!.links.map((l) => l.name), ['ns-dx000000001']);
  assert.equal(h2.namespaces.find((n) => n.name === `qdhcp-${NB}`), undefined);
});

test('plan: pure and order-independent — the same documents in any order give the same plan', () => {
  const a = plan(topology(), OPTS);
  const s = topology();
  const shuffled: ApiState = { networks: [...s.networks].reverse(), subnets: [...s.subnets].reverse(), ports: [...s.ports].reverse(), routers: s.routers };
  assert.deepEqual(plan(shuffled, OPTS), a);
  assert.deepEqual(plan(topology(), OPTS), a);
});

test('plan: a router with only a slaac interface runs radvd but no network needs dnsmasq; no RA mode means no radvd', () => {
  const s = topology();
  s.subnets = s.subnets.filter((x) => x.id === 'sa');
  s.ports = s.ports.filter((x) => x.network_id === NA);
  s.networks = s.networks.filter((x) => x.id === NA);
  assert.deepEqual(plan(s, OPTS).daemons.map((d) => d.kind), ['radvd', 'metadata']);
  s.subnets = [{ ...s.subnets[0]!, ipv6_ra_mode: null, ipv6_address_mode: null }];
  const p = plan(s, OPTS);
  // The metadata server still answers on the routed network (a static subnet's guests read network_data.json).
  assert.deepEqual(p.daemons.map((d) => d.kind), ['metadata']);
  assert.equal(p.namespaces.length, 1, 'the router namespace and its qr- link still exist');
});

test('plan: the gateway link — default routes via the external gateway_ips; no IPv6 gateway_ip: accept_ra 2 (learn it from RAs) unless ipv6Gateway is given', () => {
  const EXT = 'eeeeeeee-0000-4000-8000-00000000000e';
  const withGateway = (v6: boolean): ApiState => {
    const s = topology();
    s.networks.push({ id: EXT, mtu: 1500, 'router:external': true } as NetworkDoc);
    s.subnets.push({ id: 'e4', network_id: EXT, ip_version: 4, cidr: '192.0.2.0/24', gateway_ip: '192.0.2.1', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null });
    if (v6) s.subnets.push({ id: 'e6', network_id: EXT, ip_version: 6, cidr: '2001:db8:e::/64', gateway_ip: '2001:db8:e::1', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null });
    s.ports.push(port('ge000000001-x', EXT, 'fa:16:3e:00:0e:01', 'network:router_gateway', ROUTER, v6 ? [['e4', '192.0.2.5'], ['e6', '2001:db8:e::5']] : [['e4', '192.0.2.5']]));
    return s;
  };
  const router = (s: ApiState, opts: PlanOptions = OPTS) => plan(s, opts).namespaces.find((n) => n.kind === 'router')!;
  const dual = router(withGateway(true));
  assert.deepEqual(dual.routes, [
    { family: 6, via: '2001:db8:e::1', dev: 'qg-ge000000001' },
    { family: 4, via: '192.0.2.1', dev: 'qg-ge000000001' },
  ]);
  assert.equal(dual.links.find((l) => l.name === 'qg-ge000000001')!.acceptRa, 0);
  assert.equal(dual.links.find((l) => l.name === 'qr-ra000000001')!.acceptRa, undefined, 'only the gateway link is managed');
  const v4only = router(withGateway(false));
  assert.deepEqual(v4only.routes, [{ family: 4, via: '192.0.2.1', dev: 'qg-ge000000001' }]);
  assert.equal(v4only.links.find((l) => l.name === 'qg-ge000000001')!.acceptRa, 2);
  const given = router(withGateway(false), { ...OPTS, ipv6Gateway: 'fe80::1' });
  assert.deepEqual(given.routes[0], { family: 6, via: 'fe80::1', dev: 'qg-ge000000001' });
  assert.equal(given.links.find((l) => l.name === 'qg-ge000000001')!.acceptRa, 0);
});
