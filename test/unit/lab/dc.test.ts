// The DC's plan from API documents: the external subnets' gateways, and a route to each internal subnet of each
// router whose gateway port is on the network, via the gateway port's address of the same family.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dcPlan, dcRadvdConf, type DcPort, type DcSubnet } from '../../../src/lab/dc.js';

test('dcPlan: gateways on eth0, hosts on lo, routes to every tenant subnet via the right qg- address', () => {
  const pub = { id: 'pub' };
  const subnets: DcSubnet[] = [
    { id: 'p4', network_id: 'pub', cidr: '192.0.2.0/26', ip_version: 4, gateway_ip: '192.0.2.1' },
    { id: 'p6', network_id: 'pub', cidr: '2001:db8:cafe:d::/64', ip_version: 6, gateway_ip: '2001:db8:cafe:d::1' },
    { id: 'nogw', network_id: 'pub', cidr: '2001:db8:cafe:e::/64', ip_version: 6, gateway_ip: null },
    { id: 't4', network_id: 'n1', cidr: '192.0.2.64/26', ip_version: 4, gateway_ip: '192.0.2.65' },
    { id: 't6', network_id: 'n1', cidr: '2001:db8:cafe::/64', ip_version: 6, gateway_ip: '2001:db8:cafe::' },
    { id: 'o6', network_id: 'n2', cidr: '2001:db8:beef::/64', ip_version: 6, gateway_ip: '2001:db8:beef::' },
  ];
  const ports: DcPort[] = [
    { id: 'g1', device_id: 'r1', device_owner: 'network:router_gateway', network_id: 'pub', fixed_ips: [{ subnet_id: 'p4', ip_address: '192.0.2.5' }, { subnet_id: 'p6', ip_address: '2001:db8:cafe:d::5' }] },
    { id: 'i1', device_id: 'r1', device_owner: 'network:router_interface', network_id: 'n1', fixed_ips: [{ subnet_id: 't4', ip_address: '192.0.2.65' }] },
    { id: 'i2', device_id: 'r1', device_owner: 'network:router_interface', network_id: 'n1', fixed_ips: [{ subnet_id: 't6', ip_address: '2001:db8:cafe::' }] },
    // A router without a gateway on this network: not reachable from the DC.
    { id: 'i3', device_id: 'r2', device_owner: 'network:router_interface', network_id: 'n2', fixed_ips: [{ subnet_id: 'o6', ip_address: '2001:db8:beef::' }] },
    { id: 'vm', device_id: 'vm', device_owner: 'compute:nova', network_id: 'n1', fixed_ips: [{ subnet_id: 't6', ip_address: '2001:db8:cafe::5' }] },
  ];
  assert.deepEqual(dcPlan(pub, subnets, ports, ['2001:db8:cafe:a::e']), {
    addresses: ['192.0.2.1/26', '2001:db8:cafe:d::1/64'],
    hosts: ['2001:db8:cafe:a::e'],
    routes: [
      { family: 4, dst: '192.0.2.64/26', via: '192.0.2.5' },
      { family: 6, dst: '2001:db8:cafe::/64', via: '2001:db8:cafe:d::5' },
    ],
    // No address mode on the public subnets: nothing to advertise (routers use gateway_ip).
    advertised: [],
    defaultRouterOnly: false,
  });
});

test('dcPlan: tenant IPv4 is routed back only for routers with enable_snat false (the others translate); IPv6 always', () => {
  const subnets: DcSubnet[] = [
    { id: 'p4', network_id: 'pub', cidr: '192.0.2.0/26', ip_version: 4, gateway_ip: '192.0.2.1' },
    { id: 'p6', network_id: 'pub', cidr: '2001:db8:cafe:d::/64', ip_version: 6, gateway_ip: '2001:db8:cafe:d::1' },
    { id: 't4', network_id: 'n1', cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: '10.0.0.1' },
    { id: 't6', network_id: 'n1', cidr: '2001:db8:cafe::/64', ip_version: 6, gateway_ip: '2001:db8:cafe::' },
  ];
  const ports: DcPort[] = [
    { id: 'g1', device_id: 'r1', device_owner: 'network:router_gateway', network_id: 'pub', fixed_ips: [{ subnet_id: 'p4', ip_address: '192.0.2.5' }, { subnet_id: 'p6', ip_address: '2001:db8:cafe:d::5' }] },
    { id: 'i1', device_id: 'r1', device_owner: 'network:router_interface', network_id: 'n1', fixed_ips: [{ subnet_id: 't4', ip_address: '10.0.0.1' }] },
    { id: 'i2', device_id: 'r1', device_owner: 'network:router_interface', network_id: 'n1', fixed_ips: [{ subnet_id: 't6', ip_address: '2001:db8:cafe::' }] },
  ];
  const gw = (enable_snat: boolean) => ({ network_id: 'pub', enable_snat, external_fixed_ips: [] });
  const v6Only = [{ family: 6, dst: '2001:db8:cafe::/64', via: '2001:db8:cafe:d::5' }];
  assert.deepEqual(dcPlan({ id: 'pub' }, subnets, ports, [], [{ id: 'r1', external_gateway_info: gw(true) }]).routes, v6Only);
  assert.deepEqual(dcPlan({ id: 'pub' }, subnets, ports, [], [{ id: 'r1', external_gateway_info: gw(false) }]).routes, [{ family: 4, dst: '10.0.0.0/24', via: '192.0.2.5' }, ...v6Only]);
});

