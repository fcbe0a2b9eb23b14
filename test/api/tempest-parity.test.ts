// Answers Tempest's network tests expect because Neutron Zed gives them (each measured against Debian's Neutron at
// review): pagination links that keep going until a short page, `{"routes": null}` clearing a router's routes, and
// deleting a SLAAC / DHCPv6-stateless subnet under its ports. Both stores.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const store of backends()) {
  describe(`Neutron parity for Tempest (${store})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(store);
    });
    after(async () => {
      await api?.close();
    });

    it("pagination links follow Neutron's rule: next unless a short forward page, previous unless a short reverse page", async () => {
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'paged' } })).body.network;
      for (let i = 0; i < 4; i++) await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, name: `p${i}` } });
      const ids = (await api.request('GET', `/v2.0/ports?network_id=${net.id}&sort_key=id&sort_dir=asc`)).body.ports.map((p: { id: string }) => p.id);
      const rels = async (query: string): Promise<Record<string, [string | null, string | null]>> => {
        const r = await api.request('GET', `/v2.0/ports?network_id=${net.id}&${query}`);
        assert.equal(r.status, 200, query);
        const out: Record<string, [string | null, string | null]> = {};
        for (const l of r.body.ports_links ?? []) {
          const u = new URL(l.href);
          out[l.rel] = [u.searchParams.get('marker'), u.searchParams.get('page_reverse')];
        }
        return out;
      };
      // First full page: both links (Neutron gives `previous` on the first page too).
      assert.deepEqual(await rels('limit=2'), { next: [ids[1], null], previous: [ids[0], 'True'] });
      // The last page is full: it still has a `next` link, to an empty page, which has no `next`.
      assert.deepEqual(await rels(`limit=2&marker=${ids[1]}`), { next: [ids[3], null], previous: [ids[2], 'True'] });
      assert.deepEqual(await rels(`limit=2&marker=${ids[3]}`), { previous: [null, 'True'] });
      // A short reverse page has no `previous`; a full one has both.
      assert.deepEqual(await rels(`limit=2&marker=${ids[1]}&page_reverse=True`), { next: [ids[0], null] });
      assert.deepEqual(await rels(`limit=2&marker=${ids[3]}&page_reverse=True`), { next: [ids[2], null], previous: [ids[1], 'True'] });
      // Without a limit there is no paging: the marker is ignored, as Neutron ignores it, and no links are given.
      const whole = await api.request('GET', `/v2.0/ports?network_id=${net.id}&marker=${ids[2]}`);
      assert.equal(whole.body.ports.length, 4);
      assert.equal(whole.body.ports_links, undefined);
    });

    it('`{"routes": null}` clears a router\'s extra routes (extraroute converts None to [])', async () => {
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'r-net' } })).body.network;
      const sub = (await api.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:77::/64' } })).body.subnet;
      const router = (await api.request('POST', '/v2.0/routers', { router: { name: 'r' } })).body.router;
      assert.equal((await api.request('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id })).status, 200);
      const set = await api.request('PUT', `/v2.0/routers/${router.id}`, { router: { routes: [{ destination: '2001:db8:99::/64', nexthop: '2001:db8:77::10' }] } });
      assert.equal(set.status, 200);
      assert.equal(set.body.router.routes.length, 1);
      const cleared = await api.request('PUT', `/v2.0/routers/${router.id}`, { router: { routes: null } });
      assert.equal(cleared.status, 200);
      assert.deepEqual(cleared.body.router.routes, []);
      assert.deepEqual((await api.request('GET', `/v2.0/routers/${router.id}`)).body.router.routes, []);
    });

    for (const mode of ['slaac', 'dhcpv6-stateless'] as const) {
      it(`deleting a ${mode} subnet under its ports takes their automatic addresses and answers 204`, async () => {
        const net = (await api.request('POST', '/v2.0/networks', { network: { name: `auto-${mode}` } })).body.network;
        const v4 = (await api.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.0/24' } })).body.subnet;
        const v6 = (await api.request('POST', '/v2.0/subnets', {
          subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:78::/64', ipv6_ra_mode: mode, ipv6_address_mode: mode },
        })).body.subnet;
        const dual = (await api.request('POST', '/v2.0/ports', { port: { network_id: net.id } })).body.port;
        const only6 = (await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, fixed_ips: [{ subnet_id: v6.id }] } })).body.port;
        assert.equal(dual.fixed_ips.length, 2);
        assert.deepEqual(only6.fixed_ips.map((f: { subnet_id: string }) => f.subnet_id), [v6.id]);
        const del = await api.request('DELETE', `/v2.0/subnets/${v6.id}`);
        assert.equal(del.status, 204);
        assert.deepEqual((await api.request('GET', `/v2.0/ports/${dual.id}`)).body.port.fixed_ips.map((f: { subnet_id: string }) => f.subnet_id), [v4.id]);
        assert.deepEqual((await api.request('GET', `/v2.0/ports/${only6.id}`)).body.port.fixed_ips, []);
        // The stateful / IPv4 rule is unchanged: a user port's allocation keeps the subnet in use.
        const inUse = await api.request('DELETE', `/v2.0/subnets/${v4.id}`);
        assert.equal(inUse.status, 409);
        assert.equal(inUse.body.NeutronError.type, 'SubnetInUse');
      });
    }
  });
}
