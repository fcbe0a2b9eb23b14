// The subnet rules of src/domain/subnet.ts. Expected texts are Neutron Zed's answers (peer at 127.0.0.1:9696),
// except where a comment says the behaviour comes from a later Neutron.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NeutronError } from '../../../src/domain/errors.js';
import * as rules from '../../../src/domain/subnet.js';
import { generatePools, type SubnetCreateContext, type SubnetDoc } from '../../../src/domain/subnet.js';
import { pyRepr } from '../../../src/domain/py.js';
import { validateIpAddress } from '../../../src/domain/netaddr.js';
import { convertAttributes, subnet } from '../../../src/schema/index.js';

// The rules see what the API hands them: the body after the schema's one conversion (whose errors come first).
const convert = (body: Record<string, unknown>): rules.SubnetRequest => convertAttributes(subnet, body) as rules.SubnetRequest;
const buildSubnet = (body: Record<string, unknown>, c: SubnetCreateContext) => rules.buildSubnet(convert(body), c);
const subnetRequestKind = (body: Record<string, unknown>) => rules.subnetRequestKind(convert(body));
const applySubnetUpdate = (existing: SubnetDoc, body: Record<string, unknown>, c: { siblings: SubnetDoc[] }) =>
  rules.applySubnetUpdate(existing, convert(body), c);
import { IpPrefix } from '../../../src/domain/ip.js';

const NET = '4b9842ab-6002-43f6-a429-e3cf476cf723';
const POOL = '23344d11-b95a-4b3c-a815-c7a7046421dd';
const ctx = (over: Partial<SubnetCreateContext> = {}): SubnetCreateContext => ({ networkId: NET, networkMtu: 1450, siblings: [], ...over });

function fails(fn: () => unknown, status: number, type: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NeutronError, String(e));
    assert.deepEqual({ status: e.status, type: e.type, message: e.message }, { status, type, message });
    return true;
  });
}

const v6 = (extra: Record<string, unknown> = {}) => ({ ip_version: 6, cidr: '2001:db8:cafe::/64', ...extra });

// ---------------------------------------------------------------------------------------------------------------

test('mode matrix: every ra_mode x address_mode (omitted, null, three values) on a /64 and an /80', () => {
  const values = ['omit', 'null', 'slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;
  const auto = (m: string) => m === 'slaac' || m === 'dhcpv6-stateless';
  let checked = 0;
  for (const cidr of ['2001:db8:cafe::/64', '2001:db8:cafe::/80']) {
    for (const ra of values) {
      for (const am of values) {
        const body: Record<string, unknown> = { ip_version: 6, cidr };
        if (ra !== 'omit') body.ipv6_ra_mode = ra === 'null' ? null : ra;
        if (am !== 'omit') body.ipv6_address_mode = am === 'null' ? null : am;
        const run = () => buildSubnet(body, ctx());
        checked++;
        if (ra === 'null') {
          fails(run, 400, 'HTTPBadRequest', 'Invalid input for ipv6_ra_mode. Reason: None is not in valid_values.');
        } else if (am === 'null') {
          fails(run, 400, 'HTTPBadRequest', 'Invalid input for ipv6_address_mode. Reason: None is not in valid_values.');
        } else if (ra !== 'omit' && am !== 'omit' && ra !== am) {
          fails(
            run,
            400,
            'InvalidInput',
            `Invalid input for operation: ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${am}' is not valid. If both attributes are set, they must be the same value.`,
          );
        } else if (cidr.endsWith('/80') && (auto(ra) || auto(am))) {
          fails(
            run,
            400,
            'InvalidInput',
            'Invalid input for operation: Invalid CIDR 2001:db8:cafe::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64.',
          );
        } else {
          const s = run();
          assert.equal(s.ipv6_ra_mode, ra === 'omit' ? null : ra);
          assert.equal(s.ipv6_address_mode, am === 'omit' ? null : am);
        }
      }
    }
  }
  assert.equal(checked, 50);
});

test('modes need DHCP and IPv6; a bad value names itself', () => {
  for (const [ra, am] of [['slaac', undefined], [undefined, 'dhcpv6-stateful'], ['dhcpv6-stateless', 'dhcpv6-stateless']]) {
    fails(
      () => buildSubnet(v6({ ipv6_ra_mode: ra, ipv6_address_mode: am, enable_dhcp: false }), ctx()),
      400,
      'InvalidInput',
      'Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.',
    );
  }
  fails(
    () => buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'dhcpv6-stateful' }, ctx()),
    400,
    'InvalidInput',
    'Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4.',
  );
  fails(
    () => buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24', ipv6_address_mode: 'slaac' }, ctx()),
    400,
    'InvalidInput',
    'Invalid input for operation: ipv6_address_mode is not valid when ip_version is 4.',
  );
  fails(() => buildSubnet(v6({ ipv6_ra_mode: 'foo', ipv6_address_mode: 'bar' }), ctx()), 400, 'HTTPBadRequest', 'Invalid input for ipv6_ra_mode. Reason: foo is not in valid_values.');
  // dhcpv6-stateful may use any length DHCP allows.
  assert.equal(buildSubnet(v6({ cidr: '2001:db8::/80', ipv6_ra_mode: 'dhcpv6-stateful' }), ctx()).cidr, '2001:db8::/80');
});

