// domain/network-data: the documents an instance reads, for each address mode (the network types cloud-init's
// convert_net_json knows), meta_data.json from the port's instance:metadata, and the EC2 tree's listings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMetaData, buildMetadataFiles, buildNetworkData, hostnameOf, netmaskOf, networkTypeOf, type NdPort, type NdSubnet } from '../../../src/domain/network-data.js';

const NET = '5d1e2a3b-0000-4000-8000-000000000001';
const PORT = '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3';
const v6 = (id: string, mode: string | null, extra: Partial<NdSubnet> = {}): NdSubnet => ({
  id, network_id: NET, ip_version: 6, cidr: '2001:db8:cafe::/64', enable_dhcp: true, gateway_ip: '2001:db8:cafe::1',
  ipv6_ra_mode: mode, ipv6_address_mode: mode, dns_nameservers: ['2001:db8:cafe:a::e'], ...extra,
});
const v4 = (id: string, dhcp: boolean): NdSubnet => ({ id, network_id: NET, ip_version: 4, cidr: '192.0.2.0/24', enable_dhcp: dhcp, gateway_ip: '192.0.2.1', dns_nameservers: ['192.0.2.53'], host_routes: [{ destination: '198.51.100.0/24', nexthop: '192.0.2.254' }] });
const port = (ips: [string, string][], extra: Partial<NdPort> = {}): NdPort => ({
  id: PORT, name: 'vm1', network_id: NET, mac_address: 'FA:16:3E:79:5A:CC', device_id: 'lab-vm1', project_id: 'p1',
  fixed_ips: ips.map(([subnet_id, ip_address]) => ({ subnet_id, ip_address })), ...extra,
});

test('network types: one per mode, as cloud-init names them', () => {
  assert.equal(networkTypeOf(v6('s', 'slaac')), 'ipv6_slaac');
  assert.equal(networkTypeOf(v6('s', 'dhcpv6-stateless')), 'ipv6_dhcpv6-stateless');
  assert.equal(networkTypeOf(v6('s', 'dhcpv6-stateful')), 'ipv6_dhcpv6-stateful');
  assert.equal(networkTypeOf(v6('s', null, { enable_dhcp: false })), 'ipv6');
  // The provider case: address mode only (the upstream router sends the RAs).
  assert.equal(networkTypeOf({ ...v6('s', null), ipv6_address_mode: 'slaac' }), 'ipv6_slaac');
  assert.equal(networkTypeOf(v4('a', true)), 'ipv4_dhcp');
  assert.equal(networkTypeOf(v4('a', false)), 'ipv4');
});

test('netmasks as Nova writes them', () => {
  assert.equal(netmaskOf(6, 64), 'ffff:ffff:ffff:ffff::');
  assert.equal(netmaskOf(4, 24), '255.255.255.0');
  assert.equal(netmaskOf(6, 0), '::');
});

test('network_data.json: SLAAC is dynamic (no address, no default route), DNS per network and at the top', () => {
  const nd = buildNetworkData(port([['s6', '2001:db8:cafe:0:f816:3eff:fe79:5acc']]), { id: NET, mtu: 1450 }, new Map([['s6', v6('s6', 'slaac')]]));
  assert.deepEqual(nd, {
    links: [{ id: 'tap0a1b2c3d-4e', vif_id: PORT, type: 'bridge', mtu: 1450, ethernet_mac_address: 'fa:16:3e:79:5a:cc' }],
    networks: [{ id: 'network0', type: 'ipv6_slaac', link: 'tap0a1b2c3d-4e', network_id: NET, routes: [], services: [{ type: 'dns', address: '2001:db8:cafe:a::e' }] }],
    services: [{ type: 'dns', address: '2001:db8:cafe:a::e' }],
  });
});

