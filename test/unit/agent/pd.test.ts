// The PD feature's plan, the report rules and the deprecation RA, pure: which routers run a DHCPv6-PD client and with
// what configuration; what the agent tells the API from the clients' leases; a PD subnet's temporary ::/64 is never
// put on a link, advertised or served.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, type ApiState } from '../../../src/agent/plan.js';
import { pdReports, deprecationConf, type PdClientState } from '../../../src/agent/pd-report.js';
import { iaidOf } from '../../../src/domain/dhcpv6/pd.js';

const NET = 'aaaaaaaa-0000-4000-8000-00000000000a';
const EXT = 'eeeeeeee-0000-4000-8000-00000000000e';
const ROUTER = '11111111-1111-4111-8111-111111111111';
const PD = 'dddddddd-0000-4000-8000-00000000000d';
const OPTS = { host: 'h1', stateDir: '/s' };

function state(cidr = '::/64', withGateway = true): ApiState {
  return {
    networks: [{ id: NET, mtu: 1450 }, { id: EXT, mtu: 1500 }],
    subnets: [
      { id: PD, network_id: NET, ip_version: 6, cidr, gateway_ip: cidr === '::/64' ? '::' : cidr.replace('/64', '1'), enable_dhcp: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', subnetpool_id: 'prefix_delegation' } as ApiState['subnets'][number],
      { id: 'ext6', network_id: EXT, ip_version: 6, cidr: '2001:db8:d::/64', gateway_ip: '2001:db8:d::1', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null },
    ],
    ports: [
      { id: 'qr000000001-x', network_id: NET, mac_address: 'fa:16:3e:00:0a:01', device_owner: 'network:router_interface', device_id: ROUTER, fixed_ips: [{ subnet_id: PD, ip_address: cidr === '::/64' ? '::' : cidr.replace('/64', '1') }] },
      ...(withGateway ? [{ id: 'qg000000001-x', network_id: EXT, mac_address: 'fa:16:3e:00:0e:01', device_owner: 'network:router_gateway', device_id: ROUTER, fixed_ips: [{ subnet_id: 'ext6', ip_address: '2001:db8:d::5' }] }] : []),
    ],
    routers: [{ id: ROUTER }],
  };
}

test('a router with a gateway and a PD subnet runs one PD client: one IA_PD per subnet, DUID-LL of the gateway MAC', () => {
  const d = plan(state(), OPTS).daemons.find((x) => x.kind === 'pd-client')!;
  assert.equal(d.id, `pd-${ROUTER}`);
  assert.equal(d.namespace, `qrouter-${ROUTER}`);
  assert.equal(d.dir, `/s/pd/${ROUTER}`);
  assert.equal(d.reload, 'hup');
  assert.deepEqual(JSON.parse(d.files[0]!.content), { interface: 'qg-qg000000001', duid: '00030001fa163e000e01', ias: [{ subnet_id: PD, iaid: iaidOf(PD), length: 64 }] });
  assert.equal(plan(state('::/64', false), OPTS).daemons.filter((x) => x.kind === 'pd-client').length, 0, 'no gateway, no client');
});

test('the temporary ::/64 is not configured or advertised; the delegated prefix is', () => {
  const before = plan(state(), OPTS);
  const qr = before.namespaces.find((n) => n.kind === 'router')!.links.find((l) => l.name.startsWith('qr-'))!;
  assert.deepEqual(qr.addresses, []);
  assert.equal(before.daemons.filter((x) => x.kind === 'radvd').length, 0);
  const after = plan(state('2001:db8:face:7::/64'), OPTS);
  assert.deepEqual(after.namespaces.find((n) => n.kind === 'router')!.links.find((l) => l.name.startsWith('qr-'))!.addresses, ['2001:db8:face:7::1/64']);
  assert.match(after.daemons.find((x) => x.kind === 'radvd')!.files[0]!.content, /prefix 2001:db8:face:7::\/64/);
});

test('reports: a live lease gives its /64; an expired one, a router without a client, or none give ::/64', () => {
  const config = { interface: 'qg-x', duid: '00', ias: [{ subnet_id: PD, iaid: 1, length: 64 }] };
  const lease = { iaid: 1, prefix: '2001:db8:face:100::/56', preferred: 3600, valid: 7200, t1: 1800, t2: 2880, serverId: '00', obtainedAt: 0 };
  const client = (leases: PdClientState['leases']): PdClientState[] => [{ routerId: ROUTER, config, leases }];
  const hosted = new Set([ROUTER]);
  assert.deepEqual(pdReports(state(), client({ [PD]: lease }), hosted, 1000), [{ subnetId: PD, routerId: ROUTER, prefix: '2001:db8:face:100::/64' }]);
  assert.deepEqual(pdReports(state('2001:db8:face:100::/64'), client({ [PD]: lease }), hosted, 1000), [], 'already there');
  assert.deepEqual(pdReports(state('2001:db8:face:100::/64'), client({ [PD]: lease }), hosted, 7_200_001), [{ subnetId: PD, routerId: ROUTER, prefix: null }], 'expired');
  assert.deepEqual(pdReports(state('2001:db8:face:100::/64', false), [], hosted, 0), [{ subnetId: PD, routerId: ROUTER, prefix: null }], 'gateway gone');
  assert.deepEqual(pdReports(state('2001:db8:face:100::/64', false), [], new Set(), 0), [], 'another host hosts the router');
  assert.deepEqual(pdReports(state(), client({}), hosted, 0), [], 'waiting for a lease');
});

test('a replaced prefix is deprecated: preferred lifetime 0, valid 2 hours, the router lifetime left as it is', () => {
  const conf = deprecationConf('qr-abc', 1450, '2001:db8:face:7::/64');
  assert.match(conf, /^interface qr-abc\n/);
  assert.match(conf, /prefix 2001:db8:face:7::\/64\n\s*\{\n\s*AdvOnLink on;\n\s*AdvAutonomous on;\n\s*AdvPreferredLifetime 0;\n\s*AdvValidLifetime 7200;/);
  assert.doesNotMatch(conf, /AdvDefaultLifetime|DeprecatePrefix/);
});