test('dcPlan and dcRadvdConf on an external network with no IPv6 subnet: default router only, tenant prefixes via qg-\'s link-local', () => {
  const ext = { id: 'ext', mtu: 1500 };
  const subnets: DcSubnet[] = [
    { id: 'e4', network_id: 'ext', ip_version: 4, cidr: '192.0.2.0/26', gateway_ip: '192.0.2.1' },
    { id: 't6', network_id: 'n1', ip_version: 6, cidr: '2001:db8:cafe::/64', gateway_ip: '2001:db8:cafe::' },
  ];
  const ports: DcPort[] = [
    { id: 'g1', device_id: 'r1', device_owner: 'network:router_gateway', network_id: 'ext', mac_address: 'fa:16:3e:11:22:33', fixed_ips: [{ subnet_id: 'e4', ip_address: '192.0.2.5' }] },
    { id: 'i1', device_id: 'r1', device_owner: 'network:router_interface', network_id: 'n1', fixed_ips: [{ subnet_id: 't6', ip_address: '2001:db8:cafe::' }] },
  ];
  const plan = dcPlan(ext, subnets, ports, []);
  assert.deepEqual(plan.routes, [{ family: 6, dst: '2001:db8:cafe::/64', via: 'fe80::f816:3eff:fe11:2233' }]);
  assert.equal(plan.defaultRouterOnly, true);
  assert.deepEqual(plan.advertised, []);
  assert.equal(dcRadvdConf(ext, subnets), 'interface eth0\n{\n   AdvSendAdvert on;\n   MinRtrAdvInterval 30;\n   MaxRtrAdvInterval 100;\n   AdvLinkMTU 1500;\n};\n');
  // With an IPv6 subnet that has no address mode, the upstream router sends nothing: routers use its gateway_ip.
  assert.equal(dcRadvdConf(ext, [...subnets, { id: 'e6', network_id: 'ext', ip_version: 6, cidr: '2001:db8:cafe:d::/64', gateway_ip: '2001:db8:cafe:d::1' }]), null);
});

test('dcRadvdConf: the upstream router advertises each provider subnet with an address mode, flags per mode, no RDNSS', () => {
  const ext = { id: 'ext', mtu: 1500 };
  const subnets: DcSubnet[] = [
    // The talk's external-subnet-v6 (slaac/slaac), an external-router stateless and a stateful subnet, a static one.
    { id: 's', network_id: 'ext', ip_version: 6, cidr: '2001:db8:cafe:16::/64', gateway_ip: '2001:db8:cafe:16::1', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: ['2001:db8:cafe:a::e'] },
    { id: 'l', network_id: 'ext', ip_version: 6, cidr: '2001:db8:cafe:17::/64', gateway_ip: '2001:db8:cafe:17::1', ipv6_ra_mode: null, ipv6_address_mode: 'dhcpv6-stateless' },
    { id: 'f', network_id: 'ext', ip_version: 6, cidr: '2001:db8:cafe:18::/64', gateway_ip: '2001:db8:cafe:18::1', ipv6_ra_mode: null, ipv6_address_mode: 'dhcpv6-stateful' },
    { id: 'x', network_id: 'ext', ip_version: 6, cidr: '2001:db8:cafe:d::/64', gateway_ip: '2001:db8:cafe:d::1', ipv6_ra_mode: null, ipv6_address_mode: null },
    { id: '4', network_id: 'ext', ip_version: 4, cidr: '192.0.2.0/24', gateway_ip: '192.0.2.1' },
    { id: 'o', network_id: 'other', ip_version: 6, cidr: '2001:db8:beef::/64', gateway_ip: '2001:db8:beef::', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
  ];
  assert.equal(
    dcRadvdConf(ext, subnets),
    `interface eth0
{
   AdvSendAdvert on;
   MinRtrAdvInterval 30;
   MaxRtrAdvInterval 100;
   AdvLinkMTU 1500;
   AdvOtherConfigFlag on;
   AdvManagedFlag on;

   prefix 2001:db8:cafe:16::/64
   {
        AdvOnLink on;
        AdvAutonomous on;
   };

   prefix 2001:db8:cafe:17::/64
   {
        AdvOnLink on;
        AdvAutonomous on;
   };

   prefix 2001:db8:cafe:18::/64
   {
        AdvOnLink on;
        AdvAutonomous off;
   };
};
`,
  );
  assert.deepEqual(dcPlan(ext, subnets, [], []).advertised, ['2001:db8:cafe:16::/64', '2001:db8:cafe:17::/64', '2001:db8:cafe:18::/64']);
  // Only static subnets: no radvd at all.
  assert.equal(dcRadvdConf(ext, subnets.filter((s) => s.id === 'x' || s.id === '4')), null);
});