test('network_data.json: static IPv6 and IPv4 carry address, netmask, the default route and host routes', () => {
  const subnets = new Map([['s6', v6('s6', null, { enable_dhcp: false })], ['s4', v4('s4', false)]]);
  const nd = buildNetworkData(port([['s4', '192.0.2.10'], ['s6', '2001:db8:cafe::10']]), { id: NET, mtu: 1500 }, subnets);
  assert.deepEqual(nd.networks.map((n) => [n.type, n.ip_address, n.netmask, n.routes]), [
    ['ipv4', '192.0.2.10', '255.255.255.0', [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.0.2.1' }, { network: '198.51.100.0', netmask: '255.255.255.0', gateway: '192.0.2.254' }]],
    ['ipv6', '2001:db8:cafe::10', 'ffff:ffff:ffff:ffff::', [{ network: '::', netmask: '::', gateway: '2001:db8:cafe::1' }]],
  ]);
  assert.deepEqual(nd.services.map((s) => s.address), ['192.0.2.53', '2001:db8:cafe:a::e']);
});

test('meta_data.json: from instance:metadata, uuid from the port when device_id is not an instance UUID', () => {
  const p = port([], { 'instance:metadata': { name: 'My VM', meta: { role: 'web', bad: 3 }, public_keys: { mykey: 'ssh-ed25519 AAAA me' } } });
  const md = buildMetaData(p);
  assert.equal(md.uuid, PORT);
  assert.equal(md.name, 'My VM');
  assert.equal(md.hostname, 'my-vm');
  assert.deepEqual(md.meta, { role: 'web' });
  assert.deepEqual(md.keys, [{ name: 'mykey', type: 'ssh', data: 'ssh-ed25519 AAAA me' }]);
  assert.equal(buildMetaData(port([], { device_id: '11111111-2222-4333-8444-555555555555' })).uuid, '11111111-2222-4333-8444-555555555555');
  assert.equal(hostnameOf(port([], { name: '' })), 'host-0a1b2c3d');
});

test('metadata files: OpenStack and EC2 paths, listings, user data only when given', () => {
  const subnets = new Map([['s4', v4('s4', true)]]);
  const plain = buildMetadataFiles(port([['s4', '192.0.2.10']]), { id: NET, mtu: 1500 }, subnets);
  assert.equal(plain.get('openstack/latest/user_data'), undefined);
  assert.equal(plain.get('openstack/latest/vendor_data2.json'), '{}');
  const files = buildMetadataFiles(port([['s4', '192.0.2.10']], { 'instance:user_data': '#cloud-config\nfqdn: vm1.example.com\n', 'instance:metadata': { public_keys: { k: 'ssh-rsa AAA' } } }), { id: NET, mtu: 1500 }, subnets);
  assert.equal(files.get('openstack/latest/user_data'), '#cloud-config\nfqdn: vm1.example.com\n');
  assert.equal(files.get('latest/user-data'), '#cloud-config\nfqdn: vm1.example.com\n');
  assert.equal(JSON.parse(files.get('openstack/2012-08-10/network_data.json')!).networks[0].type, 'ipv4_dhcp');
  // Listings: OpenStack's without trailing slashes (cloud-init looks for "latest"), EC2's with them for directories.
  assert.ok(files.get('openstack/')!.split('\n').includes('latest'));
  assert.deepEqual(files.get('openstack/latest/')!.split('\n'), ['meta_data.json', 'network_data.json', 'user_data', 'vendor_data.json', 'vendor_data2.json']);
  assert.deepEqual(files.get('')!.split('\n'), ['2009-04-04', 'latest', 'openstack']);
  const md = files.get('2009-04-04/meta-data/')!.split('\n');
  assert.ok(md.includes('placement/') && md.includes('instance-id') && md.includes('local-ipv4') && md.includes('public-keys/'));
  assert.equal(files.get('2009-04-04/meta-data/public-keys/'), '0=k');
  assert.equal(files.get('2009-04-04/meta-data/public-keys/0/openssh-key'), 'ssh-rsa AAA');
  assert.equal(files.get('latest/meta-data/local-ipv4'), '192.0.2.10');
  assert.equal(files.get('latest/meta-data/placement/availability-zone'), 'nova');
});
