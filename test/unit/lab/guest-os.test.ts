// The guest configurations of the talk's slides, per OS and mode, and the DHCP clients ifup starts for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dhcpClientsFor, guestConfig, type GuestOs, type GuestSubnet } from '../../../src/lab/guest-os.js';
import type { Ipv6Mode } from '../../../src/domain/ipv6/index.js';

const v4: GuestSubnet = { ip_version: 4, enable_dhcp: true };
const v6 = (mode: Ipv6Mode): GuestSubnet => ({ ip_version: 6, enable_dhcp: true, ipv6_ra_mode: mode, ipv6_address_mode: mode });
const flags = (os: GuestOs, subnets: GuestSubnet[]) => dhcpClientsFor(os, guestConfig(os, subnets)).map((c) => c.flags.join(' '));

test('Ubuntu: /etc/network/interfaces as the talk shows it for each mode', () => {
  assert.deepEqual(guestConfig('ubuntu', [v4, v6('slaac')]), { path: '/etc/network/interfaces', content: 'auto eth0\niface eth0 inet dhcp\niface eth0 inet6 auto\n' });
  // Talk, DHCPv6-stateless slide: "auto eth0 iface eth0 inet dhcp iface eth0 inet6 auto dhcp 1"
  assert.equal(guestConfig('ubuntu', [v4, v6('dhcpv6-stateless')]).content, 'auto eth0\niface eth0 inet dhcp\niface eth0 inet6 auto\n    dhcp 1\n');
  // Talk, DHCPv6-stateful slide: "auto eth0 iface eth0 inet dhcp iface eth0 inet6 dhcp"
  assert.equal(guestConfig('ubuntu', [v4, v6('dhcpv6-stateful')]).content, 'auto eth0\niface eth0 inet dhcp\niface eth0 inet6 dhcp\n');
  assert.deepEqual(flags('ubuntu', [v4, v6('slaac')]), ['-4']);
  assert.deepEqual(flags('ubuntu', [v4, v6('dhcpv6-stateless')]), ['-4', '-6 -S']);
  assert.deepEqual(flags('ubuntu', [v6('dhcpv6-stateful')]), ['-6']);
  assert.deepEqual(flags('ubuntu', [{ ...v4, enable_dhcp: false }]), []);
});

test('RHEL: ifcfg-eth0 as the talk shows it for each mode', () => {
  const c = guestConfig('rhel', [v4, v6('dhcpv6-stateless')]);
  assert.equal(c.path, '/etc/sysconfig/network-scripts/ifcfg-eth0');
  // Talk: IPV6INIT="yes" DHCPV6C="yes" DHCPV6C_OPTIONS="-S" (stateless); IPV6INIT="yes" DHCPV6C="yes" (stateful)
  assert.match(c.content, /^IPV6INIT="yes"\nDHCPV6C="yes"\nDHCPV6C_OPTIONS="-S"$/m);
  assert.match(guestConfig('rhel', [v6('dhcpv6-stateful')]).content, /^IPV6INIT="yes"\nDHCPV6C="yes"\n$/m);
  assert.doesNotMatch(guestConfig('rhel', [v6('slaac')]).content, /DHCPV6C/);
  assert.deepEqual(flags('rhel', [v4, v6('dhcpv6-stateless')]), ['-4', '-6 -S']);
  assert.deepEqual(flags('rhel', [v4, v6('dhcpv6-stateful')]), ['-4', '-6']);
  assert.deepEqual(flags('rhel', [v6('slaac')]), []);
  // A stateful subnet beside a SLAAC one on the same network: the guest must run the stateful client.
  assert.deepEqual(flags('rhel', [v6('slaac'), v6('dhcpv6-stateful')]), ['-6']);
});
