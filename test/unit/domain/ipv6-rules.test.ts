// The IPv6 and addressing rules of src/domain/ipv6, as tables of Neutron's expected values written out literally
// (never computed with the code's own expressions). Sources: neutron-lib constants; neutron
// db_base_plugin_v2._validate_ipv6_attributes; ipv6_utils.is_auto_address_subnet; agent/linux/ra.py;
// agent/linux/dhcp.py; ipam_pluggable_backend.py; ipam/utils.check_subnet_ip; the recorded answers of Neutron Zed
// in test/fixtures/http-cases/neutron-zed.json (cases named in the rows).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NeutronError } from '../../../src/domain/errors.js';
import {
  AUTO_DELETE_PORT_OWNERS,
  IPV6_MIN_MTU,
  IPV6_MODES,
  ROUTER_INTERFACE_OWNERS,
  ROUTER_INTERFACE_OWNERS_SNAT,
  ROUTER_PORT_OWNERS,
  backfillAddress,
  checkSubnetIp,
  dhcpv6Service,
  dnsmasqRangeMode,
  getsAutoAddresses,
  hostIpv6Setup,
  isAutoAddressSubnet,
  isExternalRouterSubnet,
  ipv6AttributesError,
  ipv6DhcpUpdateError,
  modeCombinationError,
  planEui64Renumbering,
  planPortAddresses,
  planPortAddressUpdate,
  raFlags,
  rdnssInRa,
  routerAdvertises,
  subnetDeleteTakesAddress,
  upstreamRaFlags,
  type AddressingSubnet,
  type RaFlags,
} from '../../../src/domain/ipv6/index.js';
import { IpAddress } from '../../../src/domain/ip.js';

/** "M O A L" with 1/0, so a table row reads like rdisc6's output. */
const flags = (f: RaFlags | null): string | null => (f === null ? null : `M${+f.managed} O${+f.other} A${+f.autonomous} L${+f.onLink}`);

const MISMATCH = (ra: string, am: string) =>
  `ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${am}' is not valid. If both attributes are set, they must be the same value`;

