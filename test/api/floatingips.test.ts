// Floating IPs with Neutron's rules and texts (neutron/db/l3_db.py, neutron-lib l3 exceptions): made from an
// external network with their own network:floatingip port, associated through the router joining the port's subnet
// to that network, moved, disassociated, deleted; the checks ports, routers and networks make for them; the
// fip-port-details and floatingip-pools extensions. On both stores.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

async function ok(api: Api, method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200): Promise<any> {
  const r = await api.request(method, path, body);
  assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function fault(api: Api, method: string, path: string, body: unknown, status: number, type: string, message?: string): Promise<void> {
  const r = await api.request(method, path, body);
  assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.NeutronError.type, type, JSON.stringify(r.body));
  if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
}

interface World {
  ext: any;
  extV4: any;
  priv: any;
  privV4: any;
  privV6: any;
  router: any;
  vm1: any;
  vm2: any;
}

async function world(api: Api, third: number): Promise<World> {
  const ext = (await ok(api, 'POST', '/v2.0/networks', { network: { name: `public${third}`, 'router:external': true } })).network;
  const extV4 = (await ok(api, 'POST', '/v2.0/subnets', {
    subnet: { network_id: ext.id, ip_version: 4, cidr: `192.0.2.${third * 32}/27`, name: `public-v4-${third}` },
  })).subnet;
  await ok(api, 'POST', '/v2.0/subnets', { subnet: { network_id: ext.id, ip_version: 6, cidr: `2001:db8:${third}:d::/64`, enable_dhcp: false } });
  const priv = (await ok(api, 'POST', '/v2.0/networks', { network: { name: `private${third}` } })).network;
  const privV4 = (await ok(api, 'POST', '/v2.0/subnets', { subnet: { network_id: priv.id, ip_version: 4, cidr: `10.${third}.0.0/24` } })).subnet;
  const privV6 = (await ok(api, 'POST', '/v2.0/subnets', {
    subnet: { network_id: priv.id, ip_version: 6, cidr: `2001:db8:${third}:1::/64`, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
  })).subnet;
  const router = (await ok(api, 'POST', '/v2.0/routers', { router: { name: `r${third}`, external_gateway_info: { network_id: ext.id } } })).router;
  await ok(api, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: privV4.id });
  await ok(api, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: privV6.id });
  const vm1 = (await ok(api, 'POST', '/v2.0/ports', { port: { network_id: priv.id, name: 'vm1', device_owner: 'compute:nova', device_id: 'd1' } })).port;
  const vm2 = (await ok(api, 'POST', '/v2.0/ports', { port: { network_id: priv.id, name: 'vm2' } })).port;
  return { ext, extV4, priv, privV4, privV6, router, vm1, vm2 };
}

const v4Of = (port: any): string => port.fixed_ips.find((f: any) => !f.ip_address.includes(':')).ip_address;

