// The metadata feature (pure plan and diff) and the server's identification of the asking instance: by the listener's
// network and the source address (link-local: the EUI-64's MAC), never by anything the request says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, diff, type ApiState, type ActualState, type PlanOptions } from '../../../src/agent/plan.js';
import { metadataLinkName, metadataMac } from '../../../src/agent/features/metadata.js';
import { findInstance, lookup, macFromEui64LinkLocal, type MetadataConfig } from '../../../src/metadata/server.js';

const ROUTER = '11111111-1111-4111-8111-111111111111';
const NA = 'aaaaaaaa-0000-4000-8000-00000000000a'; // routed, IPv6 SLAAC + IPv4
const NI = 'dddddddd-0000-4000-8000-00000000000d'; // isolated, dhcpv6-stateful
const HOST = 'h1';
const opts: PlanOptions = { host: HOST, stateDir: '/var/lib/v6stack-test' };
const ip = (subnet_id: string, ip_address: string) => ({ subnet_id, ip_address });

function state(): ApiState {
  return {
    networks: [{ id: NA, mtu: 1450 }, { id: NI, mtu: 1500 }],
    subnets: [
      { id: 'sa6', network_id: NA, ip_version: 6, cidr: '2001:db8:a::/64', enable_dhcp: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', gateway_ip: '2001:db8:a::1' },
      { id: 'sa4', network_id: NA, ip_version: 4, cidr: '192.0.2.0/24', enable_dhcp: true, ipv6_ra_mode: null, ipv6_address_mode: null, gateway_ip: '192.0.2.1' },
      { id: 'si6', network_id: NI, ip_version: 6, cidr: '2001:db8:d::/64', enable_dhcp: true, ipv6_ra_mode: null, ipv6_address_mode: 'dhcpv6-stateful', gateway_ip: null },
    ],
    ports: [
      { id: 'r0000000-0000-4000-8000-000000000001', network_id: NA, mac_address: 'fa:16:3e:00:00:01', device_owner: 'network:router_interface', device_id: ROUTER, fixed_ips: [ip('sa6', '2001:db8:a::1'), ip('sa4', '192.0.2.1')] },
      { id: 'v1000000-0000-4000-8000-000000000001', network_id: NA, mac_address: 'fa:16:3e:79:5a:cc', device_owner: 'compute:nova', device_id: 'vm1', fixed_ips: [ip('sa6', '2001:db8:a:0:f816:3eff:fe79:5acc'), ip('sa4', '192.0.2.10')] },
      { id: 'd0000000-0000-4000-8000-000000000001', network_id: NI, mac_address: 'fa:16:3e:00:00:0d', device_owner: 'network:dhcp', device_id: `dhcp-${HOST}-${NI}`, fixed_ips: [ip('si6', '2001:db8:d::2')] },
      { id: 'v2000000-0000-4000-8000-000000000002', network_id: NI, mac_address: 'fa:16:3e:00:00:22', device_owner: '', device_id: 'vm2', fixed_ips: [ip('si6', '2001:db8:d::22')] },
    ],
    routers: [{ id: ROUTER }],
  };
}

test('plan: the router serves its routed network (fe80::a9fe:a9fe and 169.254.169.254), the DHCP namespace the isolated one', () => {
  const s = state();
  const desired = plan(s, opts);
  const md = desired.daemons.filter((d) => d.kind === 'metadata');
  assert.deepEqual(md.map((d) => d.namespace).sort(), [`qdhcp-${NI}`, `qrouter-${ROUTER}`]);
  const i = md.find((d) => d.namespace === `qdhcp-${NI}`)!;
  assert.deepEqual(i.links!.map((l) => [l.name, l.addresses]), [[metadataLinkName(NI), ['fe80::a9fe:a9fe/64']]], 'isolated: IPv6 only');
  assert.deepEqual(JSON.parse(i.files[0]!.content).instances.map((x: { port_id: string }) => x.port_id), ['v2000000-0000-4000-8000-000000000002']);
  const r = md.find((d) => d.namespace === `qrouter-${ROUTER}`)!;
  assert.deepEqual(r.links!.map((l) => [l.name, l.mac, l.addresses]), [[metadataLinkName(NA), metadataMac(NA), ['fe80::a9fe:a9fe/64', '169.254.169.254/32']]]);
  assert.ok(r.argv.includes(`fe80::a9fe:a9fe%${metadataLinkName(NA)}=${NA}`));
  assert.ok(r.argv.includes('169.254.169.254'));
  const cfg = JSON.parse(r.files[0]!.content) as MetadataConfig;
  // Only the instance port: not the router's.
  assert.deepEqual(cfg.instances.map((i) => i.port_id), ['v1000000-0000-4000-8000-000000000001']);
  assert.equal(r.files[0]!.mode, 0o600);
  assert.equal(JSON.parse(cfg.instances[0]!.files['openstack/latest/network_data.json']!).networks.length, 2);
});

test('diff: a missing metadata link is plugged with its addresses; a present one produces nothing; a stale one goes', () => {
  const desired = plan(state(), opts);
  const rns = `qrouter-${ROUTER}`;
  const empty: ActualState = { namespaces: new Set([rns]), ns: new Map([[rns, { links: new Map(), routes: [], sysctls: new Map() }]]), fdb: [] };
  const plug = diff(desired, empty).filter((a) => a.desc.startsWith('metadata link'));
  assert.equal(plug.length >= 1, true);
  const cmds = plug.find((a) => a.ns === rns)!.cmds.map((c) => c.join(' '));
  assert.ok(cmds.some((c) => c.includes(`peer name ${metadataLinkName(NA)} netns ${rns} address ${metadataMac(NA)}`)));
  assert.ok(cmds.includes(`ip -n ${rns} addr replace fe80::a9fe:a9fe/64 dev ${metadataLinkName(NA)} nodad`));
  assert.ok(cmds.includes(`ip -n ${rns} addr replace 169.254.169.254/32 dev ${metadataLinkName(NA)}`));
  // A namespace this pass does not read back (its plan unchanged) is not known to lack the link: nothing is done.
  assert.deepEqual(diff({ ...desired, namespaces: [] }, empty).filter((a) => a.desc.includes('metadata link')), []);
  const link = { name: metadataLinkName(NA), kind: 'veth', mac: metadataMac(NA), mtu: 1450, up: true, master: null, addresses: ['169.254.169.254/32'], linkLocal: ['fe80::a9fe:a9fe/64'] };
  const stale = { ...link, name: 'qm-eeeeeeee-00' };
  const full: ActualState = { namespaces: new Set([rns]), ns: new Map([[rns, { links: new Map([[link.name, link], [stale.name, stale]]), routes: [], sysctls: new Map() }]]), fdb: [] };
  const actions = diff(desired, full);
  assert.deepEqual(actions.filter((a) => a.ns === rns && a.desc.includes('metadata link') && !a.desc.startsWith('delete')), []);
  assert.deepEqual(actions.filter((a) => a.desc.startsWith('delete metadata link')).map((a) => a.cmds), [[['ip', '-n', rns, 'link', 'del', 'qm-eeeeeeee-00']]]);
});

test('the asking instance: listener network + source address; a link-local source by its EUI-64 MAC', () => {
  assert.equal(macFromEui64LinkLocal('fe80::f816:3eff:fe79:5acc'), 'fa:16:3e:79:5a:cc');
  assert.equal(macFromEui64LinkLocal('fe80::f816:3eff:fe79:5acc%eth0'), 'fa:16:3e:79:5a:cc');
  assert.equal(macFromEui64LinkLocal('fe80::1234:5678:9abc:def0'), null, 'not EUI-64 (stable privacy): not identifiable');
  assert.equal(macFromEui64LinkLocal('2001:db8::f816:3eff:fe79:5acc'), null);
  const cfg: MetadataConfig = {
    instances: [
      { port_id: 'p1', network_id: 'n1', mac: 'fa:16:3e:79:5a:cc', addresses: ['2001:db8:a::10', '192.0.2.10'], files: { 'openstack/latest/meta_data.json': '{"uuid":"p1"}' } },
      { port_id: 'p2', network_id: 'n2', mac: 'fa:16:3e:00:00:22', addresses: ['2001:db8:d::22'], files: {} },
    ],
  };
  assert.equal(findInstance(cfg, 'fe80::f816:3eff:fe79:5acc%qm-x', 'n1')?.port_id, 'p1');
  assert.equal(findInstance(cfg, 'fe80::f816:3eff:fe79:5acc', 'n2'), null, 'the same MAC on another network is not this instance');
  assert.equal(findInstance(cfg, '2001:db8:a::10', 'n1')?.port_id, 'p1');
  assert.equal(findInstance(cfg, '2001:db8:a::10', 'n2'), null);
  assert.equal(findInstance(cfg, '::ffff:192.0.2.10', null)?.port_id, 'p1');
  assert.equal(findInstance(cfg, '192.0.2.99', null), null);
  assert.deepEqual(lookup(cfg.instances[0]!.files, '/openstack/latest/meta_data.json'), { body: '{"uuid":"p1"}', type: 'application/json' });
  assert.equal(lookup(cfg.instances[0]!.files, '/openstack/latest/user_data'), null);
});

test('with a namespace suffix (two network nodes on one machine) the DHCP and router namespaces carry it, and each serves metadata', () => {
  const suffixed: PlanOptions = { ...opts, namespaceSuffix: '@h1' };
  const desired = plan(state(), suffixed);
  assert.deepEqual(desired.namespaces.map((n) => n.name).sort(), [`qdhcp-${NI}@h1`, `qrouter-${ROUTER}@h1`]);
  const dnsmasq = desired.daemons.find((d) => d.kind === 'dnsmasq')!;
  assert.equal(dnsmasq.namespace, `qdhcp-${NI}@h1`);
  const md = desired.daemons.filter((d) => d.kind === 'metadata');
  assert.deepEqual(md.map((d) => d.namespace).sort(), [`qdhcp-${NI}@h1`, `qrouter-${ROUTER}@h1`]);
  const i = md.find((d) => d.namespace === `qdhcp-${NI}@h1`)!;
  assert.deepEqual(i.links!.map((l) => l.name), [metadataLinkName(NI)], 'the network id is read without the suffix');
  // A stale suffixed DHCP namespace of this agent's ledger is deleted when its network no longer needs it.
  const noDhcp = { ...state(), ports: state().ports.filter((p) => p.device_owner !== 'network:dhcp') };
  const actual: ActualState = { namespaces: new Set([`qdhcp-${NI}@h1`]), ns: new Map(), fdb: [] };
  const actions = diff(plan(noDhcp, suffixed), actual, [`qdhcp-${NI}@h1`]);
  assert.ok(JSON.stringify(actions).includes(`"ip","netns","del","qdhcp-${NI}@h1"`), JSON.stringify(actions).slice(0, 400));
});
