// features/ndp-proxy.ts and domain/ndp-proxy.ts's data plane: from API documents (a router with a scoped IPv6
// gateway, an interface in the same scope and one in another, proxies) to what the router namespace holds, and the
// commands against what the kernel has; HA routers answer from the master only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff, plan, type ActualNamespace, type ActualState, type ApiState } from '../../../src/agent/plan.js';
import { renderNdpTable, readNdpTable, proxyNdpKey, type NdpTable } from '../../../src/domain/ndp-proxy.js';

const R = '11111111-1111-4111-8111-111111111111';
const NS = `qrouter-${R}`;
const EXT = 'eeeeeeee-0000-4000-8000-00000000000e';
const PRIV = 'aaaaaaaa-0000-4000-8000-00000000000a';
const OTHER = 'bbbbbbbb-0000-4000-8000-00000000000b';
const QG = 'qg-gw000000001';
const SCOPE = 'cccccccc-0000-4000-8000-00000000000c';

function state(enabled: boolean, proxies: string[], ha = false): ApiState {
  const sub = (id: string, network_id: string, cidr: string, gateway_ip: string) => ({ id, network_id, ip_version: 6 as const, cidr, gateway_ip, enable_dhcp: true, ipv6_ra_mode: 'slaac' as const, ipv6_address_mode: 'slaac' as const });
  return {
    networks: [{ id: EXT, mtu: 1500, ipv6_address_scope: SCOPE }, { id: PRIV, mtu: 1450, ipv6_address_scope: SCOPE }, { id: OTHER, mtu: 1450, ipv6_address_scope: null }],
    subnets: [sub('e6', EXT, '2001:db8:e::/64', '2001:db8:e::1'), sub('p6', PRIV, '2001:db8:1::/64', '2001:db8:1::'), sub('o6', OTHER, '2001:db8:2::/64', '2001:db8:2::')],
    ports: [
      { id: 'gw000000001-port', network_id: EXT, mac_address: 'fa:16:3e:00:00:01', device_owner: 'network:router_gateway', device_id: R, fixed_ips: [{ subnet_id: 'e6', ip_address: '2001:db8:e::5' }] },
      { id: 'qr600000001-port', network_id: PRIV, mac_address: 'fa:16:3e:00:00:03', device_owner: ha ? 'network:ha_router_replicated_interface' : 'network:router_interface', device_id: R, fixed_ips: [{ subnet_id: 'p6', ip_address: '2001:db8:1::' }] },
      { id: 'qr700000001-port', network_id: OTHER, mac_address: 'fa:16:3e:00:00:04', device_owner: ha ? 'network:ha_router_replicated_interface' : 'network:router_interface', device_id: R, fixed_ips: [{ subnet_id: 'o6', ip_address: '2001:db8:2::' }] },
      ...(ha
        ? [{ id: 'ha0000000001-port', network_id: 'hanet', mac_address: 'fa:16:3e:00:00:09', device_owner: 'network:router_ha_interface', device_id: R, fixed_ips: [{ subnet_id: 'ha', ip_address: '169.254.192.1' }], 'binding:host_id': 'h', 'binding:vif_details': { vrid: 1 } }]
        : []),
    ],
    routers: [{ id: R, external_gateway_info: { network_id: EXT }, enable_ndp_proxy: enabled, ha }],
    ndpProxies: proxies.map((ip, i) => ({ id: `np${i}`, router_id: R, port_id: `p${i}`, ip_address: ip })),
  };
}

const actual = (ns: Partial<ActualNamespace>): ActualState => ({
  namespaces: new Set([NS]),
  ns: new Map([[NS, { links: new Map(), routes: [], sysctls: new Map(), ...ns }]]),
  fdb: [],
});
const ndpActions = (s: ApiState, a: ActualState) => diff(plan(s, { host: 'h', stateDir: '/s' }), a).filter((x) => x.desc.includes('NDP proxy'));

test('plan: an enabled router proxies its addresses on qg- and filters inbound to its scope only', () => {
  const p = plan(state(true, ['2001:db8:1:0:0:0:0:7']), { host: 'h', stateDir: '/s' });
  assert.deepEqual(p.ndpProxy, [{ ns: NS, gatewayLink: QG, enabled: true, proxies: ['2001:db8:1::7'], scoped: ['2001:db8:1::/64'] }]);
  const off = plan(state(false, []), { host: 'h', stateDir: '/s' });
  assert.deepEqual(off.ndpProxy, [{ ns: NS, gatewayLink: QG, enabled: false, proxies: [], scoped: [] }]);
});

