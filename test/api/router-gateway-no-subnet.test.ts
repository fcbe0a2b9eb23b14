// A router's gateway on an external network that has no subnet: Neutron takes it (l3_db._create_router_gw_port only
// logs "No IPs available"), and the gateway port has no fixed IPs.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`router gateway on an external network without a subnet (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    it('sets, shows, clears and re-sets the gateway, its port without addresses', async () => {
      const ext = (await api.request('POST', '/v2.0/networks', { network: { name: 'bare-ext', 'router:external': true } })).body.network;
      const created = await api.request('POST', '/v2.0/routers', { router: { name: 'r-bare', external_gateway_info: { network_id: ext.id } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.router.external_gateway_info, { network_id: ext.id, external_fixed_ips: [], enable_snat: true });
      const router = created.body.router;
      const ports = (await api.request('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).body.ports;
      assert.equal(ports.length, 1);
      assert.deepEqual(ports[0].fixed_ips, []);
      assert.equal(ports[0].network_id, ext.id);

      const cleared = await api.request('PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: {} } });
      assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
      assert.equal(cleared.body.router.external_gateway_info, null);
      const again = await api.request('PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: { network_id: ext.id, enable_snat: false } } });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body.router.external_gateway_info, { network_id: ext.id, external_fixed_ips: [], enable_snat: false });

      // The network and the router go as usual.
      assert.equal((await api.request('DELETE', `/v2.0/routers/${router.id}`)).status, 204);
      assert.equal((await api.request('GET', `/v2.0/ports?device_id=${router.id}`)).body.ports.length, 0);
      assert.equal((await api.request('DELETE', `/v2.0/networks/${ext.id}`)).status, 204);
    });
  });
}
