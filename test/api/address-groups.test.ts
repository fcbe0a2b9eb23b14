// Address groups answer as Neutron does (neutron/db/address_group_db.py, neutron-lib's address_group definition and
// exceptions; neutron-tempest-plugin's test_address_groups.py states): CIDRs of both families normalized,
// add_addresses / remove_addresses with AddressesAlreadyExist / AddressesNotFound, a bare address refused on create
// but accepted (as a host prefix) by the actions, AddressGroupInUse while a rule names the group.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`address groups (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    const expectError = async (method: string, path: string, body: unknown, status: number, type: string, message?: string) => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.NeutronError.type, type, JSON.stringify(r.body));
      if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
    };
    const create = async (body: Record<string, unknown>) => {
      const r = await api.request('POST', '/v2.0/address-groups', { address_group: body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.address_group;
    };
    const TEMPEST = ['10.10.10.3/32', '192.168.0.10/24', '2001:db8::f00/64'];
    const NORMALIZED = ['10.10.10.3/32', '192.168.0.0/24', '2001:db8::/64'];

    it('is advertised with the remote-address-group field of rules', async () => {
      const aliases = (await api.request('GET', '/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
      assert.ok(aliases.includes('address-group'));
      assert.ok(aliases.includes('security-groups-remote-address-group'));
    });

    it('lives a lifecycle: normalized addresses, description update, delete, then 404', async () => {
      const ag = await create({ name: 'ag-life', description: 'Test AG description', addresses: TEMPEST });
      assert.deepEqual([...ag.addresses].sort(), [...NORMALIZED].sort());
      assert.equal(ag.description, 'Test AG description');
      assert.equal(ag.project_id, ag.tenant_id);
      const up = await api.request('PUT', `/v2.0/address-groups/${ag.id}`, { address_group: { description: 'New AG description' } });
      assert.equal(up.status, 200);
      assert.equal(up.body.address_group.description, 'New AG description');
      assert.deepEqual([...up.body.address_group.addresses].sort(), [...NORMALIZED].sort());
      await expectError('PUT', `/v2.0/address-groups/${ag.id}`, { address_group: { addresses: ['10.0.0.0/8'] } }, 400, 'HTTPBadRequest');
      assert.equal((await api.request('DELETE', `/v2.0/address-groups/${ag.id}`)).status, 204);
      await expectError('GET', `/v2.0/address-groups/${ag.id}`, undefined, 404, 'AddressGroupNotFound', `Address group ${ag.id} could not be found.`);
    });

    it('refuses a bare address or a non-address on create (type:subnet_list)', async () => {
      await expectError('POST', '/v2.0/address-groups', { address_group: { name: 'x', addresses: ['10.20.30.40'] } }, 400, 'HTTPBadRequest',
        "Invalid input for addresses. Reason: '10.20.30.40' isn't a recognized IP subnet cidr, '10.20.30.40/32' is recommended.");
      await expectError('POST', '/v2.0/address-groups', { address_group: { name: 'x', addresses: ['this is bad IP address'] } }, 400, 'HTTPBadRequest');
      await expectError('POST', '/v2.0/address-groups', { address_group: { name: 'x', addresses: '10.0.0.0/8' } }, 400, 'HTTPBadRequest');
      const empty = await create({ name: 'none', addresses: null });
      assert.deepEqual(empty.addresses, []);
    });

    it('adds and removes addresses; an existing one is AddressesAlreadyExist, a missing one AddressesNotFound, nothing changes', async () => {
      const ag = await create({ name: 'ag-edit', addresses: TEMPEST });
      const added = await api.request('PUT', `/v2.0/address-groups/${ag.id}/add_addresses`, { addresses: ['10.20.30.40/32', '2001:db8:1::1/48'] });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.deepEqual([...added.body.address_group.addresses].sort(), [...NORMALIZED, '10.20.30.40/32', '2001:db8:1::/48'].sort());
      await expectError('PUT', `/v2.0/address-groups/${ag.id}/add_addresses`, { addresses: ['192.168.0.77/24', '10.9.9.9/32'] }, 400, 'AddressesAlreadyExist',
        `Addresses ['192.168.0.0/24'] already exist in the address group ${ag.id}.`);
      await expectError('PUT', `/v2.0/address-groups/${ag.id}/add_addresses`, { addresses: ['this is bad IP address'] }, 400, 'AddrFormatError');
      // A bare address is a host prefix to the actions (netaddr.IPNetwork), so this is "not found", not "bad".
      await expectError('PUT', `/v2.0/address-groups/${ag.id}/remove_addresses`, { addresses: ['10.200.200.200'] }, 404, 'AddressesNotFound',
        `Addresses ['10.200.200.200/32'] not found in the address group ${ag.id}.`);
      await expectError('PUT', `/v2.0/address-groups/${ag.id}/remove_addresses`, { addresses: ['this is bad IP address'] }, 400, 'AddrFormatError');
      const removed = await api.request('PUT', `/v2.0/address-groups/${ag.id}/remove_addresses`, { addresses: ['10.10.10.3', '2001:db8:1::/48'] });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      const shown = (await api.request('GET', `/v2.0/address-groups/${ag.id}`)).body.address_group;
      assert.deepEqual([...shown.addresses].sort(), ['10.20.30.40/32', '192.168.0.0/24', '2001:db8::/64']);
      assert.ok(shown.revision_number >= 2);
      await expectError('PUT', `/v2.0/address-groups/${randomUUID()}/add_addresses`, { addresses: ['10.0.0.0/8'] }, 404, 'AddressGroupNotFound');
    });

    it('is named by security group rules: an unknown one is 404, one in use cannot be deleted until the rule goes', async () => {
      const ag = await create({ name: 'ag-rule', addresses: ['2001:db8:77::/64'] });
      const sg = (await api.request('POST', '/v2.0/security-groups', { security_group: { name: 'ag-sg' } })).body.security_group;
      const missing = randomUUID();
      await expectError('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv6', remote_address_group_id: missing } },
        404, 'AddressGroupNotFound', `Address group ${missing} could not be found.`);
      const r = await api.request('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv6', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_address_group_id: ag.id } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.security_group_rule.remote_address_group_id, ag.id);
      await expectError('DELETE', `/v2.0/address-groups/${ag.id}`, undefined, 409, 'AddressGroupInUse', `Address group ${ag.id} is in use on one or more security group rules.`);
      assert.equal((await api.request('DELETE', `/v2.0/security-group-rules/${r.body.security_group_rule.id}`)).status, 204);
      assert.equal((await api.request('DELETE', `/v2.0/address-groups/${ag.id}`)).status, 204);
    });

    it('lists with filters and fields', async () => {
      const ag = await create({ name: 'ag-list', addresses: ['198.51.100.0/24'] });
      const list = (await api.request('GET', '/v2.0/address-groups?name=ag-list&fields=id&fields=addresses')).body.address_groups;
      assert.deepEqual(list, [{ id: ag.id, addresses: ['198.51.100.0/24'] }]);
    });
  });
}
