// Port status and admin state, pure: which ports a host reports (plan's wiring), the statuses it reports for them
// from the bridge namespace's links, and the kernel commands an admin_state_up false gives (the bridge end down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, type ApiState, type PortDoc } from '../../../src/agent/plan.js';
import { diff, type ActualLink, type ActualState } from '../../../src/agent/plan.js';
import { portStatuses, servedBy, statusChanges } from '../../../src/agent/port-status.js';

const ROUTER = '11111111-1111-4111-8111-111111111111';
const NA = 'aaaaaaaa-0000-4000-8000-00000000000a';
const port = (id: string, owner: string, device: string, extra: Partial<PortDoc> = {}): PortDoc => ({
  id,
  network_id: NA,
  mac_address: `fa:16:3e:00:0a:${id.slice(0, 2)}`,
  device_owner: owner,
  device_id: device,
  fixed_ips: [{ subnet_id: 'sa', ip_address: `2001:db8:a::${id.slice(0, 2)}` }],
  admin_state_up: true,
  ...extra,
});

function state(): ApiState {
  return {
    networks: [{ id: NA, mtu: 1450 }],
    subnets: [{ id: 'sa', network_id: NA, ip_version: 6, cidr: '2001:db8:a::/64', gateway_ip: '2001:db8:a::', enable_dhcp: true, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' }],
    ports: [
      port('10000000001-x', 'network:router_interface', ROUTER),
      port('20000000001-x', 'network:dhcp', `dhcp-h1-${NA}`, { 'binding:host_id': 'h1' }),
      port('30000000001-x', 'compute:lab', 'lab-a', { 'binding:host_id': 'h1' }),
      port('40000000001-x', 'compute:lab', 'lab-b', { 'binding:host_id': 'h2' }),
      port('50000000001-x', 'compute:nova', 'vm-c', { 'binding:host_id': 'h1', admin_state_up: false }),
      port('60000000001-x', 'compute:nova', 'vm-d'),
    ],
    routers: [{ id: ROUTER }],
  };
}

const link = (name: string, master: string | null, up = true): ActualLink => ({ name, kind: 'veth', mac: '', mtu: 1450, up, master, addresses: [] });

test('wiring: the router and DHCP ports the agent plugs, and the instance ports bound to this host; not those of other hosts or unbound', () => {
  const w = plan(state(), { host: 'h1', stateDir: '/s' }).wiring;
  assert.deepEqual(w.map((x) => [x.id, x.pluggedBy, x.adminUp]), [
    ['10000000001-x', 'agent', true],
    ['20000000001-x', 'agent', true],
    ['30000000001-x', 'guest', true],
    ['50000000001-x', 'guest', false],
  ]);
  assert.deepEqual(w[2], { id: '30000000001-x', tap: 'tap30000000001', bridge: 'v6b-aaaaaaaa-00', adminUp: true, pluggedBy: 'guest' });
  // A compute host reports its own instances only; the router and DHCP are the network node's.
  const compute = plan(state(), { host: 'h2', stateDir: '/s', role: 'compute' }).wiring;
  assert.deepEqual(compute.map((x) => x.id), ['40000000001-x']);
});

test('status: agent-plugged ports ACTIVE, an instance ACTIVE only with its tap on its network\'s bridge, admin down always DOWN', () => {
  const w = plan(state(), { host: 'h1', stateDir: '/s' }).wiring;
  const noTaps = portStatuses(w, new Map());
  assert.deepEqual(Object.fromEntries(noTaps), { '10000000001-x': 'ACTIVE', '20000000001-x': 'ACTIVE', '30000000001-x': 'DOWN', '50000000001-x': 'DOWN' });
  const plugged = portStatuses(w, new Map([['tap30000000001', { master: 'v6b-aaaaaaaa-00' }], ['tap50000000001', { master: 'v6b-aaaaaaaa-00' }]]));
  assert.equal(plugged.get('30000000001-x'), 'ACTIVE');
  assert.equal(plugged.get('50000000001-x'), 'DOWN', 'admin_state_up false');
  const elsewhere = portStatuses(w, new Map([['tap30000000001', { master: 'v6b-other' }]]));
  assert.equal(elsewhere.get('30000000001-x'), 'DOWN', 'a tap on another bridge is not plugged into this network');
  // Only differences are sent.
  const known = new Map([['10000000001-x', 'ACTIVE'], ['20000000001-x', 'DOWN'], ['30000000001-x', 'DOWN']]);
  assert.deepEqual(statusChanges(plugged, (id) => known.get(id)), { '20000000001-x': 'ACTIVE', '30000000001-x': 'ACTIVE', '50000000001-x': 'DOWN' });
});

test('admin_state_up false: an instance tap and a router port\'s bridge end are set down; back up when it is true again', () => {
  const s = state();
  s.ports.find((p) => p.id === '10000000001-x')!.admin_state_up = false;
  const desired = plan(s, { host: 'h1', stateDir: '/s' });
  const routerLink = desired.namespaces.find((n) => n.kind === 'router')!.links[0]!;
  assert.equal(routerLink.up, false);
  const br = desired.bridgeNs;
  const actual: ActualState = {
    namespaces: new Set([br, `qrouter-${ROUTER}`]),
    fdb: [],
    ns: new Map([
      [br, { links: new Map([['v6b-aaaaaaaa-00', { ...link('v6b-aaaaaaaa-00', null), kind: 'bridge' }], ['tap10000000001', link('tap10000000001', 'v6b-aaaaaaaa-00')], ['tap50000000001', link('tap50000000001', 'v6b-aaaaaaaa-00')], ['tap30000000001', link('tap30000000001', 'v6b-aaaaaaaa-00', false)]]), routes: [], sysctls: new Map(desired.bridgeNsSysctls) }],
      [`qrouter-${ROUTER}`, { links: new Map([['qr-10000000001', { ...link('qr-10000000001', null), mac: routerLink.mac, addresses: routerLink.addresses }]]), routes: [], sysctls: new Map(desired.namespaces[0]!.sysctls) }],
    ]),
  };
  const cmds = diff({ ...desired, namespaces: desired.namespaces.filter((n) => n.kind === 'router') }, actual)
    .filter((a) => !a.desc.startsWith('metadata link')) // the metadata feature's link (unit/agent/metadata.test.ts)
    .flatMap((a) => a.cmds.map((c) => c.join(' ')));
  assert.deepEqual(cmds, [
    `ip -n ${br} link set tap30000000001 up`,
    `ip -n ${br} link set tap50000000001 down`,
    `ip -n ${br} link set tap10000000001 master v6b-aaaaaaaa-00 down`,
  ]);
});

test("a failing daemon's ports are ERROR while plugged and up: the DHCP port of its network, the router's interfaces", () => {
  const host = 'h1';
  const ports: PortDoc[] = [
    port('d1', 'network:dhcp', `dhcp-${host}-${NA}`),
    port('d2', 'network:dhcp', `dhcp-other-${NA}`),
    port('r1', 'network:router_interface', ROUTER),
    port('g1', 'network:router_gateway', ROUTER),
    port('v1', 'compute:lab', 'lab-x'),
  ];
  assert.deepEqual([...servedBy([`dnsmasq-${NA}`], ports, host)], ['d1']);
  assert.deepEqual([...servedBy([`radvd-${ROUTER}`], ports, host)], ['r1']);
  assert.deepEqual([...servedBy([], ports, host)], []);
  const wiring = [
    { id: 'd1', tap: 'tapd1', bridge: 'br', adminUp: true, pluggedBy: 'agent' as const },
    { id: 'r1', tap: 'tapr1', bridge: 'br', adminUp: false, pluggedBy: 'agent' as const },
    { id: 'v1', tap: 'tapv1', bridge: 'br', adminUp: true, pluggedBy: 'guest' as const },
  ];
  const st = portStatuses(wiring, new Map([['tapv1', { master: 'br' }]]), new Set(['d1', 'r1']));
  assert.deepEqual(Object.fromEntries(st), { d1: 'ERROR', r1: 'DOWN', v1: 'ACTIVE' });
});
