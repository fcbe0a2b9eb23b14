// GET /v2.0/network-ip-availabilities[/{network_id}] (Neutron's network-ip-availability) and GET
// /v2.0/service-providers (service-type). The IPv6 totals are checked in the raw JSON text: a /64's pools hold
// 2^64 - 2 addresses, which a double cannot carry, and Neutron answers the exact integer.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';
import { noauth } from '../../src/api/server.js';

async function ok(api: Api, method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200): Promise<any> {
  const r = await api.request(method, path, body);
  assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function raw(api: Api, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(api.url + path, { headers });
  return { status: res.status, text: await res.text() };
}

for (const backend of backends()) {
  describe(`network-ip-availability (${backend})`, () => {
    let api: Api;
    before(async () => {
      // Admin for every caller but one who says X-Roles: member (the policy is admin only).
      const admin = noauth('test-project');
      api = await startApi(backend, {
        authenticate: (h) => (h['x-roles'] === 'member' ? { projectId: 'test-project', roles: ['member'], isAdmin: false } : admin(h)),
      });
    });
    after(async () => api.close());

    it('is advertised, and service-type with it', async () => {
      const ext = (await ok(api, 'GET', '/v2.0/extensions')).extensions.map((e: { alias: string }) => e.alias);
      assert.ok(ext.includes('network-ip-availability'));
      assert.ok(ext.includes('service-type'));
    });

    it('counts the pools exactly (2^64 - 2 in a /64) and the allocations, per subnet and per network', async () => {
      const net = (await ok(api, 'POST', '/v2.0/networks', { network: { name: 'avail' } })).network;
      const empty = (await ok(api, 'GET', `/v2.0/network-ip-availabilities/${net.id}`)).network_ip_availability;
      assert.deepEqual(empty, { network_id: net.id, network_name: 'avail', tenant_id: 'test-project', project_id: 'test-project', total_ips: 0, used_ips: 0, subnet_ip_availability: [] });

      const v6 = (await ok(api, 'POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:a7::/64', gateway_ip: '2001:db8:a7::1', enable_dhcp: false } })).subnet;
      const v4 = (await ok(api, 'POST', '/v2.0/subnets', {
        subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.0/24', enable_dhcp: false, allocation_pools: [{ start: '192.0.2.10', end: '192.0.2.19' }, { start: '192.0.2.100', end: '192.0.2.199' }] },
      })).subnet;
      // ::2 to ::ffff:ffff:ffff:ffff: the network address and the gateway ::1 left out (neutron ipam_utils.generate_pools),
    // as Tempest's calc_total_ips expects (2^(128-64) - 2) for the subnet it makes with gateway ::1.
    const v6Total = 2n ** 64n - 2n;
      const port = (await ok(api, 'POST', '/v2.0/ports', { port: { network_id: net.id } })).port;
      assert.equal(port.fixed_ips.length, 2);
      // A fixed IP outside the pools is still a used address (Neutron counts IPAllocation rows).
      await ok(api, 'POST', '/v2.0/ports', { port: { network_id: net.id, fixed_ips: [{ subnet_id: v4.id, ip_address: '192.0.2.50' }] } });

      const shown = await raw(api, `/v2.0/network-ip-availabilities/${net.id}`);
      assert.equal(shown.status, 200);
      assert.ok(shown.text.includes(`"total_ips":${v6Total}`), shown.text);
      assert.ok(shown.text.includes(`"total_ips":${v6Total + 110n}`), 'the network total is the exact sum');
      const body = JSON.parse(shown.text).network_ip_availability;
      assert.equal(body.used_ips, 3);
      const bySubnet = Object.fromEntries(body.subnet_ip_availability.map((s: any) => [s.subnet_id, s]));
      assert.deepEqual(bySubnet[v4.id], { subnet_id: v4.id, subnet_name: '', cidr: '192.0.2.0/24', ip_version: 4, total_ips: 110, used_ips: 2 });
      assert.equal(bySubnet[v6.id].used_ips, 1);
      assert.equal(bySubnet[v6.id].cidr, '2001:db8:a7::/64');

      // The list has the same entry; an ip_version filter keeps only that family's subnets.
      const listed = await raw(api, `/v2.0/network-ip-availabilities?network_id=${net.id}`);
      assert.ok(listed.text.includes(`"total_ips":${v6Total + 110n}`), listed.text);
      const only4 = (await ok(api, 'GET', `/v2.0/network-ip-availabilities?network_id=${net.id}&ip_version=4`)).network_ip_availabilities;
      assert.equal(only4.length, 1);
      assert.deepEqual([only4[0].total_ips, only4[0].used_ips, only4[0].subnet_ip_availability.length], [110, 2, 1]);

      await ok(api, 'DELETE', `/v2.0/ports/${port.id}`, undefined, 204);
      const after = (await ok(api, 'GET', `/v2.0/network-ip-availabilities/${net.id}`)).network_ip_availability;
      assert.equal(after.used_ips, 1, 'a deleted port frees its addresses at once');
    });

    it('lists every network, filters by name and project, pages, and picks fields', async () => {
      const a = (await ok(api, 'POST', '/v2.0/networks', { network: { name: 'avail-a' } })).network;
      const b = (await ok(api, 'POST', '/v2.0/networks', { network: { name: 'avail-b', project_id: 'other' } })).network;
      const all = (await ok(api, 'GET', '/v2.0/network-ip-availabilities')).network_ip_availabilities;
      assert.ok(all.some((n: any) => n.network_id === a.id) && all.some((n: any) => n.network_id === b.id));
      assert.ok(all.every((n: any) => !('id' in n)), 'Neutron entries have no id');
      const named = (await ok(api, 'GET', '/v2.0/network-ip-availabilities?network_name=avail-b')).network_ip_availabilities;
      assert.deepEqual(named.map((n: any) => n.network_id), [b.id]);
      const other = (await ok(api, 'GET', '/v2.0/network-ip-availabilities?tenant_id=other')).network_ip_availabilities;
      assert.deepEqual(other.map((n: any) => n.network_id), [b.id]);
      const page = await ok(api, 'GET', '/v2.0/network-ip-availabilities?limit=1');
      assert.equal(page.network_ip_availabilities.length, 1);
      assert.equal(page.network_ip_availabilities_links[0].rel, 'next');
      const fields = (await ok(api, 'GET', `/v2.0/network-ip-availabilities/${a.id}?fields=network_id&fields=used_ips`)).network_ip_availability;
      assert.deepEqual(fields, { network_id: a.id, used_ips: 0 });
    });

    it("answers Neutron's errors: an unknown network, a write, a non-admin caller", async () => {
      const missing = '9a9e37a1-5f73-4a4f-8c7e-46f0f5e3c8a1';
      const r = await api.request('GET', `/v2.0/network-ip-availabilities/${missing}`);
      assert.equal(r.status, 404);
      assert.equal(r.body.NeutronError.type, 'NetworkNotFound');
      assert.equal(r.body.NeutronError.message, `Network ${missing} could not be found.`);
      assert.equal((await api.request('POST', '/v2.0/network-ip-availabilities', {})).status, 405);
      assert.equal((await api.request('DELETE', `/v2.0/network-ip-availabilities/${missing}`)).status, 405);
      // Admin only: a member lists nothing and does not see the network.
      const net = (await ok(api, 'POST', '/v2.0/networks', { network: { name: 'avail-member' } })).network;
      const listed = await raw(api, '/v2.0/network-ip-availabilities', { 'X-Roles': 'member' });
      assert.deepEqual(JSON.parse(listed.text), { network_ip_availabilities: [] });
      assert.equal((await raw(api, `/v2.0/network-ip-availabilities/${net.id}`, { 'X-Roles': 'member' })).status, 404);
    });

    it('lists the service providers v6stack has: the single-node and the HA router', async () => {
      const body = await ok(api, 'GET', '/v2.0/service-providers');
      assert.deepEqual(body, {
        service_providers: [
          { service_type: 'L3_ROUTER_NAT', name: 'ha', default: false },
          { service_type: 'L3_ROUTER_NAT', name: 'single_node', default: false },
        ],
      });
      const ha = (await ok(api, 'GET', '/v2.0/service-providers?name=ha&fields=name')).service_providers;
      assert.deepEqual(ha, [{ name: 'ha' }]);
      assert.equal((await api.request('POST', '/v2.0/service-providers', {})).status, 405);
    });
  });
}
