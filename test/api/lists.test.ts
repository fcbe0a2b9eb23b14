// Neutron's list conventions: filters (incl. name= and repeated keys), fields=, sorting, limit/marker pagination
// with links, tags; and version/extension discovery.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`list conventions (${backend})`, () => {
    let api: Api;
    const nets: { id: string; name: string }[] = [];
    before(async () => {
      api = await startApi(backend);
      for (const name of ['delta', 'alpha', 'charlie', 'bravo', 'echo']) {
        nets.push((await api.request('POST', '/v2.0/networks', { network: { name, shared: name === 'alpha' } })).body.network);
      }
    });
    after(async () => api.close());

    it('filters by name, by repeated keys and by booleans', async () => {
      const one = (await api.request('GET', '/v2.0/networks?name=charlie')).body.networks;
      assert.deepEqual(one.map((n: { name: string }) => n.name), ['charlie']);
      const two = (await api.request('GET', '/v2.0/networks?name=charlie&name=echo')).body.networks;
      assert.deepEqual(two.map((n: { name: string }) => n.name).sort(), ['charlie', 'echo']);
      const shared = (await api.request('GET', '/v2.0/networks?shared=True')).body.networks;
      assert.deepEqual(shared.map((n: { name: string }) => n.name), ['alpha']);
      // filter-validation (test/api/filter-validation.test.ts): a name that is no filter is refused, as Neutron does.
      const unknownFilter = await api.request('GET', '/v2.0/networks?foo=bar');
      assert.equal(unknownFilter.status, 400);
    });

    it('returns only the requested fields', async () => {
      const r = (await api.request('GET', '/v2.0/networks?fields=id&fields=name&name=alpha')).body.networks;
      assert.deepEqual(Object.keys(r[0]).sort(), ['id', 'name']);
      const show = (await api.request('GET', `/v2.0/networks/${nets[0]!.id}?fields=name`)).body.network;
      assert.deepEqual(show, { name: 'delta' });
    });

    it('sorts and pages with markers and links', async () => {
      const sorted = (await api.request('GET', '/v2.0/networks?sort_key=name&sort_dir=asc')).body.networks;
      assert.deepEqual(sorted.map((n: { name: string }) => n.name), ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
      const page1 = (await api.request('GET', '/v2.0/networks?sort_key=name&sort_dir=desc&limit=2')).body;
      assert.deepEqual(page1.networks.map((n: { name: string }) => n.name), ['echo', 'delta']);
      const next = page1.networks_links.find((l: { rel: string }) => l.rel === 'next');
      assert.ok(next, 'a next link');
      const u = new URL(next.href);
      const page2 = (await api.request('GET', `/v2.0/networks${u.search}`)).body;
      assert.deepEqual(page2.networks.map((n: { name: string }) => n.name), ['charlie', 'bravo']);
      const last = (await api.request('GET', `/v2.0/networks?sort_key=name&sort_dir=desc&limit=2&marker=${page2.networks[1].id}`)).body;
      assert.deepEqual(last.networks.map((n: { name: string }) => n.name), ['alpha']);
      assert.equal(last.networks_links.some((l: { rel: string }) => l.rel === 'next'), false);
      const missing = await api.request('GET', '/v2.0/networks?limit=1&marker=nonexist');
      assert.equal(missing.status, 404);
    });

    it('sets, lists and filters tags', async () => {
      const id = nets[1]!.id;
      assert.equal((await api.request('PUT', `/v2.0/networks/${id}/tags/blue`)).status, 201);
      assert.equal((await api.request('PUT', `/v2.0/networks/${id}/tags`, { tags: ['red', 'green'] })).status, 200);
      assert.deepEqual((await api.request('GET', `/v2.0/networks/${id}/tags`)).body.tags, ['red', 'green']);
      const tagged = (await api.request('GET', '/v2.0/networks?tags=red')).body.networks;
      assert.deepEqual(tagged.map((n: { id: string }) => n.id), [id]);
      assert.equal((await api.request('DELETE', `/v2.0/networks/${id}/tags/red`)).status, 204);
      assert.equal((await api.request('GET', `/v2.0/networks/${id}/tags/red`)).status, 404);
    });

    it('answers version discovery and the extensions it implements', async () => {
      const root = await api.request('GET', '/');
      assert.equal(root.body.versions[0].id, 'v2.0');
      const ext = (await api.request('GET', '/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
      for (const alias of ['router', 'external-net', 'security-group', 'subnet_allocation', 'address-scope', 'pagination', 'sorting']) {
        assert.ok(ext.includes(alias), alias);
      }
      assert.ok(!ext.includes('bgpvpn'), 'only what is implemented'); // bgp itself is implemented (api/resources/bgp.ts)
    });

    it('makes the project\'s default security group with Neutron\'s four rules', async () => {
      const groups = (await api.request('GET', '/v2.0/security-groups?name=default')).body.security_groups;
      assert.equal(groups.length, 0, 'made on first use only');
      const port = await api.request('POST', '/v2.0/ports', { port: { network_id: nets[0]!.id } });
      const sg = (await api.request('GET', `/v2.0/security-groups/${port.body.port.security_groups[0]}`)).body.security_group;
      assert.equal(sg.name, 'default');
      const rules = sg.security_group_rules.map((r: Record<string, unknown>) => `${r.direction} ${r.ethertype} ${r.remote_group_id === sg.id ? 'group' : 'any'}`).sort();
      assert.deepEqual(rules, ['egress IPv4 any', 'egress IPv6 any', 'ingress IPv4 group', 'ingress IPv6 group']);
    });
  });
  describe(`paging in the store (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    it('pages by id in the store exactly as in memory: items, links, markers, reverse, filters, fields', async () => {
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'paging' } })).body.network;
      const made: { id: string; name: string }[] = [];
      for (let i = 0; i < 23; i++) made.push((await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, name: i % 2 ? 'odd' : 'even' } })).body.port);
      const all = (await api.request('GET', `/v2.0/ports?network_id=${net.id}`)).body.ports.map((p: { id: string }) => p.id).sort();
      assert.equal(all.length, 23);
      // admin_state_up is filtered in memory, so the same query with it (matching every port) takes the old path.
      const slow = (query: string): string => `${query}&admin_state_up=True`;
      const marker = (href: string): [string | null, string | null] => {
        const u = new URL(href);
        return [u.searchParams.get('marker'), u.searchParams.get('page_reverse')];
      };
      const get = async (query: string): Promise<{ status: number; ids: string[]; items: unknown[]; links: [string, string | null, string | null][] }> => {
        const r = await api.request('GET', `/v2.0/ports?network_id=${net.id}&${query}`);
        if (r.status !== 200) return { status: r.status, ids: [], items: [r.body.NeutronError?.type], links: [] };
        return { status: 200, ids: r.body.ports.map((p: { id?: string }) => p.id), items: r.body.ports, links: (r.body.ports_links ?? []).map((l: { rel: string; href: string }) => [l.rel, ...marker(l.href)]) };
      };
      const queries = ['limit=5', 'limit=5&sort_key=id&sort_dir=desc', 'limit=7&page_reverse=True', 'limit=4&name=even', 'limit=3&fields=name&fields=id', 'limit=30', 'limit=1&sort_key=id&sort_dir=desc&page_reverse=True'];
      const statuses = new Set<number>();
      for (const q of queries) {
        // Markers: none, the first and last ids, and one port of each name (one of them outside a name filter).
        for (const m of [null, all[0], all[22], made.find((p) => p.name === 'odd')!.id, made.find((p) => p.name === 'even')!.id]) {
          const query = m ? `${q}&marker=${m}` : q;
          const fast = await get(query);
          const old = await get(slow(query));
          assert.deepEqual(fast, old, query);
          statuses.add(fast.status);
        }
      }
      assert.deepEqual([...statuses].sort(), [200, 404], 'markers outside the name filter are not found, the others are');
      // Walking the next links visits every port once, in id order; walking back with previous links returns.
      const seen: string[] = [];
      let page = await get('limit=5');
      for (;;) {
        seen.push(...page.ids);
        const next = page.links.find((l) => l[0] === 'next');
        if (!next) break;
        page = await get(`limit=5&marker=${next[1]}`);
      }
      assert.deepEqual(seen, all);
      const back: string[] = [];
      page = await get(`limit=5&marker=${all[22]}&page_reverse=True`);
      for (;;) {
        back.unshift(...page.ids);
        const prev = page.links.find((l) => l[0] === 'previous');
        if (!prev) break;
        page = await get(`limit=5&marker=${prev[1]}&page_reverse=True`);
      }
      assert.deepEqual(back, all.slice(0, 22));
      // A marker outside the filtered set is not found, on both paths.
      const odd = (await get('limit=30&name=odd')).ids;
      for (const query of [`limit=2&name=even&marker=${odd[0]}`, slow(`limit=2&name=even&marker=${odd[0]}`)]) {
        assert.equal((await get(query)).status, 404, query);
      }
    });

  });
}
