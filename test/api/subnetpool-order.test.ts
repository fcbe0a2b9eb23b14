// Subnet pools hand out prefixes in Neutron's order (smallest free block first) from their free-block lists: every
// allocation below is checked against the exact allocator run on the pool's current prefixes, through explicit requests, deletions (holes), other lengths and a full pool.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { allocateFromPool } from '../../src/domain/subnetpool.js';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`subnet pool order (${backend})`, () => {
    let api: Api;
    let pool: { id: string };
    let net: { id: string };
    before(async () => {
      api = await startApi(backend, { settings: { quotas: { subnet: -1 } } }); // fills a pool with more than quota_subnet (100) subnets
      net = (await api.request('POST', '/v2.0/networks', { network: { name: 'p' } })).body.network;
      pool = (
        await api.request('POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes: ['2001:db8:a00::/56'], default_prefixlen: 64 } })
      ).body.subnetpool;
    });
    after(async () => api.close());

    const taken = async (): Promise<string[]> =>
      (await api.request('GET', `/v2.0/subnets?subnetpool_id=${pool.id}`)).body.subnets.map((s: { cidr: string }) => s.cidr);

    const allocate = async (extra: Record<string, unknown> = {}): Promise<{ status: number; cidr?: string; id?: string }> => {
      const before = await taken();
      let exact: string | null = null;
      try {
        exact = allocateFromPool(
          { prefixes: ['2001:db8:a00::/56'], min_prefixlen: 64, max_prefixlen: 128, default_prefixlen: 64 },
          before,
          { ...(extra.cidr ? { cidr: extra.cidr as string } : {}), ...(extra.prefixlen ? { prefixlen: extra.prefixlen as number } : {}), ip_version: 6 },
        );
      } catch {
        exact = null;
      }
      const r = await api.request('POST', '/v2.0/subnets', {
        subnet: { network_id: net.id, ip_version: 6, subnetpool_id: pool.id, enable_dhcp: false, ...extra },
      });
      if (exact === null) {
        assert.ok(r.status >= 400 && r.status < 500, `refused like the exact allocator: ${JSON.stringify(r.body)}`);
        return { status: r.status };
      }
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.subnet.cidr, exact, 'same prefix as the exact allocator');
      return { status: 201, cidr: r.body.subnet.cidr, id: r.body.subnet.id };
    };

    it('agrees with the exact allocator through runs, holes, explicit prefixes and other lengths', async () => {
      const made: { cidr: string; id: string }[] = [];
      for (let i = 0; i < 6; i++) made.push((await allocate()) as { cidr: string; id: string });
      assert.equal(made[5]!.cidr, '2001:db8:a00:5::/64');
      // A hole: the next allocation fills it first.
      assert.equal((await api.request('DELETE', `/v2.0/subnets/${made[2]!.id}`)).status, 204);
      assert.equal((await allocate()).cidr, '2001:db8:a00:2::/64');
      for (let i = 0; i < 3; i++) await allocate();
      // An explicit prefix far away: Neutron's smallest block is then next to it.
      await allocate({ cidr: '2001:db8:a00:ff::/64' });
      for (let i = 0; i < 3; i++) await allocate();
      // Another length.
      await allocate({ prefixlen: 62 });
      for (let i = 0; i < 3; i++) await allocate();
    });

    it('fills the pool exactly and then refuses with 409', async () => {
      let refused = 0;
      for (let i = 0; i < 260 && refused === 0; i++) if ((await allocate()).status !== 201) refused++;
      assert.equal(refused, 1);
      assert.equal((await taken()).length > 200, true);
    });
  });
}
