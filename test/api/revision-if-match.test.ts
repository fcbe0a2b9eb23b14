// If-Match: revision_number=N on PUT and DELETE (Neutron's revision-if-match): carried out only at that revision,
// else 412 and nothing changes.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`revision-if-match (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    it('is advertised', async () => {
      const ext = (await api.request('GET', '/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
      assert.ok(ext.includes('revision-if-match') && ext.includes('standard-attr-revisions'));
    });

    it('updates at the current revision and refuses a stale one with 412, changing nothing', async () => {
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'rev' } })).body.network;
      const stale = await api.request('PUT', `/v2.0/networks/${net.id}`, { network: { name: 'x' } }, { 'If-Match': `revision_number=${net.revision_number + 1}` });
      assert.equal(stale.status, 412);
      assert.equal(stale.body.NeutronError.type, 'RevisionNumberConstraintFailed');
      assert.equal(stale.body.NeutronError.message, `Constrained to ${net.revision_number + 1}, but current revision is ${net.revision_number}`);
      assert.equal((await api.request('GET', `/v2.0/networks/${net.id}`)).body.network.name, 'rev');
      const ok = await api.request('PUT', `/v2.0/networks/${net.id}`, { network: { name: 'x' } }, { 'If-Match': `revision_number=${net.revision_number}` });
      assert.equal(ok.status, 200);
      assert.ok(ok.body.network.revision_number > net.revision_number);
      // The old revision is stale now.
      const again = await api.request('PUT', `/v2.0/networks/${net.id}`, { network: { name: 'y' } }, { 'If-Match': `revision_number=${net.revision_number}` });
      assert.equal(again.status, 412);
      // An ETag entry alone does not constrain; a non-integer revision is the client's mistake.
      assert.equal((await api.request('PUT', `/v2.0/networks/${net.id}`, { network: { name: 'z' } }, { 'If-Match': '"abc"' })).status, 200);
      assert.equal((await api.request('PUT', `/v2.0/networks/${net.id}`, { network: { name: 'z' } }, { 'If-Match': 'revision_number=one' })).status, 400);
    });

    it('refuses a negative revision with 412, as Tempest asks with revision - 1 of a new network', async () => {
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'rev0' } })).body.network;
      const r = await api.request('PUT', `/v2.0/networks/${net.id}`, { network: { name: 'x' } }, { 'If-Match': `revision_number=${net.revision_number - 1}` });
      assert.equal(r.status, 412);
    });

    it("moves a security group's revision when a rule is added or removed (Tempest's test_update_sg_rule_bumps_sg_revision)", async () => {
      const sg = (await api.request('POST', '/v2.0/security-groups', { security_group: { name: 'rules' } })).body.security_group;
      const rule = (await api.request('POST', '/v2.0/security-group-rules', {
        security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'tcp', port_range_min: 60, port_range_max: 70, ethertype: 'IPv6' },
      })).body.security_group_rule;
      const after = (await api.request('GET', `/v2.0/security-groups/${sg.id}`)).body.security_group;
      assert.ok(after.revision_number > sg.revision_number);
      assert.ok(after.security_group_rules.some((r: { id: string }) => r.id === rule.id));
      assert.equal((await api.request('DELETE', `/v2.0/security-group-rules/${rule.id}`)).status, 204);
      const after2 = (await api.request('GET', `/v2.0/security-groups/${sg.id}`)).body.security_group;
      assert.ok(after2.revision_number > after.revision_number);
    });

    it('deletes only at the current revision', async () => {
      const sg = (await api.request('POST', '/v2.0/security-groups', { security_group: { name: 'rev' } })).body.security_group;
      const stale = await api.request('DELETE', `/v2.0/security-groups/${sg.id}`, undefined, { 'If-Match': `revision_number=${sg.revision_number + 5}` });
      assert.equal(stale.status, 412);
      assert.equal((await api.request('GET', `/v2.0/security-groups/${sg.id}`)).status, 200);
      const cur = (await api.request('GET', `/v2.0/security-groups/${sg.id}`)).body.security_group.revision_number;
      assert.equal((await api.request('DELETE', `/v2.0/security-groups/${sg.id}`, undefined, { 'If-Match': `revision_number=${cur}` })).status, 204);
    });
  });
}
