// Metering labels and rules answer as Neutron does (neutron/db/metering/metering_db.py, metering_plugin.py,
// neutron-lib's metering definitions and exceptions; Tempest's and the plugin's metering tests): the
// /v2.0/metering/ paths, no standard attributes, no update, rule validation and overlap (409), MeteringLabelNotFound,
// admin only; and v6stack's counters API: an agent's absolute readings become per-label counts, a deleted label's
// counts go with it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { backends, startApi, type Api } from '../helpers/v6stack.js';
import { headersFor, testAuthenticator } from '../helpers/identities.js';

for (const backend of backends()) {
  describe(`metering (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend, { authenticate: testAuthenticator() });
    });
    after(async () => api.close());

    const admin = headersFor('admin');
    const req = (method: string, path: string, body?: unknown) => api.request(method, path, body, admin);
    const expectError = async (method: string, path: string, body: unknown, status: number, type: string, message?: string) => {
      const r = await req(method, path, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.NeutronError.type, type, JSON.stringify(r.body));
      if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
    };
    const label = async (body: Record<string, unknown> = {}) => {
      const r = await req('POST', '/v2.0/metering/metering-labels', { metering_label: { name: 'l', ...body } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.metering_label;
    };
    const rule = async (body: Record<string, unknown>) => req('POST', '/v2.0/metering/metering-label-rules', { metering_label_rule: body });

    it('advertises both aliases', async () => {
      const aliases = (await req('GET', '/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
      assert.ok(aliases.includes('metering'));
      assert.ok(aliases.includes('metering_source_and_destination_fields'));
    });

    it("makes, shows, lists and deletes a label with Neutron's attributes only", async () => {
      const l = await label({ name: 'x'.repeat(255), description: 'tempest' });
      assert.deepEqual(Object.keys(l).sort(), ['description', 'id', 'name', 'project_id', 'shared', 'tenant_id']);
      assert.equal(l.shared, false);
      assert.equal((await req('GET', `/v2.0/metering/metering-labels/${l.id}`)).body.metering_label.name, 'x'.repeat(255));
      assert.equal((await req('GET', `/v2.0/metering/metering-labels?id=${l.id}`)).body.metering_labels.length, 1);
      // Tempest's test_list_metering_labels filters on id=33: nothing, not an error.
      assert.deepEqual((await req('GET', '/v2.0/metering/metering-labels?id=33')).body.metering_labels, []);
      await expectError('PUT', `/v2.0/metering/metering-labels/${l.id}`, { metering_label: { name: 'y' } }, 405, 'HTTPMethodNotAllowed');
      assert.equal((await req('DELETE', `/v2.0/metering/metering-labels/${l.id}`)).status, 204);
      await expectError('GET', `/v2.0/metering/metering-labels/${l.id}`, undefined, 404, 'MeteringLabelNotFound', `Metering label '${l.id}' does not exist.`);
      await expectError('DELETE', `/v2.0/metering/metering-labels/${l.id}`, undefined, 404, 'MeteringLabelNotFound');
    });

    it('refuses a name over 255 characters (the plugin negative test)', async () => {
      await expectError('POST', '/v2.0/metering/metering-labels', { metering_label: { name: 'x'.repeat(256) } }, 400, 'HTTPBadRequest');
    });

    it('makes rules of both families and both prefix styles; shows them as Neutron does', async () => {
      const l = await label();
      const a = await rule({ metering_label_id: l.id, direction: 'ingress', remote_ip_prefix: 'fd02::/64' });
      assert.equal(a.status, 201, JSON.stringify(a.body));
      assert.deepEqual(Object.keys(a.body.metering_label_rule).sort(), ['destination_ip_prefix', 'direction', 'excluded', 'id', 'metering_label_id', 'remote_ip_prefix', 'source_ip_prefix']);
      assert.equal(a.body.metering_label_rule.excluded, false);
      assert.equal(a.body.metering_label_rule.source_ip_prefix, null);
      const b = await rule({ metering_label_id: l.id, direction: 'egress', source_ip_prefix: '10.0.0.1', destination_ip_prefix: '192.0.2.0/255.255.255.0', excluded: 'true' });
      assert.equal(b.status, 201, JSON.stringify(b.body));
      // netaddr.IPNetwork's text: a bare address is a host prefix, a netmask a prefix length.
      assert.equal(b.body.metering_label_rule.source_ip_prefix, '10.0.0.1/32');
      assert.equal(b.body.metering_label_rule.destination_ip_prefix, '192.0.2.0/24');
      assert.equal(b.body.metering_label_rule.excluded, true);
      const shown = (await req('GET', `/v2.0/metering/metering-label-rules/${a.body.metering_label_rule.id}`)).body.metering_label_rule;
      assert.deepEqual(shown, a.body.metering_label_rule);
      assert.equal((await req('GET', `/v2.0/metering/metering-label-rules?metering_label_id=${l.id}&direction=egress`)).body.metering_label_rules.length, 1);
      assert.deepEqual((await req('GET', '/v2.0/metering/metering-label-rules?id=33')).body.metering_label_rules, []);
      await expectError('PUT', `/v2.0/metering/metering-label-rules/${a.body.metering_label_rule.id}`, { metering_label_rule: { excluded: true } }, 405, 'HTTPMethodNotAllowed');
      // A label's delete takes its rules.
      assert.equal((await req('DELETE', `/v2.0/metering/metering-labels/${l.id}`)).status, 204);
      await expectError('GET', `/v2.0/metering/metering-label-rules/${a.body.metering_label_rule.id}`, undefined, 404, 'MeteringLabelRuleNotFound', `Metering label rule '${a.body.metering_label_rule.id}' does not exist.`);
    });

    it("refuses what Neutron's plugin refuses, with its texts", async () => {
      const l = await label();
      const r1 = await rule({ metering_label_id: l.id, direction: 'ingress', remote_ip_prefix: '10.0.0.0/24', source_ip_prefix: '10.1.0.0/24' });
      assert.equal(r1.status, 400);
      assert.equal(r1.body.NeutronError.message, "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'.");
      const r2 = await rule({ metering_label_id: l.id, direction: 'ingress' });
      assert.equal(r2.status, 400);
      assert.match(r2.body.NeutronError.message, /^You must define at least one of the following parameters/);
      const r3 = await rule({ metering_label_id: l.id, direction: 'ingress', remote_ip_prefix: 'nonsense' });
      assert.equal(r3.status, 400);
      assert.equal(r3.body.NeutronError.message, "remote_ip_prefix: nonsense is invalid ['nonsense' does not appear to be an IPv4 or IPv6 interface].");
      await expectError('POST', '/v2.0/metering/metering-label-rules', { metering_label_rule: { metering_label_id: l.id, direction: 'sideways', remote_ip_prefix: '10.0.0.0/8' } }, 400, 'HTTPBadRequest');
      await expectError('POST', '/v2.0/metering/metering-label-rules', { metering_label_rule: { metering_label_id: l.id, remote_ip_prefix: '10.0.0.0/8' } }, 400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'direction' not specified");
      const missing = randomUUID();
      await expectError('POST', '/v2.0/metering/metering-label-rules', { metering_label_rule: { metering_label_id: missing, direction: 'ingress', remote_ip_prefix: '10.0.0.0/8' } }, 404, 'MeteringLabelNotFound', `Metering label '${missing}' does not exist.`);
      // Overlap: same label, direction and excluded only; the other family never overlaps.
      assert.equal((await rule({ metering_label_id: l.id, direction: 'ingress', remote_ip_prefix: '10.0.0.0/16' })).status, 201);
      await expectError('POST', '/v2.0/metering/metering-label-rules', { metering_label_rule: { metering_label_id: l.id, direction: 'ingress', remote_ip_prefix: '10.0.5.0/24' } }, 409, 'MeteringLabelRuleOverlaps', "Metering label rule with remote_ip_prefix '10.0.5.0/24' overlaps another.");
      assert.equal((await rule({ metering_label_id: l.id, direction: 'egress', remote_ip_prefix: '10.0.5.0/24' })).status, 201);
      assert.equal((await rule({ metering_label_id: l.id, direction: 'ingress', excluded: true, remote_ip_prefix: '10.0.5.0/24' })).status, 201);
      assert.equal((await rule({ metering_label_id: l.id, direction: 'ingress', remote_ip_prefix: '2001:db8::/32' })).status, 201);
    });

    it('is admin only: a member lists nothing, gets 404 and may not create', async () => {
      const l = await label();
      const member = headersFor('member-A');
      assert.deepEqual((await api.request('GET', '/v2.0/metering/metering-labels', undefined, member)).body.metering_labels, []);
      assert.equal((await api.request('GET', `/v2.0/metering/metering-labels/${l.id}`, undefined, member)).status, 404);
      assert.equal((await api.request('POST', '/v2.0/metering/metering-labels', { metering_label: { name: 'm' } }, member)).status, 403);
      assert.equal((await api.request('DELETE', `/v2.0/metering/metering-labels/${l.id}`, undefined, member)).status, 404);
      assert.equal((await api.request('GET', `/v6stack/v1/metering-labels/${l.id}/counters`, undefined, member)).status, 403);
    });

    it('adds the increases of absolute readings, restarts included; a deleted label takes its counts', async () => {
      const l = await label();
      const router = randomUUID();
      const report = (ingress: number, egress: number, host = 'meter-h1') =>
        req('PUT', '/v6stack/v1/metering/counters', {
          host,
          counters: [
            { metering_label_id: l.id, router_id: router, direction: 'ingress', packets: ingress, bytes: ingress * 100 },
            { metering_label_id: l.id, router_id: router, direction: 'egress', packets: egress, bytes: egress * 100 },
          ],
        });
      assert.equal((await report(1, 2)).status, 200);
      await report(5, 7);
      await report(3, 7); // the kernel's ingress counter started again at 0: all 3 are new
      await report(1, 1, 'meter-h2');
      const c = (await req('GET', `/v6stack/v1/metering-labels/${l.id}/counters`)).body;
      assert.equal(c.routers.length, 1);
      assert.deepEqual(c.routers[0].hosts, ['meter-h1', 'meter-h2']);
      assert.deepEqual(c.routers[0].ingress, { packets: 9, bytes: 900 });
      assert.deepEqual(c.routers[0].egress, { packets: 8, bytes: 800 });
      assert.equal(c.total.bytes, 1700);
      await expectError('PUT', '/v6stack/v1/metering/counters', { host: 'h', counters: [{ metering_label_id: l.id, router_id: router, direction: 'up', packets: 1, bytes: 1 }] }, 400, 'HTTPBadRequest');
      assert.equal((await req('DELETE', `/v2.0/metering/metering-labels/${l.id}`)).status, 204);
      await expectError('GET', `/v6stack/v1/metering-labels/${l.id}/counters`, undefined, 404, 'MeteringLabelNotFound');
      assert.equal((await api.store.read((tx) => tx.list('metering_counter', { metering_label_id: [l.id] }))).length, 0);
      // A late report of a deleted label is dropped.
      assert.equal((await report(9, 9)).body.recorded, 0);
    });
  });
}