test('IPv6 defaults: subnet-router anycast gateway, pool from ::1 to the last address', () => {
  const s = buildSubnet(v6(), ctx());
  assert.deepEqual(
    { cidr: s.cidr, gateway_ip: s.gateway_ip, allocation_pools: s.allocation_pools, enable_dhcp: s.enable_dhcp },
    {
      cidr: '2001:db8:cafe::/64',
      gateway_ip: '2001:db8:cafe::',
      allocation_pools: [{ start: '2001:db8:cafe::1', end: '2001:db8:cafe:0:ffff:ffff:ffff:ffff' }],
      enable_dhcp: true,
    },
  );
  assert.deepEqual([s.dns_nameservers, s.host_routes, s.subnetpool_id], [[], [], null]);
  // An explicit gateway inside the range is cut out of it; null means no gateway and the whole range.
  assert.deepEqual(buildSubnet(v6({ gateway_ip: '2001:DB8:CAFE::5' }), ctx()).allocation_pools, [
    { start: '2001:db8:cafe::1', end: '2001:db8:cafe::4' },
    { start: '2001:db8:cafe::6', end: '2001:db8:cafe:0:ffff:ffff:ffff:ffff' },
  ]);
  const none = buildSubnet(v6({ gateway_ip: null }), ctx());
  assert.equal(none.gateway_ip, null);
  assert.deepEqual(none.allocation_pools, [{ start: '2001:db8:cafe::1', end: '2001:db8:cafe:0:ffff:ffff:ffff:ffff' }]);
  // Off-subnet, link-local and the anycast address itself are all accepted gateways.
  for (const gw of ['2001:db8:beef::1', 'fe80::1', '2001:db8:cafe::']) assert.equal(buildSubnet(v6({ gateway_ip: gw }), ctx()).gateway_ip, gw);
  // Host bits of the cidr are cleared, the text is canonical.
  assert.equal(buildSubnet(v6({ cidr: '2001:DB8:1::1/64' }), ctx()).cidr, '2001:db8:1::/64');
});

test('IPv4 defaults: first host as gateway, network and broadcast excluded; tiny subnets', () => {
  const s = buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24' }, ctx());
  assert.equal(s.gateway_ip, '10.0.0.1');
  assert.deepEqual(s.allocation_pools, [{ start: '10.0.0.2', end: '10.0.0.254' }]);
  assert.deepEqual(buildSubnet({ ip_version: 4, cidr: '10.26.0.0/30' }, ctx()).allocation_pools, [{ start: '10.26.0.2', end: '10.26.0.2' }]);
  const host = buildSubnet({ ip_version: 4, cidr: '10.20.0.5', enable_dhcp: false }, ctx());
  assert.deepEqual([host.cidr, host.gateway_ip, host.allocation_pools], ['10.20.0.5/32', '10.20.0.6', [{ start: '10.20.0.5', end: '10.20.0.5' }]]);
  // A /31's default gateway is its "broadcast" address: IpamValueInvalid, a 409 in Neutron.
  fails(() => buildSubnet({ ip_version: 4, cidr: '10.24.0.0/31', enable_dhcp: false }, ctx()), 409, 'IpamValueInvalid', 'Gateway IP 10.24.0.1 cannot be allocated in CIDR 10.24.0.0/31');
  // netaddr's lenient cidr spellings.
  assert.equal(buildSubnet({ ip_version: 4, cidr: '10/8' }, ctx()).cidr, '10.0.0.0/8');
  assert.equal(buildSubnet({ ip_version: 4, cidr: '010.21.0.0/16' }, ctx()).cidr, '10.21.0.0/16');
  assert.equal(buildSubnet({ ip_version: 4, cidr: '10.0.0.0/255.255.0.0' }, ctx()).cidr, '10.0.0.0/16');
});

test('generatePools: single-address, /127 and gateway at either end', () => {
  const p = (c: string, gw: string | null) => generatePools(IpPrefix.parse(c)!, gw).map((r) => r.toString());
  assert.deepEqual(p('2001:db8::/128', '2001:db8::'), ['2001:db8::-2001:db8::']);
  assert.deepEqual(p('2001:db8::/127', '2001:db8::'), ['2001:db8::1-2001:db8::1']);
  assert.deepEqual(p('2001:db8::/126', '2001:db8::1'), ['2001:db8::2-2001:db8::3']);
  assert.deepEqual(p('2001:db8::/126', '2001:db8::3'), ['2001:db8::1-2001:db8::2']);
  assert.deepEqual(p('10.0.0.0/24', '10.0.0.254'), ['10.0.0.1-10.0.0.253']);
  assert.deepEqual(p('10.0.0.0/31', null), ['10.0.0.0-10.0.0.1']);
});

