// VXLAN segment ids (VNIs): picked next-fit from the last one handed out, never twice (also under concurrency),
// explicit ones refused with Neutron's 409 TunnelIdInUse when taken, and freed with their network.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`network segments (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());
    const vni = (r: any): number => r.body.network['provider:segmentation_id'];
    const create = (body: Record<string, unknown> = {}) => api.request('POST', '/v2.0/networks', { network: { name: 'n', ...body } });

    it('next-fit ids, explicit ids claimed, a taken id refused, freed with the network', async () => {
      const a = await create();
      const b = await create();
      assert.deepEqual([vni(a), vni(b)], [1, 2]);
      const explicit = await create({ 'provider:network_type': 'vxlan', 'provider:segmentation_id': 4 });
      assert.equal(explicit.status, 201);
      assert.equal(vni(explicit), 4);
      const dup = await create({ 'provider:network_type': 'vxlan', 'provider:segmentation_id': 2 });
      assert.equal(dup.status, 409);
      assert.deepEqual(dup.body, { NeutronError: { type: 'TunnelIdInUse', message: 'Unable to create the network. The tunnel ID 2 is in use.', detail: '' } });
      assert.equal(vni(await create()), 3);
      assert.equal(vni(await create()), 5, 'skips the explicit 4');
      // Deleting frees the id: it can be asked for explicitly again at once; the walk reaches it when it wraps.
      assert.equal((await api.request('DELETE', `/v2.0/networks/${b.body.network.id}`)).status, 204);
      const again = await create({ 'provider:network_type': 'vxlan', 'provider:segmentation_id': 2 });
      assert.equal(again.status, 201);
      assert.equal(vni(again), 2);
    });

    it('never hands out one id twice to concurrent creates', async () => {
      const results = await Promise.all(Array.from({ length: 40 }, () => create()));
      assert.ok(results.every((r) => r.status === 201));
      const ids = results.map(vni);
      assert.equal(new Set(ids).size, ids.length);
      const all = (await api.request('GET', '/v2.0/networks')).body.networks.map((n: any) => n['provider:segmentation_id']);
      assert.equal(new Set(all).size, all.length, 'no two networks share a VNI');
    });
  });
}
