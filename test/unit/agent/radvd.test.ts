// Golden tests for the radvd renderer: the full text for each RA mode, as Neutron's ra.py template gives it
// (compare neutron/tests/unit/agent/l3/test_agent.py _process_router_ipv6_subnet_added and the rendered config in
// the lab facts, section 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderRadvdConf, type RaSubnet } from '../../../src/agent/radvd.js';

const SLAAC: RaSubnet = { cidr: '2001:db8:cafe::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: [] };

test('slaac: the template with Neutron defaults, as the lab measured it', () => {
  assert.equal(
    renderRadvdConf([{ name: 'qr-r1', mtu: 1450, subnets: [SLAAC] }]),
    `interface qr-r1
{
   AdvSendAdvert on;
   MinRtrAdvInterval 30;
   MaxRtrAdvInterval 100;
   AdvLinkMTU 1450;

   prefix 2001:db8:cafe::/64
   {
        AdvOnLink on;
        AdvAutonomous on;
   };
};
`,
  );
});

test('slaac with DNS servers: RDNSS, at most three; intervals are parameters', () => {
  const s = { ...SLAAC, dns_nameservers: ['2001:db8:cafe:a::e', '2001:db8:cafe:a::f', '2001:db8::53', '2001:db8::54'] };
  assert.equal(
    renderRadvdConf([{ name: 'qr-0123456789a', mtu: 1500, subnets: [s] }], { minRtrAdvInterval: 3, maxRtrAdvInterval: 10 }),
    `interface qr-0123456789a
{
   AdvSendAdvert on;
   MinRtrAdvInterval 3;
   MaxRtrAdvInterval 10;
   AdvLinkMTU 1500;
   RDNSS 2001:db8:cafe:a::e 2001:db8:cafe:a::f 2001:db8::53 {};

   prefix 2001:db8:cafe::/64
   {
        AdvOnLink on;
        AdvAutonomous on;
   };
};
`,
  );
});

test('dhcpv6-stateless: O flag, autonomous prefix, no RDNSS (DNS comes from DHCPv6)', () => {
  const s: RaSubnet = { cidr: '2001:db8:cafe:1::/64', ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: 'dhcpv6-stateless', dns_nameservers: ['2001:db8::53'] };
  assert.equal(
    renderRadvdConf([{ name: 'qr-r2', mtu: 1450, subnets: [s] }]),
    `interface qr-r2
{
   AdvSendAdvert on;
   MinRtrAdvInterval 30;
   MaxRtrAdvInterval 100;
   AdvLinkMTU 1450;
   AdvOtherConfigFlag on;

   prefix 2001:db8:cafe:1::/64
   {
        AdvOnLink on;
        AdvAutonomous on;
   };
};
`,
  );
});

test('dhcpv6-stateful: M flag, prefix not autonomous', () => {
  const s: RaSubnet = { cidr: '2001:db8:cafe:2::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' };
  assert.equal(
    renderRadvdConf([{ name: 'qr-r3', mtu: 1450, subnets: [s] }]),
    `interface qr-r3
{
   AdvSendAdvert on;
   MinRtrAdvInterval 30;
   MaxRtrAdvInterval 100;
   AdvLinkMTU 1450;
   AdvManagedFlag on;

   prefix 2001:db8:cafe:2::/64
   {
        AdvOnLink on;
        AdvAutonomous off;
   };
};
`,
  );
});

test('several ports and subnets: one stanza per port, autonomous prefixes first; IPv4, mode-less and small-MTU cases', () => {
  const v4: RaSubnet = { cidr: '10.0.0.0/24' };
  const noRa: RaSubnet = { cidr: '2001:db8:beef::/64', ipv6_ra_mode: null, ipv6_address_mode: null };
  const stateful: RaSubnet = { cidr: '2001:db8:cafe:2::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' };
  assert.equal(
    renderRadvdConf([
      { name: 'qr-a', mtu: 1200, subnets: [stateful, SLAAC, v4] },
      { name: 'qr-v4only', mtu: 1500, subnets: [v4] },
      { name: 'qr-nora', mtu: 1500, subnets: [noRa] },
    ]),
    `interface qr-a
{
   AdvSendAdvert on;
   MinRtrAdvInterval 30;
   MaxRtrAdvInterval 100;
   AdvManagedFlag on;

   prefix 2001:db8:cafe::/64
   {
        AdvOnLink on;
        AdvAutonomous on;
   };

   prefix 2001:db8:cafe:2::/64
   {
        AdvOnLink on;
        AdvAutonomous off;
   };
};
`,
  );
  assert.equal(renderRadvdConf([{ name: 'qr-v4only', mtu: 1500, subnets: [v4] }]), null);
  assert.equal(renderRadvdConf([]), null);
});

test('radvdStanzas splits a rendered conf by interface; goodbyeConf deprecates the prefixes of leaving ones', async () => {
  const { renderRadvdConf, radvdStanzas, goodbyeConf } = await import('../../../src/agent/radvd.js');
  const slaac: RaSubnet = { cidr: '2001:db8:1::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: [] };
  const stateful: RaSubnet = { cidr: '2001:db8:2::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful', dns_nameservers: [] };
  const conf = renderRadvdConf([
    { name: 'qr-a', mtu: 1500, subnets: [slaac] },
    { name: 'qr-b', mtu: 1500, subnets: [stateful] },
  ])!;
  const st = radvdStanzas(conf);
  assert.deepEqual([...st.keys()], ['qr-a', 'qr-b']);
  assert.equal([...st.values()].join(''), conf);
  const bye = goodbyeConf([st.get('qr-b')!]);
  assert.match(bye, /^interface qr-b\n/);
  assert.doesNotMatch(bye, /qr-a/);
  assert.match(bye, /        AdvAutonomous off;\n        DeprecatePrefix on;\n/);
});
