// The talk's topology over raw HTTP: a public network with v4 and v6 subnets, the SLAAC, DHCPv6-stateless and
// DHCPv6-stateful private networks, a router with a gateway and interfaces, and ports with the talk's addresses.
// Defaults follow Neutron Zed (IPv6 gateway = subnet-router anycast `prefix::`), as the peer answers today.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`seed topology (${backend})`, () => {
    let api: Api;
    const ids: Record<string, string> = {};
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    const create = async (plural: string, singular: string, body: Record<string, unknown>) => {
      const r = await api.request('POST', `/v2.0/${plural}`, { [singular]: body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body[singular];
    };

    it('creates the public network with dual-stack subnets and pools', async () => {
      const net = await create('networks', 'network', { name: 'public', 'router:external': true });
      assert.equal(net['router:external'], true);
      ids.public = net.id;
      const v4 = await create('subnets', 'subnet', {
        name: 'public-subnet',
        network_id: net.id,
        ip_version: 4,
        cidr: '172.16.12.0/24',
        allocation_pools: [{ start: '172.16.12.5', end: '172.16.12.254' }],
      });
      assert.equal(v4.gateway_ip, '172.16.12.1');
      const v6 = await create('subnets', 'subnet', {
        name: 'public-v6-subnet',
        network_id: net.id,
        ip_version: 6,
        cidr: '2001:db8:cafe:d::/64',
        enable_dhcp: false,
        allocation_pools: [{ start: '2001:db8:cafe:d::5', end: '2001:db8:cafe:d:ffff:ffff:ffff:fffe' }],
      });
      assert.equal(v6.gateway_ip, '2001:db8:cafe:d::');
      assert.equal(v6.ipv6_ra_mode, null);
      assert.equal(v6.enable_dhcp, false);
      const shown = await api.request('GET', `/v2.0/networks/${net.id}`);
      assert.deepEqual(new Set(shown.body.network.subnets), new Set([v4.id, v6.id]));
    });

    it('creates the three private IPv6 networks with the talk\'s modes', async () => {
      for (const [name, mode, cidr] of [
        ['private', 'slaac', '2001:db8:cafe::/64'],
        ['private-dhcpv6-stateless', 'dhcpv6-stateless', '2001:db8:cafe:2::/64'],
        ['private-dhcpv6', 'dhcpv6-stateful', '2001:db8:cafe:1::/64'],
      ] as const) {
        const net = await create('networks', 'network', { name });
        const s = await create('subnets', 'subnet', {
          name: `${name}-v6-subnet`,
          network_id: net.id,
          ip_version: 6,
          cidr,
          ipv6_ra_mode: mode,
          ipv6_address_mode: mode,
          dns_nameservers: ['2001:db8:cafe:a::e'],
        });
        assert.equal(s.ipv6_ra_mode, mode);
        assert.equal(s.ipv6_address_mode, mode);
        assert.equal(s.gateway_ip, cidr.replace('/64', ''));
        assert.deepEqual(s.allocation_pools, [{ start: cidr.replace('::/64', '::1'), end: cidr.replace('::/64', ':ffff:ffff:ffff:ffff').replace('cafe:ffff', 'cafe:0:ffff') }]);
        assert.deepEqual(s.dns_nameservers, ['2001:db8:cafe:a::e']);
        ids[mode] = net.id;
        ids[`${mode}-subnet`] = s.id;
      }
      const v4 = await create('subnets', 'subnet', { name: 'private-v4-subnet', network_id: ids.slaac, ip_version: 4, cidr: '10.0.0.0/24' });
      ids['v4-subnet'] = v4.id;
    });

    it('gives a port the EUI-64 address from its MAC on SLAAC and stateless subnets', async () => {
      const mac = 'fa:16:3e:79:5a:cc';
      const slaac = await create('ports', 'port', { network_id: ids.slaac, mac_address: mac, device_owner: 'compute:nova' });
      const byV = Object.fromEntries(slaac.fixed_ips.map((f: { ip_address: string }) => [f.ip_address.includes(':') ? 6 : 4, f.ip_address]));
      assert.equal(byV[6], '2001:db8:cafe:0:f816:3eff:fe79:5acc');
      assert.equal(byV[4], '10.0.0.2');
      assert.match(slaac.mac_address, /^fa:16:3e:/);
      const stateless = await create('ports', 'port', { network_id: ids['dhcpv6-stateless'], mac_address: mac });
      assert.deepEqual(stateless.fixed_ips, [{ subnet_id: ids['dhcpv6-stateless-subnet'], ip_address: '2001:db8:cafe:2:f816:3eff:fe79:5acc' }]);
      const stateful = await create('ports', 'port', { network_id: ids['dhcpv6-stateful'], mac_address: mac });
      assert.equal(stateful.fixed_ips.length, 1);
      assert.equal(stateful.fixed_ips[0].ip_address, '2001:db8:cafe:1::1');
      const generated = await create('ports', 'port', { network_id: ids['dhcpv6-stateful'] });
      assert.match(generated.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
      assert.equal(generated.fixed_ips[0].ip_address, '2001:db8:cafe:1::2');
      assert.equal(generated.security_groups.length, 1);
    });

    it('connects a router: gateway on public, interfaces take the subnets\' gateway addresses', async () => {
      const router = await create('routers', 'router', { name: 'private-router', external_gateway_info: { network_id: ids.public } });
      const gw = router.external_gateway_info;
      assert.equal(gw.network_id, ids.public);
      const families = gw.external_fixed_ips.map((f: { ip_address: string }) => (f.ip_address.includes(':') ? 6 : 4)).sort();
      assert.deepEqual(families, [4, 6]);
      assert.ok(gw.external_fixed_ips.some((f: { ip_address: string }) => f.ip_address === '172.16.12.5'));
      assert.ok(gw.external_fixed_ips.some((f: { ip_address: string }) => f.ip_address === '2001:db8:cafe:d::5'));
      const v4 = await api.request('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: ids['v4-subnet'] });
      assert.equal(v4.status, 200, JSON.stringify(v4.body));
      const v6 = await api.request('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: ids['slaac-subnet'] });
      assert.equal(v6.status, 200);
      assert.notEqual(v6.body.port_id, v4.body.port_id, 'IPv4 and IPv6 subnets get separate router ports');
      const port = (await api.request('GET', `/v2.0/ports/${v6.body.port_id}`)).body.port;
      assert.equal(port.device_owner, 'network:router_interface');
      assert.deepEqual(port.fixed_ips, [{ subnet_id: ids['slaac-subnet'], ip_address: '2001:db8:cafe::' }]);
      const again = await api.request('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: ids['slaac-subnet'] });
      assert.equal(again.status, 400);
      assert.equal(again.body.NeutronError.message, `Bad router request: Router already has a port on subnet ${ids['slaac-subnet']}.`);
      ids.router = router.id;
    });

    it('puts a second IPv6 subnet of the same network on the router\'s existing IPv6 port', async () => {
      const s = await create('subnets', 'subnet', {
        network_id: ids.slaac,
        ip_version: 6,
        cidr: '2001:db8:cafe:9::/64',
        ipv6_ra_mode: 'slaac',
        ipv6_address_mode: 'slaac',
      });
      const r = await api.request('PUT', `/v2.0/routers/${ids.router}/add_router_interface`, { subnet_id: s.id });
      assert.equal(r.status, 200);
      const port = (await api.request('GET', `/v2.0/ports/${r.body.port_id}`)).body.port;
      assert.equal(port.fixed_ips.length, 2);
      // The existing compute port was back-filled with its EUI-64 address on the new subnet.
      const ports = (await api.request('GET', `/v2.0/ports?network_id=${ids.slaac}&device_owner=compute:nova`)).body.ports;
      assert.ok(ports[0].fixed_ips.some((f: { ip_address: string }) => f.ip_address === '2001:db8:cafe:9:f816:3eff:fe79:5acc'));
    });

    it('refuses an "external router" subnet (address mode without RA mode) on a router', async () => {
      const net = await create('networks', 'network', { name: 'provider-ra' });
      const s = await create('subnets', 'subnet', { network_id: net.id, ip_version: 6, cidr: '2001:db8:cafe:16::/64', ipv6_address_mode: 'slaac' });
      const r = await api.request('PUT', `/v2.0/routers/${ids.router}/add_router_interface`, { subnet_id: s.id });
      assert.equal(r.status, 400);
      assert.equal(
        r.body.NeutronError.message,
        `Bad router request: IPv6 subnet ${s.id} configured to receive RAs from an external router cannot be added to Neutron Router..`,
        'Neutron\'s BadRequest adds its own dot after a message that has one',
      );
    });

    it('removes an interface and frees the gateway address', async () => {
      const r = await api.request('PUT', `/v2.0/routers/${ids.router}/remove_router_interface`, { subnet_id: ids['v4-subnet'] });
      assert.equal(r.status, 200);
      const gone = await api.request('GET', `/v2.0/ports/${r.body.port_id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.NeutronError.type, 'PortNotFound');
    });
  });
}
