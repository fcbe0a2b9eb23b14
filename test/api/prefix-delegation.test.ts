// Prefix delegation's API contract (Neutron Zed with ipv6_pd_enabled; peers/neutron/RESULTS.md "Prefix delegation")
// and the agent-facing report that renumbers a PD subnet and its ports in one transaction.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

const MAC = 'fa:16:3e:79:5a:cc';

for (const backend of backends()) {
  describe(`prefix delegation API (${backend})`, () => {
    let api: Api;
    let plain: Api;
    before(async () => {
      api = await startApi(backend, { settings: { ipv6PdEnabled: true } });
      plain = await startApi(backend);
    });
    after(async () => {
      await api.close();
      await plain.close();
    });

    const post = async (a: Api, kind: string, body: Record<string, unknown>) => a.request('POST', `/v2.0/${kind}s`, { [kind]: body });
    const network = async (a: Api) => (await post(a, 'network', { name: 'pd-net' })).body.network.id as string;
    const pdBody = (net: string, extra: Record<string, unknown> = {}) => ({ network_id: net, ip_version: 6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', ...extra });

    it('use_default_subnetpool makes a PD subnet on ::/64, even with a default IPv6 pool', async () => {
      await post(api, 'subnetpool', { name: 'default-v6', prefixes: ['2001:db8:aaaa::/48'], default_prefixlen: 64, is_default: true });
      const net = await network(api);
      const r = await post(api, 'subnet', pdBody(net, { use_default_subnetpool: true }));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const s = r.body.subnet;
      assert.equal(s.cidr, '::/64');
      assert.equal(s.subnetpool_id, 'prefix_delegation');
      assert.equal(s.gateway_ip, '::');
      assert.deepEqual(s.allocation_pools, [{ start: '::1', end: '::ffff:ffff:ffff:ffff' }]);
      // Two PD subnets may coexist on one network, both ::/64.
      const second = await post(api, 'subnet', pdBody(net, { subnetpool_id: 'prefix_delegation', ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: 'dhcpv6-stateless' }));
      assert.equal(second.status, 201, JSON.stringify(second.body));
      assert.equal(second.body.subnet.cidr, '::/64');
    });

    it('without --ipv6-pd-enabled, use_default_subnetpool takes the default pool; the PD pool id still works', async () => {
      await post(plain, 'subnetpool', { name: 'default-v6', prefixes: ['2001:db8:bbbb::/48'], default_prefixlen: 64, is_default: true });
      const net = await network(plain);
      const r = await post(plain, 'subnet', pdBody(net, { use_default_subnetpool: true }));
      assert.equal(r.status, 201);
      assert.equal(r.body.subnet.cidr, '2001:db8:bbbb::/64');
      const net2 = await network(plain);
      const pd = await post(plain, 'subnet', pdBody(net2, { subnetpool_id: 'prefix_delegation' }));
      assert.equal(pd.status, 201, JSON.stringify(pd.body));
      assert.equal(pd.body.subnet.subnetpool_id, 'prefix_delegation');
    });

    it("answers Neutron's errors", async () => {
      const net = await network(api);
      const cases: [Record<string, unknown>, number, string, string][] = [
        [{ ipv6_ra_mode: undefined, ipv6_address_mode: undefined, subnetpool_id: 'prefix_delegation' }, 400, 'BadRequest', 'Bad subnets request: IPv6 RA Mode must be SLAAC or Stateless for Prefix Delegation..'],
        [{ ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful', subnetpool_id: 'prefix_delegation' }, 400, 'BadRequest', 'Bad subnets request: IPv6 RA Mode must be SLAAC or Stateless for Prefix Delegation..'],
        [{ ipv6_ra_mode: undefined, subnetpool_id: 'prefix_delegation' }, 400, 'BadRequest', 'Bad subnets request: IPv6 RA Mode must be SLAAC or Stateless for Prefix Delegation..'],
        // _validate_subnet (and its mode-combination check) is skipped for PD: the PD check speaks first.
        [{ ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'slaac', subnetpool_id: 'prefix_delegation' }, 400, 'BadRequest', 'Bad subnets request: IPv6 Address Mode must be SLAAC or Stateless for Prefix Delegation..'],
        [{ ip_version: 4, ipv6_ra_mode: undefined, ipv6_address_mode: undefined, subnetpool_id: 'prefix_delegation' }, 400, 'BadRequest', 'Bad subnets request: Prefix Delegation can only be used with IPv6 subnets..'],
        [{ subnetpool_id: 'prefix_delegation', use_default_subnetpool: true }, 400, 'BadRequest', 'Bad subnets request: subnetpool_id and use_default_subnetpool cannot both be specified.'],
        [{ subnetpool_id: 'prefix_delegation', allocation_pools: [{ start: '::2', end: '::9' }] }, 400, 'BadRequest', 'Bad subnets request: allocation_pools allowed only for specific subnet requests..'],
      ];
      for (const [extra, status, type, message] of cases) {
        const body = Object.fromEntries(Object.entries(pdBody(net, extra)).filter(([, v]) => v !== undefined));
        const r = await post(api, 'subnet', body);
        assert.equal(r.status, status, `${JSON.stringify(extra)}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.NeutronError.type, type, JSON.stringify(extra));
        if (message) assert.equal(r.body.NeutronError.message, message);
      }
      // A cidr drops PD: a plain subnet.
      const withCidr = await post(api, 'subnet', pdBody(net, { subnetpool_id: 'prefix_delegation', cidr: '2001:db8:1::/64' }));
      assert.equal(withCidr.status, 201);
      assert.equal(withCidr.body.subnet.subnetpool_id, null);
      // PD counts as a pool: a network with a plain IPv6 subnet refuses a PD one.
      const mixed = await post(api, 'subnet', pdBody(net, { subnetpool_id: 'prefix_delegation' }));
      assert.equal(mixed.status, 400);
      assert.equal(mixed.body.NeutronError.message, 'Subnets hosted on the same network must be allocated from the same subnet pool.');
    });

    it('a reported prefix renumbers the subnet and every port in one transaction; null releases it', async () => {
      const net = await network(api);
      const subnet = (await post(api, 'subnet', pdBody(net, { subnetpool_id: 'prefix_delegation' }))).body.subnet;
      const vm = (await post(api, 'port', { network_id: net, mac_address: MAC })).body.port;
      assert.deepEqual(vm.fixed_ips, [{ subnet_id: subnet.id, ip_address: '::f816:3eff:fe79:5acc' }]);
      const router = (await post(api, 'router', { name: 'pd-r' })).body.router;
      const iface = await api.request('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
      assert.equal(iface.status, 200, JSON.stringify(iface.body));
      const since = (await api.request('GET', '/v6stack/v1/changes?since=0&limit=10000')).body.last;

      const path = `/v6stack/v1/prefix-delegation/subnets/${subnet.id}`;
      const r = await api.request('PUT', path, { prefix: '2001:db8:face:7::/64', router_id: router.id });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.subnet.cidr, '2001:db8:face:7::/64');
      assert.equal(r.body.subnet.gateway_ip, '2001:db8:face:7::1');
      assert.deepEqual(r.body.subnet.allocation_pools, [{ start: '2001:db8:face:7::2', end: '2001:db8:face:7:ffff:ffff:ffff:ffff' }]);
      const vmAfter = (await api.request('GET', `/v2.0/ports/${vm.id}`)).body.port;
      assert.deepEqual(vmAfter.fixed_ips, [{ subnet_id: subnet.id, ip_address: '2001:db8:face:7:f816:3eff:fe79:5acc' }]);
      const rp = (await api.request('GET', `/v2.0/ports/${iface.body.port_id}`)).body.port;
      assert.deepEqual(rp.fixed_ips, [{ subnet_id: subnet.id, ip_address: '2001:db8:face:7::1' }]);
      const feed = (await api.request('GET', `/v6stack/v1/changes?since=${since}`)).body.changes.map((c: { id: string }) => c.id);
      for (const id of [subnet.id, vm.id, iface.body.port_id]) assert.ok(feed.includes(id), `the change feed carries ${id}`);

      // The same prefix again: nothing changes.
      const again = await api.request('PUT', path, { prefix: '2001:db8:face:7::/64' });
      assert.deepEqual(again.body.ports, []);
      // A re-delegation moves everyone again.
      await api.request('PUT', path, { prefix: '2001:db8:face:9::/64' });
      assert.equal((await api.request('GET', `/v2.0/ports/${vm.id}`)).body.port.fixed_ips[0].ip_address, '2001:db8:face:9:f816:3eff:fe79:5acc');
      // A new port takes its EUI-64 address in the delegated prefix.
      const late = (await post(api, 'port', { network_id: net, mac_address: 'fa:16:3e:00:00:01' })).body.port;
      assert.equal(late.fixed_ips[0].ip_address, '2001:db8:face:9:f816:3eff:fe00:1');
      // Release: back to ::/64 (Neutron's update path: gateway ::1).
      const rel = await api.request('PUT', path, { prefix: null });
      assert.equal(rel.status, 200);
      assert.equal(rel.body.subnet.cidr, '::/64');
      assert.equal(rel.body.subnet.gateway_ip, '::1');
      assert.equal((await api.request('GET', `/v2.0/ports/${vm.id}`)).body.port.fixed_ips[0].ip_address, '::f816:3eff:fe79:5acc');
      // And it goes away like any subnet, once its router interface and ports are gone.
      assert.equal((await api.request('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id })).status, 200);
      for (const p of [vm, late]) assert.equal((await api.request('DELETE', `/v2.0/ports/${p.id}`)).status, 204);
      assert.equal((await api.request('DELETE', `/v2.0/subnets/${subnet.id}`)).status, 204);
    });

    it('refuses bad reports', async () => {
      const net = await network(api);
      const plainSubnet = (await post(api, 'subnet', { network_id: net, ip_version: 6, cidr: '2001:db8:2::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' })).body.subnet;
      const net2 = await network(api);
      const pd = (await post(api, 'subnet', pdBody(net2, { subnetpool_id: 'prefix_delegation' }))).body.subnet;
      const put = (id: string, body: unknown) => api.request('PUT', `/v6stack/v1/prefix-delegation/subnets/${id}`, body);
      assert.equal((await put(plainSubnet.id, { prefix: '2001:db8:face::/64' })).status, 409);
      assert.equal((await put('00000000-0000-4000-8000-000000000000', { prefix: '2001:db8:face::/64' })).status, 404);
      for (const prefix of ['2001:db8:face::/56', '10.0.0.0/24', 'fe80::/64', '2001:db8:face::1/64', 42]) {
        const r = await put(pd.id, { prefix });
        assert.equal(r.status, 400, `${prefix}: ${JSON.stringify(r.body)}`);
      }
      assert.equal((await put(pd.id, {})).status, 400);
      assert.equal((await put(pd.id, { prefix: '2001:db8:face::/64', router_id: '00000000-0000-4000-8000-000000000001' })).status, 409);
    });
  });
}
