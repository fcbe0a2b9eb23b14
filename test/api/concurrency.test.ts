// Many clients creating ports at once on one small stateful pool: every address is handed out once, the overflow
// gets Neutron's 409 IpAddressGenerationFailure, and nothing is half-created (ports = allocations = pool size).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`concurrent port creates on one small pool (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    it('never hands out one address twice and refuses the overflow cleanly', async () => {
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'tiny' } })).body.network;
      const subnet = (
        await api.request('POST', '/v2.0/subnets', {
          subnet: {
            network_id: net.id,
            ip_version: 6,
            cidr: '2001:db8:c0::/64',
            ipv6_ra_mode: 'dhcpv6-stateful',
            ipv6_address_mode: 'dhcpv6-stateful',
            allocation_pools: [{ start: '2001:db8:c0::10', end: '2001:db8:c0::4f' }],
          },
        })
      ).body.subnet;
      assert.ok(subnet?.id);
      const poolSize = 0x40;
      const attempts = 100;
      const results = await Promise.all(
        Array.from({ length: attempts }, (_, i) => api.request('POST', '/v2.0/ports', { port: { network_id: net.id, name: `p${i}` } })),
      );
      const created = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status !== 201);
      assert.equal(created.length, poolSize);
      for (const r of refused) {
        assert.equal(r.status, 409);
        assert.equal(r.body.NeutronError.type, 'IpAddressGenerationFailure');
        assert.equal(r.body.NeutronError.message, `No more IP addresses available on network ${net.id}.`);
      }
      const addresses = created.map((r) => r.body.port.fixed_ips[0].ip_address);
      assert.equal(new Set(addresses).size, poolSize, 'no address handed out twice');
      const listed = (await api.request('GET', `/v2.0/ports?network_id=${net.id}`)).body.ports;
      assert.equal(listed.length, poolSize, 'no half-created ports');
      assert.equal(await api.store.read((tx) => tx.countAllocations(subnet.id)), poolSize, 'no orphan allocations');

      // A freed address is handed out again once the walk has reached the end of the pool.
      const victim = created[7]!.body.port;
      assert.equal((await api.request('DELETE', `/v2.0/ports/${victim.id}`)).status, 204);
      const again = await api.request('POST', '/v2.0/ports', { port: { network_id: net.id } });
      assert.equal(again.status, 201);
      assert.equal(again.body.port.fixed_ips[0].ip_address, victim.fixed_ips[0].ip_address);
    });
  });
}
