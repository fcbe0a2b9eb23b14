// Subnet pools and address scopes through the API, on every store: the scope rules (unique prefixes per scope,
// one scope per network and family, re-scoping re-checked, shared scopes stay shared), prefix operations
// (add_prefixes, remove_prefixes), default pools, prefixlen requests, quotas, deletion and onboarding, with
// Neutron's statuses, types and texts.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

type Json = Record<string, any>;

for (const backend of backends()) {
  describe(`subnet pools and address scopes (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    const ok = async (method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200): Promise<Json> => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const refused = async (method: string, path: string, body: unknown, status: number, type: string, message: string): Promise<void> => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.NeutronError.type, type);
      assert.equal(r.body.NeutronError.message, message);
    };
    const scope = async (extra: Json = {}): Promise<Json> =>
      (await ok('POST', '/v2.0/address-scopes', { address_scope: { name: 's', ip_version: 6, ...extra } })).address_scope;
    const pool = async (prefixes: string[], extra: Json = {}): Promise<Json> =>
      (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes, ...extra } })).subnetpool;
    const network = async (): Promise<Json> => (await ok('POST', '/v2.0/networks', { network: { name: 'n' } })).network;
    const subnetFrom = (networkId: string, poolId: string, extra: Json = {}) =>
      api.request('POST', '/v2.0/subnets', { subnet: { network_id: networkId, ip_version: 6, subnetpool_id: poolId, ...extra } });

    const CONFLICT = 'Failed to associate address scope: subnetpools within an address scope must have unique prefixes.';
    const SCOPE_AFFINITY = 'Subnets of the same address family hosted on the same network must all participate in the same address scope.';
    const POOL_AFFINITY = 'Subnets hosted on the same network must be allocated from the same subnet pool.';

    it('lists subnet_onboard and subnetpool-prefix-ops among the extensions', async () => {
      const aliases = (await ok('GET', '/v2.0/extensions')).extensions.map((e: Json) => e.alias);
      for (const alias of ['subnet_onboard', 'subnetpool-prefix-ops', 'address-scope', 'default-subnetpools', 'subnet_allocation']) {
        assert.ok(aliases.includes(alias), alias);
      }
    });

    it('refuses overlapping prefixes within one scope on create, update and add_prefixes (409)', async () => {
      const s = await scope({ ip_version: 4 });
      await pool(['20.0.0.0/18', '30.0.0.0/18'], { address_scope_id: s.id, min_prefixlen: 29 });
      await refused('POST', '/v2.0/subnetpools', { subnetpool: { prefixes: ['40.0.0.0/18', '30.0.0.0/12'], address_scope_id: s.id, min_prefixlen: 29 } }, 409, 'AddressScopePrefixConflict', CONFLICT);
      const other = await pool(['20.0.10.0/24'], { min_prefixlen: 29 });
      // Joining the scope with a prefix inside another pool's: refused; outside the scope anything goes.
      await refused('PUT', `/v2.0/subnetpools/${other.id}`, { subnetpool: { address_scope_id: s.id } }, 409, 'AddressScopePrefixConflict', CONFLICT);
      const inScope = await pool(['50.0.0.0/18'], { address_scope_id: s.id, min_prefixlen: 29 });
      await refused('PUT', `/v2.0/subnetpools/${inScope.id}`, { subnetpool: { prefixes: ['50.0.0.0/18', '20.0.0.0/12'] } }, 409, 'AddressScopePrefixConflict', CONFLICT);
      await refused('PUT', `/v2.0/subnetpools/${inScope.id}/add_prefixes`, { prefixes: ['30.0.32.0/20'] }, 409, 'AddressScopePrefixConflict', CONFLICT);
      assert.deepEqual((await ok('PUT', `/v2.0/subnetpools/${inScope.id}/add_prefixes`, { prefixes: ['60.0.0.0/18'] })).prefixes, ['50.0.0.0/18', '60.0.0.0/18']);
      // Nothing changed by the refusals.
      assert.deepEqual((await ok('GET', `/v2.0/subnetpools/${other.id}`)).subnetpool.address_scope_id, null);
    });

    it('checks the scope: exists, same family; a shared scope stays shared; a scope in use is not deleted', async () => {
      const s4 = await scope({ ip_version: 4 });
      const p = await pool(['2001:db8:10::/48']);
      await refused(
        'PUT', `/v2.0/subnetpools/${p.id}`, { subnetpool: { address_scope_id: s4.id } }, 400, 'IllegalSubnetPoolIpVersionAssociationToAddressScope',
        `Illegal subnetpool association: subnetpool ${p.id} cannot associate with address scope ${s4.id} because subnetpool ip_version is not 4.`,
      );
      const missing = 'a8d6a5c3-0a76-4a5e-9a52-5b1b1a0f0e01';
      await refused('POST', '/v2.0/subnetpools', { subnetpool: { prefixes: ['2001:db8:11::/48'], address_scope_id: missing } }, 404, 'AddressScopeNotFound', `Address scope ${missing} could not be found.`);
      const shared = await scope({ shared: true });
      await refused('PUT', `/v2.0/address-scopes/${shared.id}`, { address_scope: { name: 'x', shared: false } }, 400, 'AddressScopeUpdateError', `Unable to update address scope ${shared.id} : Shared address scope can't be unshared.`);
      assert.equal((await ok('GET', `/v2.0/address-scopes/${shared.id}`)).address_scope.name, 's', 'refused whole');
      const unshared = await scope();
      assert.equal((await ok('PUT', `/v2.0/address-scopes/${unshared.id}`, { address_scope: { shared: true } })).address_scope.shared, true);
      await pool(['2001:db8:12::/48'], { address_scope_id: shared.id });
      await refused('DELETE', `/v2.0/address-scopes/${shared.id}`, undefined, 409, 'AddressScopeInUse', `Unable to complete operation on address scope ${shared.id}. There are one or more subnet pools in use on the address scope.`);
    });

    it('remove_prefixes: shrinks the pool, refuses while a subnet uses the space, ignores disjoint prefixes', async () => {
      const p = await pool(['2001:db8:1234::/48', '2001:db8:1235::/48'], { min_prefixlen: 48, default_prefixlen: 64 });
      assert.deepEqual((await ok('PUT', `/v2.0/subnetpools/${p.id}/add_prefixes`, { prefixes: ['2001:db8:4321::/48'] })).prefixes, ['2001:db8:1234::/47', '2001:db8:4321::/48']);
      assert.deepEqual((await ok('PUT', `/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['2001:db8:4321::/48'] })).prefixes, ['2001:db8:1234::/47']);
      assert.deepEqual((await ok('GET', `/v2.0/subnetpools/${p.id}`)).subnetpool.prefixes, ['2001:db8:1234::/47']);
      const n = await network();
      const sub = await subnetFrom(n.id, p.id);
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      assert.equal(sub.body.subnet.cidr, '2001:db8:1234::/64');
      await refused('PUT', `/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['2001:db8:1234::/48'] }, 400, 'IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: One or more the prefixes to be removed is in use by a subnet..');
      assert.deepEqual((await ok('PUT', `/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['2001:db9::/32'] })).prefixes, ['2001:db8:1234::/47']);
      assert.deepEqual((await ok('PUT', `/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['2001:db8:1235::/48'] })).prefixes, ['2001:db8:1234::/48']);
      await refused('PUT', `/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: [] }, 400, 'HTTPBadRequest', 'Request body contains invalid data');
      await refused('PUT', `/v2.0/subnetpools/${p.id}/add_prefixes`, {}, 400, 'HTTPBadRequest', 'Request body contains invalid data');
      // The allocator sees the smaller pool at once: the next /64 comes from what is left.
      const next = await subnetFrom((await network()).id, p.id);
      assert.equal(next.body.subnet.cidr, '2001:db8:1234:1::/64');
      // A PUT may not shrink the list either.
      await refused('PUT', `/v2.0/subnetpools/${p.id}`, { subnetpool: { prefixes: ['2001:db8:1234::/56'] } }, 400, 'IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.');
      await refused('DELETE', `/v2.0/subnetpools/${p.id}`, undefined, 400, 'SubnetPoolDeleteError', 'Unable to delete subnet pool: Subnet pool has existing allocations.');
    });

    it('default pools: one per family, use_default_subnetpool, prefixlen and its bounds', async () => {
      const d = await pool(['2001:db8:d000::/40'], { is_default: true, default_prefixlen: 64, min_prefixlen: 48, max_prefixlen: 80 });
      await refused('POST', '/v2.0/subnetpools', { subnetpool: { prefixes: ['2001:db8:e000::/40'], is_default: true } }, 400, 'InvalidInput', 'Invalid input for operation: A default subnetpool for this IP family has already been set. Only one default may exist per IP family.');
      const other = await pool(['2001:db8:e000::/40']);
      await refused('PUT', `/v2.0/subnetpools/${other.id}`, { subnetpool: { is_default: true } }, 400, 'InvalidInput', 'Invalid input for operation: A default subnetpool for this IP family has already been set. Only one default may exist per IP family.');
      // The default pool itself may be updated while it is the default.
      assert.equal((await ok('PUT', `/v2.0/subnetpools/${d.id}`, { subnetpool: { is_default: true, name: 'dflt' } })).subnetpool.name, 'dflt');
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: (await network()).id, ip_version: 4, use_default_subnetpool: true } }, 400, 'BadRequest', 'Bad subnets request: No default subnetpool found for IPv4.');
      const n = await network();
      const a = await ok('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, use_default_subnetpool: true, enable_dhcp: false } });
      assert.deepEqual([a.subnet.cidr, a.subnet.subnetpool_id, a.subnet.gateway_ip], ['2001:db8:d000::/64', d.id, '2001:db8:d000::1']);
      const b = await ok('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, use_default_subnetpool: true, prefixlen: 56, enable_dhcp: false } });
      assert.equal(b.subnet.cidr, '2001:db8:d000:100::/56');
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, use_default_subnetpool: true, prefixlen: 40 } }, 400, 'MinPrefixSubnetAllocationError', 'Unable to allocate subnet with prefix length 40, minimum allowed prefix is 48.');
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, use_default_subnetpool: true, prefixlen: 96 } }, 400, 'MaxPrefixSubnetAllocationError', 'Unable to allocate subnet with prefix length 96, maximum allowed prefix is 80.');
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, use_default_subnetpool: true, subnetpool_id: d.id } }, 400, 'BadRequest', 'Bad subnets request: subnetpool_id and use_default_subnetpool cannot both be specified.');
      // Not the default any more: use_default_subnetpool finds none.
      await ok('PUT', `/v2.0/subnetpools/${d.id}`, { subnetpool: { is_default: false } });
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, use_default_subnetpool: true } }, 400, 'BadRequest', 'Bad subnets request: No default subnetpool found for IPv6.');
    });

    it('default_quota: IPv6 in /64s, IPv4 in addresses, per project; 409 SubnetPoolQuotaExceeded', async () => {
      const exceeded = 'Per-project subnet pool prefix quota exceeded.';
      const p6 = await pool(['2001:db8:f000::/48'], { default_prefixlen: 64, min_prefixlen: 56, default_quota: 3 });
      const n = await network();
      assert.equal((await subnetFrom(n.id, p6.id)).status, 201);
      assert.equal((await subnetFrom(n.id, p6.id)).status, 201);
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p6.id, prefixlen: 56 } }, 409, 'SubnetPoolQuotaExceeded', exceeded);
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p6.id, cidr: '2001:db8:f000:100::/63' } }, 409, 'SubnetPoolQuotaExceeded', exceeded);
      // The bounds are checked before the quota.
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p6.id, prefixlen: 48 } }, 400, 'MinPrefixSubnetAllocationError', 'Unable to allocate subnet with prefix length 48, minimum allowed prefix is 56.');
      assert.equal((await subnetFrom(n.id, p6.id)).status, 201, 'the third /64 fits');
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p6.id } }, 409, 'SubnetPoolQuotaExceeded', exceeded);
      // Another project has a quota of its own.
      const other = await api.request('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p6.id, project_id: 'other-project' } });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      // Raising the quota lets the project go on.
      await ok('PUT', `/v2.0/subnetpools/${p6.id}`, { subnetpool: { default_quota: 4 } });
      assert.equal((await subnetFrom(n.id, p6.id)).status, 201);

      const p4 = await pool(['10.100.0.0/16'], { default_prefixlen: 24, default_quota: 300 });
      const n4 = await network();
      const v4 = (extra: Json) => api.request('POST', '/v2.0/subnets', { subnet: { network_id: n4.id, ip_version: 4, subnetpool_id: p4.id, ...extra } });
      assert.equal((await v4({})).status, 201, '256 addresses');
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n4.id, ip_version: 4, subnetpool_id: p4.id, prefixlen: 25 } }, 409, 'SubnetPoolQuotaExceeded', exceeded);
      assert.equal((await v4({ prefixlen: 27 })).status, 201, '288 addresses');
    });

    it('default_quota counts the subnets of the project that will own the subnet, not the caller\'s', async () => {
      const exceeded = 'Per-project subnet pool prefix quota exceeded.';
      const p = await pool(['2001:db8:f100::/48'], { default_prefixlen: 64, default_quota: 2, shared: true });
      const n = await network();
      // An admin (every noauth caller is one) creates for another project: the quota is that project's.
      for (let i = 0; i < 2; i++) assert.equal((await subnetFrom(n.id, p.id, { project_id: 'quota-owner' })).status, 201);
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p.id, project_id: 'quota-owner' } }, 409, 'SubnetPoolQuotaExceeded', exceeded);
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p.id, tenant_id: 'quota-owner' } }, 409, 'SubnetPoolQuotaExceeded', exceeded);
      // The owner asking for itself is refused the same way.
      const own = await api.request('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p.id } }, { 'X-Project-Id': 'quota-owner' });
      assert.equal(own.status, 409, JSON.stringify(own.body));
      assert.equal(own.body.NeutronError.type, 'SubnetPoolQuotaExceeded');
      // The caller's own project has used none of its quota: the owner's subnets were not counted against it...
      for (let i = 0; i < 2; i++) assert.equal((await subnetFrom(n.id, p.id)).status, 201, 'the caller\'s own quota is untouched');
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p.id } }, 409, 'SubnetPoolQuotaExceeded', exceeded);
      // ...and a caller over its own quota may still create for a project that is not.
      assert.equal((await subnetFrom(n.id, p.id, { project_id: 'quota-fresh' })).status, 201);
      // Deleting one of the owner's subnets gives it room again.
      const owned = (await ok('GET', `/v2.0/subnets?subnetpool_id=${p.id}&project_id=quota-owner`)).subnets;
      assert.equal(owned.length, 2);
      await ok('DELETE', `/v2.0/subnets/${owned[0].id}`, undefined, 204);
      assert.equal((await subnetFrom(n.id, p.id, { project_id: 'quota-owner' })).status, 201);
    });

    it('a network holds one pool per family, or pools of one scope; its address scope follows its pools', async () => {
      const s = await scope();
      const a = await pool(['2001:db8:a1::/48'], { address_scope_id: s.id, default_prefixlen: 64 });
      const b = await pool(['2001:db8:b1::/48'], { address_scope_id: s.id, default_prefixlen: 64 });
      const loose = await pool(['2001:db8:c1::/48'], { default_prefixlen: 64 });
      const s2 = await scope();
      const far = await pool(['2001:db8:d1::/48'], { address_scope_id: s2.id, default_prefixlen: 64 });
      const n = await network();
      assert.equal((await subnetFrom(n.id, a.id)).status, 201);
      const net1 = (await ok('GET', `/v2.0/networks/${n.id}`)).network;
      assert.deepEqual([net1.ipv6_address_scope, net1.ipv4_address_scope], [s.id, null]);
      const fromB = await subnetFrom(n.id, b.id);
      assert.equal(fromB.status, 201, `two pools of one scope share a network: ${JSON.stringify(fromB.body)}`);
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: far.id } }, 400, 'NetworkAddressScopeAffinityError', SCOPE_AFFINITY);
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: loose.id } }, 400, 'NetworkAddressScopeAffinityError', SCOPE_AFFINITY);
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, cidr: '2001:db8:ee::/64' } }, 400, 'NetworkSubnetPoolAffinityError', POOL_AFFINITY);
      // Re-scoping a pool whose network also holds another pool's subnets would split the network: refused. (Leaving
      // the scope is not checked: _validate_address_scope_id returns at once for no scope, as Neutron does.)
      await refused('PUT', `/v2.0/subnetpools/${a.id}`, { subnetpool: { address_scope_id: s2.id } }, 400, 'NetworkAddressScopeAffinityError', SCOPE_AFFINITY);
      // Without scopes, one pool per family.
      const m = await network();
      assert.equal((await subnetFrom(m.id, loose.id)).status, 201);
      const other = await pool(['2001:db8:c2::/48'], { default_prefixlen: 64 });
      await refused('POST', '/v2.0/subnets', { subnet: { network_id: m.id, ip_version: 6, subnetpool_id: other.id } }, 400, 'NetworkSubnetPoolAffinityError', POOL_AFFINITY);
      // A pool alone on its networks may change scope, and the networks show it.
      const s3 = await scope();
      await ok('PUT', `/v2.0/subnetpools/${loose.id}`, { subnetpool: { address_scope_id: s3.id } });
      assert.equal((await ok('GET', `/v2.0/networks/${m.id}`)).network.ipv6_address_scope, s3.id);
      await ok('PUT', `/v2.0/subnetpools/${loose.id}`, { subnetpool: { address_scope_id: null } });
      assert.equal((await ok('GET', `/v2.0/networks/${m.id}`)).network.ipv6_address_scope, null);
    });

    it('onboard_network_subnets: a network\'s subnets join the pool and its scope', async () => {
      const s = await scope();
      const p = await pool(['2001:db8:face::/48'], { address_scope_id: s.id, default_prefixlen: 64 });
      const n = await network();
      const sub = await ok('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, cidr: '2001:db8:cafe:d::/64', enable_dhcp: false } });
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '192.0.2.0/24', enable_dhcp: false } });
      const answer = await ok('PUT', `/v2.0/subnetpools/${p.id}/onboard_network_subnets`, { network_id: n.id });
      assert.deepEqual(answer, [{ id: sub.subnet.id, cidr: '2001:db8:cafe:d::/64' }], 'only the pool\'s family');
      assert.equal((await ok('GET', `/v2.0/subnets/${sub.subnet.id}`)).subnet.subnetpool_id, p.id);
      assert.deepEqual((await ok('GET', `/v2.0/subnetpools/${p.id}`)).subnetpool.prefixes, ['2001:db8:cafe:d::/64', '2001:db8:face::/48']);
      const net = (await ok('GET', `/v2.0/networks/${n.id}`)).network;
      assert.deepEqual([net.ipv6_address_scope, net.ipv4_address_scope], [s.id, null]);
      await refused(
        'PUT', `/v2.0/subnetpools/${p.id}/onboard_network_subnets`, { network_id: n.id }, 400, 'IllegalSubnetPoolUpdate',
        `Illegal subnetpool update : Onboarding subnet ${sub.subnet.id}: 2001:db8:cafe:d::/64 conflicts with allocated prefixes in subnet pool ${p.id}.`,
      );
      await refused('PUT', `/v2.0/subnetpools/${p.id}/onboard_network_subnets`, {}, 400, 'InvalidInput', 'Invalid input for operation: network_id must be specified..'); // sic: Neutron's double dot
      const missing = 'b8d6a5c3-0a76-4a5e-9a52-5b1b1a0f0e02';
      await refused('PUT', `/v2.0/subnetpools/${p.id}/onboard_network_subnets`, { network_id: missing }, 404, 'NetworkNotFound', `Network ${missing} could not be found.`);
      // A subnet whose cidr another pool of the scope holds cannot be onboarded: the scope's prefixes stay unique.
      const p2 = await pool(['2001:db8:bbbb::/48'], { address_scope_id: s.id });
      const m = await network();
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: m.id, ip_version: 6, cidr: '2001:db8:face:77::/64', enable_dhcp: false } });
      await refused('PUT', `/v2.0/subnetpools/${p2.id}/onboard_network_subnets`, { network_id: m.id }, 409, 'AddressScopePrefixConflict', CONFLICT);
    });
  });
}
