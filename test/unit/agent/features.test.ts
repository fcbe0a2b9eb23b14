// The feature table: the walks of plan and diff over it, pure. Builds run in table order and teardowns in reverse
// (a namespace goes before the bridge it was plugged into); a new feature is a row, and adds its part without
// changing what the others plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURES, type Feature } from '../../../src/agent/features/index.js';
import { diff, plan, type ActualState, type ApiState } from '../../../src/agent/plan.js';

const NET = 'aaaaaaaa-0000-4000-8000-00000000000a';
const ROUTER = '11111111-1111-4111-8111-111111111111';
const state = (): ApiState => ({
  networks: [{ id: NET, mtu: 1450 }],
  subnets: [{ id: 'sa', network_id: NET, ip_version: 6, cidr: '2001:db8:a::/64', gateway_ip: '2001:db8:a::', enable_dhcp: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }],
  ports: [{ id: 'ra000000001-x', network_id: NET, mac_address: 'fa:16:3e:00:0a:01', device_owner: 'network:router_interface', device_id: ROUTER, fixed_ips: [{ subnet_id: 'sa', ip_address: '2001:db8:a::' }] }],
  routers: [{ id: ROUTER }],
});
const OPTS = { host: 'h1', stateDir: '/s' };

test('the table: L2, VXLAN, L3, HA, RA, DHCP, metadata, PD, firewall, BGP, NAT, NDP proxy, metering, in the order they build', () => {
  assert.deepEqual(FEATURES.map((f) => f.name), ['l2', 'vxlan', 'l3', 'ha', 'ra', 'dhcp', 'metadata', 'pd', 'firewall', 'bgp', 'nat', 'ndp-proxy', 'metering']);
  assert.deepEqual(FEATURES.map((f) => f.applies.join('+')), ['kernel', 'kernel', 'kernel', 'daemons', 'daemons', 'kernel+daemons', 'kernel+daemons', 'daemons', 'kernel', 'daemons', 'kernel', 'kernel', 'kernel']);
});

test('diff walks the table: every build in table order, then every teardown in reverse order', () => {
  const row = (name: string): Feature => ({
    name,
    applies: ['kernel'],
    plan: () => ({}),
    diff: () => ({ build: [{ desc: `build ${name}`, cmds: [] }], teardown: [{ desc: `teardown ${name}`, cmds: [] }] }),
  });
  const none: ActualState = { namespaces: new Set(), ns: new Map(), fdb: [] };
  const desired = plan(state(), OPTS, []);
  assert.deepEqual(diff(desired, none, [], [row('a'), row('b'), row('c')]).map((a) => a.desc), ['build a', 'build b', 'build c', 'teardown c', 'teardown b', 'teardown a']);
});

test('the real teardown: a router namespace the agent made and no longer wants goes before the bridge it used', () => {
  const desired = plan({ networks: [], subnets: [], ports: [], routers: [] }, OPTS);
  const bridge = { name: 'v6b-aaaaaaaa-00', kind: 'bridge', mac: '', mtu: 1450, up: true, master: null, addresses: [] };
  const actual: ActualState = {
    namespaces: new Set([desired.bridgeNs, `qrouter-${ROUTER}`]),
    ns: new Map([[desired.bridgeNs, { links: new Map([[bridge.name, bridge]]), routes: [], sysctls: new Map(desired.bridgeNsSysctls) }]]),
    fdb: [],
  };
  assert.deepEqual(diff(desired, actual, [`qrouter-${ROUTER}`]).map((a) => a.desc), [`delete namespace qrouter-${ROUTER}`, 'delete bridge v6b-aaaaaaaa-00']);
});

test('a new feature is a row: it adds its part (here a daemon per router), and what the others plan is unchanged', () => {
  const example: Feature = {
    name: 'example',
    applies: ['daemons'],
    plan: (ctx, planned) => ({
      daemons: planned.namespaces.filter((n) => n.kind === 'router').map((n) => ({ id: `example-${n.name}`, kind: 'radvd', namespace: n.name, dir: `${ctx.opts.stateDir}/m`, argv: ['true'], files: [], reload: 'restart' })),
    }),
  };
  const before = plan(state(), OPTS);
  const after = plan(state(), OPTS, [...FEATURES, example]);
  assert.deepEqual(after.daemons.map((d) => d.id), [`radvd-${ROUTER}`, `metadata-qrouter-${ROUTER}`, `example-qrouter-${ROUTER}`]);
  assert.deepEqual({ ...after, daemons: after.daemons.slice(0, -1) }, before);
});
