// `GET /v2.0/ports?fixed_ips=ip_address_substr=…` (Neutron's ip-substring-filtering extension): a port matches when
// one of its addresses contains the text, as Neutron's `IPAllocation.ip_address LIKE '%text%'`. Tempest's
// test_port_list_filter_by_ip_substr (IPv4 and IPv6) runs only when the alias is advertised.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`ports filtered by an address substring (${backend})`, () => {
    let api: Api;
    let net: { id: string };
    const port = async (subnetId: string, ip: string): Promise<{ id: string }> =>
      (await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, fixed_ips: [{ subnet_id: subnetId, ip_address: ip }] } })).body.port;
    const ids = async (filter: string): Promise<string[]> =>
      (await api.request('GET', `/v2.0/ports?network_id=${net.id}&fixed_ips=${encodeURIComponent(filter)}`)).body.ports.map((p: { id: string }) => p.id).sort();
    before(async () => {
      api = await startApi(backend);
      net = (await api.request('POST', '/v2.0/networks', { network: { name: 'substr' } })).body.network;
    });
    after(async () => api.close());

    it('is advertised', async () => {
      const ext = (await api.request('GET', '/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
      assert.ok(ext.includes('ip-substring-filtering'));
    });

    it('matches IPv6 and IPv4 addresses by substring, as Tempest lists them', async () => {
      const v6 = (await api.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:5b::/64', ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'dhcpv6-stateful' } })).body.subnet;
      const v4 = (await api.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.0/24' } })).body.subnet;
      const a = await port(v6.id, '2001:db8:5b::19');
      const b = await port(v6.id, '2001:db8:5b::21');
      const c = await port(v4.id, '192.0.2.19');
      assert.deepEqual(await ids('ip_address_substr=2001:db8:5b::1'), [a.id]);
      assert.deepEqual(await ids('ip_address_substr=2001:db8:5b::'), [a.id, b.id].sort());
      assert.deepEqual(await ids('ip_address_substr=19'), [a.id, c.id].sort(), 'anywhere in the text, in either family');
      assert.deepEqual(await ids('ip_address_substr=2001:db8:5c'), []);
    });

    it('ORs the values of one key and ANDs different keys, as Neutron\'s _get_ports_query', async () => {
      const v6 = (await api.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:5d::/64', ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'dhcpv6-stateful' } })).body.subnet;
      const a = await port(v6.id, '2001:db8:5d::7');
      const b = await port(v6.id, '2001:db8:5d::8');
      const list = async (...filters: string[]): Promise<string[]> =>
        (await api.request('GET', `/v2.0/ports?${filters.map((f) => `fixed_ips=${encodeURIComponent(f)}`).join('&')}`)).body.ports.map((p: { id: string }) => p.id).sort();
      assert.deepEqual(await list('ip_address=2001:db8:5d::7', 'ip_address=2001:db8:5d::8'), [a.id, b.id].sort());
      assert.deepEqual(await list('ip_address=2001:db8:5d::7', `subnet_id=${v6.id}`), [a.id]);
      assert.deepEqual(await list('ip_address=2001:db8:5d::7', 'subnet_id=00000000-0000-4000-8000-000000000000'), [], 'both keys must match');
      assert.deepEqual(await list('ip_address_substr=5d::8', `subnet_id=${v6.id}`), [b.id]);
    });
  });
}