test('cidr, ip_version and DHCP size errors', () => {
  fails(() => buildSubnet({ ip_version: 4, cidr: '2001:db8:cafe:40::/64' }, ctx()), 400, 'InvalidInput', "Invalid input for operation: cidr '2001:db8:cafe:40::/64' does not match the ip_version '4'.");
  fails(() => buildSubnet(v6({ cidr: '2001:db8:aaaa:zz::/64' }), ctx()), 400, 'InvalidInput', 'Invalid input for operation: 2001:db8:aaaa:zz::/64 is not in a CIDR format.');
  fails(() => buildSubnet(v6({ cidr: '2001:db8:2::/129' }), ctx()), 400, 'InvalidInput', 'Invalid input for operation: 2001:db8:2::/129 is not in a CIDR format.');
  fails(() => buildSubnet(v6({ cidr: '::/0' }), ctx()), 400, 'InvalidInput', 'Invalid input for operation: 0 is not allowed as CIDR prefix length.');
  // Neutron 2024.1 (LP#2028159); Zed still accepted it.
  fails(() => buildSubnet(v6({ cidr: '::/64' }), ctx()), 400, 'InvalidInput', "Invalid input for operation: IPv6 subnet '::' is not supported.");
  for (const cidr of ['2001:db8::/127', '2001:db8::/128']) {
    fails(() => buildSubnet(v6({ cidr }), ctx()), 400, 'InvalidInput', 'Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled.');
    assert.equal(buildSubnet(v6({ cidr, enable_dhcp: false }), ctx()).cidr, cidr);
  }
  for (const cidr of ['10.0.0.0/31', '10.0.0.0/32']) {
    fails(() => buildSubnet({ ip_version: 4, cidr }, ctx()), 400, 'InvalidInput', 'Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled.');
  }
  fails(() => buildSubnet(v6({ ip_version: 'x' }), ctx()), 400, 'InvalidInput', "Invalid input for operation: 'x' is not an integer.");
  fails(() => buildSubnet(v6({ ip_version: 5 }), ctx()), 400, 'HTTPBadRequest', 'Invalid input for ip_version. Reason: 5 is not in valid_values.');
  fails(() => buildSubnet(v6({ enable_dhcp: null }), ctx()), 400, 'InvalidInput', "Invalid input for operation: 'None' cannot be converted to boolean.");
  assert.equal(buildSubnet(v6({ ip_version: '6', enable_dhcp: 'yes' }), ctx()).enable_dhcp, true);
});

