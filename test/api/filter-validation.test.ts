// Neutron's filter-validation (`[DEFAULT] filter_validation = True`, the default since Rocky): a list request whose
// query names something that is not a filter of the resource answers 400 HTTPBadRequest with
// api_common.get_filters_from_dict's text, every key named, in the order asked; every real filter (the is_filter
// attributes of the resource's map, the tag filters, project_id / tenant_id) and the list controls keep working.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';
import { SCHEMAS, filterNames, type ResourceSchema } from '../../src/schema/index.js';

const pathOf = (s: ResourceSchema): string => `/v2.0/${s.path ?? s.plural}`;

/** A value of the filter's type, so the request tests the name and not the value. */
function valueFor(s: ResourceSchema, name: string): string {
  if (name === 'fixed_ips') return 'ip_address=2001:db8::1';
  const attr = s.attributes[name];
  if (attr?.type.describe === 'boolean') return 'True';
  if (attr?.type.describe.startsWith('integer') || /^`\d/.test(attr?.type.describe ?? '')) return '6';
  return 'x';
}

for (const backend of backends()) {
  describe(`filter validation (${backend})`, () => {
    let api: Api;
    let networkId: string;
    before(async () => {
      api = await startApi(backend);
      networkId = (await api.request('POST', '/v2.0/networks', { network: { name: 'fv' } })).body.network.id;
      await api.request('POST', '/v2.0/subnets', { subnet: { network_id: networkId, ip_version: 6, cidr: '2001:db8:f::/64' } });
    });
    after(async () => api.close());

    it('advertises filter-validation', async () => {
      const r = await api.request('GET', '/v2.0/extensions/filter-validation');
      assert.equal(r.status, 200);
      assert.equal(r.body.extension.name, 'Filter parameters validation');
    });

    it('answers 400 with Neutron\'s text for a name that is not a filter, on every validated list', async () => {
      for (const s of SCHEMAS.filter((x) => x.operations.includes('list'))) {
        const r = await api.request('GET', `${pathOf(s)}?not_a_filter=1`);
        if (filterNames(s) === null) {
          assert.equal(r.status, 200, `${s.plural}: its Neutron plugin does not validate filters`);
          continue;
        }
        assert.equal(r.status, 400, s.plural);
        assert.deepEqual(r.body, { NeutronError: { type: 'HTTPBadRequest', message: "['not_a_filter'] is invalid attribute for filtering", detail: '' } }, s.plural);
      }
    });

    it('names every invalid key in the order asked, even with no value, and checks them before sort keys and limits', async () => {
      const r = await api.request('GET', '/v2.0/networks?zeta=1&name=fv&alpha=&sort_key=bogus&sort_dir=asc&limit=x');
      assert.equal(r.status, 400);
      assert.equal(r.body.NeutronError.message, "['zeta', 'alpha'] is invalid attribute for filtering");
    });

    it('accepts every filter of every resource, and the list controls', async () => {
      for (const s of SCHEMAS.filter((x) => x.operations.includes('list'))) {
        const names = filterNames(s);
        if (names === null) continue;
        for (const name of names) {
          const q = new URLSearchParams([[name, valueFor(s, name)]]);
          const r = await api.request('GET', `${pathOf(s)}?${q}`);
          assert.equal(r.status, 200, `${s.plural}?${q}: ${JSON.stringify(r.body)}`);
        }
      }
      const controls = await api.request('GET', '/v2.0/networks?fields=id&fields=name&sort_key=name&sort_dir=asc&limit=1&page_reverse=False');
      assert.equal(controls.status, 200);
      assert.equal(controls.body.networks.length, 1);
    });

    it('keeps the filters that select what they should', async () => {
      const subnets = await api.request('GET', `/v2.0/subnets?network_id=${networkId}&ip_version=6&tenant_id=${encodeURIComponent((await api.request('GET', `/v2.0/networks/${networkId}`)).body.network.project_id)}`);
      assert.equal(subnets.status, 200);
      assert.equal(subnets.body.subnets.length, 1);
      const port = (await api.request('POST', '/v2.0/ports', { port: { network_id: networkId, fixed_ips: [{ ip_address: '2001:db8:f::42' }] } })).body.port;
      for (const q of ['fixed_ips=ip_address%3D2001%3Adb8%3Af%3A%3A42', 'fixed_ips=ip_address_substr%3Df%3A%3A4', `fixed_ips=subnet_id%3D${port.fixed_ips[0].subnet_id}`, `revision_number=${port.revision_number}`, 'description=', 'mac_address=' + port.mac_address, 'tags-any=x&not-tags=y&not-tags-any=z']) {
        const r = await api.request('GET', `/v2.0/ports?network_id=${networkId}&${q}`);
        assert.equal(r.status, 200, q);
        if (!q.startsWith('tags')) assert.deepEqual(r.body.ports.map((p: { id: string }) => p.id), [port.id], q);
      }
    });

    it('refuses attributes Neutron does not filter on, as Neutron does', async () => {
      for (const [path, key] of [
        ['/v2.0/networks', 'subnets'],
        ['/v2.0/networks', 'availability_zones'],
        ['/v2.0/subnets', 'allocation_pools'],
        ['/v2.0/subnets', 'host_routes'],
        ['/v2.0/ports', 'allowed_address_pairs'],
        ['/v2.0/ports', 'binding:vnic_type'],
        ['/v2.0/routers', 'status'],
        ['/v2.0/routers', 'external_gateway_info'],
        ['/v2.0/subnetpools', 'prefixes'],
        ['/v2.0/networks', 'created_at'],
        ['/v2.0/networks', 'changed_since'],
        ['/v2.0/floatingip_pools', 'network_id'],
        ['/v2.0/network-ip-availabilities', 'total_ips'],
      ] as const) {
        const r = await api.request('GET', `${path}?${encodeURIComponent(key)}=1`);
        assert.equal(r.status, 400, `${path}?${key}`);
        assert.equal(r.body.NeutronError.message, `['${key}'] is invalid attribute for filtering`);
      }
      const availability = await api.request('GET', `/v2.0/network-ip-availabilities?ip_version=6&network_id=${networkId}`);
      assert.equal(availability.status, 200);
      assert.equal(availability.body.network_ip_availabilities.length, 1);
    });
  });
}