test('diff: from nothing, the filter, proxy_ndp and the entry; then nothing once the kernel holds them', () => {
  const s = state(true, ['2001:db8:1::7']);
  const [a] = ndpActions(s, actual({}));
  assert.ok(a);
  assert.equal(a.ns, NS);
  assert.deepEqual(a.cmds[0]!.slice(0, 5), ['ip', 'netns', 'exec', NS, 'nft']);
  assert.match(a.cmds[0]![5]!, /iifname "qg-gw000000001" ip6 daddr @scoped ip6 daddr != @proxied drop/);
  assert.deepEqual(a.cmds[1], ['ip', 'netns', 'exec', NS, 'sysctl', '-qw', `${proxyNdpKey(QG)}=1`]);
  assert.deepEqual(a.cmds[2], ['ip', '-n', NS, '-6', 'neigh', 'add', 'proxy', '2001:db8:1::7', 'dev', QG]);
  const table: NdpTable = { gatewayLink: QG, proxies: ['2001:db8:1::7'], scoped: ['2001:db8:1::/64'] };
  const synced = actual({ sysctls: new Map([[proxyNdpKey(QG), '1']]), ndp: { proxies: [{ dst: '2001:db8:1::7', dev: QG }], table } });
  assert.deepEqual(ndpActions(s, synced), []);
  // A proxy deleted: its entry goes and the table is rewritten without it.
  const [gone] = ndpActions(state(true, []), synced);
  assert.ok(gone!.cmds.some((c) => c.join(' ') === `ip -n ${NS} -6 neigh del proxy 2001:db8:1::7 dev ${QG}`));
  assert.ok(gone!.cmds.some((c) => c[4] === 'nft' && !c[5]!.includes('2001:db8:1::7')));
  // Disabled: entries, proxy_ndp and table go, the table last.
  const [off] = ndpActions(state(false, []), synced);
  assert.deepEqual(
    off!.cmds.map((c) => c.join(' ')),
    [`ip netns exec ${NS} sysctl -qw ${proxyNdpKey(QG)}=0`, `ip -n ${NS} -6 neigh del proxy 2001:db8:1::7 dev ${QG}`, `ip netns exec ${NS} nft delete table ip6 v6stack_ndp`],
  );
  // A router that never had it: nothing at all.
  assert.deepEqual(ndpActions(state(false, []), actual({ sysctls: new Map([[proxyNdpKey(QG), '0']]) })), []);
});

test('HA: the master holds the entries, a backup only the filter', () => {
  const opts = (st: string) => ({ host: 'h', stateDir: '/s', role: 'network' as const, haStates: { [R]: st } });
  assert.deepEqual(plan(state(true, ['2001:db8:1::7'], true), opts('MASTER')).ndpProxy?.[0]?.proxies, ['2001:db8:1::7']);
  const backup = plan(state(true, ['2001:db8:1::7'], true), opts('BACKUP')).ndpProxy?.[0];
  assert.deepEqual(backup?.proxies, []);
  assert.deepEqual(backup?.scoped, ['2001:db8:1::/64']);
});

test('readNdpTable reads back what renderNdpTable makes (nft -j), and a foreign shape differs', () => {
  const t: NdpTable = { gatewayLink: QG, proxies: ['2001:db8:1::7', '2001:db8:1::8'], scoped: ['2001:db8:1::/64'] };
  assert.match(renderNdpTable(t), /elements = \{ 2001:db8:1::7, 2001:db8:1::8 \}/);
  const json = JSON.stringify({
    nftables: [
      { table: { family: 'ip6', name: 'v6stack_ndp' } },
      { set: { family: 'ip6', name: 'proxied', table: 'v6stack_ndp', type: 'ipv6_addr', elem: ['2001:db8:1::8', '2001:db8:1::7'] } },
      { set: { family: 'ip6', name: 'scoped', table: 'v6stack_ndp', type: 'ipv6_addr', flags: ['interval'], elem: [{ prefix: { addr: '2001:db8:1::', len: 64 } }] } },
      { chain: { family: 'ip6', table: 'v6stack_ndp', name: 'forward' } },
      {
        rule: {
          family: 'ip6', table: 'v6stack_ndp', chain: 'forward',
          expr: [
            { match: { op: '==', left: { meta: { key: 'iifname' } }, right: QG } },
            { match: { op: '==', left: { payload: { protocol: 'ip6', field: 'daddr' } }, right: '@scoped' } },
            { match: { op: '!=', left: { payload: { protocol: 'ip6', field: 'daddr' } }, right: '@proxied' } },
            { drop: null },
          ],
        },
      },
    ],
  });
  assert.deepEqual(readNdpTable(json), t);
  assert.equal(readNdpTable(''), null);
  const tampered = JSON.parse(json);
  tampered.nftables[4].rule.expr[3] = { accept: null };
  assert.equal(readNdpTable(JSON.stringify(tampered))!.gatewayLink, '');
});
