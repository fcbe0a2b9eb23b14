// Golden tests for the dnsmasq renderer: the full command line, hosts, opts and addn_hosts files for each mode,
// in the formats of neutron/tests/unit/agent/linux/test_dhcp.py (test_output_opts_file, _test_spawn) and the lab
// facts (section 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDnsmasq, dhcpv6Subnets, hostNameFor, type DhcpSubnet } from '../../../src/agent/dnsmasq.js';

const STATEFUL: DhcpSubnet = { id: 's1', cidr: '2001:db8:cafe:1::/64', ip_version: 6, enable_dhcp: true, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful', dns_nameservers: ['2001:db8:cafe:a::e'] };
const STATELESS: DhcpSubnet = { id: 's2', cidr: '2001:db8:cafe:2::/64', ip_version: 6, enable_dhcp: true, ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: 'dhcpv6-stateless', dns_nameservers: ['2001:db8:cafe:a::e', '2001:db8:cafe:a::f'] };
const SLAAC: DhcpSubnet = { id: 's3', cidr: '2001:db8:cafe:3::/64', ip_version: 6, enable_dhcp: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: [] };
const VM = { id: 'p-vm', mac_address: 'fa:16:3e:22:38:6b', fixed_ips: [{ subnet_id: 's1', ip_address: '2001:db8:cafe:1::4' }] };
const DHCP = { id: 'p-dhcp', mac_address: 'fa:16:3e:00:00:12', fixed_ips: [{ subnet_id: 's1', ip_address: '2001:db8:cafe:1::2' }] };
const BASE = ['dnsmasq', '-k', '--no-hosts', '--no-resolv', '--pid-file=/s/d/pid', '--dhcp-hostsfile=/s/d/host', '--addn-hosts=/s/d/addn_hosts', '--dhcp-optsfile=/s/d/opts', '--dhcp-leasefile=/s/d/leases', '--dhcp-match=set:ipxe,175', '--dhcp-userclass=set:ipxe6,iPXE', '--local-service', '--bind-dynamic'];

test('dhcpv6-stateful: static range, a host line per address, DNS and domain options', () => {
  const c = renderDnsmasq({ networkMtu: 1450, subnets: [STATEFUL], ports: [DHCP, VM], interfaceName: 'ns-p-dhcp', dir: '/s/d' });
  assert.deepEqual(c.argv, [
    ...BASE,
    '--dhcp-range=set:subnet-s1,2001:db8:cafe:1::,static,64,86400s',
    '--dhcp-option-force=option:mtu,1450',
    '--dhcp-lease-max=16777216',
    '--conf-file=/dev/null',
    '--domain=openstacklocal',
    '--interface=ns-p-dhcp',
  ]);
  assert.equal(
    c.hosts,
    'fa:16:3e:00:00:12,tag:dhcpv6,host-2001-db8-cafe-1--2.openstacklocal,[2001:db8:cafe:1::2]\n' +
      'fa:16:3e:22:38:6b,tag:dhcpv6,host-2001-db8-cafe-1--4.openstacklocal,[2001:db8:cafe:1::4]\n',
  );
  assert.equal(c.opts, 'tag:subnet-s1,option6:dns-server,[2001:db8:cafe:a::e]\ntag:subnet-s1,option6:domain-search,openstacklocal\n');
  assert.equal(
    c.addnHosts,
    '2001:db8:cafe:1::2\thost-2001-db8-cafe-1--2.openstacklocal host-2001-db8-cafe-1--2\n' +
      '2001:db8:cafe:1::4\thost-2001-db8-cafe-1--4.openstacklocal host-2001-db8-cafe-1--4\n',
  );
});

test('dhcpv6-stateless: the same static range, no host lines, options only', () => {
  const vm = { id: 'p', mac_address: 'fa:16:3e:22:38:6b', fixed_ips: [{ subnet_id: 's2', ip_address: '2001:db8:cafe:2:f816:3eff:fe22:386b' }] };
  const c = renderDnsmasq({ networkMtu: 1500, subnets: [STATELESS], ports: [vm], interfaceName: 'ns-x', dir: '/s/d', leaseSeconds: -1, dnsDomain: 'example.org' });
  assert.deepEqual(c.argv, [
    ...BASE,
    '--dhcp-range=set:subnet-s2,2001:db8:cafe:2::,static,64,infinite',
    '--dhcp-option-force=option:mtu,1500',
    '--dhcp-lease-max=16777216',
    '--conf-file=/dev/null',
    '--domain=example.org',
    '--interface=ns-x',
  ]);
  assert.equal(c.hosts, '');
  assert.equal(c.addnHosts, '');
  assert.equal(c.opts, 'tag:subnet-s2,option6:dns-server,[2001:db8:cafe:a::e],[2001:db8:cafe:a::f]\ntag:subnet-s2,option6:domain-search,example.org\n');
});

test('SLAAC, IPv4, disabled DHCP and prefixes longer than /64... are not served; small subnets bound the lease count', () => {
  const v4: DhcpSubnet = { id: 'v4', cidr: '10.0.0.0/24', ip_version: 4, enable_dhcp: true };
  const off = { ...STATEFUL, id: 'off', enable_dhcp: false };
  const short = { ...STATEFUL, id: 'short', cidr: '2001:db8::/56' };
  const small = { ...STATEFUL, id: 'small', cidr: '2001:db8:cafe:9::/120' };
  assert.deepEqual(dhcpv6Subnets([SLAAC, v4, off, short, small, STATELESS]).map((s) => s.id), ['small', 's2']);
  const c = renderDnsmasq({ networkMtu: 0, subnets: [small], ports: [], interfaceName: 'ns-y', dir: '/s/d' });
  assert.deepEqual(c.argv.slice(BASE.length), [
    '--dhcp-range=set:subnet-small,2001:db8:cafe:9::,static,120,86400s',
    '--dhcp-lease-max=256',
    '--conf-file=/dev/null',
    '--domain=openstacklocal',
    '--interface=ns-y',
  ]);
  assert.equal(c.opts, 'tag:subnet-small,option6:dns-server,[2001:db8:cafe:a::e]\ntag:subnet-small,option6:domain-search,openstacklocal\n');
  assert.equal(hostNameFor('2001:db8::5'), 'host-2001-db8--5');
});

test('IPv4: static range with the netmask, a host line per address, router, DNS and classless static routes', () => {
  const v4: DhcpSubnet = { id: 'v4', cidr: '192.0.2.0/24', ip_version: 4, enable_dhcp: true, gateway_ip: '192.0.2.1', dns_nameservers: ['192.0.2.53'], host_routes: [{ destination: '198.51.100.0/24', nexthop: '192.0.2.254' }] };
  const other: DhcpSubnet = { id: 'v4b', cidr: '192.0.2.128/25', ip_version: 4, enable_dhcp: false, gateway_ip: null };
  const vm = { id: 'p', mac_address: 'fa:16:3e:22:38:6b', fixed_ips: [{ subnet_id: 'v4', ip_address: '192.0.2.5' }, { subnet_id: 's1', ip_address: '2001:db8:cafe:1::4' }] };
  const c = renderDnsmasq({ networkMtu: 1500, subnets: [v4, other, STATEFUL], ports: [vm], interfaceName: 'ns-x', dir: '/s/d' });
  assert.deepEqual(c.argv.filter((a) => a.startsWith('--dhcp-range') || a.startsWith('--dhcp-lease-max')), [
    '--dhcp-range=set:subnet-v4,192.0.2.0,static,255.255.255.0,86400s',
    '--dhcp-range=set:subnet-s1,2001:db8:cafe:1::,static,64,86400s',
    '--dhcp-lease-max=16777216',
  ]);
  assert.equal(c.hosts, 'fa:16:3e:22:38:6b,host-192-0-2-5.openstacklocal,192.0.2.5\nfa:16:3e:22:38:6b,tag:dhcpv6,host-2001-db8-cafe-1--4.openstacklocal,[2001:db8:cafe:1::4]\n');
  assert.equal(
    c.opts,
    'tag:subnet-v4,option:dns-server,192.0.2.53\n' +
      'tag:subnet-v4,option:classless-static-route,198.51.100.0/24,192.0.2.254,192.0.2.128/25,0.0.0.0,0.0.0.0/0,192.0.2.1\n' +
      'tag:subnet-v4,249,198.51.100.0/24,192.0.2.254,192.0.2.128/25,0.0.0.0,0.0.0.0/0,192.0.2.1\n' +
      'tag:subnet-v4,option:router,192.0.2.1\n' +
      'tag:subnet-s1,option6:dns-server,[2001:db8:cafe:a::e]\ntag:subnet-s1,option6:domain-search,openstacklocal\n',
  );
  assert.match(c.addnHosts, /^192\.0\.2\.5\thost-192-0-2-5\.openstacklocal host-192-0-2-5\n/);
  // A small IPv4 subnet alone bounds the lease count; no gateway means an empty router option.
  const lone = renderDnsmasq({ networkMtu: 0, subnets: [{ id: 'n', cidr: '192.0.2.0/28', ip_version: 4, enable_dhcp: true, gateway_ip: null }], ports: [], interfaceName: 'ns-x', dir: '/s/d' });
  assert.ok(lone.argv.includes('--dhcp-lease-max=16'));
  assert.equal(lone.opts, 'tag:subnet-n,option:router\n');
});
