// The HA feature and keepalived's configuration, pure: an HA router runs only where the server bound one of its HA
// ports; there its namespace makes no link-locals, leaves addresses and default routes to keepalived, has the HA
// link and the firewall that keeps a standby silent; keepalived gets every address (and the MAC's link-local) as an
// excluded VIP and the default routes as virtual routes; radvd runs on the master only and leaves without a goodbye.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, diff, type ActualState, type ApiState } from '../../../src/agent/plan.js';
import { renderKeepalivedConf, renderNotifyScript } from '../../../src/agent/keepalived.js';

const NET = 'aaaaaaaa-0000-4000-8000-00000000000a';
const EXT = 'eeeeeeee-0000-4000-8000-00000000000e';
const HANET = 'cccccccc-0000-4000-8000-00000000000c';
const ROUTER = '11111111-1111-4111-8111-111111111111';
const state = (): ApiState => ({
  networks: [{ id: NET, mtu: 1450 }, { id: EXT, mtu: 1500 }, { id: HANET, mtu: 1450 }],
  subnets: [
    { id: 'sa', network_id: NET, ip_version: 6, cidr: '2001:db8:a::/64', gateway_ip: '2001:db8:a::', enable_dhcp: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
    { id: 'se', network_id: EXT, ip_version: 6, cidr: '2001:db8:e::/64', gateway_ip: '2001:db8:e::1', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
    { id: 'sh', network_id: HANET, ip_version: 4, cidr: '169.254.192.0/18', gateway_ip: null, enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
  ],
  ports: [
    { id: 'qr000000001-x', network_id: NET, mac_address: 'fa:16:3e:00:0a:01', device_owner: 'network:ha_router_replicated_interface', device_id: ROUTER, fixed_ips: [{ subnet_id: 'sa', ip_address: '2001:db8:a::' }] },
    { id: 'qg000000001-x', network_id: EXT, mac_address: 'fa:16:3e:00:0e:01', device_owner: 'network:router_gateway', device_id: ROUTER, fixed_ips: [{ subnet_id: 'se', ip_address: '2001:db8:e::5' }] },
    { id: 'ha000000001-x', network_id: HANET, mac_address: 'fa:16:3e:00:cc:01', device_owner: 'network:router_ha_interface', device_id: ROUTER, 'binding:host_id': 'h1', 'binding:vif_details': { ha_vr_id: 7 }, fixed_ips: [{ subnet_id: 'sh', ip_address: '169.254.192.3' }] },
    { id: 'ha000000002-x', network_id: HANET, mac_address: 'fa:16:3e:00:cc:02', device_owner: 'network:router_ha_interface', device_id: ROUTER, 'binding:host_id': 'h2', 'binding:vif_details': { ha_vr_id: 7 }, fixed_ips: [{ subnet_id: 'sh', ip_address: '169.254.192.4' }] },
  ],
  routers: [{ id: ROUTER, ha: true }],
});
const empty: ActualState = { namespaces: new Set(), ns: new Map(), fdb: [] };

test('an HA router runs only on the hosts of its HA ports, with the HA link, no agent-set addresses or routes, and the firewall', () => {
  assert.equal(plan(state(), { host: 'h3', stateDir: '/s', role: 'network' }).namespaces.length, 0, 'not scheduled on h3');
  const d = plan(state(), { host: 'h1', stateDir: '/s', role: 'network' });
  const ns = d.namespaces.find((n) => n.name === `qrouter-${ROUTER}`)!;
  assert.deepEqual(ns.routes, []);
  assert.ok(ns.sysctls.some(([k, v]) => k === 'net.ipv6.conf.default.addr_gen_mode' && v === '1'));
  assert.ok(ns.sysctls.some(([k, v]) => k === 'net.ipv6.conf.all.forwarding' && v === '1'), 'forwarding stays on: nothing reaches a standby');
  assert.deepEqual(ns.links.map((l) => [l.name, l.vips]), [['qr-qr000000001', 'all'], ['qg-qg000000001', 'all'], ['ha-ha000000001', 'others']]);
  assert.deepEqual(ns.links.find((l) => l.name.startsWith('ha-'))!.addresses, ['169.254.192.3/18']);
  assert.match(ns.firewall!, /oifname "qr-\*" ip6 saddr :: drop/);
  const actions = diff(d, empty, []);
  const cmds = actions.filter((a) => a.ns === ns.name).flatMap((a) => a.cmds.map((c) => c.join(' ')));
  assert.ok(!cmds.some((c) => c.includes('addr add 2001:db8:a::/64')), 'the agent adds no VIP');
  assert.ok(!cmds.some((c) => c.includes('route replace default')), 'the agent sets no default route');
  assert.ok(cmds.some((c) => c.includes('addr add 169.254.192.3/18 dev ha-ha000000001')));
  const nft = cmds.findIndex((c) => c.includes(' nft '));
  const firstPlug = cmds.findIndex((c) => c.includes('type veth'));
  assert.ok(nft >= 0 && nft < firstPlug, 'the firewall is in place before any link comes up');
  const k = d.daemons.find((x) => x.kind === 'keepalived')!;
  assert.equal(k.id, `keepalived-${ROUTER}`);
  assert.equal(k.detached, true);
  const conf = k.files.find((f) => f.name === 'keepalived.conf')!.content;
  assert.match(conf, /virtual_router_id 7\n/);
  assert.match(conf, /interface ha-ha000000001\n/);
  assert.match(conf, /2001:db8:a::\/64 dev qr-qr000000001\n/);
  assert.match(conf, /fe80::f816:3eff:fe00:a01\/64 dev qr-qr000000001\n/);
  assert.match(conf, /::\/0 via 2001:db8:e::1 dev qg-qg000000001\n/);
  assert.equal(d.daemons.filter((x) => x.kind === 'radvd').length, 0, 'no radvd before this node is master');
});

test('radvd runs on the master only, and is stopped without a goodbye RA', () => {
  const d = plan(state(), { host: 'h1', stateDir: '/s', role: 'network', haStates: { [ROUTER]: 'MASTER' } });
  const r = d.daemons.find((x) => x.kind === 'radvd')!;
  assert.equal(r.stopSignal, 'SIGKILL');
  assert.equal(plan(state(), { host: 'h2', stateDir: '/s', role: 'network', haStates: { [ROUTER]: 'BACKUP' } }).daemons.filter((x) => x.kind === 'radvd').length, 0);
});

test("keepalived's configuration: Neutron's layout, VRRPv3 with the agent's interval, and the notify script", () => {
  const conf = renderKeepalivedConf(
    { routerId: ROUTER, vrid: 3, haLink: 'ha-x', links: [{ name: 'qr-x', mac: 'fa:16:3e:aa:bb:01', addresses: ['192.0.2.1/24', '2001:db8:cafe:4::1/64'] }], routes: [{ family: 4, via: '203.0.113.1', dev: 'qg-x' }], notifyScript: '/s/notify.sh' },
    { advertInt: 0.5, garpMasterDelay: 2 },
  );
  for (const line of ['state BACKUP', 'nopreempt', 'priority 50', 'advert_int 0.5', 'garp_master_delay 2', 'vrrp_version 3', '169.254.0.3/24 dev ha-x', '192.0.2.1/24 dev qr-x', 'fe80::f816:3eff:feaa:bb01/64 dev qr-x', '0.0.0.0/0 via 203.0.113.1 dev qg-x', 'notify "/s/notify.sh"']) {
    assert.ok(conf.includes(line), `${line} in\n${conf}`);
  }
  assert.ok(!conf.includes('track_interface') && !conf.includes('scope link'), 'nothing keepalived warns about (lab facts §4)');
  assert.match(renderNotifyScript('/s/state'), /printf '%s\\n' "\$3" > '\/s\/state.tmp' && mv -f '\/s\/state.tmp' '\/s\/state'/);
});
