// The DHCP port rules (src/domain/dhcp.ts) as tables of expected values: which subnets dnsmasq serves, which host
// gets a network, and the plan for a network's DHCP port as its subnets and agents change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentAlive,
  dhcpDeviceId,
  dhcpHosts,
  dhcpPortSubnets,
  planDhcpPort,
  poolAddressesAsked,
  poolCounted,
  poolExhausted,
  scheduleDhcpHost,
  servesDhcp,
  type DhcpAgent,
  type DhcpPortState,
  type DhcpSubnet,
} from '../../../src/domain/dhcp.js';

const v4 = (id: string, enable_dhcp = true, pools = [{ start: '192.0.2.2', end: '192.0.2.254' }]): DhcpSubnet => ({ id, ip_version: 4, cidr: '192.0.2.0/24', enable_dhcp, allocation_pools: pools });
const v6 = (id: string, mode: string | null, enable_dhcp = true, cidr = '2001:db8:1::/64'): DhcpSubnet => ({
  id,
  ip_version: 6,
  cidr,
  enable_dhcp,
  ipv6_ra_mode: mode,
  ipv6_address_mode: mode,
  allocation_pools: [{ start: '2001:db8:1::2', end: '2001:db8:1::ffff:ffff:ffff:ffff' }],
});

test('servesDhcp: what dnsmasq serves, per version, mode and enable_dhcp', () => {
  const rows: [DhcpSubnet, boolean][] = [
    [v4('a'), true],
    [v4('a', false), false],
    [v6('a', 'dhcpv6-stateful'), true],
    [v6('a', 'dhcpv6-stateless'), true],
    [v6('a', 'slaac'), false],
    [v6('a', null), false],
    [v6('a', 'dhcpv6-stateful', false), false],
    [{ ...v6('a', null), ipv6_address_mode: 'dhcpv6-stateful' }, true], // the address mode decides, not the RA mode
    [{ ...v6('a', null), ipv6_ra_mode: 'dhcpv6-stateful' }, false],
    [v6('a', 'dhcpv6-stateful', true, '2001:db8:1::/56'), false], // dnsmasq's DHCPv6 ranges need /64 or longer
    [v6('a', 'dhcpv6-stateful', true, '2001:db8:1::/120'), true],
  ];
  for (const [s, want] of rows) assert.equal(servesDhcp(s), want, JSON.stringify(s));
});

test('dhcpPortSubnets: the served subnets in order, without those whose pool is empty', () => {
  const subs = [v6('slaac', 'slaac'), v4('four'), v6('stateful', 'dhcpv6-stateful'), v4('off', false), v4('empty', true, []), v6('stateless', 'dhcpv6-stateless')];
  assert.deepEqual(dhcpPortSubnets(subs).map((s) => s.id), ['four', 'stateful', 'stateless']);
});

const agent = (host: string, beat: string, extra: Partial<DhcpAgent> = {}): DhcpAgent => ({ host, binary: 'v6stack-agent', heartbeat_timestamp: beat, configurations: {}, ...extra });
const NOW = Date.parse('2026-12-07T12:00:00Z');

test('agentAlive: younger than agent_down_time', () => {
  assert.equal(agentAlive({ heartbeat_timestamp: '2026-12-07 11:59:00' }, NOW, 75_000), true);
  assert.equal(agentAlive({ heartbeat_timestamp: '2026-12-07 11:58:45' }, NOW, 75_000), false);
  assert.equal(agentAlive({ heartbeat_timestamp: 'never' }, NOW, 75_000), false);
});

test('dhcpHosts: alive, up, v6stack agents of role all or network', () => {
  const agents = [
    agent('n2', '2026-12-07 11:59:59', { configurations: { role: 'network' } }),
    agent('all', '2026-12-07 11:59:59'),
    agent('c1', '2026-12-07 11:59:59', { configurations: { role: 'compute' } }),
    agent('dead', '2026-12-07 11:50:00', { configurations: { role: 'network' } }),
    agent('down', '2026-12-07 11:59:59', { admin_state_up: false }),
    agent('other', '2026-12-07 11:59:59', { binary: 'neutron-dhcp-agent' }),
  ];
  assert.deepEqual(dhcpHosts(agents, NOW, 75_000), ['all', 'n2']);
});

test('scheduleDhcpHost: fewest DHCP ports, then host name; null without hosts', () => {
  assert.equal(scheduleDhcpHost([], new Map()), null);
  assert.equal(scheduleDhcpHost(['b', 'a'], new Map()), 'a');
  assert.equal(scheduleDhcpHost(['a', 'b'], new Map([['a', 2], ['b', 1]])), 'b');
  assert.equal(scheduleDhcpHost(['a', 'b'], new Map([['a', 1], ['b', 1]])), 'a');
});

const port = (id: string, host: string, fixed_ips: { subnet_id: string; ip_address: string }[], created_at = '2026-12-07T10:00:00Z'): DhcpPortState => ({
  id,
  device_id: host ? dhcpDeviceId(host, 'net') : 'reserved_dhcp_port',
  'binding:host_id': host,
  fixed_ips,
  created_at,
});

test('planDhcpPort: made on the scheduled host for the served subnets, only when a host is alive', () => {
  const subs = [v6('slaac', 'slaac'), v6('sf', 'dhcpv6-stateful'), v4('four')];
  assert.deepEqual(planDhcpPort(subs, [], ['h1'], 'h1'), [{ op: 'create', host: 'h1', subnet_ids: ['sf', 'four'] }]);
  assert.deepEqual(planDhcpPort(subs, [], [], null), []);
  assert.deepEqual(planDhcpPort([v6('slaac', 'slaac'), v4('off', false)], [], ['h1'], 'h1'), []);
});

