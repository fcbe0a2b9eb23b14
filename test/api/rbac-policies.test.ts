// RBAC policies through the API, on every store: Neutron's attributes, validation and texts; a network's `shared`
// and `router:external` as its access_as_shared '*' and access_as_external entries in both directions (and the same
// for subnet pools, address scopes and security groups); entries other projects depend on refused (RbacPolicyInUse);
// the owner and wildcard rules; and what rbacGrants answers for a project.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Authenticator } from '../../src/api/context.js';
import { rbacGrants } from '../../src/api/resources/rbac-policies.js';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

type Json = Record<string, any>;

/** Who asks: X-Project-Id's project, admin unless X-Roles says otherwise (Keystone's token roles, in a header). */
const byHeaders: Authenticator = (h) => {
  const roles = String(h['x-roles'] ?? 'admin').split(',');
  return { projectId: String(h['x-project-id'] ?? 'test-project'), roles, isAdmin: roles.includes('admin') };
};

const P = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
const Q = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';

for (const backend of backends()) {
  describe(`RBAC policies (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend, { authenticate: byHeaders, settings: { quotas: { rbac_policy: -1 } } });
    });
    after(async () => api.close());

    const as = (project: string, role = 'admin') => ({ 'x-project-id': project, 'x-roles': role });
    const ok = async (method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200, headers?: Record<string, string>): Promise<Json> => {
      const r = await api.request(method, path, body, headers);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const refused = async (method: string, path: string, body: unknown, status: number, type: string, message?: string, headers?: Record<string, string>): Promise<Json> => {
      const r = await api.request(method, path, body, headers);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.NeutronError.type, type);
      if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
      return r.body;
    };
    const network = async (extra: Json = {}, headers?: Record<string, string>): Promise<Json> =>
      (await ok('POST', '/v2.0/networks', { network: { name: 'n', ...extra } }, 201, headers)).network;
    const share = async (objectId: string, target: string, extra: Json = {}, headers?: Record<string, string>): Promise<Json> =>
      (await ok('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'network', object_id: objectId, action: 'access_as_shared', target_tenant: target, ...extra } }, 201, headers)).rbac_policy;
    const entries = async (query: string): Promise<Json[]> => (await ok('GET', `/v2.0/rbac-policies?${query}`)).rbac_policies;
    const show = async (path: string): Promise<Json> => Object.values(await ok('GET', path))[0] as Json;

    it('advertises rbac-policies and the object types it implements', async () => {
      const aliases = (await ok('GET', '/v2.0/extensions')).extensions.map((e: Json) => e.alias);
      for (const a of ['rbac-policies', 'rbac-security-groups', 'rbac-address-scope', 'rbac-subnetpool']) assert.ok(aliases.includes(a), a);
      assert.ok(!aliases.includes('rbac-address-group'), 'no address groups, so no rbac-address-group');
    });

    it("creates, shows, lists, filters and updates an entry with Neutron's attributes, bumping the network's revision", async () => {
      const net = await network();
      const pol = await share(net.id, P);
      assert.deepEqual(Object.keys(pol).sort(), ['action', 'id', 'object_id', 'object_type', 'project_id', 'target_tenant', 'tenant_id']);
      assert.deepEqual({ ...pol, id: undefined }, { id: undefined, object_type: 'network', object_id: net.id, target_tenant: P, tenant_id: 'test-project', project_id: 'test-project', action: 'access_as_shared' });
      const after = await show(`/v2.0/networks/${net.id}`);
      assert.ok(after.revision_number > net.revision_number, 'NetworkRBAC revises the network');
      assert.equal(after.shared, false, 'an entry for one project does not make the network shared');
      assert.deepEqual(await show(`/v2.0/rbac-policies/${pol.id}`), pol);
      assert.deepEqual((await entries(`id=${pol.id}`)).map((e) => e.id), [pol.id]);
      assert.deepEqual((await entries(`object_id=${net.id}&target_tenant=${P}&action=access_as_shared`)).map((e) => e.id), [pol.id]);
      assert.deepEqual(await entries(`object_id=${net.id}&action=access_as_external`), []);
      for (const fields of [['id'], ['id', 'action'], ['object_type', 'object_id'], ['project_id', 'target_tenant']]) {
        const [first] = await entries(`id=${pol.id}&${fields.map((f) => `fields=${f}`).join('&')}`);
        assert.deepEqual(Object.keys(first!).sort(), [...fields].sort());
      }
      const moved = (await ok('PUT', `/v2.0/rbac-policies/${pol.id}`, { rbac_policy: { target_tenant: Q } })).rbac_policy;
      assert.deepEqual(moved, { ...pol, target_tenant: Q });
      await refused('PUT', `/v2.0/rbac-policies/${pol.id}`, { rbac_policy: { action: 'access_as_external' } }, 400, 'HTTPBadRequest', 'Cannot update read-only attribute action');
      await refused('PUT', `/v2.0/rbac-policies/${pol.id}`, { rbac_policy: { object_id: net.id } }, 400, 'HTTPBadRequest', 'Cannot update read-only attribute object_id');
    });

    it("refuses what Neutron refuses, with its texts", async () => {
      const net = await network();
      const body = (extra: Json) => ({ rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: P, ...extra } });
      await share(net.id, P);
      await refused('POST', '/v2.0/rbac-policies', body({}), 409, 'DuplicateRbacPolicy', 'An RBAC policy already exists with those values.');
      await refused('POST', '/v2.0/rbac-policies', body({ object_type: 'qos_policy' }), 400, 'InvalidInput', "Invalid input for operation: 'qos_policy' is not a valid RBAC object type.");
      await refused('POST', '/v2.0/rbac-policies', body({ action: 'access_as_readonly' }), 400, 'InvalidActionForType', "Invalid action 'access_as_readonly' for object type 'network'. Valid actions: ('access_as_shared', 'access_as_external')");
      await refused('POST', '/v2.0/rbac-policies', body({ target_tenant: null }), 400, 'HTTPBadRequest', "Invalid input for target_tenant. Reason: 'None' is not a valid string.");
      await refused('POST', '/v2.0/rbac-policies', body({ target_tenant: '1234'.repeat(100) }), 400, 'HTTPBadRequest');
      await refused('POST', '/v2.0/rbac-policies', body({ object_id: 'nope' }), 400, 'HTTPBadRequest', "Invalid input for object_id. Reason: 'nope' is not a valid UUID.");
      await refused('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'network', object_id: net.id, target_tenant: P } }, 400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'action' not specified");
      const ghost = '0b7f7f8e-51c4-4c6b-9f9e-5b0f9d8a1c2d';
      await refused('POST', '/v2.0/rbac-policies', body({ object_id: ghost }), 404, 'NetworkNotFound', `Network ${ghost} could not be found.`);
      await refused('POST', '/v2.0/rbac-policies', body({ object_type: 'subnetpool', object_id: ghost }), 404, 'SubnetPoolNotFound');
      await refused('GET', `/v2.0/rbac-policies/${ghost}`, undefined, 404, 'RbacPolicyNotFound', `RBAC policy of type unknown with ID ${ghost} not found`);
      await refused('DELETE', `/v2.0/rbac-policies/${ghost}`, undefined, 404, 'RbacPolicyNotFound');
      // convert_valid_object_type strips and lower-cases.
      const pool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes: ['2001:db8:700::/48'], default_prefixlen: 64 } })).subnetpool;
      const normalized = (await ok('POST', '/v2.0/rbac-policies', body({ object_type: ' SubnetPool ', object_id: pool.id }))).rbac_policy;
      assert.equal(normalized.object_type, 'subnetpool');
      await refused('POST', '/v2.0/rbac-policies', body({ object_type: 'subnetpool', object_id: pool.id, action: 'access_as_external' }), 400, 'InvalidActionForType', "Invalid action 'access_as_external' for object type 'subnetpool'. Valid actions: ('access_as_shared',)");
    });

    it("a network's shared is its access_as_shared '*' entry, both ways", async () => {
      const net = await network({ shared: true });
      const [wild] = await entries(`object_id=${net.id}&action=access_as_shared&target_tenant=*`);
      assert.equal(wild?.project_id, net.project_id);
      assert.equal((await ok('PUT', `/v2.0/networks/${net.id}`, { network: { shared: false } })).network.shared, false);
      assert.deepEqual(await entries(`object_id=${net.id}`), []);
      const pol = await share(net.id, '*');
      assert.equal((await show(`/v2.0/networks/${net.id}`)).shared, true);
      assert.deepEqual((await ok('GET', `/v2.0/networks?shared=true&id=${net.id}`)).networks.map((n: Json) => n.id), [net.id]);
      await ok('DELETE', `/v2.0/rbac-policies/${pol.id}`);
      assert.equal((await show(`/v2.0/networks/${net.id}`)).shared, false);
      // Bulk creates share each network.
      const bulk = (await ok('POST', '/v2.0/networks', { networks: [{ name: 'b1', shared: true }, { name: 'b2', shared: true }] })).networks;
      for (const n of bulk) assert.equal((await entries(`object_id=${n.id}&target_tenant=*`)).length, 1);
      // The network's entries go with it.
      await ok('DELETE', `/v2.0/networks/${net.id}`);
      await share(bulk[0].id, P);
      await ok('DELETE', `/v2.0/networks/${bulk[0].id}`);
      assert.deepEqual(await entries(`object_id=${bulk[0].id}`), []);
    });

    it("router:external is the network's access_as_external entries, both ways", async () => {
      const ext = await network({ 'router:external': true });
      assert.equal((await entries(`object_id=${ext.id}&action=access_as_external&target_tenant=*`)).length, 1);
      await ok('PUT', `/v2.0/networks/${ext.id}`, { network: { 'router:external': false } });
      assert.deepEqual(await entries(`object_id=${ext.id}&action=access_as_external`), []);
      await ok('PUT', `/v2.0/networks/${ext.id}`, { network: { 'router:external': true } });
      assert.equal((await entries(`object_id=${ext.id}&action=access_as_external&target_tenant=*`)).length, 1);
      // An entry for one project makes a network external (without a wildcard); the last entry's delete undoes it.
      const plain = await network();
      const one = await share(plain.id, P, { action: 'access_as_external' });
      assert.equal((await show(`/v2.0/networks/${plain.id}`))['router:external'], true);
      assert.deepEqual(await entries(`object_id=${plain.id}&target_tenant=*`), []);
      const two = await share(plain.id, Q, { action: 'access_as_external' });
      await ok('DELETE', `/v2.0/rbac-policies/${two.id}`);
      assert.equal((await show(`/v2.0/networks/${plain.id}`))['router:external'], true);
      await ok('DELETE', `/v2.0/rbac-policies/${one.id}`);
      assert.equal((await show(`/v2.0/networks/${plain.id}`))['router:external'], false);
      // Deleting a shared wildcard leaves an external network external.
      const both = await network({ 'router:external': true });
      const sharedPol = await share(both.id, '*');
      await ok('DELETE', `/v2.0/rbac-policies/${sharedPol.id}`);
      assert.equal((await show(`/v2.0/networks/${both.id}`))['router:external'], true);
    });

    it('an entry a project still depends on cannot be removed or retargeted (RbacPolicyInUse)', async () => {
      const net = await network();
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:71::/64', enable_dhcp: false } });
      const pol = await share(net.id, P);
      const port = (await ok('POST', '/v2.0/ports', { port: { network_id: net.id, project_id: P } })).port;
      const inUse = await refused('DELETE', `/v2.0/rbac-policies/${pol.id}`, undefined, 409, 'RbacPolicyInUse');
      assert.match(inUse.NeutronError.message, new RegExp(`^RBAC policy on object ${net.id} cannot be removed because other objects depend on it.\\nDetails: `));
      await refused('PUT', `/v2.0/rbac-policies/${pol.id}`, { rbac_policy: { target_tenant: Q } }, 409, 'RbacPolicyInUse');
      // With a wildcard entry beside it, the project keeps its access either way.
      const wild = await share(net.id, '*');
      await ok('DELETE', `/v2.0/rbac-policies/${pol.id}`);
      // Now the wildcard is what P's port depends on: unsharing is refused both ways.
      await refused('DELETE', `/v2.0/rbac-policies/${wild.id}`, undefined, 409, 'RbacPolicyInUse');
      await refused('PUT', `/v2.0/networks/${net.id}`, { network: { shared: false } }, 409, 'InvalidSharedSetting', 'Unable to reconfigure sharing settings for network n. Multiple tenants are using it.');
      await ok('DELETE', `/v2.0/ports/${port.id}`);
      await ok('DELETE', `/v2.0/rbac-policies/${wild.id}`);
      // Self-sharing grants the owner nothing: its entry goes even with the owner's ports on the network.
      const self = await share(net.id, net.project_id);
      await ok('POST', '/v2.0/ports', { port: { network_id: net.id } });
      await ok('PUT', `/v2.0/rbac-policies/${self.id}`, { rbac_policy: { target_tenant: Q } });
    });

    it('subnet pools, address scopes and security groups: shared follows the wildcard; users keep their entries', async () => {
      const scope = (await ok('POST', '/v2.0/address-scopes', { address_scope: { name: 's', ip_version: 6, shared: true } })).address_scope;
      assert.equal((await entries(`object_id=${scope.id}&object_type=address_scope&target_tenant=*`)).length, 1);
      const pool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes: ['2001:db8:7200::/48'], default_prefixlen: 64, shared: true } })).subnetpool;
      assert.equal((await entries(`object_id=${pool.id}&target_tenant=*`)).length, 1);
      const priv = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'q', prefixes: ['2001:db8:7300::/48'], default_prefixlen: 64 } })).subnetpool;
      const toP = (await ok('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'subnetpool', object_id: priv.id, action: 'access_as_shared', target_tenant: P } })).rbac_policy;
      const net = await network({}, as(P));
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, subnetpool_id: priv.id, project_id: P } });
      await refused('DELETE', `/v2.0/rbac-policies/${toP.id}`, undefined, 409, 'RbacPolicyInUse', `RBAC policy on object ${priv.id} cannot be removed because other objects depend on it.\nDetails: project_id=${P}`);
      const wildPool = (await ok('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'subnetpool', object_id: priv.id, action: 'access_as_shared', target_tenant: '*' } })).rbac_policy;
      assert.equal((await show(`/v2.0/subnetpools/${priv.id}`)).shared, true);
      await ok('DELETE', `/v2.0/rbac-policies/${toP.id}`);
      await refused('DELETE', `/v2.0/rbac-policies/${wildPool.id}`, undefined, 409, 'RbacPolicyInUse');
      // A pool in a scope is shared only with projects that can use the scope.
      const closed = (await ok('POST', '/v2.0/address-scopes', { address_scope: { name: 'c', ip_version: 6 } })).address_scope;
      const scoped = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'in', prefixes: ['2001:db8:7400::/48'], address_scope_id: closed.id } })).subnetpool;
      await refused('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'subnetpool', object_id: scoped.id, action: 'access_as_shared', target_tenant: Q } }, 400, 'InvalidInput');
      await ok('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'address_scope', object_id: closed.id, action: 'access_as_shared', target_tenant: Q } });
      await ok('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'subnetpool', object_id: scoped.id, action: 'access_as_shared', target_tenant: Q } });
      // Address scope: shared on update makes the wildcard; the scope's pools' projects depend on it.
      const later = (await ok('POST', '/v2.0/address-scopes', { address_scope: { name: 'l', ip_version: 6 } })).address_scope;
      await ok('PUT', `/v2.0/address-scopes/${later.id}`, { address_scope: { shared: true } });
      assert.equal((await entries(`object_id=${later.id}&target_tenant=*`)).length, 1);
      // Security groups: shared is read-only and follows the wildcard; the entries go with the group.
      const sg = (await ok('POST', '/v2.0/security-groups', { security_group: { name: 'g' } })).security_group;
      const sgWild = (await ok('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'security_group', object_id: sg.id, action: 'access_as_shared', target_tenant: '*' } })).rbac_policy;
      assert.equal((await show(`/v2.0/security-groups/${sg.id}`)).shared, true);
      await ok('DELETE', `/v2.0/rbac-policies/${sgWild.id}`);
      assert.equal((await show(`/v2.0/security-groups/${sg.id}`)).shared, false);
      const sgToP = (await ok('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'security_group', object_id: sg.id, action: 'access_as_shared', target_tenant: P } })).rbac_policy;
      const sgNet = await network();
      const sgPort = (await ok('POST', '/v2.0/ports', { port: { network_id: sgNet.id, project_id: P, security_groups: [sg.id] } })).port;
      await refused('DELETE', `/v2.0/rbac-policies/${sgToP.id}`, undefined, 409, 'RbacPolicyInUse');
      await ok('DELETE', `/v2.0/ports/${sgPort.id}`);
      await ok('DELETE', `/v2.0/security-groups/${sg.id}`);
      assert.deepEqual(await entries(`object_id=${sg.id}`), []);
      assert.equal(scope.shared, true);
    });

    it("a member shares only what it owns, and never with '*'", async () => {
      const mine = await network({}, as(P, 'member'));
      await refused('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'network', object_id: mine.id, action: 'access_as_shared', target_tenant: '*' } }, 403, 'PolicyNotAuthorized', undefined, as(P, 'member'));
      await refused('POST', '/v2.0/rbac-policies', { rbac_policy: { object_type: 'network', object_id: mine.id, action: 'access_as_external', target_tenant: '*' } }, 403, 'PolicyNotAuthorized', undefined, as(P, 'member'));
      const pol = await share(mine.id, Q, {}, as(P, 'member'));
      assert.equal(pol.project_id, P);
      await refused('PUT', `/v2.0/rbac-policies/${pol.id}`, { rbac_policy: { target_tenant: '*' } }, 403, 'PolicyNotAuthorized', undefined, as(P, 'member'));
      const theirs = await network();
      await refused(
        'POST',
        '/v2.0/rbac-policies',
        { rbac_policy: { object_type: 'network', object_id: theirs.id, action: 'access_as_shared', target_tenant: P } },
        400,
        'InvalidInput',
        'Invalid input for operation: Only admins can manipulate policies on networks they do not own.',
        as(P, 'member'),
      );
      const pool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes: ['2001:db8:7500::/48'] } })).subnetpool;
      await refused(
        'POST',
        '/v2.0/rbac-policies',
        { rbac_policy: { object_type: 'subnetpool', object_id: pool.id, action: 'access_as_shared', target_tenant: P } },
        400,
        'InvalidInput',
        'Invalid input for operation: Only admins can manipulate policies on objects they do not own.',
        as(P, 'member'),
      );
    });

    it('rbacGrants answers what the entries grant one project', async () => {
      const net = await network();
      const ext = await network();
      await share(net.id, P);
      await share(ext.id, Q, { action: 'access_as_external' });
      const grants = (kind: 'network', id: string, project: string) => api.store.read((tx) => rbacGrants(tx, kind, id, project));
      assert.deepEqual(await grants('network', net.id, P), { shared: true, external: false });
      assert.deepEqual(await grants('network', net.id, Q), { shared: false, external: false });
      assert.deepEqual(await grants('network', ext.id, Q), { shared: false, external: true });
      assert.deepEqual(await grants('network', ext.id, P), { shared: false, external: false });
      await share(net.id, '*', { action: 'access_as_external' });
      assert.deepEqual(await grants('network', net.id, Q), { shared: false, external: true });
      const pool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'g', prefixes: ['2001:db8:7600::/48'], shared: true } })).subnetpool;
      assert.deepEqual(await api.store.read((tx) => rbacGrants(tx, 'subnetpool', pool.id, Q)), { shared: true, external: false });
      assert.deepEqual(await api.store.read((tx) => rbacGrants(tx, 'network', pool.id, Q)), { shared: false, external: false }, 'the kind must match');
    });

    it('a router gateway keeps the access_as_external entry its project depends on', async () => {
      const ext = await network();
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: ext.id, ip_version: 6, cidr: '2001:db8:77::/64', enable_dhcp: false } });
      const pol = await share(ext.id, P, { action: 'access_as_external' });
      const router = (await ok('POST', '/v2.0/routers', { router: { name: 'r', project_id: P, external_gateway_info: { network_id: ext.id } } })).router;
      await refused('DELETE', `/v2.0/rbac-policies/${pol.id}`, undefined, 409, 'RbacPolicyInUse', `RBAC policy on object ${ext.id} cannot be removed because other objects depend on it.\nDetails: There are routers attached to this network that depend on this policy for access.`);
      await refused('PUT', `/v2.0/networks/${ext.id}`, { network: { 'router:external': false } }, 409, 'ExternalNetworkInUse');
      await ok('PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: {} } });
      await ok('DELETE', `/v2.0/rbac-policies/${pol.id}`);
      assert.equal((await show(`/v2.0/networks/${ext.id}`))['router:external'], false);
    });
  });
}
