// NDP proxies and the router's enable_ndp_proxy answer as Neutron's NDPProxyPlugin does
// (neutron/services/ndp_proxy/plugin.py and exceptions.py; neutron-tempest-plugin's test_ndp_proxy.py and
// test_ndp_proxy_negative.py states): the router needs a gateway on a network with an IPv6 subnet and address scope,
// the port an IPv6 address on a subnet attached to the router in the same scope; one proxy per router and address;
// a proxy holds its interface and its gateway; a deleted port takes its proxies.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`ndp proxies (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    const ok = async (method: string, path: string, body: unknown, status = 200) => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const expectError = async (method: string, path: string, body: unknown, status: number, type: string, message?: string) => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.NeutronError.type, type, JSON.stringify(r.body));
      if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
    };
    let n = 0;
    /** An IPv6 address scope with a pool, and a network with a subnet of it (external or not). */
    const scope = async () => {
      n += 1;
      const as = (await ok('POST', '/v2.0/address-scopes', { address_scope: { name: `as${n}`, ip_version: 6 } }, 201)).address_scope;
      const pool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: `sp${n}`, prefixes: [`2001:db8:${n}::/48`], default_prefixlen: 64, address_scope_id: as.id } }, 201)).subnetpool;
      return { as, pool };
    };
    const network = async (opts: { external?: boolean; poolId?: string; cidr?: string; ipVersion?: number }) => {
      const net = (await ok('POST', '/v2.0/networks', { network: { name: 'n', ...(opts.external ? { 'router:external': true } : {}) } }, 201)).network;
      const subnet = (
        await ok('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: opts.ipVersion ?? 6, ...(opts.poolId ? { subnetpool_id: opts.poolId } : {}), ...(opts.cidr ? { cidr: opts.cidr } : {}) } }, 201)
      ).subnet;
      return { net, subnet };
    };
    /** A router with NDP proxy on a scoped external network, an internal subnet of the same scope attached, a port. */
    const topology = async () => {
      const { pool } = await scope();
      const ext = await network({ external: true, poolId: pool.id });
      const int = await network({ poolId: pool.id });
      const router = (await ok('POST', '/v2.0/routers', { router: { name: 'r', external_gateway_info: { network_id: ext.net.id }, enable_ndp_proxy: true } }, 201)).router;
      await ok('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: int.subnet.id });
      const port = (await ok('POST', '/v2.0/ports', { port: { network_id: int.net.id } }, 201)).port;
      return { pool, ext, int, router, port };
    };

    it('advertises l3-ndp-proxy and l3-ext-ndp-proxy', async () => {
      const aliases = (await ok('GET', '/v2.0/extensions', undefined)).extensions.map((e: { alias: string }) => e.alias);
      assert.ok(aliases.includes('l3-ndp-proxy'));
      assert.ok(aliases.includes('l3-ext-ndp-proxy'));
    });

    it('lives a lifecycle: the port address chosen, name and description updated, deleted, then 404', async () => {
      const { router, port } = await topology();
      assert.equal(router.enable_ndp_proxy, true);
      const np = (await ok('POST', '/v2.0/ndp_proxies', { ndp_proxy: { name: 'np', description: 'd', router_id: router.id, port_id: port.id } }, 201)).ndp_proxy;
      assert.equal(np.ip_address, port.fixed_ips[0].ip_address);
      assert.equal(np.router_id, router.id);
      assert.equal(np.port_id, port.id);
      assert.equal(np.project_id, router.project_id);
      assert.equal(typeof np.revision_number, 'number');
      assert.deepEqual((await ok('GET', `/v2.0/ndp_proxies/${np.id}`, undefined)).ndp_proxy.ip_address, np.ip_address);
      assert.ok((await ok('GET', '/v2.0/ndp_proxies', undefined)).ndp_proxies.some((x: { id: string }) => x.id === np.id));
      assert.equal((await ok('GET', `/v2.0/ndp_proxies?router_id=${router.id}`, undefined)).ndp_proxies.length, 1);
      const updated = (await ok('PUT', `/v2.0/ndp_proxies/${np.id}`, { ndp_proxy: { name: 'renamed' } })).ndp_proxy;
      assert.equal(updated.name, 'renamed');
      assert.equal(updated.description, 'd');
      await expectError('PUT', `/v2.0/ndp_proxies/${np.id}`, { ndp_proxy: { ip_address: '2001:db8::1' } }, 400, 'HTTPBadRequest');
      await ok('DELETE', `/v2.0/ndp_proxies/${np.id}`, undefined, 204);
      await expectError('GET', `/v2.0/ndp_proxies/${np.id}`, undefined, 404, 'NDPProxyNotFound', `NDP proxy ${np.id} could not be found.`);
    });

    it('refuses a second proxy of one address, a foreign address, and an address the router cannot reach', async () => {
      const { router, port, int } = await topology();
      await ok('POST', '/v2.0/ndp_proxies', { ndp_proxy: { router_id: router.id, port_id: port.id } }, 201);
      await expectError('POST', '/v2.0/ndp_proxies', { ndp_proxy: { router_id: router.id, port_id: port.id } }, 409, 'NeutronDbObjectDuplicateEntry');
      const other = (await ok('POST', '/v2.0/ports', { port: { network_id: int.net.id } }, 201)).port;
      const mine = other.fixed_ips[0].ip_address;
      await expectError(
        'POST',
        '/v2.0/ndp_proxies',
        { ndp_proxy: { router_id: router.id, port_id: other.id, ip_address: port.fixed_ips[0].ip_address } },
        400,
        'InvalidAddress',
        `The address ${port.fixed_ips[0].ip_address} is invalid, reason: This address not belong to the port ${other.id}.`,
      );
      const np = (await ok('POST', '/v2.0/ndp_proxies', { ndp_proxy: { router_id: router.id, port_id: other.id, ip_address: mine } }, 201)).ndp_proxy;
      assert.equal(np.ip_address, mine);
      // A network the router is not on.
      const lone = await network({ cidr: '2001:db8:ffff::/64' });
      const far = (await ok('POST', '/v2.0/ports', { port: { network_id: lone.net.id } }, 201)).port;
      await expectError('POST', '/v2.0/ndp_proxies', { ndp_proxy: { router_id: router.id, port_id: far.id } }, 409, 'PortUnreachableRouter', `The port ${far.id} cannot reach the router ${router.id} by IPv6 subnet.`);
    });

    it('needs enable_ndp_proxy, an IPv6 address on the port, and one address scope', async () => {
      const { pool } = await scope();
      const ext = await network({ external: true, poolId: pool.id });
      // Neutron's default enable_ndp_proxy_by_default is False: a router gets it only when asked.
      const router = (await ok('POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: ext.net.id } } }, 201)).router;
      assert.equal(router.enable_ndp_proxy, false);
      const int = await network({ poolId: pool.id });
      await ok('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: int.subnet.id });
      const port = (await ok('POST', '/v2.0/ports', { port: { network_id: int.net.id } }, 201)).port;
      await expectError(
        'POST',
        '/v2.0/ndp_proxies',
        { ndp_proxy: { router_id: router.id, port_id: port.id } },
        409,
        'RouterNDPProxyNotEnable',
        `The enable_ndp_proxy parameter of router ${router.id} must be set as True while create ndp proxy entry on it.`,
      );
      assert.equal((await ok('PUT', `/v2.0/routers/${router.id}`, { router: { enable_ndp_proxy: true } })).router.enable_ndp_proxy, true);
      // A rename keeps it (see domain/ndp-proxy.ts ndpStateOnUpdate).
      assert.equal((await ok('PUT', `/v2.0/routers/${router.id}`, { router: { name: 'x' } })).router.enable_ndp_proxy, true);
      // Another scope inside.
      const other = await scope();
      const foreign = await network({ poolId: other.pool.id });
      await ok('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: foreign.subnet.id });
      const fport = (await ok('POST', '/v2.0/ports', { port: { network_id: foreign.net.id } }, 201)).port;
      await expectError(
        'POST',
        '/v2.0/ndp_proxies',
        { ndp_proxy: { router_id: router.id, port_id: fport.id } },
        409,
        'AddressScopeConflict',
        `The IPv6 address scope ${pool.address_scope_id} of external network conflict with internal network's IPv6 address scope ${other.as.id}.`,
      );
      // IPv4 only on the port's network.
      const v4 = await network({ ipVersion: 4, cidr: '192.0.2.0/24' });
      await ok('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: v4.subnet.id });
      const v4port = (await ok('POST', '/v2.0/ports', { port: { network_id: v4.net.id } }, 201)).port;
      await expectError('POST', '/v2.0/ndp_proxies', { ndp_proxy: { router_id: router.id, port_id: v4port.id } }, 400, 'BadRequest', `Bad ndp_proxy request: Requested port ${v4port.id} must allocate one IPv6 address at least.`);
    });

    it('refuses enable_ndp_proxy without a gateway that supports it (the plugin texts)', async () => {
      const bare = await network({ external: true, cidr: '2001:db8:abc1::/64' });
      const reason = `The external network ${bare.net.id} don't support IPv6 ndp proxy, the network has no IPv6 subnets or has no IPv6 address scope`;
      const r = await api.request('POST', '/v2.0/routers', { router: { enable_ndp_proxy: true, external_gateway_info: { network_id: bare.net.id } } });
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.NeutronError.type, 'RouterGatewayNotValid');
      assert.match(r.body.NeutronError.message, /^Can not enable ndp proxy no router [0-9a-f-]{36}, /);
      assert.ok(r.body.NeutronError.message.endsWith(`${reason}.`), r.body.NeutronError.message);
      const nogw = await api.request('POST', '/v2.0/routers', { router: { enable_ndp_proxy: true } });
      assert.equal(nogw.status, 409);
      assert.ok(nogw.body.NeutronError.message.endsWith('The request body not contain external gateway information.'));
      const router = (await ok('POST', '/v2.0/routers', { router: {} }, 201)).router;
      assert.equal(router.enable_ndp_proxy, false);
      await expectError(
        'PUT',
        `/v2.0/routers/${router.id}`,
        { router: { enable_ndp_proxy: true, external_gateway_info: { network_id: bare.net.id } } },
        409,
        'RouterGatewayNotValid',
        `Can not enable ndp proxy no router ${router.id}, The router has no external gateway or the external gateway port has no IPv6 address or IPv6 address scope.`,
      );
      // Rolled back: the router has no gateway.
      assert.equal((await ok('GET', `/v2.0/routers/${router.id}`, undefined)).router.external_gateway_info, null);
      await expectError('PUT', `/v2.0/routers/${router.id}`, { router: { enable_ndp_proxy: 'maybe' } }, 400, 'InvalidInput', "Invalid input for operation: 'maybe' cannot be converted to boolean.");
    });

    it('keeps the interface and the gateway a proxy needs; unsetting the gateway turns NDP proxy off', async () => {
      const { router, port, int } = await topology();
      const np = (await ok('POST', '/v2.0/ndp_proxies', { ndp_proxy: { router_id: router.id, port_id: port.id } }, 201)).ndp_proxy;
      await expectError(
        'PUT',
        `/v2.0/routers/${router.id}/remove_router_interface`,
        { subnet_id: int.subnet.id },
        409,
        'RouterInterfaceInUseByNDPProxy',
        `Unable to remove subnet ${int.subnet.id} from router ${router.id}, There are one or more ndp proxies still in use on the subnet.`,
      );
      await expectError(
        'PUT',
        `/v2.0/routers/${router.id}`,
        { router: { external_gateway_info: {} } },
        409,
        'RouterGatewayInUseByNDPProxy',
        `Unable to unset external gateway of router ${router.id}, There are one or more ndp proxies still in use on the router.`,
      );
      await ok('DELETE', `/v2.0/ndp_proxies/${np.id}`, undefined, 204);
      await expectError('PUT', `/v2.0/routers/${router.id}`, { router: { enable_ndp_proxy: true, external_gateway_info: {} } }, 409, 'RouterGatewayNotValid');
      const cleared = (await ok('PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: {} } })).router;
      assert.equal(cleared.enable_ndp_proxy, false);
      await expectError('PUT', `/v2.0/routers/${router.id}`, { router: { enable_ndp_proxy: true } }, 409, 'RouterGatewayNotValid');
      await ok('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: int.subnet.id });
    });

    it("goes with its port (the foreign key's ON DELETE CASCADE)", async () => {
      const { router, port } = await topology();
      const np = (await ok('POST', '/v2.0/ndp_proxies', { ndp_proxy: { router_id: router.id, port_id: port.id } }, 201)).ndp_proxy;
      await ok('DELETE', `/v2.0/ports/${port.id}`, undefined, 204);
      await expectError('GET', `/v2.0/ndp_proxies/${np.id}`, undefined, 404, 'NDPProxyNotFound');
    });

    it('validates the body as neutron-lib does', async () => {
      await expectError('POST', '/v2.0/ndp_proxies', { ndp_proxy: { port_id: 'x', router_id: 'y' } }, 400, 'HTTPBadRequest');
      await expectError('POST', '/v2.0/ndp_proxies', { ndp_proxy: { name: 'n' } }, 400, 'HTTPBadRequest');
      const { router, port } = await topology();
      await expectError('POST', '/v2.0/ndp_proxies', { ndp_proxy: { router_id: router.id, port_id: port.id, ip_address: 'not-an-ip' } }, 400, 'HTTPBadRequest');
    });
  });
}

describe('enable_ndp_proxy_by_default', () => {
  it('turns NDP proxy on for a router whose gateway supports it, and only for it', async () => {
    const api = await startApi('sqlite', { settings: { enableNdpProxyByDefault: true } });
    try {
      const ok = async (method: string, path: string, body: unknown, status = 201) => {
        const r = await api.request(method, path, body);
        assert.equal(r.status, status, JSON.stringify(r.body));
        return r.body;
      };
      const as = (await ok('POST', '/v2.0/address-scopes', { address_scope: { name: 'a', ip_version: 6 } })).address_scope;
      const pool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes: ['2001:db8:7::/48'], default_prefixlen: 64, address_scope_id: as.id } })).subnetpool;
      const scoped = (await ok('POST', '/v2.0/networks', { network: { 'router:external': true } })).network;
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: scoped.id, ip_version: 6, subnetpool_id: pool.id } });
      const bare = (await ok('POST', '/v2.0/networks', { network: { 'router:external': true } })).network;
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: bare.id, ip_version: 6, cidr: '2001:db8:8::/64' } });
      assert.equal((await ok('POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: scoped.id } } })).router.enable_ndp_proxy, true);
      assert.equal((await ok('POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: bare.id } } })).router.enable_ndp_proxy, false);
      assert.equal((await ok('POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: scoped.id }, enable_ndp_proxy: false } })).router.enable_ndp_proxy, false);
    } finally {
      await api.close();
    }
  });
});