test('planDhcpPort: addresses follow the served subnets (kept, added, released; EUI-64 ones left to IPAM)', () => {
  const p = port('p', 'h1', [
    { subnet_id: 'sf', ip_address: '2001:db8:1::2' },
    { subnet_id: 'slaac', ip_address: '2001:db8:1:0:f816:3eff:fe00:1' },
    { subnet_id: 'gone4', ip_address: '192.0.2.2' },
  ]);
  const subs = [v6('slaac', 'slaac'), v6('sf', 'dhcpv6-stateful'), v4('gone4', false), v4('new4')];
  assert.deepEqual(planDhcpPort(subs, [p], ['h1'], 'h1'), [
    { op: 'readdress', port_id: 'p', fixed_ips: [{ subnet_id: 'sf', ip_address: '2001:db8:1::2' }, { subnet_id: 'new4' }] },
  ]);
  // Nothing to do when the port is as the rules want it.
  assert.deepEqual(planDhcpPort([v6('slaac', 'slaac'), v6('sf', 'dhcpv6-stateful')], [p].map((x) => ({ ...x, fixed_ips: x.fixed_ips.slice(0, 2) })), ['h1'], 'h1'), []);
});

test('planDhcpPort: the port goes with the last served subnet', () => {
  const p = port('p', 'h1', [{ subnet_id: 'slaac', ip_address: '2001:db8:1:0:f816:3eff:fe00:1' }]);
  assert.deepEqual(planDhcpPort([v6('slaac', 'slaac')], [p], ['h1'], 'h1'), [{ op: 'delete', port_id: 'p' }]);
  assert.deepEqual(planDhcpPort([], [p], [], null), [{ op: 'delete', port_id: 'p' }]);
});

test('planDhcpPort: a port whose host is dead moves to a live one; with none alive it stays', () => {
  const p = port('p', 'old', [{ subnet_id: 'four', ip_address: '192.0.2.2' }]);
  assert.deepEqual(planDhcpPort([v4('four')], [p], ['new'], 'new'), [{ op: 'bind', port_id: 'p', host: 'new' }]);
  assert.deepEqual(planDhcpPort([v4('four')], [p], [], null), []);
  assert.deepEqual(planDhcpPort([v4('four')], [p], ['old', 'new'], 'new'), []);
});

test('planDhcpPort: of several ports (agent-made, one per host), the live host\'s stays, else the oldest', () => {
  const a = port('a', 'h1', [{ subnet_id: 'four', ip_address: '192.0.2.2' }], '2026-12-07T10:00:00Z');
  const b = port('b', 'h2', [{ subnet_id: 'four', ip_address: '192.0.2.3' }], '2026-12-07T11:00:00Z');
  assert.deepEqual(planDhcpPort([v4('four')], [a, b], ['h2'], 'h2'), [{ op: 'delete', port_id: 'a' }]);
  assert.deepEqual(planDhcpPort([v4('four')], [b, a], [], null), [{ op: 'delete', port_id: 'b' }]);
});

test('poolExhausted: counts only the allocations inside the pools', () => {
  const small = v4('s', true, [{ start: '192.0.2.2', end: '192.0.2.4' }]);
  assert.equal(poolExhausted(small, ['192.0.2.2', '192.0.2.3']), false);
  assert.equal(poolExhausted(small, ['192.0.2.2', '192.0.2.3', '192.0.2.4']), true);
  assert.equal(poolExhausted(small, ['192.0.2.1', '192.0.2.2', '192.0.2.3']), false, 'the gateway is outside the pool');
  assert.equal(poolCounted(small), true);
  assert.equal(poolCounted(v4('big')), true);
  assert.equal(poolCounted(v6('sf', 'dhcpv6-stateful')), false, 'a /64 pool is not counted');
  assert.equal(poolCounted(v6('sl', 'dhcpv6-stateless')), false, 'EUI-64 addresses come from no pool');
});

test('planDhcpPort: no new address on a full subnet, the one the port has is kept', () => {
  const subs = [v4('full'), v6('sf', 'dhcpv6-stateful')];
  assert.deepEqual(planDhcpPort(subs, [], ['h1'], 'h1', new Set(['full'])), [{ op: 'create', host: 'h1', subnet_ids: ['sf'] }]);
  assert.deepEqual(planDhcpPort([v4('full')], [], ['h1'], 'h1', new Set(['full'])), []);
  const p = port('p', 'h1', [{ subnet_id: 'full', ip_address: '192.0.2.2' }]);
  assert.deepEqual(planDhcpPort(subs, [p], ['h1'], 'h1', new Set(['full'])), [
    { op: 'readdress', port_id: 'p', fixed_ips: [{ subnet_id: 'full', ip_address: '192.0.2.2' }, { subnet_id: 'sf' }] },
  ]);
  const steps = planDhcpPort(subs, [], ['h1'], 'h1');
  assert.deepEqual(poolAddressesAsked(steps, subs), ['full', 'sf']);
  assert.deepEqual(poolAddressesAsked(planDhcpPort([v6('sl', 'dhcpv6-stateless')], [], ['h1'], 'h1'), [v6('sl', 'dhcpv6-stateless')]), []);
});
