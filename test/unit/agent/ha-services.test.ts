// What an HA router's services do on its master and on its backup, pure: the DHCPv6-PD client is the router's on
// every node (same DUID, same IAIDs) but speaks from the master only, a backup's on standby; a new master reclaims
// the subnet's prefix and reports nothing meanwhile (no renumbering through the API at a failover); extra routes are
// keepalived's virtual routes; the NAT table is on every node, its floating IPs keepalived's to add and announce;
// router namespaces carry the agent's namespace suffix in every feature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, diff } from '../../../src/agent/plan.js';
import type { ActualState, ApiState, PlanOptions } from '../../../src/agent/model.js';
import { pdReports, type PdClientState } from '../../../src/agent/pd-report.js';
import { iaidOf } from '../../../src/domain/dhcpv6/pd.js';
import type { PdClientConfig } from '../../../src/agent/pd-client.js';

const NET = 'aaaaaaaa-0000-4000-8000-00000000000a';
const NET4 = 'aaaaaaaa-0000-4000-8000-00000000004a';
const EXT = 'eeeeeeee-0000-4000-8000-00000000000e';
const HANET = 'cccccccc-0000-4000-8000-00000000000c';
const ROUTER = '11111111-1111-4111-8111-111111111111';
const PD = 'dddddddd-0000-4000-8000-00000000000d';

