// The store carries out domain/ipv6's address plans as Neutron does: every fixed_ips entry is checked before any
// address is taken, named addresses are taken before pool ones, and a PUT is checked against every subnet of the
// network (the plan's rules themselves are tables in test/unit/domain/ipv6-rules.test.ts).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`port addresses against the store (${backend})`, () => {
    let api: Api;
    let net: { id: string };
    let slaac: { id: string };
    let stateful: { id: string };
    before(async () => {
      api = await startApi(backend);
      net = (await api.request('POST', '/v2.0/networks', { network: { name: 'pa' } })).body.network;
      slaac = (
        await api.request('POST', '/v2.0/subnets', {
          subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:a1::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
        })
      ).body.subnet;
      stateful = (
        await api.request('POST', '/v2.0/subnets', {
          subnet: {
            network_id: net.id,
            ip_version: 6,
            cidr: '2001:db8:a2::/64',
            ipv6_ra_mode: 'dhcpv6-stateful',
            ipv6_address_mode: 'dhcpv6-stateful',
            allocation_pools: [{ start: '2001:db8:a2::10', end: '2001:db8:a2::1f' }],
          },
        })
      ).body.subnet;
    });
    after(async () => api.close());

    it('a named address is taken before a pool address, so the pool walk cannot take it first', async () => {
      const r = await api.request('POST', '/v2.0/ports', {
        port: { network_id: net.id, mac_address: 'fa:16:3e:00:a1:01', fixed_ips: [{ subnet_id: stateful.id }, { subnet_id: stateful.id, ip_address: '2001:db8:a2::10' }] },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body.port.fixed_ips, [
        { subnet_id: stateful.id, ip_address: '2001:db8:a2::11' },
        { subnet_id: stateful.id, ip_address: '2001:db8:a2::10' },
        { subnet_id: slaac.id, ip_address: '2001:db8:a1:0:f816:3eff:fe00:a101' },
      ]);
    });

    it('a bad entry after a good one takes nothing (the good address stays free)', async () => {
      const r = await api.request('POST', '/v2.0/ports', {
        port: { network_id: net.id, fixed_ips: [{ subnet_id: stateful.id, ip_address: '2001:db8:a2::15' }, { subnet_id: slaac.id, ip_address: '2001:db8:a1::15' }] },
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.NeutronError.type, 'AllocationOnAutoAddressSubnet');
      const again = await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, fixed_ips: [{ subnet_id: stateful.id, ip_address: '2001:db8:a2::15' }] } });
      assert.equal(again.status, 201, JSON.stringify(again.body));
    });

    it('a PUT naming a foreign address on a SLAAC subnet the port is on: AllocationOnAutoAddressSubnet', async () => {
      const p = (await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, mac_address: 'fa:16:3e:00:a1:03' } })).body.port;
      const r = await api.request('PUT', `/v2.0/ports/${p.id}`, { port: { fixed_ips: [{ subnet_id: slaac.id, ip_address: '2001:db8:a1::99' }] } });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.deepEqual(r.body.NeutronError, {
        type: 'AllocationOnAutoAddressSubnet',
        message: `IPv6 address 2001:db8:a1::99 cannot be directly assigned to a port on subnet ${slaac.id} as the subnet is configured for automatic addresses`,
        detail: '',
      });
      // Naming only its EUI-64 address keeps it and frees the stateful one.
      const keep = await api.request('PUT', `/v2.0/ports/${p.id}`, { port: { fixed_ips: [{ subnet_id: slaac.id, ip_address: '2001:db8:a1:0:f816:3eff:fe00:a103' }] } });
      assert.equal(keep.status, 200, JSON.stringify(keep.body));
      assert.deepEqual(keep.body.port.fixed_ips, [{ subnet_id: slaac.id, ip_address: '2001:db8:a1:0:f816:3eff:fe00:a103' }]);
    });

    it('a router gateway port may hold the subnet-router anycast address; a compute port may not', async () => {
      const gw = await api.request('POST', '/v2.0/ports', {
        port: { network_id: net.id, device_owner: 'network:router_gateway', fixed_ips: [{ subnet_id: stateful.id, ip_address: '2001:db8:a2::' }] },
      });
      assert.equal(gw.status, 201, JSON.stringify(gw.body));
      const vm = await api.request('POST', '/v2.0/ports', {
        port: { network_id: net.id, device_owner: 'compute:nova', fixed_ips: [{ ip_address: '2001:db8:a2::' }] },
      });
      assert.equal(vm.status, 400);
      assert.deepEqual(vm.body.NeutronError, {
        type: 'InvalidIpForNetwork',
        message: 'IP address 2001:db8:a2:: is not a valid IP for any of the subnets on the specified network.',
        detail: '',
      });
    });

    it('fixed_ips on a network without subnets: Neutron\'s InvalidInput', async () => {
      const empty = (await api.request('POST', '/v2.0/networks', { network: { name: 'empty' } })).body.network;
      const r = await api.request('POST', '/v2.0/ports', { port: { network_id: empty.id, fixed_ips: [{ subnet_id: stateful.id }] } });
      assert.equal(r.status, 400);
      assert.equal(r.body.NeutronError.message, 'Invalid input for operation: IP allocation requires subnets for network.');
    });
  });
}
