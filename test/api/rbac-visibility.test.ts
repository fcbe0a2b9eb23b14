// rbac-policies decide what another project sees: an entry naming project B (access_as_shared) makes A's network,
// its subnets, A's subnet pool and security group visible to B and to nobody else; removing it hides them again; an
// access_as_external entry makes the network external for B alone. Through the policy (test authenticator, both stores).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';
import { IDENTITIES, headersFor, testAuthenticator, type IdentityName } from '../helpers/identities.js';

for (const backend of backends()) {
  describe(`rbac-policies decide visibility (${backend})`, () => {
    let api: Api;
    const as = (who: IdentityName, method: string, path: string, body?: unknown) => api.request(method, path, body, headersFor(who));
    const made = async (who: IdentityName, path: string, singular: string, body: Record<string, unknown>): Promise<any> => {
      const r = await as(who, 'POST', `/v2.0/${path}`, { [singular]: body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body[singular];
    };
    before(async () => {
      api = await startApi(backend, { authenticate: testAuthenticator() });
    });
    after(async () => api?.close());

    it('shares a network, its subnet, a subnet pool and a security group with one project only', async () => {
      const net = await made('member-A', 'networks', 'network', { name: 'a-net' });
      const sub = await made('member-A', 'subnets', 'subnet', { network_id: net.id, ip_version: 6, cidr: '2001:db8:4b::/64' });
      const pool = await made('member-A', 'subnetpools', 'subnetpool', { name: 'a-pool', prefixes: ['2001:db8:4c00::/40'] });
      const sg = await made('member-A', 'security-groups', 'security_group', { name: 'a-sg' });
      const objects: [string, string, string][] = [['network', 'networks', net.id], ['subnet', 'subnets', sub.id], ['subnetpool', 'subnetpools', pool.id], ['security_group', 'security-groups', sg.id]];
      for (const [, path, id] of objects) assert.equal((await as('member-B', 'GET', `/v2.0/${path}/${id}`)).status, 404, `${path} hidden before`);
      const entries = [];
      for (const [type, , id] of objects.filter(([t]) => t !== 'subnet')) {
        entries.push(await made('member-A', 'rbac-policies', 'rbac_policy', { object_type: type, object_id: id, action: 'access_as_shared', target_tenant: IDENTITIES['member-B'].project }));
      }
      for (const [, path, id] of objects) {
        assert.equal((await as('member-B', 'GET', `/v2.0/${path}/${id}`)).status, 200, `${path} shared with B`);
        const listed = (await as('member-B', 'GET', `/v2.0/${path}`)).body;
        assert.ok((listed[Object.keys(listed)[0]!] as { id: string }[]).some((d) => d.id === id), `${path} in B's list`);
      }
      assert.equal((await as('admin', 'GET', `/v2.0/networks/${net.id}`)).body.network.shared, false, 'an entry for one project does not make it shared');
      assert.equal((await as('member-A', 'GET', `/v2.0/networks/${net.id}`)).body.network.shared, false, 'nor for its owner');
      assert.equal((await as('member-B', 'GET', `/v2.0/networks/${net.id}`)).body.network.shared, true, "but it is, for the project it names (Neutron's _is_network_shared)");
      // B may use what is shared with it but not change it.
      assert.equal((await as('member-B', 'PUT', `/v2.0/networks/${net.id}`, { network: { name: 'mine' } })).status, 403);
      for (const e of entries) assert.equal((await as('member-A', 'DELETE', `/v2.0/rbac-policies/${e.id}`)).status, 204);
      for (const [, path, id] of objects) assert.equal((await as('member-B', 'GET', `/v2.0/${path}/${id}`)).status, 404, `${path} hidden again`);
    });

    it("lets the project a scope is shared with put its pools in it; others get the scope's 404", async () => {
      const scope = await made('member-A', 'address-scopes', 'address_scope', { name: 'a-scope', ip_version: 6 });
      const pool = (who: IdentityName, n: number) => as(who, 'POST', '/v2.0/subnetpools', { subnetpool: { name: `p${n}`, prefixes: [`2001:db8:4d0${n}::/48`], address_scope_id: scope.id } });
      const before = await pool('member-B', 1);
      assert.equal(before.status, 404, JSON.stringify(before.body));
      assert.equal(before.body.NeutronError.type, 'AddressScopeNotFound');
      await made('member-A', 'rbac-policies', 'rbac_policy', { object_type: 'address_scope', object_id: scope.id, action: 'access_as_shared', target_tenant: IDENTITIES['member-B'].project });
      const after = await pool('member-B', 2);
      assert.equal(after.status, 201, JSON.stringify(after.body));
    });

    it("shows members an external network but not its subnets, unless it is shared (Tempest's test_external_network_visibility)", async () => {
      const ext = await made('admin', 'networks', 'network', { name: 'ext-visible', 'router:external': true });
      const sub = await made('admin', 'subnets', 'subnet', { network_id: ext.id, ip_version: 6, cidr: '2001:db8:4e::/64' });
      assert.equal((await as('member-A', 'GET', `/v2.0/networks/${ext.id}`)).status, 200);
      assert.equal((await as('member-A', 'GET', `/v2.0/subnets/${sub.id}`)).status, 404);
      assert.ok(!(await as('member-A', 'GET', '/v2.0/subnets')).body.subnets.some((s: { id: string }) => s.id === sub.id));
      await as('admin', 'PUT', `/v2.0/networks/${ext.id}`, { network: { shared: true } });
      assert.equal((await as('member-A', 'GET', `/v2.0/subnets/${sub.id}`)).status, 200);
    });

    it('makes a network external for the named project alone (access_as_external)', async () => {
      const net = await made('admin', 'networks', 'network', { name: 'ext-for-b' });
      await made('admin', 'rbac-policies', 'rbac_policy', { object_type: 'network', object_id: net.id, action: 'access_as_external', target_tenant: IDENTITIES['member-B'].project });
      assert.equal((await as('member-B', 'GET', `/v2.0/networks/${net.id}`)).status, 200);
      assert.equal((await as('member-A', 'GET', `/v2.0/networks/${net.id}`)).status, 404);
    });
  });
}
