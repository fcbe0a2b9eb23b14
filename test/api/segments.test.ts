// Network segments (VXLAN/Geneve VNIs, VLAN ids, flat physical networks): one network per segment, Neutron's 409s
// for a segment asked for twice, tenant networks given a free VNI by a next-fit walk that steps over ids taken
// explicitly, wraps round and reports exhaustion (503), and segments freed when their network goes.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { reserveSegment } from '../../src/api/segments.js';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`network segments (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    const create = (network: Record<string, unknown>) => api.request('POST', '/v2.0/networks', { network });
    const vni = (r: { body: { network: Record<string, unknown> } }) => r.body.network['provider:segmentation_id'] as number;

    // These two run first, on an empty store: the first ids handed out are 1, 2, ...
    it('next-fit ids, explicit ids claimed, a taken id refused, freed with the network', async () => {
      const a = await create({ name: 'n' });
      const b = await create({ name: 'n' });
      assert.deepEqual([vni(a), vni(b)], [1, 2]);
      const explicit = await create({ name: 'n', 'provider:network_type': 'vxlan', 'provider:segmentation_id': 4 });
      assert.equal(explicit.status, 201);
      assert.equal(vni(explicit), 4);
      const dup = await create({ name: 'n', 'provider:network_type': 'vxlan', 'provider:segmentation_id': 2 });
      assert.equal(dup.status, 409);
      assert.deepEqual(dup.body, { NeutronError: { type: 'TunnelIdInUse', message: 'Unable to create the network. The tunnel ID 2 is in use.', detail: '' } });
      assert.equal(vni(await create({ name: 'n' })), 3);
      assert.equal(vni(await create({ name: 'n' })), 5, 'skips the explicit 4');
      // Deleting frees the id: it can be asked for explicitly again at once; the walk reaches it when it wraps.
      assert.equal((await api.request('DELETE', `/v2.0/networks/${b.body.network.id}`)).status, 204);
      const again = await create({ name: 'n', 'provider:network_type': 'vxlan', 'provider:segmentation_id': 2 });
      assert.equal(again.status, 201);
      assert.equal(vni(again), 2);
    });

    it('never hands out one id twice to concurrent creates', async () => {
      const results = await Promise.all(Array.from({ length: 40 }, () => create({ name: 'n' })));
      assert.ok(results.every((r) => r.status === 201));
      const ids = results.map((r) => vni(r));
      assert.equal(new Set(ids).size, ids.length);
      const all = (await api.request('GET', '/v2.0/networks')).body.networks.map((n: Record<string, unknown>) => n['provider:segmentation_id']);
      assert.equal(new Set(all).size, all.length, 'no two networks share a VNI');
    });

    it('gives tenant networks distinct VNIs, steps over one taken explicitly, and refuses a VNI in use', async () => {
      const a = await create({ name: 'seg-a' });
      assert.equal(a.status, 201);
      assert.equal(a.body.network['provider:network_type'], 'vxlan');
      // The walk's next id, taken explicitly first: the next tenant network must not get it.
      const explicit = await create({ name: 'seg-x', 'provider:network_type': 'vxlan', 'provider:segmentation_id': vni(a) + 1 });
      assert.equal(explicit.status, 201);
      assert.equal(vni(explicit), vni(a) + 1);
      const b = await create({ name: 'seg-b' });
      assert.equal(b.status, 201);
      assert.ok(![vni(a), vni(explicit)].includes(vni(b)), `VNI ${vni(b)} handed out twice`);

      for (const taken of [vni(a), vni(explicit)]) {
        const again = await create({ name: 'seg-dup', 'provider:network_type': 'vxlan', 'provider:segmentation_id': taken });
        assert.equal(again.status, 409);
        assert.deepEqual(again.body.NeutronError, {
          type: 'TunnelIdInUse',
          message: `Unable to create the network. The tunnel ID ${taken} is in use.`,
          detail: '',
        });
      }
      // Freed with its network, the VNI can be asked for again.
      assert.equal((await api.request('DELETE', `/v2.0/networks/${explicit.body.network.id}`)).status, 204);
      const reused = await create({ name: 'seg-y', 'provider:network_type': 'vxlan', 'provider:segmentation_id': vni(explicit) });
      assert.equal(reused.status, 201);

      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => create({ name: `seg-many-${i}` })));
      const all = (await api.request('GET', '/v2.0/networks?provider:network_type=vxlan')).body.networks as Record<string, unknown>[];
      const ids = all.map((n) => n['provider:segmentation_id']);
      assert.equal(many.filter((r) => r.status === 201).length, 20);
      assert.equal(new Set(ids).size, ids.length, 'no VNI held by two networks');
    });

    it('keeps VLAN ids per physical network and one flat network per physical network', async () => {
      const vlan = (physnet: string, id?: number) =>
        create({ name: `seg-vlan-${physnet}`, 'provider:network_type': 'vlan', 'provider:physical_network': physnet, ...(id ? { 'provider:segmentation_id': id } : {}) });
      assert.equal((await vlan('physnet1', 101)).status, 201);
      const dup = await vlan('physnet1', 101);
      assert.equal(dup.status, 409);
      assert.equal(dup.body.NeutronError.type, 'VlanIdInUse');
      assert.equal(dup.body.NeutronError.message, 'Unable to create the network. The VLAN 101 on physical network physnet1 is in use.');
      assert.equal((await vlan('physnet2', 101)).status, 201, 'the same VLAN id on another physical network');
      const auto = await vlan('physnet1');
      assert.equal(auto.status, 201);
      assert.notEqual(vni(auto), 101);

      const flat = (name: string) => create({ name, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet3' });
      const first = await flat('seg-flat-1');
      assert.equal(first.status, 201);
      const second = await flat('seg-flat-2');
      assert.equal(second.status, 409);
      assert.deepEqual(second.body.NeutronError, {
        type: 'FlatNetworkInUse',
        message: 'Unable to create the flat network. Physical network physnet3 is in use.',
        detail: '',
      });
      assert.equal((await api.request('DELETE', `/v2.0/networks/${first.body.network.id}`)).status, 204);
      assert.equal((await flat('seg-flat-3')).status, 201);
    });

    it('walks on from the last id handed out, wraps round to freed ids and says 503 when the range is full', async () => {
      const range = { min: 1, max: 4 };
      const reserve = (net: string) => api.store.write((tx) => reserveSegment(tx, net, 'vlan', 'physnet-small', null, range));
      assert.deepEqual([await reserve('n1'), await reserve('n2'), await reserve('n3')], [1, 2, 3]);
      await api.store.write((tx) => tx.releaseSegment({ network_type: 'vlan', physical_network: 'physnet-small', segmentation_id: 1 }));
      // Next-fit: 4 first, then round to the freed 1.
      assert.deepEqual([await reserve('n4'), await reserve('n5')], [4, 1]);
      await assert.rejects(reserve('n6'), (e: { status?: number; type?: string; message?: string }) => {
        assert.equal(e.status, 503);
        assert.equal(e.type, 'NoNetworkAvailable');
        assert.equal(e.message, 'Unable to create the network. No tenant network is available for allocation.');
        return true;
      });
      assert.equal(await api.store.read((tx) => tx.segmentCursor('vlan', 'physnet-small')), 1);
    });
  });
}
