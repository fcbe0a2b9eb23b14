// PUT /v2.0/routers/{id}/add_extraroutes and remove_extraroutes (Neutron's extraroute-atomic): set addition and
// removal on the router's routes in one transaction, checked as a PUT of the whole list is, answering the router.
// The sequence is neutron_tempest_plugin's test_extra_routes_atomic, in IPv6.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`extraroute-atomic (${backend})`, () => {
    let api: Api;
    let routerId: string;
    const put = (action: string, routes: unknown) => api.request('PUT', `/v2.0/routers/${routerId}/${action}`, { router: { routes } });
    const r = (d: number, h: number) => ({ destination: `2001:db8:${d}::/64`, nexthop: `2001:db8:ea::${h}` });
    before(async () => {
      api = await startApi(backend);
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'xr' } })).body.network;
      const sub = (await api.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:ea::/64', gateway_ip: '2001:db8:ea::1' } })).body.subnet;
      routerId = (await api.request('POST', '/v2.0/routers', { router: { name: 'xr' } })).body.router.id;
      assert.equal((await api.request('PUT', `/v2.0/routers/${routerId}/add_router_interface`, { subnet_id: sub.id })).status, 200);
    });
    after(async () => api.close());

    it('is advertised', async () => {
      const ext = (await api.request('GET', '/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
      assert.ok(ext.includes('extraroute-atomic'));
    });

    it('adds and removes as sets, as Tempest walks it', async () => {
      let res = await put('add_extraroutes', [r(2, 2)]);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.router.id, routerId);
      assert.deepEqual(res.body.router.routes, [r(2, 2)]);
      res = await put('add_extraroutes', [r(2, 2), r(3, 3)]);
      assert.deepEqual(res.body.router.routes, [r(2, 2), r(3, 3)], 'a route already there is not doubled');
      res = await put('remove_extraroutes', [r(3, 3), r(4, 4)]);
      assert.deepEqual(res.body.router.routes, [r(2, 2)], 'removing a missing route is no error');
      res = await put('add_extraroutes', [r(2, 5)]);
      assert.deepEqual(res.body.router.routes, [r(2, 2), r(2, 5)], 'one destination, two next hops');
      // Canonical text: the same route written differently is the same route.
      res = await put('remove_extraroutes', [{ destination: '2001:0db8:2:0::/64', nexthop: '2001:db8:ea:0::5' }]);
      assert.deepEqual(res.body.router.routes, [r(2, 2)]);
      const shown = (await api.request('GET', `/v2.0/routers/${routerId}`)).body.router;
      assert.deepEqual(shown.routes, [r(2, 2)]);
      assert.ok(shown.revision_number > 0);
    });

    it("refuses what a PUT of the routes refuses, and changes nothing then", async () => {
      let res = await put('add_extraroutes', [{ destination: '2001:db8:9::/64', nexthop: '2001:db8:99::1' }]);
      assert.equal(res.status, 400);
      assert.equal(res.body.NeutronError.type, 'InvalidRoutes');
      res = await put('add_extraroutes', [{ destination: 'nope', nexthop: '2001:db8:ea::9' }]);
      assert.equal(res.status, 400);
      assert.equal(res.body.NeutronError.type, 'InvalidRoutes');
      res = await api.request('PUT', `/v2.0/routers/${routerId}/add_extraroutes`, { routes: [] });
      assert.equal(res.status, 400);
      res = await api.request('PUT', `/v2.0/routers/${routerId}/add_extraroutes`, { router: {} });
      assert.equal(res.status, 400);
      assert.deepEqual((await api.request('GET', `/v2.0/routers/${routerId}`)).body.router.routes, [r(2, 2)]);
      res = await api.request('PUT', `/v2.0/routers/9a9e37a1-5f73-4a4f-8c7e-46f0f5e3c8a1/add_extraroutes`, { router: { routes: [] } });
      assert.equal(res.status, 404);
      assert.equal(res.body.NeutronError.type, 'RouterNotFound');
      // null is no routes, as for the attribute: adding nothing changes nothing.
      res = await put('add_extraroutes', null);
      assert.deepEqual(res.body.router.routes, [r(2, 2)]);
    });
  });
}