test('gateway errors', () => {
  for (const gw of ['10.0.0.0', '10.0.0.255']) {
    fails(() => buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24', gateway_ip: gw }, ctx()), 400, 'InvalidInput', 'Invalid input for operation: Gateway is not valid on subnet.');
  }
  assert.equal(buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24', gateway_ip: '10.99.0.1' }, ctx()).gateway_ip, '10.99.0.1');
  fails(() => buildSubnet(v6({ gateway_ip: '10.0.0.1' }), ctx()), 400, 'InvalidInput', "Invalid input for operation: gateway_ip '10.0.0.1' does not match the ip_version '6'.");
  fails(() => buildSubnet(v6({ gateway_ip: 'bogus' }), ctx()), 400, 'HTTPBadRequest', "Invalid input for gateway_ip. Reason: 'bogus' is not a valid IP address.");
  fails(() => buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24', gateway_ip: '10.0.0.010' }, ctx()), 400, 'HTTPBadRequest', "Invalid input for gateway_ip. Reason: '10.0.0.010' is not an accepted IP address, '10.0.0.10' is recommended.");
});

test('allocation pool errors', () => {
  const c6 = '2001:db8:aaaa:116::/64';
  fails(
    () => buildSubnet(v6({ cidr: c6, allocation_pools: [{ start: '2001:db8:aaaa:116::10', end: '2001:db8:aaaa:116::50' }, { start: '2001:db8:aaaa:116::40', end: '2001:db8:aaaa:116::60' }] }), ctx()),
    409,
    'OverlappingAllocationPools',
    'Found overlapping allocation pools: 2001:db8:aaaa:116::10-2001:db8:aaaa:116::50 2001:db8:aaaa:116::40-2001:db8:aaaa:116::60 for subnet 2001:db8:aaaa:116::/64.',
  );
  fails(
    () => buildSubnet({ ip_version: 4, cidr: '10.98.6.0/24', gateway_ip: '10.98.6.10', allocation_pools: [{ start: '10.98.6.5', end: '10.98.6.20' }] }, ctx()),
    409,
    'GatewayConflictWithAllocationPools',
    'Gateway ip 10.98.6.10 conflicts with allocation pool 10.98.6.5-10.98.6.20.',
  );
  // The default gateway counts too.
  fails(() => buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24', allocation_pools: [{ start: '10.0.0.1', end: '10.0.0.5' }] }, ctx()), 409, 'GatewayConflictWithAllocationPools', 'Gateway ip 10.0.0.1 conflicts with allocation pool 10.0.0.1-10.0.0.5.');
  fails(
    () => buildSubnet(v6({ cidr: '2001:db8:aaaa:117::/64', allocation_pools: [{ start: '2001:db8:aaaa:118::10', end: '2001:db8:aaaa:118::20' }] }), ctx()),
    400,
    'OutOfBoundsAllocationPool',
    'The allocation pool 2001:db8:aaaa:118::10-2001:db8:aaaa:118::20 spans beyond the subnet cidr 2001:db8:aaaa:117::/64.',
  );
  // The IPv6 network address is inside the cidr but not allowed in a pool.
  fails(() => buildSubnet(v6({ allocation_pools: [{ start: '2001:db8:cafe::', end: '2001:db8:cafe::5' }] }), ctx()), 400, 'OutOfBoundsAllocationPool', 'The allocation pool 2001:db8:cafe::-2001:db8:cafe::5 spans beyond the subnet cidr 2001:db8:cafe::/64.');
  fails(() => buildSubnet({ ip_version: 4, cidr: '10.98.10.0/24', allocation_pools: [{ start: '10.98.10.50', end: '10.98.10.10' }] }, ctx()), 400, 'InvalidAllocationPool', "The allocation pool {'start': '10.98.10.50', 'end': '10.98.10.10'} is not valid.");
  fails(() => buildSubnet(v6({ allocation_pools: [{ end: '2001:db8:cafe::10', start: '2001:db8:cafe::' + '20' }] }), ctx()), 400, 'InvalidAllocationPool', "The allocation pool {'end': '2001:db8:cafe::10', 'start': '2001:db8:cafe::20'} is not valid.");
  fails(() => buildSubnet(v6({ allocation_pools: [{ start: '10.0.0.1', end: '10.0.0.9' }] }), ctx()), 400, 'InvalidAllocationPool', 'The allocation pool 10.0.0.1-10.0.0.9 is not valid.');
  fails(() => buildSubnet(v6({ allocation_pools: [{ start: '2001:db8:cafe::1' }] }), ctx()), 400, 'HTTPBadRequest', "Invalid input for allocation_pools. Reason: Validation of dictionary's keys failed. Expected keys: {'start', 'end'} Provided keys: {'start'}.");
  fails(() => buildSubnet(v6({ allocation_pools: null }), ctx()), 400, 'HTTPBadRequest', "Invalid input for allocation_pools. Reason: Invalid data format for IP pool: 'None'.");
  fails(() => buildSubnet(v6({ allocation_pools: ['x'] }), ctx()), 400, 'HTTPBadRequest', "Invalid input for allocation_pools. Reason: Invalid input. 'x' must be a dictionary with keys: ['start', 'end'].");
  // Given pools come back sorted; an empty list means the default pool.
  assert.deepEqual(
    buildSubnet(v6({ allocation_pools: [{ start: '2001:db8:cafe::10', end: '2001:db8:cafe::20' }, { start: '2001:DB8:CAFE::1', end: '2001:db8:cafe::5' }] }), ctx()).allocation_pools,
    [{ start: '2001:db8:cafe::1', end: '2001:db8:cafe::5' }, { start: '2001:db8:cafe::10', end: '2001:db8:cafe::20' }],
  );
  assert.equal(buildSubnet(v6({ allocation_pools: [] }), ctx()).allocation_pools.length, 1);
});

test('dns_nameservers and host_routes', () => {
  fails(() => buildSubnet(v6({ dns_nameservers: ['not-an-ip'] }), ctx()), 400, 'HTTPBadRequest', "Invalid input for dns_nameservers. Reason: 'not-an-ip' is not a valid nameserver. 'not-an-ip' is not a valid IP address.");
  fails(() => buildSubnet(v6({ dns_nameservers: ['2001:db8::1', '2001:db8::1'] }), ctx()), 400, 'HTTPBadRequest', "Invalid input for dns_nameservers. Reason: Duplicate nameserver '2001:db8::1'.");
  fails(() => buildSubnet(v6({ dns_nameservers: ['8.8.8.8'] }), ctx()), 400, 'InvalidInput', "Invalid input for operation: dns_nameserver '8.8.8.8' does not match the ip_version '6'.");
  fails(() => buildSubnet(v6({ dns_nameservers: ['::1', '::2', '::3', '::4', '::5', '8.8.8.8'] }), ctx()), 400, 'DNSNameServersExhausted', 'Unable to complete operation for new subnet. The number of DNS nameservers exceeds the limit 5.');
  // Stored as given, not canonicalised; null means none.
  assert.deepEqual(buildSubnet(v6({ dns_nameservers: ['2001:DB8::1', '2001:db8::1'] }), ctx()).dns_nameservers, ['2001:DB8::1', '2001:db8::1']);
  assert.deepEqual(buildSubnet(v6({ dns_nameservers: null, host_routes: null }), ctx()).host_routes, []);

  const route = (destination: string, nexthop: string) => v6({ host_routes: [{ destination, nexthop }] });
  assert.deepEqual(buildSubnet(route('2001:DB8:ff::/48', '2001:DB8:cafe::1'), ctx()).host_routes, [{ destination: '2001:DB8:ff::/48', nexthop: '2001:db8:cafe::1' }]);
  fails(() => buildSubnet(route('2001:db8:ff::1/48', '2001:db8:cafe::1'), ctx()), 400, 'HTTPBadRequest', "Invalid input for host_routes. Reason: '2001:db8:ff::1/48' is not a recognized CIDR, '2001:db8:ff::/48' is recommended.");
  fails(() => buildSubnet(route('2001:db8:ff::', '2001:db8:cafe::1'), ctx()), 400, 'HTTPBadRequest', "Invalid input for host_routes. Reason: '2001:db8:ff::' is not a recognized CIDR, '2001:db8:ff::/128' is recommended.");
  fails(() => buildSubnet(route('x', '2001:db8:cafe::1'), ctx()), 400, 'HTTPBadRequest', "Invalid input for host_routes. Reason: 'x' is not a valid CIDR.");
  fails(() => buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24', host_routes: [{ destination: '127.0.0.0/8', nexthop: '10.0.0.1' }] }, ctx()), 400, 'HTTPBadRequest', "Invalid input for host_routes. Reason: '127.0.0.0/8' is not a routable CIDR.");
  fails(() => buildSubnet(route('10.0.0.0/8', '2001:db8:cafe::1'), ctx()), 400, 'InvalidInput', "Invalid input for operation: destination '10.0.0.0/8' does not match the ip_version '6'.");
  fails(() => buildSubnet(route('2001:db8:ff::/48', '10.0.0.1'), ctx()), 400, 'InvalidInput', "Invalid input for operation: nexthop '10.0.0.1' does not match the ip_version '6'.");
  const twice = { destination: '2001:db8:ff::/48', nexthop: '2001:db8:cafe::1' };
  fails(() => buildSubnet(v6({ host_routes: [twice, { ...twice }] }), ctx()), 400, 'HTTPBadRequest', "Invalid input for host_routes. Reason: Duplicate hostroute '{'destination': '2001:db8:ff::/48', 'nexthop': '2001:db8:cafe::1'}'.");
  const many = Array.from({ length: 21 }, (_, i) => ({ destination: `2001:db8:${i.toString(16)}::/48`, nexthop: '2001:db8:cafe::1' }));
  fails(() => buildSubnet(v6({ host_routes: many }), ctx()), 400, 'HostRoutesExhausted', 'Unable to complete operation for new subnet. The number of host routes exceeds the limit 20.');
});

test('the first fault wins, in Neutron order', () => {
  // Attribute-level errors (map order) before plugin checks.
  fails(() => buildSubnet(v6({ gateway_ip: 'bogus', ipv6_ra_mode: 'foo' }), ctx()), 400, 'HTTPBadRequest', "Invalid input for gateway_ip. Reason: 'bogus' is not a valid IP address.");
  // gateway family before the mode combination, the combination before pool bounds.
  fails(() => buildSubnet(v6({ gateway_ip: '10.0.0.1', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'dhcpv6-stateful' }), ctx()), 400, 'InvalidInput', "Invalid input for operation: gateway_ip '10.0.0.1' does not match the ip_version '6'.");
  fails(
    () => buildSubnet(v6({ allocation_pools: [{ start: '2001:db8:31::1', end: '2001:db8:31::10' }], ipv6_ra_mode: 'slaac', ipv6_address_mode: 'dhcpv6-stateful' }), ctx()),
    400,
    'InvalidInput',
    "Invalid input for operation: ipv6_ra_mode set to 'slaac' with ipv6_address_mode set to 'dhcpv6-stateful' is not valid. If both attributes are set, they must be the same value.",
  );
  // DHCP size before the gateway; overlapping pools (409) before the gateway-in-pool conflict.
  fails(() => buildSubnet(v6({ cidr: '2001:db8::/127', gateway_ip: '10.0.0.1' }), ctx()), 400, 'InvalidInput', 'Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled.');
  fails(
    () => buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24', allocation_pools: [{ start: '10.0.0.1', end: '10.0.0.9' }, { start: '10.0.0.5', end: '10.0.0.20' }] }, ctx()),
    409,
    'OverlappingAllocationPools',
    'Found overlapping allocation pools: 10.0.0.1-10.0.0.9 10.0.0.5-10.0.0.20 for subnet 10.0.0.0/24.',
  );
  fails(() => buildSubnet({ ip_version: 4, cidr: '0.0.0.0/0' }, ctx()), 400, 'InvalidInput', "Invalid input for operation: First IP '0.0.0.0' of network is not supported if enable_dhcp is True..");
  fails(() => buildSubnet({ ip_version: 4, cidr: '0.0.0.0/0', enable_dhcp: false }, ctx()), 400, 'InvalidInput', 'Invalid input for operation: 0 is not allowed as CIDR prefix length.');
});

const sibling = (over: Partial<SubnetDoc>): SubnetDoc => ({
  id: '11111111-1111-4111-8111-111111111111',
  network_id: NET,
  ip_version: 6,
  cidr: '2001:db8:cafe::/48',
  gateway_ip: null,
  allocation_pools: [],
  dns_nameservers: [],
  host_routes: [],
  enable_dhcp: true,
  ipv6_ra_mode: null,
  ipv6_address_mode: null,
  subnetpool_id: null,
  ...over,
});

test('siblings: overlap on the same network, subnet pool affinity, PD placeholders ignored', () => {
  fails(
    () => buildSubnet(v6({ cidr: '2001:db8:cafe:200::/64' }), ctx({ siblings: [sibling({})] })),
    400,
    'InvalidInput',
    `Invalid input for operation: Requested subnet with cidr: 2001:db8:cafe:200::/64 for network: ${NET} overlaps with another subnet.`,
  );
  const affinity = 'Subnets hosted on the same network must be allocated from the same subnet pool.';
  // A PD placeholder (::/64) never overlaps; PD counts as a pool for the affinity rule.
  fails(() => buildSubnet(v6({ cidr: '0:0:0:0:1::/80', enable_dhcp: false }), ctx({ siblings: [sibling({ cidr: '::/64', subnetpool_id: 'prefix_delegation' })] })), 400, 'NetworkSubnetPoolAffinityError', affinity);
  // A cidr subnet next to a pool subnet of the same family, and the other way round.
  fails(() => buildSubnet(v6({ cidr: '2001:db8:aa::/64' }), ctx({ siblings: [sibling({ cidr: '2001:db8:e000::/64', subnetpool_id: POOL })] })), 400, 'NetworkSubnetPoolAffinityError', affinity);
  fails(
    () => buildSubnet({ ip_version: 6, subnetpool_id: POOL }, ctx({ siblings: [sibling({ cidr: '2001:db8:ab::/64' })], fromPool: { subnetpoolId: POOL, cidr: '2001:db8:e000::/64' } })),
    400,
    'NetworkSubnetPoolAffinityError',
    affinity,
  );
  // Other family: no constraint. Same pool: fine.
  assert.equal(buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24' }, ctx({ siblings: [sibling({ subnetpool_id: POOL })] })).cidr, '10.0.0.0/24');
  assert.equal(
    buildSubnet({ ip_version: 6, subnetpool_id: POOL }, ctx({ siblings: [sibling({ cidr: '2001:db8:e000::/64', subnetpool_id: POOL })], fromPool: { subnetpoolId: POOL, cidr: '2001:db8:e000:1::/64' } })).cidr,
    '2001:db8:e000:1::/64',
  );
});

test('network MTU below 1280 refuses an IPv6 subnet (NetworkMTUSubnetConflict, Neutron 2024.1; Zed accepted it)', () => {
  fails(() => buildSubnet(v6(), ctx({ networkMtu: 1200 })), 409, 'NetworkMTUSubnetConflict', `MTU of ${NET} is not valid, subnet requires a minimum of 1280`);
  assert.equal(buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24' }, ctx({ networkMtu: 1200 })).cidr, '10.0.0.0/24');
  fails(() => buildSubnet({ ip_version: 4, cidr: '10.0.0.0/24' }, ctx({ networkMtu: 60 })), 409, 'NetworkMTUSubnetConflict', `MTU of ${NET} is not valid, subnet requires a minimum of 68`);
  assert.equal(buildSubnet(v6(), ctx({ networkMtu: 1280 })).cidr, '2001:db8:cafe::/64');
});

test('request kinds', () => {
  assert.equal(subnetRequestKind(v6()), 'cidr');
  assert.equal(subnetRequestKind({ ip_version: 6, subnetpool_id: POOL }), 'pool');
  assert.equal(subnetRequestKind({ ip_version: 6, subnetpool_id: POOL, cidr: '2001:db8:e000:ff::/64' }), 'pool');
  assert.equal(subnetRequestKind({ ip_version: 6, use_default_subnetpool: true, prefixlen: 64 }), 'default-pool');
  assert.equal(subnetRequestKind({ ip_version: 6, cidr: '2001:db8::/64', subnetpool_id: null }), 'cidr');
  fails(() => subnetRequestKind({ ip_version: 6, prefixlen: 64 }), 400, 'BadRequest', 'Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
  fails(() => subnetRequestKind({ ip_version: 6 }), 400, 'BadRequest', 'Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
  fails(() => subnetRequestKind(v6({ prefixlen: 64 })), 400, 'BadRequest', 'Bad subnets request: cidr and prefixlen must not be supplied together.');
  fails(() => subnetRequestKind({ ip_version: 6, subnetpool_id: POOL, use_default_subnetpool: true }), 400, 'BadRequest', 'Bad subnets request: subnetpool_id and use_default_subnetpool cannot both be specified.');
  fails(
    () => subnetRequestKind({ ip_version: 6, subnetpool_id: POOL, allocation_pools: [{ start: '2001:db8::1', end: '2001:db8::2' }] }),
    400,
    'BadRequest',
    'Bad subnets request: allocation_pools allowed only for specific subnet requests..',
  );
  fails(() => subnetRequestKind({ ip_version: 6, subnetpool_id: 'nope' }), 400, 'HTTPBadRequest', "Invalid input for subnetpool_id. Reason: 'nope' is not a valid UUID.");
  fails(() => subnetRequestKind({ ip_version: 6, subnetpool_id: POOL, prefixlen: -1 }), 400, 'HTTPBadRequest', "Invalid input for prefixlen. Reason: '-1' should be non-negative.");
  fails(() => subnetRequestKind({ ip_version: 6, subnetpool_id: POOL, prefixlen: 'abc' }), 400, 'InvalidInput', "Invalid input for operation: 'abc' is not an integer.");
});

test('subnets from a pool: ::1 gateway and pool from ::2 unless the cidr was explicit (Zed)', () => {
  const from = (body: Record<string, unknown>, cidr: string) => buildSubnet({ ip_version: 6, subnetpool_id: POOL, ...body }, ctx({ fromPool: { subnetpoolId: POOL, cidr } }));
  const any = from({}, '2001:db8:face::/64');
  assert.deepEqual([any.cidr, any.gateway_ip, any.allocation_pools, any.subnetpool_id], [
    '2001:db8:face::/64',
    '2001:db8:face::1',
    [{ start: '2001:db8:face::2', end: '2001:db8:face:0:ffff:ffff:ffff:ffff' }],
    POOL,
  ]);
  // Zed ignores gateway_ip null on a pool request without cidr.
  assert.equal(from({ gateway_ip: null }, '2001:db8:e000:1::/64').gateway_ip, '2001:db8:e000:1::1');
  // An explicit cidr behaves like a plain cidr subnet: anycast gateway, pool from ::1.
  const explicit = from({ cidr: '2001:db8:e000:ff::/64' }, '2001:db8:e000:ff::/64');
  assert.deepEqual([explicit.gateway_ip, explicit.allocation_pools[0]!.start], ['2001:db8:e000:ff::', '2001:db8:e000:ff::1']);
  // A gateway without cidr makes the request specific; the pool skips the gateway.
  const gw = from({ gateway_ip: '2001:db8:e000:fd::1' }, '2001:db8:e000:fd::/64');
  assert.deepEqual([gw.gateway_ip, gw.allocation_pools], ['2001:db8:e000:fd::1', [{ start: '2001:db8:e000:fd::2', end: '2001:db8:e000:fd:ffff:ffff:ffff:ffff' }]]);
  const v4 = buildSubnet({ ip_version: 4, subnetpool_id: POOL }, ctx({ fromPool: { subnetpoolId: POOL, cidr: '10.1.0.0/24' } }));
  assert.deepEqual([v4.gateway_ip, v4.allocation_pools], ['10.1.0.1', [{ start: '10.1.0.2', end: '10.1.0.254' }]]);
  fails(() => buildSubnet({ ip_version: 4, subnetpool_id: POOL }, ctx({ fromPool: { subnetpoolId: POOL, cidr: '2001:db8:e000::/64' } })), 400, 'BadRequest', 'Bad subnets request: Cannot allocate IPv4 subnet from IPv6 subnet pool.');
  // Later Neutron validates pool subnets like others (Zed let SLAAC on an /80 through).
  fails(
    () => from({ ipv6_ra_mode: 'slaac', prefixlen: 80 }, '2001:db8:e000:fc::/80'),
    400,
    'InvalidInput',
    'Invalid input for operation: Invalid CIDR 2001:db8:e000:fc::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64.',
  );
});

// ---------------------------------------------------------------------------------------------------------------

const existing = (over: Partial<SubnetDoc> = {}): SubnetDoc =>
  sibling({
    id: '8b12a6d8-9010-46ec-9655-19ffe66a26e9',
    cidr: '2001:db8:50::/64',
    gateway_ip: '2001:db8:50::',
    allocation_pools: [{ start: '2001:db8:50::1', end: '2001:db8:50:0:ffff:ffff:ffff:ffff' }],
    ipv6_ra_mode: 'slaac',
    ipv6_address_mode: 'slaac',
    ...over,
  });

test('updates (answers recorded on the peer)', () => {
  const up = (doc: SubnetDoc, body: Record<string, unknown>) => applySubnetUpdate(doc, body, { siblings: [] });
  fails(() => up(existing(), { enable_dhcp: false }), 400, 'InvalidInput', 'Invalid input for operation: Cannot disable enable_dhcp with ipv6 attributes set.');
  fails(() => up(existing(), { enable_dhcp: false, gateway_ip: '10.0.0.1' }), 400, 'InvalidInput', "Invalid input for operation: gateway_ip '10.0.0.1' does not match the ip_version '6'.");
  fails(() => up(existing(), { gateway_ip: '2001:db8:50::5' }), 409, 'GatewayConflictWithAllocationPools', 'Gateway ip 2001:db8:50::5 conflicts with allocation pool 2001:db8:50::1-2001:db8:50:0:ffff:ffff:ffff:ffff.');
  assert.deepEqual(up(existing(), { gateway_ip: null }), { gateway_ip: null });
  // The gateway change does not regenerate pools.
  assert.deepEqual(up(existing(), { gateway_ip: '2001:db8:50::' }), { gateway_ip: '2001:db8:50::' });
  const pools = [{ start: '2001:db8:50::10', end: '2001:db8:50::20' }];
  fails(() => up(existing(), { allocation_pools: pools, gateway_ip: '2001:db8:50::15' }), 409, 'GatewayConflictWithAllocationPools', 'Gateway ip 2001:db8:50::15 conflicts with allocation pool 2001:db8:50::10-2001:db8:50::20.');
  assert.deepEqual(up(existing(), { allocation_pools: pools }), { allocation_pools: pools });
  assert.deepEqual(up(existing({ allocation_pools: pools }), { gateway_ip: '2001:db8:50::25' }), { gateway_ip: '2001:db8:50::25' });
  fails(() => up(existing(), { dns_nameservers: ['::1', '::1'] }), 400, 'HTTPBadRequest', "Invalid input for dns_nameservers. Reason: Duplicate nameserver '::1'.");
  fails(() => up(existing(), { dns_nameservers: ['::1', '::2', '::3', '::4', '::5', '::6'] }), 400, 'DNSNameServersExhausted', 'Unable to complete operation for 8b12a6d8-9010-46ec-9655-19ffe66a26e9. The number of DNS nameservers exceeds the limit 5.');
  assert.deepEqual(up(existing(), { dns_nameservers: null }), { dns_nameservers: [] });
  assert.deepEqual(up(existing(), { host_routes: [{ destination: '::/0', nexthop: '::1' }] }), { host_routes: [{ destination: '::/0', nexthop: '::1' }] });

  const tiny = existing({ id: 'b', cidr: '2001:db8:51::/127', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null, allocation_pools: [{ start: '2001:db8:51::1', end: '2001:db8:51::1' }] });
  fails(() => up(tiny, { enable_dhcp: true }), 400, 'InvalidInput', 'Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled.');
  fails(() => up(tiny, { enable_dhcp: true, gateway_ip: 'bogus' }), 400, 'HTTPBadRequest', "Invalid input for gateway_ip. Reason: 'bogus' is not a valid IP address.");

  const v4 = sibling({ id: 'c', ip_version: 4, cidr: '10.50.0.0/24', gateway_ip: '10.50.0.1', allocation_pools: [{ start: '10.50.0.10', end: '10.50.0.20' }] });
  fails(() => up(v4, { gateway_ip: '10.50.0.255' }), 400, 'InvalidInput', 'Invalid input for operation: Gateway is not valid on subnet.');
  fails(() => up(v4, { gateway_ip: '10.50.0.15' }), 409, 'GatewayConflictWithAllocationPools', 'Gateway ip 10.50.0.15 conflicts with allocation pool 10.50.0.10-10.50.0.20.');
  fails(() => up(v4, { gateway_ip: '10.50.0.15', allocation_pools: [{ start: '10.50.0.100', end: '10.50.0.20' }] }), 400, 'InvalidAllocationPool', "The allocation pool {'start': '10.50.0.100', 'end': '10.50.0.20'} is not valid.");
  fails(() => up(v4, { allocation_pools: [{ start: '10.50.0.0', end: '10.50.0.20' }] }), 400, 'OutOfBoundsAllocationPool', 'The allocation pool 10.50.0.0-10.50.0.20 spans beyond the subnet cidr 10.50.0.0/24.');
  assert.deepEqual(up(v4, { allocation_pools: [] }), { allocation_pools: [] });
  fails(() => up(v4, { allocation_pools: null }), 400, 'HTTPBadRequest', "Invalid input for allocation_pools. Reason: Invalid data format for IP pool: 'None'.");
  assert.deepEqual(up(v4, { enable_dhcp: 'false' }), { enable_dhcp: false });
  // Non-semantic attributes are ignored here.
  assert.deepEqual(up(v4, { name: 'x', description: 'y' }), {});
});

test('Python formatting helpers behind the texts', () => {
  assert.equal(pyRepr({ start: '10.0.0.5', end: "it's" }), `{'start': '10.0.0.5', 'end': "it's"}`);
  assert.equal(pyRepr([1, null, true, 'a']), "[1, None, True, 'a']");
  assert.equal(validateIpAddress('1.2.3'), "'1.2.3' is not a valid IP address");
  assert.equal(validateIpAddress(null), "'None' is not a valid IP address");
  assert.equal(validateIpAddress('::1'), null);
  assert.equal(validateIpAddress(' ::1'), "' ::1' is not a valid IP address");
});
