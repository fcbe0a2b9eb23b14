// Tunnels between hosts: which networks get one, and the commands that create, repair and prune them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffTunnels, networkNodeConflicts, peersFromAgents, planTunnels, underlayProblems, vxlanName, type Peer } from '../../../src/agent/features/vxlan.js';
import { plan } from '../../../src/agent/plan.js';
import type { ActualLink, ApiState } from '../../../src/agent/model.js';

const NET_A = 'aaaaaaaa-1111-4111-8111-111111111111';
const NET_B = 'bbbbbbbb-2222-4222-8222-222222222222';
const state: ApiState = {
  networks: [
    { id: NET_A, mtu: 1450, 'provider:network_type': 'vxlan', 'provider:segmentation_id': 1001 },
    { id: NET_B, mtu: 1500, 'provider:network_type': 'flat', 'provider:segmentation_id': null },
  ],
  subnets: [],
  ports: [{ id: 'p1', network_id: NET_A, device_owner: 'compute:lab', device_id: 'lab-x', mac_address: 'fa:16:3e:00:00:01', fixed_ips: [], 'binding:host_id': 'h2' }],
  routers: [],
};

const peer = (host: string, tunnelIp: string, role: Peer['role'] = 'network'): Peer => ({ host, tunnelIp, role });

test('planTunnels: a VXLAN network on a host with a tunnel address gets one, flooding to every peer that has the network', () => {
  const bridges = [{ name: 'v6b-aaaaaaaa-11', networkId: NET_A, mtu: 1450 }, { name: 'v6b-bbbbbbbb-22', networkId: NET_B, mtu: 1500 }];
  // h2 is a compute host with a port on NET_A, h4 a compute host without one; h3 bridges everything.
  const peers = [peer('h2', 'fd00::2', 'compute'), peer('h3', 'fd00::3', 'all'), peer('h4', 'fd00::4', 'compute'), peer('self', 'fd00:0::1')];
  assert.deepEqual(planTunnels(state, bridges, 'fd00::1', peers), [
    { name: vxlanName(NET_A), bridge: 'v6b-aaaaaaaa-11', networkId: NET_A, vni: 1001, local: 'fd00::1', mtu: 1450, peers: ['fd00::2', 'fd00::3'] },
  ]);
  assert.deepEqual(planTunnels(state, bridges, undefined, peers), [], 'no tunnel address, no tunnels (one host)');
});

test('peersFromAgents: every other v6stack agent with a tunnel address, alive or not; its role (all when unknown)', () => {
  const agents = [
    { host: 'net1', binary: 'v6stack-agent', alive: true, configurations: { tunneling_ip: 'fd00::a', role: 'network' } },
    { host: 'cmp1', binary: 'v6stack-agent', alive: false, configurations: { tunneling_ip: 'fd00::b', role: 'compute' } },
    { host: 'old', binary: 'v6stack-agent', alive: true, configurations: { tunneling_ip: 'fd00::c' } },
    { host: 'self', binary: 'v6stack-agent', alive: true, configurations: { tunneling_ip: 'fd00::d', role: 'compute' } },
    { host: 'notun', binary: 'v6stack-agent', alive: true, configurations: { role: 'compute' } },
    { host: 'ovs', binary: 'neutron-openvswitch-agent', alive: true, configurations: { tunneling_ip: 'fd00::e' } },
  ];
  assert.deepEqual(peersFromAgents(agents, 'self', 'v6stack-agent'), [peer('cmp1', 'fd00::b', 'compute'), peer('net1', 'fd00::a', 'network'), peer('old', 'fd00::c', 'all')]);
});

test('underlayProblems: a network whose frames plus 70 bytes (VXLAN over IPv6) exceed the underlay MTU is named', () => {
  const t = (mtu: number, local = 'fd00::1') => ({ name: 'vx-x', bridge: 'b', networkId: `n${mtu}`, vni: 1, local, mtu, peers: [] });
  assert.deepEqual(underlayProblems([t(1430), t(1400)], { dev: 'eth0', mtu: 1500 }), []);
  const p = underlayProblems([t(1450), t(1430)], { dev: 'eth0', mtu: 1500 });
  assert.equal(p.length, 1);
  assert.match(p[0]!, /^network n1450 has MTU 1450, but VXLAN over IPv6 adds 70 bytes and the underlay eth0 carries 1500: frames over 1430 bytes .*--overlay-ip-version 6/);
  assert.deepEqual(underlayProblems([t(1450, '192.0.2.1')], { dev: 'eth0', mtu: 1500 }), [], 'IPv4 underlay: 50 bytes');
});