for (const backend of backends()) {
  describe(`floating IPs (${backend})`, () => {
    let api: Api;
    let w: World;
    before(async () => {
      api = await startApi(backend);
      w = await world(api, 1);
    });
    after(async () => api.close());

    it('create without a port: an address of the external IPv4 subnet on its own network:floatingip port, DOWN, no router', async () => {
      const fip = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, description: 'spare' } })).floatingip;
      assert.match(fip.floating_ip_address, /^192\.0\.2\.\d+$/);
      assert.equal(fip.status, 'DOWN');
      assert.equal(fip.router_id, null);
      assert.equal(fip.port_id, null);
      assert.equal(fip.fixed_ip_address, null);
      assert.equal(fip.port_details, null);
      assert.equal(fip.description, 'spare');
      assert.equal(fip.project_id, 'test-project');
      assert.equal(fip.tenant_id, 'test-project');
      assert.ok(!('name' in fip) && !('subnet_id' in fip), JSON.stringify(fip));
      const ports = (await ok(api, 'GET', `/v2.0/ports?device_id=${fip.id}`)).ports;
      assert.equal(ports.length, 1);
      assert.equal(ports[0].device_owner, 'network:floatingip');
      assert.equal(ports[0].network_id, w.ext.id);
      assert.equal(ports[0].project_id, '');
      assert.equal(ports[0].status, 'N/A');
      assert.ok(ports[0].fixed_ips.some((f: any) => f.ip_address === fip.floating_ip_address && f.subnet_id === w.extV4.id));
      // Its port cannot be deleted through the port API while the floating IP exists.
      await fault(api, 'DELETE', `/v2.0/ports/${ports[0].id}`, undefined, 409, 'L3PortInUse');
      await ok(api, 'DELETE', `/v2.0/floatingips/${fip.id}`, undefined, 204);
      assert.deepEqual((await ok(api, 'GET', `/v2.0/ports?device_id=${fip.id}`)).ports, []);
      await fault(api, 'GET', `/v2.0/floatingips/${fip.id}`, undefined, 404, 'FloatingIPNotFound', `Floating IP ${fip.id} could not be found`);
    });

    it('create with a port: the router is derived, fixed_ip_address is the port\'s IPv4 address, port_details shows the port', async () => {
      const fip = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, port_id: w.vm1.id } })).floatingip;
      assert.equal(fip.router_id, w.router.id);
      assert.equal(fip.port_id, w.vm1.id);
      assert.equal(fip.fixed_ip_address, v4Of(w.vm1));
      assert.deepEqual(fip.port_details, {
        name: 'vm1', network_id: w.priv.id, mac_address: w.vm1.mac_address, admin_state_up: true, status: 'DOWN', device_id: 'd1', device_owner: 'compute:nova',
      });
      // Not plugged by any agent yet: DOWN.
      assert.equal(fip.status, 'DOWN');

      // The same fixed IP cannot take a second floating IP of the same network.
      const other = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id } })).floatingip;
      await fault(api, 'PUT', `/v2.0/floatingips/${other.id}`, { floatingip: { port_id: w.vm1.id } }, 409, 'FloatingIPPortAlreadyAssociated',
        `Cannot associate floating IP ${other.floating_ip_address} (${other.id}) with port ${w.vm1.id} using fixed IP ${v4Of(w.vm1)}, as that fixed IP already has a floating IP on external network ${w.ext.id}.`);

      // Re-associate to vm2, then disassociate, then delete.
      const moved = (await ok(api, 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: w.vm2.id } })).floatingip;
      assert.equal(moved.port_id, w.vm2.id);
      assert.equal(moved.fixed_ip_address, v4Of(w.vm2));
      assert.equal(moved.router_id, w.router.id);
      assert.equal(moved.floating_ip_address, fip.floating_ip_address);
      assert.equal(moved.revision_number, fip.revision_number + 1);
      // A body without port_id keeps the association.
      const described = (await ok(api, 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { description: 'web' } })).floatingip;
      assert.equal(described.port_id, w.vm2.id);
      assert.equal(described.description, 'web');
      const off = (await ok(api, 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } })).floatingip;
      assert.deepEqual([off.port_id, off.fixed_ip_address, off.router_id, off.port_details, off.status], [null, null, null, null, 'DOWN']);
      await ok(api, 'DELETE', `/v2.0/floatingips/${fip.id}`, undefined, 204);
      await ok(api, 'DELETE', `/v2.0/floatingips/${other.id}`, undefined, 204);
    });

    it('a chosen floating_ip_address (and subnet_id); an address taken, or outside the subnet, is refused', async () => {
      const fip = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, floating_ip_address: '192.0.2.50', subnet_id: w.extV4.id } })).floatingip;
      assert.equal(fip.floating_ip_address, '192.0.2.50');
      await fault(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, floating_ip_address: '192.0.2.50' } }, 409, 'IpAddressAlreadyAllocated');
      // A floating address is no port's fixed IP.
      await fault(api, 'POST', '/v2.0/ports', { port: { network_id: w.ext.id, fixed_ips: [{ ip_address: '192.0.2.50' }] } }, 409, 'IpAddressAlreadyAllocated');
      await fault(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, floating_ip_address: '198.51.100.7' } }, 400, 'InvalidIpForNetwork');
      // The requested address leaves the IPv6 subnet only: no IPv4 address (ExternalIpAddressExhausted), nothing kept.
      const before = (await ok(api, 'GET', `/v2.0/ports?network_id=${w.ext.id}`)).ports.length;
      await fault(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, floating_ip_address: '2001:db8:1:d::99' } }, 400, 'ExternalIpAddressExhausted',
        `Unable to find any IP address on external network ${w.ext.id}.`);
      assert.equal((await ok(api, 'GET', `/v2.0/ports?network_id=${w.ext.id}`)).ports.length, before);
      await ok(api, 'DELETE', `/v2.0/floatingips/${fip.id}`, undefined, 204);
    });

    it("Neutron's association errors, with its texts", async () => {
      const E = w.ext.id;
      const post = (body: Record<string, unknown>) => ({ floatingip: { floating_network_id: E, ...body } });
      await fault(api, 'POST', '/v2.0/floatingips', post({ fixed_ip_address: '10.1.0.9' }), 400, 'BadRequest', 'Bad floatingip request: fixed_ip_address cannot be specified without a port_id.');
      await fault(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.priv.id } }, 400, 'BadRequest', `Bad floatingip request: Network ${w.priv.id} is not a valid external network.`);
      const noV4 = (await ok(api, 'POST', '/v2.0/networks', { network: { name: 'ext6', 'router:external': true } })).network;
      await ok(api, 'POST', '/v2.0/subnets', { subnet: { network_id: noV4.id, ip_version: 6, cidr: '2001:db8:66::/64' } });
      await fault(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: noV4.id } }, 400, 'BadRequest', `Bad floatingip request: Network ${noV4.id} does not contain any IPv4 subnet.`);
      const missing = '11111111-2222-3333-4444-555555555555';
      await fault(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: missing } }, 404, 'NetworkNotFound');
      await fault(api, 'POST', '/v2.0/floatingips', post({ port_id: missing }), 404, 'PortNotFound');
      await fault(api, 'POST', '/v2.0/floatingips', post({ port_id: w.vm1.id, fixed_ip_address: '10.1.0.250' }), 400, 'BadRequest', `Bad floatingip request: Port ${w.vm1.id} does not have fixed ip 10.1.0.250.`);
      const v6 = w.vm1.fixed_ips.find((f: any) => f.ip_address.includes(':')).ip_address;
      await fault(api, 'POST', '/v2.0/floatingips', post({ port_id: w.vm1.id, fixed_ip_address: v6 }), 400, 'BadRequest', `Bad floatingip request: Cannot process floating IP association with ${v6}, since that is not an IPv4 address.`);
      // A port with no IPv4 address, and one with two.
      const only6 = (await ok(api, 'POST', '/v2.0/ports', { port: { network_id: w.priv.id, fixed_ips: [{ subnet_id: w.privV6.id }] } })).port;
      await fault(api, 'POST', '/v2.0/floatingips', post({ port_id: only6.id }), 400, 'BadRequest', `Bad floatingip request: Cannot add floating IP to port ${only6.id} that has no fixed IPv4 addresses.`);
      const two = (await ok(api, 'POST', '/v2.0/ports', { port: { network_id: w.priv.id, fixed_ips: [{ subnet_id: w.privV4.id }, { subnet_id: w.privV4.id }] } })).port;
      await fault(api, 'POST', '/v2.0/floatingips', post({ port_id: two.id }), 400, 'BadRequest',
        `Bad floatingip request: Port ${two.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP.`);
      const chosen = (await ok(api, 'POST', '/v2.0/floatingips', post({ port_id: two.id, fixed_ip_address: two.fixed_ips[1].ip_address }))).floatingip;
      assert.equal(chosen.fixed_ip_address, two.fixed_ips[1].ip_address);
      await ok(api, 'DELETE', `/v2.0/floatingips/${chosen.id}`, undefined, 204);
      // A subnet on no router with a gateway on the floating network.
      const lone = (await ok(api, 'POST', '/v2.0/networks', { network: { name: 'lone' } })).network;
      const loneV4 = (await ok(api, 'POST', '/v2.0/subnets', { subnet: { network_id: lone.id, ip_version: 4, cidr: '10.99.0.0/24' } })).subnet;
      const lonePort = (await ok(api, 'POST', '/v2.0/ports', { port: { network_id: lone.id } })).port;
      await fault(api, 'POST', '/v2.0/floatingips', post({ port_id: lonePort.id }), 404, 'ExternalGatewayForFloatingIPNotFound',
        `External network ${E} is not reachable from subnet ${loneV4.id}.  Therefore, cannot associate Port ${lonePort.id} with a Floating IP.`);
      // Nothing of the refused creates is left on the external network.
      const fipPorts = (await ok(api, 'GET', `/v2.0/ports?network_id=${E}&device_owner=network:floatingip`)).ports;
      assert.deepEqual(fipPorts, []);
      // Read-only and unknown attributes.
      await fault(api, 'POST', '/v2.0/floatingips', post({ router_id: w.router.id }), 400, 'HTTPBadRequest', "Attribute 'router_id' not allowed in POST");
      await fault(api, 'POST', '/v2.0/floatingips', { floatingip: {} }, 400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'floating_network_id' not specified");
    });

    it('a DHCP port takes no floating IP', async () => {
      const dhcp = (await ok(api, 'POST', '/v2.0/ports', { port: { network_id: w.priv.id, device_owner: 'network:dhcp' } })).port;
      await fault(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, port_id: dhcp.id } }, 400, 'BadRequest',
        'Bad floatingip request: Port %(id)s is unable to be assigned a floating IP.');
    });

    it('deleting the port disassociates its floating IP; fixed_ips must keep the mapped address', async () => {
      const port = (await ok(api, 'POST', '/v2.0/ports', { port: { network_id: w.priv.id } })).port;
      const fip = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, port_id: port.id } })).floatingip;
      await fault(api, 'PUT', `/v2.0/ports/${port.id}`, { port: { fixed_ips: [{ subnet_id: w.privV6.id }] } }, 400, 'BadRequest',
        `Bad port request: Cannot update the fixed_ips of the port ${port.id}, because its original fixed_ip has been associated to a floating ip.`);
      await ok(api, 'DELETE', `/v2.0/ports/${port.id}`, undefined, 204);
      const after = (await ok(api, 'GET', `/v2.0/floatingips/${fip.id}`)).floatingip;
      assert.deepEqual([after.port_id, after.fixed_ip_address, after.router_id, after.status], [null, null, null, 'DOWN']);
      await ok(api, 'DELETE', `/v2.0/floatingips/${fip.id}`, undefined, 204);
    });

    it('a router interface or gateway a floating IP needs cannot be removed; the external network with an associated one cannot be deleted', async () => {
      const fip = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, port_id: w.vm1.id } })).floatingip;
      const spare = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id } })).floatingip;
      await fault(api, 'PUT', `/v2.0/routers/${w.router.id}/remove_router_interface`, { subnet_id: w.privV4.id }, 409, 'RouterInterfaceInUseByFloatingIP',
        `Router interface for subnet ${w.privV4.id} on router ${w.router.id} cannot be deleted, as it is required by one or more floating IPs.`);
      const qr = (await ok(api, 'GET', `/v2.0/ports?device_id=${w.router.id}&device_owner=network:router_interface`)).ports.find((p: any) => p.fixed_ips.some((f: any) => f.subnet_id === w.privV4.id));
      await fault(api, 'PUT', `/v2.0/routers/${w.router.id}/remove_router_interface`, { port_id: qr.id }, 409, 'RouterInterfaceInUseByFloatingIP');
      // The IPv6 interface is not needed by it.
      await ok(api, 'PUT', `/v2.0/routers/${w.router.id}/remove_router_interface`, { subnet_id: w.privV6.id });
      await fault(api, 'PUT', `/v2.0/routers/${w.router.id}`, { router: { external_gateway_info: null } }, 409, 'RouterExternalGatewayInUseByFloatingIp',
        `Gateway cannot be updated for router ${w.router.id}, since a gateway to external network ${w.ext.id} is required by one or more floating IPs.`);
      // enable_snat alone may change (the gateway stays).
      const r = (await ok(api, 'PUT', `/v2.0/routers/${w.router.id}`, { router: { external_gateway_info: { network_id: w.ext.id, enable_snat: false } } })).router;
      assert.equal(r.external_gateway_info.enable_snat, false);
      await fault(api, 'DELETE', `/v2.0/networks/${w.ext.id}`, undefined, 409, 'NetworkInUse');
      // The refused delete kept the spare floating IP too (one transaction).
      await ok(api, 'GET', `/v2.0/floatingips/${spare.id}`);
      await ok(api, 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } });
      await ok(api, 'PUT', `/v2.0/routers/${w.router.id}/remove_router_interface`, { subnet_id: w.privV4.id });
      await ok(api, 'PUT', `/v2.0/routers/${w.router.id}`, { router: { external_gateway_info: null } });
      await ok(api, 'DELETE', `/v2.0/routers/${w.router.id}`, undefined, 204);
      // With only disassociated floating IPs left, the external network goes, and they with it (_process_l3_delete).
      await ok(api, 'DELETE', `/v2.0/networks/${w.ext.id}`, undefined, 204);
      assert.deepEqual((await ok(api, 'GET', `/v2.0/floatingips?floating_network_id=${w.ext.id}`)).floatingips, []);
      w = await world(api, 2);
    });

    it('lists filter, page and pick fields; the extensions and floatingip_pools', async () => {
      const a = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id, port_id: w.vm1.id } })).floatingip;
      const b = (await ok(api, 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id } })).floatingip;
      const byPort = (await ok(api, 'GET', `/v2.0/floatingips?port_id=${w.vm1.id}`)).floatingips;
      assert.deepEqual(byPort.map((f: any) => f.id), [a.id]);
      const byRouter = (await ok(api, 'GET', `/v2.0/floatingips?router_id=${w.router.id}&fields=id&fields=floating_ip_address`)).floatingips;
      assert.deepEqual(byRouter, [{ id: a.id, floating_ip_address: a.floating_ip_address }]);
      const byAddr = (await ok(api, 'GET', `/v2.0/floatingips?floating_ip_address=${b.floating_ip_address}`)).floatingips;
      assert.deepEqual(byAddr.map((f: any) => f.id), [b.id]);
      const down = (await ok(api, 'GET', `/v2.0/floatingips?status=DOWN&floating_network_id=${w.ext.id}`)).floatingips;
      assert.equal(down.length, 2);
      const page = await ok(api, 'GET', `/v2.0/floatingips?limit=1&floating_network_id=${w.ext.id}`);
      assert.equal(page.floatingips.length, 1);
      assert.equal(page.floatingips_links[0].rel, 'next');
      const sorted = (await ok(api, 'GET', `/v2.0/floatingips?floating_network_id=${w.ext.id}&sort_key=floating_ip_address&sort_dir=desc`)).floatingips;
      assert.deepEqual(sorted.map((f: any) => f.floating_ip_address), [a.floating_ip_address, b.floating_ip_address].sort().reverse());
      const tagged = await api.request('PUT', `/v2.0/floatingips/${a.id}/tags/web`);
      assert.equal(tagged.status, 201);
      assert.deepEqual((await ok(api, 'GET', '/v2.0/floatingips?tags=web')).floatingips.map((f: any) => f.id), [a.id]);

      const aliases = (await ok(api, 'GET', '/v2.0/extensions')).extensions.map((e: any) => e.alias);
      for (const alias of ['router', 'fip-port-details', 'floatingip-pools']) assert.ok(aliases.includes(alias), alias);
      const pools = (await ok(api, 'GET', '/v2.0/floatingip_pools')).floatingip_pools;
      assert.deepEqual(pools, [{ subnet_id: w.extV4.id, subnet_name: w.extV4.name, project_id: 'test-project', network_id: w.ext.id, cidr: w.extV4.cidr }]);
      assert.deepEqual((await ok(api, 'GET', '/v2.0/floatingip_pools?fields=cidr')).floatingip_pools, [{ cidr: w.extV4.cidr }]);
      const collections = (await ok(api, 'GET', '/v2.0')).resources.map((r: any) => r.collection);
      assert.ok(collections.includes('floatingips'));
    });
  });
}
