// GET /v2.0/subnets?shared=: a subnet's `shared` is its network's (neutron-lib subnet definition: is_visible False,
// is_filter True; model_query.apply_filters matches an access_as_shared entry for '*' or the caller's project).
// neutron-tempest-plugin's SubnetsSearchCriteriaTest lists with shared=False throughout.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';
import { headersFor, testAuthenticator, type IdentityName } from '../helpers/identities.js';

for (const backend of backends()) {
  describe(`subnets filtered by their network's sharing (${backend})`, () => {
    let api: Api;
    const as = (who: IdentityName, method: string, path: string, body?: unknown) => api.request(method, path, body, headersFor(who));
    const made = async (who: IdentityName, path: string, singular: string, body: Record<string, unknown>): Promise<any> => {
      const r = await as(who, 'POST', `/v2.0/${path}`, { [singular]: body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body[singular];
    };
    const names = async (who: IdentityName, query: string): Promise<string[]> => {
      const r = await as(who, 'GET', `/v2.0/subnets?${query}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.subnets.map((s: { name: string }) => s.name).sort();
    };
    before(async () => {
      api = await startApi(backend, { authenticate: testAuthenticator() });
      const everyone = await made('admin', 'networks', 'network', { name: 'everyone', shared: true });
      const toA = await made('member-B', 'networks', 'network', { name: 'to-a' });
      const own = await made('member-A', 'networks', 'network', { name: 'own' });
      await made('admin', 'subnets', 'subnet', { name: 'everyone-sub', network_id: everyone.id, ip_version: 6, cidr: '2001:db8:51::/64' });
      await made('member-B', 'subnets', 'subnet', { name: 'to-a-sub', network_id: toA.id, ip_version: 6, cidr: '2001:db8:52::/64' });
      await made('member-A', 'subnets', 'subnet', { name: 'own-sub', network_id: own.id, ip_version: 6, cidr: '2001:db8:53::/64' });
      await made('member-B', 'rbac-policies', 'rbac_policy', { object_type: 'network', object_id: toA.id, action: 'access_as_shared', target_tenant: 'project-a' });
    });
    after(async () => api?.close());

    it('selects by the network being shared with everyone or with the caller', async () => {
      assert.deepEqual(await names('member-A', 'shared=true'), ['everyone-sub', 'to-a-sub']);
      assert.deepEqual(await names('member-A', 'shared=False'), ['own-sub']);
      assert.deepEqual(await names('member-A', ''), ['everyone-sub', 'own-sub', 'to-a-sub']);
      // The owner of to-a shared it with project A only: for B it is not shared.
      assert.deepEqual(await names('member-B', 'shared=true'), ['everyone-sub']);
      assert.deepEqual(await names('member-B', 'shared=false'), ['to-a-sub']);
      // The admin's project has no entry of its own: only '*' counts for it, and it sees every subnet.
      assert.deepEqual(await names('admin', 'shared=1'), ['everyone-sub']);
      assert.deepEqual(await names('admin', 'shared=0'), ['own-sub', 'to-a-sub']);
      assert.deepEqual(await names('admin', 'shared=false&name=own-sub'), ['own-sub']);
    });

    it('never shows the attribute, refuses it in a body and a value that is no boolean', async () => {
      const list = await as('admin', 'GET', '/v2.0/subnets?shared=true');
      assert.equal('shared' in list.body.subnets[0], false);
      const net = await made('admin', 'networks', 'network', { name: 'n' });
      const post = await as('admin', 'POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:54::/64', shared: true } });
      assert.equal(post.status, 400);
      assert.equal(post.body.NeutronError.message, "Attribute 'shared' not allowed in POST");
      const bad = await as('admin', 'GET', '/v2.0/subnets?shared=maybe');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.NeutronError.type, 'InvalidInput');
    });
  });
}