describe('the mode matrix: ipv6_ra_mode x ipv6_address_mode', () => {
  // ra, address, valid-or-reason, auto (EUI-64), external RA, Neutron router's RA, upstream RA, RDNSS in RA,
  // dnsmasq service, dnsmasq range.
  type Row = [string | null, string | null, string | null, boolean, boolean, string | null, string | null, boolean, string | null, string | null];
  const ROWS: Row[] = [
    [null, null, null, false, false, null, null, false, null, null],
    [null, 'slaac', null, true, true, null, 'M0 O0 A1 L1', false, null, null],
    [null, 'dhcpv6-stateful', null, false, true, null, 'M1 O0 A0 L1', false, 'stateful', 'static'],
    [null, 'dhcpv6-stateless', null, true, true, null, 'M0 O1 A1 L1', false, 'stateless', 'static'],
    ['slaac', null, null, true, false, 'M0 O0 A1 L1', 'M0 O0 A1 L1', true, null, null],
    ['slaac', 'slaac', null, true, false, 'M0 O0 A1 L1', 'M0 O0 A1 L1', true, null, null],
    ['dhcpv6-stateful', null, null, false, false, 'M1 O0 A0 L1', 'M1 O0 A0 L1', false, null, null],
    ['dhcpv6-stateful', 'dhcpv6-stateful', null, false, false, 'M1 O0 A0 L1', 'M1 O0 A0 L1', false, 'stateful', 'static'],
    ['dhcpv6-stateless', null, null, true, false, 'M0 O1 A1 L1', 'M0 O1 A1 L1', false, null, null],
    ['dhcpv6-stateless', 'dhcpv6-stateless', null, true, false, 'M0 O1 A1 L1', 'M0 O1 A1 L1', false, 'stateless', 'static'],
  ];
  const INVALID: [string, string][] = [
    ['slaac', 'dhcpv6-stateful'],
    ['slaac', 'dhcpv6-stateless'],
    ['dhcpv6-stateful', 'slaac'],
    ['dhcpv6-stateful', 'dhcpv6-stateless'],
    ['dhcpv6-stateless', 'slaac'],
    ['dhcpv6-stateless', 'dhcpv6-stateful'],
  ];

  it('covers all 16 combinations: 10 valid, 6 refused', () => {
    assert.equal(ROWS.length + INVALID.length, 16);
  });

  for (const [ra, am, reason, auto, external, router, upstream, rdnss, dhcp, range] of ROWS) {
    it(`ra ${ra ?? 'unset'} x address ${am ?? 'unset'}`, () => {
      // Unset is both "absent" and null (a stored subnet says null, a request leaves the key out).
      for (const s of [{ ip_version: 6, ipv6_ra_mode: ra, ipv6_address_mode: am }, { ip_version: 6, ...(ra ? { ipv6_ra_mode: ra } : {}), ...(am ? { ipv6_address_mode: am } : {}) }]) {
        assert.equal(modeCombinationError(s.ipv6_ra_mode, s.ipv6_address_mode), reason);
        assert.equal(isAutoAddressSubnet(s), auto, 'auto address');
        assert.equal(isExternalRouterSubnet(s), external, 'external router');
        assert.equal(flags(raFlags(s)), router, 'Neutron router RA');
        assert.equal(routerAdvertises(s), router !== null, 'radvd stanza');
        assert.equal(flags(upstreamRaFlags(s)), upstream, 'upstream RA');
        assert.equal(rdnssInRa(s), rdnss, 'RDNSS');
        assert.equal(dhcpv6Service({ ...s, enable_dhcp: true }), dhcp, 'dnsmasq service');
        assert.equal(dnsmasqRangeMode({ ...s, enable_dhcp: true }), range, 'dnsmasq range');
        assert.equal(dhcpv6Service({ ...s, enable_dhcp: false }), null, 'no DHCP, no service');
      }
    });
  }

  for (const [ra, am] of INVALID) {
    it(`ra ${ra} x address ${am} is refused with Neutron's text`, () => {
      assert.equal(modeCombinationError(ra, am), MISMATCH(ra, am));
    });
  }

  it('agrees with the 16 recorded Zed answers (modes-ra-*-addr-*)', () => {
    const cases = (JSON.parse(readFileSync('test/fixtures/http-cases/neutron-zed.json', 'utf8')) as { cases: { name: string; request: { body: { subnet: Record<string, unknown> } }; status: number; body: any }[] }).cases;
    const modes = cases.filter((c) => /^modes-ra-.*-addr-/.test(c.name));
    assert.equal(modes.length, 16);
    for (const c of modes) {
      const s = c.request.body.subnet;
      const reason = ipv6AttributesError(
        { ip_version: 6, enable_dhcp: true, ipv6_ra_mode: s.ipv6_ra_mode as string | undefined, ipv6_address_mode: s.ipv6_address_mode as string | undefined },
        s.cidr as string,
        64,
      );
      if (c.status === 201) assert.equal(reason, null, c.name);
      else assert.equal(`Invalid input for operation: ${reason}.`, c.body.NeutronError.message, c.name);
    }
  });

  it('IPv4 subnets are never auto-address, advertised or served as DHCPv6', () => {
    const v4 = { ip_version: 4, ipv6_ra_mode: null, ipv6_address_mode: null };
    assert.equal(isAutoAddressSubnet(v4), false);
    assert.equal(raFlags(v4), null);
    assert.equal(dhcpv6Service({ ...v4, enable_dhcp: true }), null);
    assert.equal(dnsmasqRangeMode({ ...v4, enable_dhcp: true }), 'static');
    assert.equal(dnsmasqRangeMode({ ...v4, enable_dhcp: false }), null);
  });

  it('constants: IPV6_MODES and IPV6_MIN_MTU as neutron-lib has them', () => {
    assert.deepEqual(IPV6_MODES, ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac']);
    assert.equal(IPV6_MIN_MTU, 1280);
  });
});

describe('_validate_subnet: the IPv6 attributes of a new subnet', () => {
  const CIDR64 = '2001:db8:aaaa:6::/64';
  // [ip_version, enable_dhcp, ra, address, cidr, prefix length, Neutron's reason or null]
  const ROWS: [number, boolean, string | undefined, string | undefined, string, number, string | null][] = [
    [4, true, 'slaac', undefined, '10.98.0.0/24', 24, 'ipv6_ra_mode is not valid when ip_version is 4'],
    [4, true, undefined, 'slaac', '10.98.0.0/24', 24, 'ipv6_address_mode is not valid when ip_version is 4'],
    [4, true, 'slaac', 'slaac', '10.98.0.0/24', 24, 'ipv6_ra_mode is not valid when ip_version is 4'],
    [4, true, undefined, undefined, '10.98.0.0/24', 24, null],
    [6, false, undefined, 'slaac', CIDR64, 64, 'ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False'],
    [6, false, 'dhcpv6-stateful', undefined, CIDR64, 64, 'ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False'],
    [6, false, 'slaac', 'dhcpv6-stateful', CIDR64, 64, 'ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False'],
    [6, false, undefined, undefined, CIDR64, 64, null],
    [6, true, 'slaac', 'dhcpv6-stateful', CIDR64, 64, MISMATCH('slaac', 'dhcpv6-stateful')],
    [6, true, 'slaac', 'slaac', '2001:db8:aaaa:103::/80', 80, 'Invalid CIDR 2001:db8:aaaa:103::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64'],
    [6, true, 'dhcpv6-stateless', 'dhcpv6-stateless', '2001:db8:aaaa:104::/80', 80, 'Invalid CIDR 2001:db8:aaaa:104::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64'],
    [6, true, 'slaac', 'slaac', '2001:db8:ab00::/48', 48, 'Invalid CIDR 2001:db8:ab00::/48 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64'],
    [6, true, 'slaac', undefined, '2001:db8:60::/80', 80, 'Invalid CIDR 2001:db8:60::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64'],
    [6, true, undefined, 'dhcpv6-stateless', '2001:db8:60::/80', 80, 'Invalid CIDR 2001:db8:60::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64'],
    [6, true, 'dhcpv6-stateful', 'dhcpv6-stateful', '2001:db8:aaaa:105::/80', 80, null],
    [6, true, undefined, undefined, '2001:db8:aaaa:105::/80', 80, null],
  ];
  for (const [v, dhcp, ra, am, cidr, len, reason] of ROWS) {
    it(`v${v} dhcp=${dhcp} ra=${ra ?? '-'} address=${am ?? '-'} ${cidr}`, () => {
      assert.equal(ipv6AttributesError({ ip_version: v, enable_dhcp: dhcp, ipv6_ra_mode: ra, ipv6_address_mode: am }, cidr, len), reason);
    });
  }

  it('_validate_ipv6_update_dhcp: DHCP may not be turned off under modes', () => {
    const text = 'Cannot disable enable_dhcp with ipv6 attributes set';
    assert.equal(ipv6DhcpUpdateError({ ip_version: 6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }, false), text);
    assert.equal(ipv6DhcpUpdateError({ ip_version: 6, ipv6_ra_mode: null, ipv6_address_mode: 'dhcpv6-stateful' }, false), text);
    assert.equal(ipv6DhcpUpdateError({ ip_version: 6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }, true), null);
    assert.equal(ipv6DhcpUpdateError({ ip_version: 6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }, undefined), null);
    assert.equal(ipv6DhcpUpdateError({ ip_version: 6, ipv6_ra_mode: null, ipv6_address_mode: null }, false), null);
  });
});

describe('what a guest runs for its network (the talk\'s configurations)', () => {
  const v6 = (am: string | null, enable_dhcp = true) => ({ ip_version: 6, enable_dhcp, ipv6_ra_mode: am, ipv6_address_mode: am });
  const ROWS: [string, ReturnType<typeof v6>[], { autoconf: boolean; dhcpv6: string | null } | null][] = [
    ['no IPv6 subnet', [], null],
    ['slaac', [v6('slaac')], { autoconf: true, dhcpv6: null }],
    ['dhcpv6-stateless', [v6('dhcpv6-stateless')], { autoconf: true, dhcpv6: 'stateless' }],
    ['dhcpv6-stateful', [v6('dhcpv6-stateful')], { autoconf: false, dhcpv6: 'stateful' }],
    ['slaac + stateful: stateful wins', [v6('slaac'), v6('dhcpv6-stateful')], { autoconf: false, dhcpv6: 'stateful' }],
    ['slaac + stateless: stateless wins', [v6('slaac'), v6('dhcpv6-stateless')], { autoconf: true, dhcpv6: 'stateless' }],
    ['no mode', [v6(null)], { autoconf: true, dhcpv6: null }],
    ['stateful with DHCP off', [v6('dhcpv6-stateful', false)], { autoconf: true, dhcpv6: null }],
  ];
  for (const [name, subnets, want] of ROWS) it(name, () => assert.deepEqual(hostIpv6Setup(subnets), want));
});

describe('device owners (neutron-lib constants)', () => {
  it('the sets, member by member', () => {
    assert.deepEqual([...ROUTER_INTERFACE_OWNERS].sort(), ['network:ha_router_replicated_interface', 'network:router_interface', 'network:router_interface_distributed']);
    assert.deepEqual([...ROUTER_INTERFACE_OWNERS_SNAT].sort(), ['network:ha_router_replicated_interface', 'network:router_centralized_snat', 'network:router_interface', 'network:router_interface_distributed']);
    assert.deepEqual([...ROUTER_PORT_OWNERS].sort(), ['network:ha_router_replicated_interface', 'network:router_centralized_snat', 'network:router_gateway', 'network:router_interface', 'network:router_interface_distributed']);
    assert.deepEqual([...AUTO_DELETE_PORT_OWNERS].sort(), ['network:dhcp', 'network:distributed', 'network:floatingip_agent_gateway']);
  });

  it('who gets automatic (EUI-64) addresses: everyone but router interfaces (ROUTER_INTERFACE_OWNERS_SNAT)', () => {
    const ROWS: [string, boolean][] = [
      ['', true],
      ['compute:nova', true],
      ['compute:lab', true],
      ['network:dhcp', true],
      ['network:router_gateway', true],
      ['network:floatingip', true],
      ['baremetal:none', true],
      ['network:router_interface', false],
      ['network:ha_router_replicated_interface', false],
      ['network:router_interface_distributed', false],
      ['network:router_centralized_snat', false],
    ];
    for (const [owner, want] of ROWS) assert.equal(getsAutoAddresses(owner), want, owner);
  });
});

// Networks of the recorded Zed cases: 2a2bf779 (one SLAAC subnet), 0288db2e (SLAAC + DHCPv6-stateful).
const SLAAC: AddressingSubnet = { id: 'slaac', ip_version: 6, cidr: '2001:db8:aaaa:303::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' };
const SLAAC2: AddressingSubnet = { id: 'slaac2', ip_version: 6, cidr: '2001:db8:aaaa:300::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' };
const STATEFUL: AddressingSubnet = { id: 'stateful', ip_version: 6, cidr: '2001:db8:aaaa:302::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' };
const STATEFUL2: AddressingSubnet = { id: 'stateful2', ip_version: 6, cidr: '2001:db8:aaaa:305::/64', ipv6_ra_mode: null, ipv6_address_mode: 'dhcpv6-stateful' };
const STATELESS: AddressingSubnet = { id: 'stateless', ip_version: 6, cidr: '2001:db8:cafe:2::/64', ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: 'dhcpv6-stateless' };
const EXTERNAL_SLAAC: AddressingSubnet = { id: 'ext', ip_version: 6, cidr: '2001:db8:cafe:16::/64', ipv6_ra_mode: null, ipv6_address_mode: 'slaac' };
const STATIC6: AddressingSubnet = { id: 'static6', ip_version: 6, cidr: '2001:db8:beef::/64', ipv6_ra_mode: null, ipv6_address_mode: null };
const V4: AddressingSubnet = { id: 'v4', ip_version: 4, cidr: '192.0.2.0/24', ipv6_ra_mode: null, ipv6_address_mode: null };
const V4B: AddressingSubnet = { id: 'v4b', ip_version: 4, cidr: '192.0.2.128/25', ipv6_ra_mode: null, ipv6_address_mode: null };

const NET = 'net-1';
const port = (device_owner: string, mac_address = 'fa:16:3e:79:5a:cc') => ({ network_id: NET, mac_address, device_owner });

/** The NeutronError a plan throws, as [type, message]. */
function refusal(f: () => unknown): [string, string] {
  try {
    f();
  } catch (e) {
    if (e instanceof NeutronError) return [e.type, e.message];
    throw e;
  }
  assert.fail('no error');
}

describe('a new port\'s addresses (planPortAddresses)', () => {
  it('SLAAC-only network, no fixed_ips: the EUI-64 address (Zed port-slaac-eui64)', () => {
    assert.deepEqual(planPortAddresses(port(''), [SLAAC], undefined), [{ kind: 'eui64', subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303:f816:3eff:fe79:5acc' }]);
  });

  it('a multicast MAC still gives its EUI-64 address (Zed port-multicast-mac)', () => {
    assert.deepEqual(planPortAddresses(port('', '01:00:5e:00:00:01'), [SLAAC], undefined), [{ kind: 'eui64', subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303:300:5eff:fe00:1' }]);
  });

  it('SLAAC + stateful on one network: a pool address and the EUI-64 address (Zed port-two-slaac-subnets)', () => {
    assert.deepEqual(planPortAddresses(port('', 'fa:16:3e:00:00:05'), [SLAAC2, STATEFUL], undefined), [
      { kind: 'pool', subnet_ids: ['stateful'] },
      { kind: 'eui64', subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300:f816:3eff:fe00:5' },
    ]);
  });

  it('dual stack: one IPv4 address from the first v4 subnet with room, one stateful v6, EUI-64 on every auto subnet', () => {
    assert.deepEqual(planPortAddresses(port('compute:nova', 'fa:16:3e:22:38:6b'), [V4, SLAAC, V4B, STATEFUL, STATELESS, STATEFUL2, EXTERNAL_SLAAC, STATIC6], undefined), [
      { kind: 'pool', subnet_ids: ['v4', 'v4b'] },
      { kind: 'pool', subnet_ids: ['stateful', 'stateful2', 'static6'] },
      { kind: 'eui64', subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303:f816:3eff:fe22:386b' },
      { kind: 'eui64', subnet_id: 'stateless', ip_address: '2001:db8:cafe:2:f816:3eff:fe22:386b' },
      { kind: 'eui64', subnet_id: 'ext', ip_address: '2001:db8:cafe:16:f816:3eff:fe22:386b' },
    ]);
  });

  it('a network without subnets: no addresses', () => {
    assert.deepEqual(planPortAddresses(port(''), [], undefined), []);
  });

  it('router interface on a SLAAC subnet: the gateway (anycast) address it is given, no EUI-64', () => {
    for (const owner of ['network:router_interface', 'network:ha_router_replicated_interface', 'network:router_interface_distributed']) {
      assert.deepEqual(planPortAddresses(port(owner), [SLAAC, STATELESS], [{ subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303::' }]), [
        { kind: 'fixed', subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303::' },
      ], owner);
    }
  });

  it('router interface with a subnet_id only on a SLAAC subnet: a pool address there', () => {
    assert.deepEqual(planPortAddresses(port('network:router_interface'), [SLAAC], [{ subnet_id: 'slaac' }]), [{ kind: 'pool', subnet_ids: ['slaac'] }]);
  });

  it('router interface without fixed_ips: pool addresses only, no EUI-64', () => {
    assert.deepEqual(planPortAddresses(port('network:router_interface'), [SLAAC, STATEFUL], undefined), [{ kind: 'pool', subnet_ids: ['stateful'] }]);
  });

  it('a DSNAT port (router_centralized_snat) gets no EUI-64 but may not pick its own address on an auto subnet', () => {
    assert.deepEqual(planPortAddresses(port('network:router_centralized_snat'), [SLAAC, STATEFUL], undefined), [{ kind: 'pool', subnet_ids: ['stateful'] }]);
    assert.deepEqual(
      refusal(() => planPortAddresses(port('network:router_centralized_snat'), [SLAAC], [{ subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303::5' }])),
      ['AllocationOnAutoAddressSubnet', 'IPv6 address 2001:db8:aaaa:303::5 cannot be directly assigned to a port on subnet slaac as the subnet is configured for automatic addresses'],
    );
  });

  it('DHCP port asking for every subnet by id: a stateful pool address and the EUI-64 address (the id alone adds nothing on SLAAC)', () => {
    assert.deepEqual(planPortAddresses(port('network:dhcp', 'fa:16:3e:00:00:05'), [SLAAC2, STATEFUL], [{ subnet_id: 'stateful' }, { subnet_id: 'slaac2' }]), [
      { kind: 'pool', subnet_ids: ['stateful'] },
      { kind: 'eui64', subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300:f816:3eff:fe00:5' },
    ]);
  });

  it('DHCP port without fixed_ips: like any port (it is not a router interface)', () => {
    assert.deepEqual(planPortAddresses(port('network:dhcp', 'fa:16:3e:00:00:05'), [SLAAC2, STATEFUL, V4], undefined), [
      { kind: 'pool', subnet_ids: ['v4'] },
      { kind: 'pool', subnet_ids: ['stateful'] },
      { kind: 'eui64', subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300:f816:3eff:fe00:5' },
    ]);
  });

  it('an address of its own on a SLAAC subnet is refused (Zed port-fixed-ip-on-slaac)', () => {
    assert.deepEqual(refusal(() => planPortAddresses(port(''), [SLAAC], [{ subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303::10' }])), [
      'AllocationOnAutoAddressSubnet',
      'IPv6 address 2001:db8:aaaa:303::10 cannot be directly assigned to a port on subnet slaac as the subnet is configured for automatic addresses',
    ]);
    // The same with ip_address alone, and on a stateless subnet.
    assert.equal(refusal(() => planPortAddresses(port(''), [SLAAC], [{ ip_address: '2001:db8:aaaa:303::10' }]))[0], 'AllocationOnAutoAddressSubnet');
    assert.equal(refusal(() => planPortAddresses(port(''), [STATELESS], [{ subnet_id: 'stateless', ip_address: '2001:db8:cafe:2::10' }]))[0], 'AllocationOnAutoAddressSubnet');
  });

  it('its own EUI-64 address named on a SLAAC subnet is accepted once (LP#1991398)', () => {
    assert.deepEqual(planPortAddresses(port(''), [SLAAC], [{ subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303:f816:3eff:fe79:5acc' }]), [
      { kind: 'fixed', subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303:f816:3eff:fe79:5acc' },
    ]);
  });

  it('a subnet_id alone on a SLAAC subnet: just the EUI-64 address', () => {
    assert.deepEqual(planPortAddresses(port(''), [SLAAC], [{ subnet_id: 'slaac' }]), [{ kind: 'eui64', subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303:f816:3eff:fe79:5acc' }]);
  });

  it('a stateful address asked for, on a network with SLAAC too: it and the EUI-64 address (Zed port-stateful-fixed-ip)', () => {
    assert.deepEqual(planPortAddresses(port('', 'fa:16:3e:83:72:f3'), [SLAAC2, STATEFUL], [{ subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::abcd' }]), [
      { kind: 'fixed', subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::abcd' },
      { kind: 'eui64', subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300:f816:3eff:fe83:72f3' },
    ]);
  });

  it('ip_address alone finds its subnet (Zed port-ip-only-no-subnet)', () => {
    assert.deepEqual(planPortAddresses(port('', 'fa:16:3e:0c:8a:bb'), [SLAAC2, STATEFUL], [{ ip_address: '2001:db8:aaaa:302::beef' }]), [
      { kind: 'fixed', subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::beef' },
      { kind: 'eui64', subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300:f816:3eff:fe0c:8abb' },
    ]);
  });

  it('the subnet-router anycast address: for router ports and unknown owners only (Zed port-ip-is-gateway-anycast)', () => {
    const anycast = [{ subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::' }];
    assert.deepEqual(planPortAddresses(port('', 'fa:16:3e:44:13:4a'), [STATEFUL], anycast), [{ kind: 'fixed', subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::' }]);
    assert.deepEqual(planPortAddresses(port('network:router_gateway'), [STATEFUL], anycast), [{ kind: 'fixed', subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::' }]);
    assert.deepEqual(refusal(() => planPortAddresses(port('compute:nova'), [STATEFUL], anycast)), [
      'InvalidIpForSubnet',
      'IP address 2001:db8:aaaa:302:: is not a valid IP for the specified subnet.',
    ]);
    assert.deepEqual(refusal(() => planPortAddresses(port('compute:nova'), [STATEFUL], [{ ip_address: '2001:db8:aaaa:302::' }])), [
      'InvalidIpForNetwork',
      'IP address 2001:db8:aaaa:302:: is not a valid IP for any of the subnets on the specified network.',
    ]);
  });

  it('errors in Neutron\'s words (Zed port-subnet-other-network, port-ip-outside-subnet)', () => {
    assert.deepEqual(refusal(() => planPortAddresses(port(''), [SLAAC], [{ subnet_id: 'c2021788' }])), [
      'InvalidInput',
      `Invalid input for operation: Failed to create port on network ${NET}, because fixed_ips included invalid subnet c2021788.`,
    ]);
    assert.deepEqual(refusal(() => planPortAddresses(port(''), [STATEFUL], [{ subnet_id: 'stateful', ip_address: '2001:db8:bbbb::1' }])), [
      'InvalidIpForSubnet',
      'IP address 2001:db8:bbbb::1 is not a valid IP for the specified subnet.',
    ]);
    assert.deepEqual(refusal(() => planPortAddresses(port(''), [STATEFUL], [{ ip_address: '2001:db8:bbbb::1' }])), [
      'InvalidIpForNetwork',
      'IP address 2001:db8:bbbb::1 is not a valid IP for any of the subnets on the specified network.',
    ]);
    assert.deepEqual(refusal(() => planPortAddresses(port(''), [], [{ subnet_id: 'x' }])), ['InvalidInput', 'Invalid input for operation: IP allocation requires subnets for network.']);
    const six = Array.from({ length: 6 }, (_, i) => ({ subnet_id: 'stateful', ip_address: `2001:db8:aaaa:302::${i + 1}` }));
    assert.deepEqual(refusal(() => planPortAddresses(port(''), [STATEFUL], six)), ['InvalidInput', 'Invalid input for operation: Exceeded maximum amount of fixed ips per port.']);
  });

  it('every entry is checked before any is taken: a bad second entry refuses the whole request', () => {
    assert.equal(refusal(() => planPortAddresses(port(''), [STATEFUL, SLAAC], [{ subnet_id: 'stateful' }, { subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303::10' }]))[0], 'AllocationOnAutoAddressSubnet');
  });
});

describe('check_subnet_ip', () => {
  const ROWS: [string, string, string, boolean][] = [
    ['192.0.2.0/24', '192.0.2.0', '', false],
    ['192.0.2.0/24', '192.0.2.255', '', false],
    ['192.0.2.0/24', '192.0.2.1', '', true],
    ['192.0.2.0/24', '192.0.3.1', '', false],
    ['192.0.2.0/31', '192.0.2.0', '', false],
    ['192.0.2.0/31', '192.0.2.1', '', true],
    ['2001:db8::/64', '2001:db8::', '', true],
    ['2001:db8::/64', '2001:db8::', 'network:router_interface', true],
    ['2001:db8::/64', '2001:db8::', 'network:router_gateway', true],
    ['2001:db8::/64', '2001:db8::', 'network:router_centralized_snat', true],
    ['2001:db8::/64', '2001:db8::', 'network:dhcp', false],
    ['2001:db8::/64', '2001:db8::', 'compute:nova', false],
    ['2001:db8::/64', '2001:db8::ffff:ffff:ffff:ffff', 'compute:nova', true],
    ['2001:db8::/64', '2001:db8:0:1::1', '', false],
    ['2001:db8::/64', '192.0.2.1', '', false],
  ];
  for (const [cidr, ip, owner, want] of ROWS) it(`${ip} on ${cidr} for '${owner}'`, () => assert.equal(checkSubnetIp(cidr, IpAddress.parse(ip)!, owner), want));
});

describe('a PUT of fixed_ips (planPortAddressUpdate)', () => {
  const EUI = { subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300:f816:3eff:fe00:5' };
  const OLD = { subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::5' };
  const p = port('compute:nova', 'fa:16:3e:00:00:05');

  it('a new stateful address replaces the old; the EUI-64 address stays although not named', () => {
    assert.deepEqual(planPortAddressUpdate(p, [SLAAC2, STATEFUL], [EUI, OLD], [{ subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::7' }]), {
      keep: [EUI],
      release: [OLD],
      steps: [{ kind: 'fixed', subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::7' }],
    });
  });

  it('naming what it has (by address, or by subnet) keeps it', () => {
    assert.deepEqual(planPortAddressUpdate(p, [SLAAC2, STATEFUL], [EUI, OLD], [{ subnet_id: 'stateful' }]), { keep: [OLD, EUI], release: [], steps: [] });
    assert.deepEqual(planPortAddressUpdate(p, [SLAAC2, STATEFUL], [EUI, OLD], [{ ip_address: '2001:db8:aaaa:302:0::5' }]), { keep: [OLD, EUI], release: [], steps: [] });
  });

  it('an empty list frees the stateful address, keeps the automatic one, and adds the EUI-64 of a SLAAC subnet it lacks', () => {
    assert.deepEqual(planPortAddressUpdate(p, [SLAAC2, STATEFUL, SLAAC], [EUI, OLD], []), {
      keep: [EUI],
      release: [OLD],
      steps: [{ kind: 'eui64', subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303:f816:3eff:fe00:5' }],
    });
  });

  it('a foreign address on a SLAAC subnet it already has an address on is refused', () => {
    assert.equal(refusal(() => planPortAddressUpdate(p, [SLAAC2, STATEFUL], [EUI, OLD], [{ subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300::99' }]))[0], 'AllocationOnAutoAddressSubnet');
  });

  it('a router interface keeps only what it names', () => {
    const gw = { subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303::' };
    assert.deepEqual(planPortAddressUpdate(port('network:router_interface'), [SLAAC], [gw], []), { keep: [], release: [gw], steps: [] });
  });
});

describe('MAC change, new subnet, subnet delete', () => {
  it('a new MAC moves each EUI-64 address (LP#1671548); router interfaces and stateful addresses stay', () => {
    const fixed = [
      { subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300:f816:3eff:fe00:5' },
      { subnet_id: 'stateful', ip_address: '2001:db8:aaaa:302::5' },
    ];
    assert.deepEqual(planEui64Renumbering({ device_owner: '' }, [SLAAC2, STATEFUL], fixed, 'fa:16:3e:00:00:06'), [
      { subnet_id: 'slaac2', from: '2001:db8:aaaa:300:f816:3eff:fe00:5', to: '2001:db8:aaaa:300:f816:3eff:fe00:6' },
    ]);
    assert.deepEqual(planEui64Renumbering({ device_owner: 'network:router_interface' }, [SLAAC2], [{ subnet_id: 'slaac2', ip_address: '2001:db8:aaaa:300::' }], 'fa:16:3e:00:00:06'), []);
  });

  it('a new auto-address subnet gives each port its EUI-64 address, except router interfaces and ports already there', () => {
    const p = { ...port('compute:nova', 'fa:16:3e:79:5a:cc'), fixed_ips: [] };
    assert.equal(backfillAddress(SLAAC, p), '2001:db8:aaaa:303:f816:3eff:fe79:5acc');
    assert.equal(backfillAddress(STATELESS, { ...p, device_owner: 'network:dhcp' }), '2001:db8:cafe:2:f816:3eff:fe79:5acc');
    assert.equal(backfillAddress(SLAAC, { ...p, device_owner: 'network:router_interface' }), null);
    assert.equal(backfillAddress(SLAAC, { ...p, fixed_ips: [{ subnet_id: 'slaac', ip_address: '2001:db8:aaaa:303::' }] }), null);
    assert.equal(backfillAddress(STATEFUL, p), null, 'stateful subnets do not back-fill (LP#1719806)');
  });

  it('which addresses a subnet delete takes rather than failing SubnetInUse', () => {
    // [subnet, owner, other addresses of the port, takes]
    const ROWS: [AddressingSubnet, string, number, boolean][] = [
      [SLAAC, 'compute:nova', 1, true],
      [SLAAC, 'compute:nova', 0, true],
      [SLAAC, 'network:router_interface', 1, false],
      [SLAAC, 'network:dhcp', 0, true],
      [STATEFUL, 'compute:nova', 1, false],
      [STATEFUL, 'network:dhcp', 1, true],
      [STATEFUL, 'network:router_interface', 0, false],
      [STATELESS, '', 2, true],
      [V4, 'network:dhcp', 0, true],
      [V4, '', 1, false],
    ];
    for (const [s, owner, others, want] of ROWS) assert.equal(subnetDeleteTakesAddress(s, owner), want, `${s.id} ${owner} ${others}`);
  });
});