test('plan: a compute host bridges only networks with ports bound to it, and runs no router or DHCP', () => {
  const withRouter = { ...state, routers: [{ id: 'r1' }] };
  const compute = plan(withRouter, { host: 'h2', stateDir: '/s', role: 'compute', tunnelIp: 'fd00::2', peers: [peer('h1', 'fd00::1')] });
  assert.deepEqual(compute.bridges.map((b) => b.networkId), [NET_A]);
  assert.deepEqual(compute.namespaces, []);
  assert.equal(compute.tunnels.length, 1);
  const other = plan(withRouter, { host: 'h3', stateDir: '/s', role: 'compute' });
  assert.deepEqual(other.bridges, [], 'no port bound here');
  const network = plan(withRouter, { host: 'h1', stateDir: '/s', role: 'network', tunnelIp: 'fd00::1', peers: [peer('h2', 'fd00::2', 'compute')] });
  assert.deepEqual(network.bridges.map((b) => b.networkId).sort(), [NET_A, NET_B].sort());
  assert.deepEqual(network.namespaces.map((n) => n.name), ['qrouter-r1']);
});

const link = (over: Partial<ActualLink>): ActualLink => ({ name: 'x', kind: 'vxlan', mac: '', mtu: 1450, up: true, master: 'v6b-aaaaaaaa-11', addresses: [], vxlan: { id: 1001, local: 'fd00::1' }, ...over });
const spec = { name: vxlanName(NET_A), bridge: 'v6b-aaaaaaaa-11', networkId: NET_A, vni: 1001, local: 'fd00::1', mtu: 1450, peers: ['fd00::2', 'fd00::3'] };

test('diffTunnels: create in the agent namespace and move; nothing when equal; repair peers; recreate on a VNI change; prune', () => {
  const create = diffTunnels([spec], 'br', new Map(), []);
  assert.equal(create.length, 1);
  assert.deepEqual(create[0]!.cmds, [
    ['ip', 'link', 'add', spec.name, 'mtu', '1450', 'type', 'vxlan', 'id', '1001', 'local', 'fd00::1', 'dstport', '4789'],
    ['ip', 'link', 'set', spec.name, 'netns', 'br'],
    ['ip', '-n', 'br', 'link', 'set', spec.name, 'master', 'v6b-aaaaaaaa-11', 'up'],
    ['bridge', '-n', 'br', 'fdb', 'append', '00:00:00:00:00:00', 'dev', spec.name, 'dst', 'fd00::2'],
    ['bridge', '-n', 'br', 'fdb', 'append', '00:00:00:00:00:00', 'dev', spec.name, 'dst', 'fd00::3'],
  ]);
  const fdb = [
    { mac: '00:00:00:00:00:00', dev: spec.name, dst: 'fd00::2' },
    { mac: '00:00:00:00:00:00', dev: spec.name, dst: 'fd00::3' },
  ];
  assert.deepEqual(diffTunnels([spec], 'br', new Map([[spec.name, link({ name: spec.name })]]), fdb), []);
  const repair = diffTunnels([spec], 'br', new Map([[spec.name, link({ name: spec.name })]]), [fdb[0]!, { mac: '00:00:00:00:00:00', dev: spec.name, dst: 'fd00::9' }]);
  assert.deepEqual(repair.map((a) => a.cmds[0]!.slice(4, 6).concat(a.cmds[0]!.slice(-1))), [['append', '00:00:00:00:00:00', 'fd00::3'], ['del', '00:00:00:00:00:00', 'fd00::9']]);
  const vni = diffTunnels([spec], 'br', new Map([[spec.name, link({ name: spec.name, vxlan: { id: 7, local: 'fd00::1' } })]]), fdb);
  assert.match(vni[0]!.desc, /^recreate/);
  const stale = diffTunnels([], 'br', new Map([['vx-old', link({ name: 'vx-old' })], ['tap1', link({ name: 'tap1', kind: 'veth' })]]), []);
  assert.deepEqual(stale.map((a) => a.desc), ['delete tunnel vx-old']);
});

test('networkNodeConflicts: a network or all-in-one host beside another one is named; compute hosts never conflict', () => {
  const peers = [peer('n2', 'fd00::2', 'network'), peer('c1', 'fd00::3', 'compute'), peer('x', 'fd00::4', 'all')];
  assert.deepEqual(networkNodeConflicts('compute', peers), []);
  assert.deepEqual(networkNodeConflicts('network', [peer('c1', 'fd00::3', 'compute')]), []);
  const lines = networkNodeConflicts('network', peers);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^host n2 \(fd00::2\) runs routers and DHCP too \(role network\), as this one does \(role network\)/);
  assert.match(lines[1]!, /^host x \(fd00::4\) .*\(role all\)/);
});
