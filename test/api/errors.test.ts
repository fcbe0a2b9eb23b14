// Bad input gets Neutron's status, type and text, and changes nothing.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`errors (${backend})`, () => {
    let api: Api;
    let net: { id: string };
    let slaac: { id: string };
    let stateful: { id: string };
    before(async () => {
      api = await startApi(backend);
      net = (await api.request('POST', '/v2.0/networks', { network: { name: 'n' } })).body.network;
      slaac = (
        await api.request('POST', '/v2.0/subnets', {
          subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:e::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
        })
      ).body.subnet;
      stateful = (
        await api.request('POST', '/v2.0/subnets', {
          subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:f::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' },
        })
      ).body.subnet;
    });
    after(async () => api.close());

    const expectError = async (method: string, path: string, body: unknown, status: number, type: string, message?: string) => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body.NeutronError).sort(), ['detail', 'message', 'type']);
      assert.equal(r.body.NeutronError.type, type);
      if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
      return r.body.NeutronError;
    };

    it('uses Neutron\'s texts for malformed requests', async () => {
      await expectError('POST', '/v2.0/networks', 'nojson', 400, 'HTTPBadRequest', 'Body contains invalid data');
      await expectError('POST', '/v2.0/networks', { net: {} }, 400, 'HTTPBadRequest', "Unable to find 'network' in request body");
      await expectError('POST', '/v2.0/networks', { network: { foo: 1 } }, 400, 'HTTPBadRequest', "Unrecognized attribute(s) 'foo'");
      await expectError('POST', '/v2.0/networks', { network: { status: 'x' } }, 400, 'HTTPBadRequest', "Attribute 'status' not allowed in POST");
      await expectError('PUT', `/v2.0/networks/${net.id}`, { network: { id: 'x' } }, 400, 'HTTPBadRequest', 'Cannot update read-only attribute id');
      await expectError('POST', '/v2.0/networks', { network: { name: 5 } }, 400, 'HTTPBadRequest', "Invalid input for name. Reason: '5' is not a valid string.");
      await expectError('POST', '/v2.0/networks', { network: { admin_state_up: 'maybe' } }, 400, 'InvalidInput', "Invalid input for operation: 'maybe' cannot be converted to boolean.");
      await expectError('POST', '/v2.0/ports', { port: {} }, 400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'network_id' not specified");
      await expectError('POST', '/v2.0/networks', { network: { project_id: 'a', tenant_id: 'b' } }, 400, 'HTTPBadRequest', "'project_id' and 'tenant_id' do not match");
      await expectError('GET', '/v2.0/networks?limit=abc', undefined, 400, 'BadRequest', "Bad limit request: Limit must be an integer 0 or greater and not 'abc'.");
      await expectError('GET', '/v2.0/networks?sort_key=name', undefined, 400, 'HTTPBadRequest', 'The number of sort_keys and sort_dirs must be same');
      await expectError('GET', '/v2.0/networks?sort_key=foo&sort_dir=asc', undefined, 400, 'HTTPBadRequest', "['foo'] is invalid attribute for sort_keys");
    });

    it('answers 404 in Neutron\'s shape, for unknown ids and non-UUIDs alike', async () => {
      await expectError('GET', '/v2.0/networks/nonexist', undefined, 404, 'NetworkNotFound', 'Network nonexist could not be found.');
      await expectError('DELETE', '/v2.0/ports/00000000-0000-0000-0000-000000000000', undefined, 404, 'PortNotFound');
      await expectError('GET', '/v2.0/nothing', undefined, 404, 'HTTPNotFound');
    });

    it('refuses a fixed IP on a SLAAC subnet that is not the port\'s EUI-64 address', async () => {
      await expectError(
        'POST',
        '/v2.0/ports',
        { port: { network_id: net.id, fixed_ips: [{ subnet_id: slaac.id, ip_address: '2001:db8:e::1234' }] } },
        400,
        'AllocationOnAutoAddressSubnet',
        `IPv6 address 2001:db8:e::1234 cannot be directly assigned to a port on subnet ${slaac.id} as the subnet is configured for automatic addresses`,
      );
      // The EUI-64 address itself is accepted (Neutron LP#1991398).
      const ok = await api.request('POST', '/v2.0/ports', {
        port: { network_id: net.id, mac_address: 'fa:16:3e:00:00:01', fixed_ips: [{ ip_address: '2001:db8:e:0:f816:3eff:fe00:1' }] },
      });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    });

    it('rolls back everything a failed request allocated', async () => {
      const before = await api.store.read((tx) => tx.countAllocations(stateful.id));
      await expectError(
        'POST',
        '/v2.0/ports',
        {
          port: {
            network_id: net.id,
            fixed_ips: [{ subnet_id: stateful.id, ip_address: '2001:db8:f::77' }, { ip_address: '2001:db8:bbbb::1' }],
          },
        },
        400,
        'InvalidIpForNetwork',
      );
      assert.equal(await api.store.read((tx) => tx.countAllocations(stateful.id)), before);
      const ok = await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, fixed_ips: [{ subnet_id: stateful.id, ip_address: '2001:db8:f::77' }] } });
      assert.equal(ok.status, 201, 'the rolled-back address is free');
      await expectError(
        'POST',
        '/v2.0/ports',
        { port: { network_id: net.id, fixed_ips: [{ subnet_id: stateful.id, ip_address: '2001:db8:f::77' }] } },
        409,
        'IpAddressAlreadyAllocated',
        `IP address 2001:db8:f::77 already allocated in subnet ${stateful.id}`,
      );
    });

    it('refuses a duplicate MAC on one network with 409 MacAddressInUse', async () => {
      const mac = 'fa:16:3e:aa:bb:cc';
      assert.equal((await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, mac_address: mac } })).status, 201);
      await expectError(
        'POST',
        '/v2.0/ports',
        { port: { network_id: net.id, mac_address: mac } },
        409,
        'MacAddressInUse',
        `Unable to complete operation for network ${net.id}. The mac address ${mac} is in use.`,
      );
    });

    it('keeps a network in use while it has ports, and a subnet while it has allocations', async () => {
      const e = await expectError('DELETE', `/v2.0/networks/${net.id}`, undefined, 409, 'NetworkInUse');
      assert.match(e.message, new RegExp(`^Unable to complete operation on network ${net.id}\\. There are one or more ports still in use on the network, id for these ports is: `));
      await expectError(
        'DELETE',
        `/v2.0/subnets/${stateful.id}`,
        undefined,
        409,
        'SubnetInUse',
        `Unable to complete operation on subnet ${stateful.id}: One or more ports have an IP allocation from this subnet.`,
      );
    });

    it('refuses to delete a router interface port through the port API', async () => {
      const router = (await api.request('POST', '/v2.0/routers', { router: { name: 'r' } })).body.router;
      const itf = await api.request('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: stateful.id });
      assert.equal(itf.status, 200);
      await expectError('DELETE', `/v2.0/ports/${itf.body.port_id}`, undefined, 409, 'L3PortInUse');
      await expectError('DELETE', `/v2.0/routers/${router.id}`, undefined, 409, 'RouterInUse');
    });
  });
}