function state(cidr = '::/64'): ApiState {
  const gw = cidr === '::/64' ? '::' : cidr.replace('/64', '1');
  return {
    networks: [{ id: NET, mtu: 1450 }, { id: NET4, mtu: 1450 }, { id: EXT, mtu: 1500 }, { id: HANET, mtu: 1450 }],
    subnets: [
      { id: PD, network_id: NET, ip_version: 6, cidr, gateway_ip: gw, enable_dhcp: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', subnetpool_id: 'prefix_delegation' } as ApiState['subnets'][number],
      { id: 's4', network_id: NET4, ip_version: 4, cidr: '192.0.2.64/26', gateway_ip: '192.0.2.65', enable_dhcp: true, ipv6_ra_mode: null, ipv6_address_mode: null },
      { id: 'ext6', network_id: EXT, ip_version: 6, cidr: '2001:db8:d::/64', gateway_ip: '2001:db8:d::1', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
      { id: 'ext4', network_id: EXT, ip_version: 4, cidr: '192.0.2.0/26', gateway_ip: '192.0.2.1', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
      { id: 'sh', network_id: HANET, ip_version: 4, cidr: '169.254.192.0/18', gateway_ip: null, enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
    ],
    ports: [
      { id: 'qr000000001-x', network_id: NET, mac_address: 'fa:16:3e:00:0a:01', device_owner: 'network:ha_router_replicated_interface', device_id: ROUTER, fixed_ips: [{ subnet_id: PD, ip_address: gw }] },
      { id: 'qr000000004-x', network_id: NET4, mac_address: 'fa:16:3e:00:0a:04', device_owner: 'network:ha_router_replicated_interface', device_id: ROUTER, fixed_ips: [{ subnet_id: 's4', ip_address: '192.0.2.65' }] },
      { id: 'qg000000001-x', network_id: EXT, mac_address: 'fa:16:3e:00:0e:01', device_owner: 'network:router_gateway', device_id: ROUTER, fixed_ips: [{ subnet_id: 'ext6', ip_address: '2001:db8:d::5' }, { subnet_id: 'ext4', ip_address: '192.0.2.5' }] },
      { id: 'ha000000001-x', network_id: HANET, mac_address: 'fa:16:3e:00:cc:01', device_owner: 'network:router_ha_interface', device_id: ROUTER, 'binding:host_id': 'h1', 'binding:vif_details': { ha_vr_id: 7 }, fixed_ips: [{ subnet_id: 'sh', ip_address: '169.254.192.3' }] },
      { id: 'ha000000002-x', network_id: HANET, mac_address: 'fa:16:3e:00:cc:02', device_owner: 'network:router_ha_interface', device_id: ROUTER, 'binding:host_id': 'h2', 'binding:vif_details': { ha_vr_id: 7 }, fixed_ips: [{ subnet_id: 'sh', ip_address: '169.254.192.4' }] },
      { id: 'vm00000004-x', network_id: NET4, mac_address: 'fa:16:3e:00:0b:04', device_owner: 'compute:nova', device_id: 'vm', fixed_ips: [{ subnet_id: 's4', ip_address: '192.0.2.70' }] },
    ],
    routers: [{ id: ROUTER, ha: true, routes: [{ destination: '2001:db8:99::/48', nexthop: '2001:db8:d::99' }, { destination: '198.51.100.0/24', nexthop: '192.0.2.66' }] }],
    floatingips: [{ id: 'f1', floating_ip_address: '192.0.2.9', router_id: ROUTER, port_id: 'vm00000004-x', fixed_ip_address: '192.0.2.70' }],
  };
}
const on = (host: 'h1' | 'h2', haState: string | undefined, extra: Partial<PlanOptions> = {}): PlanOptions => ({ host, stateDir: '/s', role: 'network', namespaceSuffix: `@${host}`, ...(haState ? { haStates: { [ROUTER]: haState } } : {}), ...extra });
const pdConfig = (s: ApiState, o: PlanOptions): { ns: string; config: PdClientConfig } => {
  const d = plan(s, o).daemons.find((x) => x.kind === 'pd-client')!;
  return { ns: d.namespace, config: JSON.parse(d.files.find((f) => f.name === 'pd.json')!.content) };
};

test('PD on an HA router: one binding for the router on every node (same DUID and IAID), the backup on standby, in the suffixed namespace', () => {
  const master = pdConfig(state(), on('h1', 'MASTER'));
  const backup = pdConfig(state(), on('h2', 'BACKUP'));
  assert.equal(master.ns, `qrouter-${ROUTER}@h1`);
  assert.equal(backup.ns, `qrouter-${ROUTER}@h2`);
  assert.deepEqual(master.config, { interface: 'qg-qg000000001', duid: '00030001fa163e000e01', ias: [{ subnet_id: PD, iaid: iaidOf(PD), length: 64 }] });
  assert.deepEqual(backup.config, { ...master.config, standby: true }, 'the same client, silent');
  // A node whose keepalived has not said anything yet (just started) is not the master either.
  assert.equal(pdConfig(state(), on('h1', undefined)).config.standby, true);
  assert.equal(pdConfig(state(), on('h1', 'FAULT')).config.standby, true);
  // Once delegated, each IA carries the subnet's prefix: what a new master reclaims.
  const delegated = pdConfig(state('2001:db8:face:7::/64'), on('h2', 'MASTER')).config;
  assert.deepEqual(delegated.ias, [{ subnet_id: PD, iaid: iaidOf(PD), length: 64, prefix: '2001:db8:face:7::/64' }]);
  assert.equal(delegated.standby, undefined);
  // A legacy router's IAs carry no prefix (its client's leases.json is the only truth).
  const legacy = state('2001:db8:face:7::/64');
  legacy.routers = [{ id: ROUTER }];
  legacy.ports = legacy.ports.map((p) => (p.device_owner === 'network:ha_router_replicated_interface' ? { ...p, device_owner: 'network:router_interface' } : p));
  assert.deepEqual(pdConfig(legacy, { host: 'h1', stateDir: '/s' }).config.ias, [{ subnet_id: PD, iaid: iaidOf(PD), length: 64 }]);
});

test('PD reports on an HA router: the backup reports nothing, a reclaiming master keeps the cidr, its lease is reported as any', () => {
  const hosted = new Set([ROUTER]);
  const cidr = '2001:db8:face:7::/64';
  const ias = [{ subnet_id: PD, iaid: iaidOf(PD), length: 64, prefix: cidr }];
  const lease = { iaid: iaidOf(PD), prefix: cidr, preferred: 3600, valid: 7200, t1: 1800, t2: 2880, serverId: '00', obtainedAt: 0 };
  const client = (config: Partial<PdClientConfig>, leases: PdClientState['leases'], reclaiming: string[] = []): PdClientState[] => [{ routerId: ROUTER, config: { interface: 'qg-x', duid: '00', ias, ...config }, leases, reclaiming }];
  assert.deepEqual(pdReports(state(cidr), client({ standby: true }, {}), hosted, 0), [], 'a backup holds no lease and says nothing');
  assert.deepEqual(pdReports(state(cidr), client({}, {}, [PD]), hosted, 0), [], 'a new master reclaiming: the cidr stays');
  assert.deepEqual(pdReports(state(cidr), client({}, {}), hosted, 0), [{ subnetId: PD, routerId: ROUTER, prefix: null }], 'the reclaim refused, no lease: as any router');
  assert.deepEqual(pdReports(state(cidr), client({}, { [PD]: lease }), hosted, 1000), [], 'reclaimed: the same prefix, nothing to say');
  const moved = { ...lease, prefix: '2001:db8:face:9::/64' };
  assert.deepEqual(pdReports(state(cidr), client({}, { [PD]: moved }), hosted, 1000), [{ subnetId: PD, routerId: ROUTER, prefix: '2001:db8:face:9::/64' }], 'the server gave another prefix');
  assert.deepEqual(pdReports(state(cidr), client({}, { [PD]: lease }), hosted, 7_200_001), [{ subnetId: PD, routerId: ROUTER, prefix: null }], 'its own lease expired');
});

test("extra routes are keepalived's virtual routes (Neutron's form: destination via next hop), not the agent's", () => {
  const d = plan(state(), on('h1', 'BACKUP'));
  const conf = d.daemons.find((x) => x.kind === 'keepalived')!.files.find((f) => f.name === 'keepalived.conf')!.content;
  const block = /virtual_routes \{\n([\s\S]*?)\n {4}\}/.exec(conf)?.[1] ?? '';
  assert.deepEqual(
    block.split('\n').map((l) => l.trim()),
    ['::/0 via 2001:db8:d::1 dev qg-qg000000001', '0.0.0.0/0 via 192.0.2.1 dev qg-qg000000001', '198.51.100.0/24 via 192.0.2.66', '2001:db8:99::/48 via 2001:db8:d::99'],
  );
  assert.deepEqual(d.namespaces.find((n) => n.kind === 'router')!.routes, [], 'the agent sets none');
  // The same routes in another order: the same configuration, no reload.
  const s = state();
  s.routers[0]!.routes = [...s.routers[0]!.routes!].reverse();
  assert.equal(plan(s, on('h1', 'BACKUP')).daemons.find((x) => x.kind === 'keepalived')!.files[0]!.content, conf);
});

test('NAT on an HA router: the table on every node in its suffixed namespace, the floating IP a keepalived VIP that the agent does not announce', () => {
  const empty: ActualState = { namespaces: new Set(), ns: new Map(), fdb: [] };
  const actions = (host: 'h1' | 'h2', haState: string) => diff(plan(state(), on(host, haState)), empty, []).filter((a) => a.ns === `qrouter-${ROUTER}@${host}`).map((a) => a.desc);
  const master = actions('h1', 'MASTER');
  const backup = actions('h2', 'BACKUP');
  assert.ok(master.some((x) => /make NAT table \(1 floating IP/.test(x)), master.join('\n'));
  assert.ok(backup.some((x) => /make NAT table \(1 floating IP/.test(x)), backup.join('\n'));
  // keepalived adds the floating address on the master and announces it; the agent announces nothing on either node.
  assert.ok(!master.some((x) => x.includes('gratuitous ARP')), master.join('\n'));
  assert.ok(!backup.some((x) => x.includes('gratuitous ARP')), `a backup announces nothing with the shared MAC:\n${backup.join('\n')}`);
  // The floating IP is a VIP: keepalived's, in its configuration, not added by the agent.
  const d = plan(state(), on('h2', 'BACKUP'));
  assert.match(d.daemons.find((x) => x.kind === 'keepalived')!.files[0]!.content, /192\.0\.2\.9\/32 dev qg-qg000000001\n/);
});
