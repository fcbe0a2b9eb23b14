// Policy's answers in detail (neutron/conf/policies, neutron/policy.py, the pecan policy hook): admin-only
// attributes refused with oslo.policy's rule text, hidden from members' reads; Neutron's network-ownership 404;
// the network owner's rights over ports on its network; the per-project HA network invisible; agents and BGP
// admin-only; member actions and sub-collections; tags. Identities from test/helpers/identities.ts. On both stores.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';
import { IDENTITIES, headersFor, testAuthenticator, type IdentityName } from '../helpers/identities.js';

const A = IDENTITIES['member-A'].project;

describe('policy: attributes, ownership and admin-only resources', () => {
  for (const backend of backends()) {
    describe(backend, () => {
      let api: Api;
      const as = (who: IdentityName, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> =>
        api.request(method, path, body, headersFor(who));
      const ok = async (who: IdentityName, method: string, path: string, body?: unknown): Promise<any> => {
        const r = await as(who, method, path, body);
        assert.ok(r.status < 300, `${who} ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      };
      const fault = async (who: IdentityName, method: string, path: string, body: unknown, status: number, type: string, message?: string): Promise<void> => {
        const r = await as(who, method, path, body);
        assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.NeutronError.type, type, JSON.stringify(r.body));
        if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
      };
      let aNet: any;
      let shared: any;
      let external: any;

      before(async () => {
        api = await startApi(backend, { authenticate: testAuthenticator(), settings: { ha: { maxL3AgentsPerRouter: 2 } } });
        // Two L3 agents report (the agents' own API authenticates as every request does), so HA routers schedule.
        for (const host of ['policy-net-a', 'policy-net-b']) {
          await ok('admin', 'PUT', `/v6stack/v1/agents/${host}/v6stack-agent`, { agent: { agent_type: 'v6stack agent', configurations: { role: 'network' } } });
        }
        aNet = (await ok('member-A', 'POST', '/v2.0/networks', { network: { name: 'a' } })).network;
        await ok('member-A', 'POST', '/v2.0/subnets', { subnet: { network_id: aNet.id, ip_version: 6, cidr: '2001:db8:a::/64' } });
        shared = (await ok('admin', 'POST', '/v2.0/networks', { network: { name: 'shared', shared: true } })).network;
        await ok('admin', 'POST', '/v2.0/subnets', { subnet: { network_id: shared.id, ip_version: 6, cidr: '2001:db8:5::/64' } });
        external = (await ok('admin', 'POST', '/v2.0/networks', { network: { name: 'public', 'router:external': true } })).network;
        await ok('admin', 'POST', '/v2.0/subnets', { subnet: { network_id: external.id, ip_version: 4, cidr: '192.0.2.0/24' } });
      });
      after(() => api.close());

      it("lets only an admin remove a project's default security group (Neutron's delete_security_group)", async () => {
        // member-B's first port makes its project's default group.
        const net = (await as('member-B', 'POST', '/v2.0/networks', { network: { name: 'b-for-default' } })).body.network;
        assert.equal((await as('member-B', 'POST', '/v2.0/ports', { port: { network_id: net.id } })).status, 201);
        const dflt = (await as('member-B', 'GET', '/v2.0/security-groups?name=default')).body.security_groups[0];
        const refused = await as('member-B', 'DELETE', `/v2.0/security-groups/${dflt.id}`);
        assert.equal(refused.status, 409);
        assert.equal(refused.body.NeutronError.type, 'SecurityGroupCannotRemoveDefault');
        for (const p of (await as('member-B', 'GET', `/v2.0/ports?network_id=${net.id}`)).body.ports) await as('member-B', 'DELETE', `/v2.0/ports/${p.id}`);
        assert.equal((await as('admin', 'DELETE', `/v2.0/security-groups/${dflt.id}`)).status, 204, 'the admin may (Tempest cleans its projects up so)');
      });

      it('refuses an unauthenticated request 401', async () => {
        const r = await api.request('GET', '/v2.0/networks');
        assert.equal(r.status, 401);
        assert.equal(r.body.NeutronError.type, 'HTTPUnauthorized');
      });

      it("refuses members the admin-only attributes on create and update, with Neutron's rule text", async () => {
        await fault('member-A', 'POST', '/v2.0/networks', { network: { shared: true } }, 403, 'PolicyNotAuthorized', '(rule:create_network and rule:create_network:shared) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/networks', { network: { 'router:external': true, shared: true } }, 403, 'PolicyNotAuthorized',
          '((rule:create_network and rule:create_network:shared) and rule:create_network:router:external) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/networks', { network: { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 4242 } }, 403, 'PolicyNotAuthorized',
          '((rule:create_network and rule:create_network:provider:network_type) and rule:create_network:provider:segmentation_id) is disallowed by policy');
        // Defaults are not "set": a member may say shared=false.
        await ok('member-A', 'POST', '/v2.0/networks', { network: { name: 'plain', shared: false, 'router:external': false } });
        await fault('member-A', 'PUT', `/v2.0/networks/${aNet.id}`, { network: { shared: false } }, 403, 'PolicyNotAuthorized', '(rule:update_network and rule:update_network:shared) is disallowed by policy');
        await fault('reader-A', 'PUT', `/v2.0/networks/${aNet.id}`, { network: { name: 'x' } }, 403, 'PolicyNotAuthorized', 'rule:update_network is disallowed by policy');
        await fault('reader-A', 'POST', '/v2.0/networks', { network: { name: 'x' } }, 403, 'PolicyNotAuthorized', 'rule:create_network is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/routers', { router: { ha: true } }, 403, 'PolicyNotAuthorized', '(rule:create_router and rule:create_router:ha) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/routers', { router: { distributed: false } }, 403, 'PolicyNotAuthorized', '(rule:create_router and rule:create_router:distributed) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: external.id, enable_snat: false } } }, 403, 'PolicyNotAuthorized',
          '(rule:create_router and (rule:create_router:external_gateway_info and (rule:create_router:external_gateway_info:network_id and rule:create_router:external_gateway_info:enable_snat))) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: external.id, external_fixed_ips: [{ ip_address: '192.0.2.50' }] } } }, 403, 'PolicyNotAuthorized');
        await fault('member-A', 'POST', '/v2.0/subnetpools', { subnetpool: { prefixes: ['2001:db8:f00::/48'], is_default: true } }, 403, 'PolicyNotAuthorized', '(rule:create_subnetpool and rule:create_subnetpool:is_default) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/address-scopes', { address_scope: { name: 's', ip_version: 6, shared: true } }, 403, 'PolicyNotAuthorized', '(rule:create_address_scope and rule:create_address_scope:shared) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/ports', { port: { network_id: aNet.id, 'binding:host_id': 'compute-1' } }, 403, 'PolicyNotAuthorized', '(rule:create_port and rule:create_port:binding:host_id) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/ports', { port: { network_id: aNet.id, 'binding:profile': { a: 1 } } }, 403, 'PolicyNotAuthorized', '(rule:create_port and rule:create_port:binding:profile) is disallowed by policy');
        await fault('member-A', 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: external.id, floating_ip_address: '192.0.2.77' } }, 403, 'PolicyNotAuthorized', '(rule:create_floatingip and rule:create_floatingip:floating_ip_address) is disallowed by policy');
        // A member's own router: name and the gateway network are the member's to set.
        const router = (await ok('member-A', 'POST', '/v2.0/routers', { router: { name: 'r', external_gateway_info: { network_id: external.id } } })).router;
        await fault('member-A', 'PUT', `/v2.0/routers/${router.id}`, { router: { ha: false } }, 403, 'PolicyNotAuthorized', '(rule:update_router and rule:update_router:ha) is disallowed by policy');
      });

      it("answers another project's project_id 400, as neutron-lib does", async () => {
        await fault('member-A', 'POST', '/v2.0/networks', { network: { project_id: 'project-b' } }, 400, 'HTTPBadRequest',
          "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin or advsvc privileges");
        await fault('member-A', 'POST', '/v2.0/security-groups', { security_group: { name: 'g', tenant_id: 'project-b' } }, 400, 'HTTPBadRequest');
        await ok('member-A', 'POST', '/v2.0/security-groups', { security_group: { name: 'g', tenant_id: A } });
        const admins = (await ok('admin', 'POST', '/v2.0/networks', { network: { name: 'for-b', project_id: 'project-b' } })).network;
        assert.equal(admins.project_id, 'project-b');
      });

      it('hides the admin-only attributes from members on every read and write answer', async () => {
        const adminView = (await ok('admin', 'GET', `/v2.0/networks/${aNet.id}`)).network;
        assert.equal(adminView['provider:network_type'], 'vxlan');
        const own = (await ok('member-A', 'GET', `/v2.0/networks/${aNet.id}`)).network;
        for (const a of ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id']) assert.ok(!(a in own), a);
        assert.equal(own.id, aNet.id);
        const listed = (await ok('member-A', 'GET', '/v2.0/networks?fields=id&fields=provider:network_type')).networks;
        assert.ok(listed.length > 0 && listed.every((n: any) => !('provider:network_type' in n) && n.id));
        const made = (await ok('member-A', 'POST', '/v2.0/networks', { network: { name: 'n2' } })).network;
        assert.ok(!('provider:segmentation_id' in made));
        const port = (await ok('member-A', 'POST', '/v2.0/ports', { port: { network_id: aNet.id } })).port;
        for (const a of ['binding:host_id', 'binding:profile', 'binding:vif_type', 'binding:vif_details']) assert.ok(!(a in port), a);
        assert.equal(port['binding:vnic_type'], 'normal');
        assert.ok('binding:host_id' in (await ok('admin', 'GET', `/v2.0/ports/${port.id}`)).port);
        const router = (await ok('member-A', 'POST', '/v2.0/routers', { router: { name: 'r2' } })).router;
        assert.ok(!('ha' in router) && !('distributed' in router));
        assert.equal((await ok('admin', 'GET', `/v2.0/routers/${router.id}`)).router.ha, false);
      });

      it("applies Neutron's network ownership: a port or subnet only on one's own or a shared network", async () => {
        await fault('member-B', 'POST', '/v2.0/ports', { port: { network_id: aNet.id } }, 404, 'NetworkNotFound', `Network ${aNet.id} could not be found.`);
        await fault('member-B', 'POST', '/v2.0/ports', { port: { network_id: external.id } }, 404, 'HTTPNotFound', 'The resource could not be found.');
        const onShared = (await ok('member-B', 'POST', '/v2.0/ports', { port: { network_id: shared.id } })).port;
        assert.equal(onShared.project_id, 'project-b');
        await fault('member-B', 'POST', '/v2.0/subnets', { subnet: { network_id: shared.id, ip_version: 6, cidr: '2001:db8:6::/64' } }, 403, 'PolicyNotAuthorized', 'rule:create_subnet is disallowed by policy');
        // A chosen address is the network owner's to give; a subnet alone is fine on a shared network.
        const sharedSubnet = (await ok('member-B', 'GET', `/v2.0/subnets?network_id=${shared.id}`)).subnets[0];
        await ok('member-B', 'POST', '/v2.0/ports', { port: { network_id: shared.id, fixed_ips: [{ subnet_id: sharedSubnet.id }] } });
        await fault('member-B', 'POST', '/v2.0/ports', { port: { network_id: shared.id, fixed_ips: [{ subnet_id: sharedSubnet.id, ip_address: '2001:db8:5::99' }] } }, 403, 'PolicyNotAuthorized',
          '(rule:create_port and (rule:create_port:fixed_ips and (rule:create_port:fixed_ips:subnet_id and rule:create_port:fixed_ips:ip_address))) is disallowed by policy');
        await fault('member-B', 'POST', '/v2.0/ports', { port: { network_id: shared.id, device_owner: 'network:router_interface' } }, 403, 'PolicyNotAuthorized',
          '(rule:create_port and rule:create_port:device_owner) is disallowed by policy');
        // B sees the shared network's subnets; not the external network's (Tempest's test_external_network_visibility,
        // which passes on Neutron), nor A's.
        const bSubnets = (await ok('member-B', 'GET', '/v2.0/subnets')).subnets.map((s: any) => s.network_id);
        assert.ok(bSubnets.includes(shared.id) && !bSubnets.includes(external.id) && !bSubnets.includes(aNet.id));
        // A security group B cannot see is 404 when B's port names it.
        const aGroup = (await ok('member-A', 'POST', '/v2.0/security-groups', { security_group: { name: 'a-only' } })).security_group;
        await fault('member-B', 'POST', '/v2.0/ports', { port: { network_id: shared.id, security_groups: [aGroup.id] } }, 404, 'SecurityGroupNotFound');
        await fault('member-B', 'POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: aGroup.id, direction: 'ingress' } }, 404, 'SecurityGroupNotFound');
        // A group that does not exist at all: 404 too, not a policy refusal (Tempest's
        // test_create_security_group_rule_with_non_existent_security_group, which passes on Neutron).
        await fault('member-B', 'POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: '00000000-0000-4000-8000-00000000dead', direction: 'ingress' } }, 404, 'SecurityGroupNotFound');
      });

      it("lets the network's owner see and delete other projects' ports on it, not change them", async () => {
        const theirs = (await ok('admin', 'POST', '/v2.0/ports', { port: { network_id: aNet.id, project_id: 'project-admin', name: 'admins' } })).port;
        assert.ok((await ok('member-A', 'GET', '/v2.0/ports')).ports.some((p: any) => p.id === theirs.id));
        assert.equal((await ok('reader-A', 'GET', `/v2.0/ports/${theirs.id}`)).port.id, theirs.id);
        await fault('member-A', 'PUT', `/v2.0/ports/${theirs.id}`, { port: { name: 'mine' } }, 403, 'PolicyNotAuthorized', 'rule:update_port is disallowed by policy');
        await fault('reader-A', 'DELETE', `/v2.0/ports/${theirs.id}`, undefined, 403, 'PolicyNotAuthorized', 'rule:delete_port is disallowed by policy');
        await fault('member-B', 'DELETE', `/v2.0/ports/${theirs.id}`, undefined, 404, 'PortNotFound');
        assert.equal((await as('member-A', 'DELETE', `/v2.0/ports/${theirs.id}`)).status, 204);
      });

      it("keeps a project's HA network and its ports out of the project's sight", async () => {
        const router = (await ok('admin', 'POST', '/v2.0/routers', { router: { name: 'ha', ha: true, project_id: A } })).router;
        const haNets = (await ok('admin', 'GET', '/v2.0/networks')).networks.filter((n: any) => n.name.startsWith('HA network tenant'));
        assert.equal(haNets.length, 1);
        assert.equal(haNets[0].project_id, '');
        const seen = (await ok('member-A', 'GET', '/v2.0/networks')).networks.map((n: any) => n.id);
        assert.ok(!seen.includes(haNets[0].id));
        await fault('member-A', 'GET', `/v2.0/networks/${haNets[0].id}`, undefined, 404, 'NetworkNotFound');
        const haPorts = (await ok('admin', 'GET', `/v2.0/ports?network_id=${haNets[0].id}`)).ports;
        assert.equal(haPorts.length, 2);
        await fault('member-A', 'GET', `/v2.0/ports/${haPorts[0].id}`, undefined, 404, 'PortNotFound');
        assert.deepEqual((await ok('member-A', 'GET', `/v2.0/ports?network_id=${haNets[0].id}`)).ports, []);
        // The router is A's (without its ha flag); its l3-agents are the admin's to ask about.
        assert.ok(!('ha' in (await ok('member-A', 'GET', `/v2.0/routers/${router.id}`)).router));
        await fault('member-A', 'GET', `/v2.0/routers/${router.id}/l3-agents`, undefined, 403, 'PolicyNotAuthorized', 'rule:get_l3-agents is disallowed by policy');
        await fault('member-B', 'GET', `/v2.0/routers/${router.id}/l3-agents`, undefined, 404, 'RouterNotFound');
        await ok('admin', 'GET', `/v2.0/routers/${router.id}/l3-agents`);
      });

      it('keeps router and subnet pool actions to their project', async () => {
        const router = (await ok('member-A', 'POST', '/v2.0/routers', { router: { name: 'act' } })).router;
        const aSubnet = (await ok('member-A', 'GET', `/v2.0/subnets?network_id=${aNet.id}`)).subnets[0];
        await fault('member-B', 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: aSubnet.id }, 404, 'RouterNotFound');
        await fault('reader-A', 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: aSubnet.id }, 403, 'PolicyNotAuthorized', 'rule:add_router_interface is disallowed by policy');
        const bNet = (await ok('member-B', 'POST', '/v2.0/networks', { network: { name: 'b' } })).network;
        const bSubnet = (await ok('member-B', 'POST', '/v2.0/subnets', { subnet: { network_id: bNet.id, ip_version: 6, cidr: '2001:db8:b::/64' } })).subnet;
        await fault('member-A', 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: bSubnet.id }, 404, 'SubnetNotFound', `Subnet ${bSubnet.id} could not be found.`);
        await ok('member-A', 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: aSubnet.id });
        const pool = (await ok('member-A', 'POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes: ['2001:db8:e00::/48'] } })).subnetpool;
        await fault('member-B', 'PUT', `/v2.0/subnetpools/${pool.id}/add_prefixes`, { prefixes: ['2001:db8:e01::/48'] }, 404, 'SubnetPoolNotFound');
        await fault('reader-A', 'PUT', `/v2.0/subnetpools/${pool.id}/add_prefixes`, { prefixes: ['2001:db8:e01::/48'] }, 403, 'PolicyNotAuthorized', 'rule:add_prefixes is disallowed by policy');
        await ok('member-A', 'PUT', `/v2.0/subnetpools/${pool.id}/add_prefixes`, { prefixes: ['2001:db8:e01::/48'] });
        // B may not use A's private pool for a subnet of its own.
        await fault('member-B', 'POST', '/v2.0/subnets', { subnet: { network_id: bNet.id, ip_version: 6, subnetpool_id: pool.id } }, 404, 'SubnetPoolNotFound');
      });

      it('keeps tags to what the caller may see (read) and change (write)', async () => {
        await fault('member-B', 'GET', `/v2.0/networks/${aNet.id}/tags`, undefined, 404, 'NetworkNotFound');
        await fault('member-B', 'PUT', `/v2.0/networks/${aNet.id}/tags/x`, undefined, 404, 'NetworkNotFound');
        await fault('reader-A', 'PUT', `/v2.0/networks/${aNet.id}/tags/x`, undefined, 403, 'PolicyNotAuthorized', 'rule:update_network is disallowed by policy');
        assert.equal((await as('member-A', 'PUT', `/v2.0/networks/${aNet.id}/tags/x`)).status, 201);
        assert.deepEqual((await ok('reader-A', 'GET', `/v2.0/networks/${aNet.id}/tags`)).tags, ['x']);
        await fault('member-B', 'PUT', `/v2.0/networks/${shared.id}/tags/x`, undefined, 403, 'PolicyNotAuthorized');
      });

      it('keeps agents and BGP to the admin', async () => {
        await fault('member-A', 'POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: 's', ip_version: 6, local_as: 65001 } }, 403, 'PolicyNotAuthorized', 'rule:create_bgp_speaker is disallowed by policy');
        const speaker = (await ok('admin', 'POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: 's', ip_version: 6, local_as: 65001, project_id: A } })).bgp_speaker;
        const peer = (await ok('admin', 'POST', '/v2.0/bgp-peers', { bgp_peer: { name: 'p', peer_ip: '2001:db8::1', remote_as: 65002, auth_type: 'none' } })).bgp_peer;
        for (const who of ['member-A', 'reader-A', 'member-B'] as const) {
          assert.deepEqual((await ok(who, 'GET', '/v2.0/bgp-speakers')).bgp_speakers, []);
          assert.deepEqual((await ok(who, 'GET', '/v2.0/bgp-peers')).bgp_peers, []);
          assert.deepEqual((await ok(who, 'GET', '/v2.0/agents')).agents, []);
          assert.equal((await as(who, 'GET', `/v2.0/bgp-speakers/${speaker.id}`)).status, 404);
          assert.equal((await as(who, 'GET', `/v2.0/bgp-speakers/${speaker.id}/get_advertised_routes`)).status, 404);
          assert.equal((await as(who, 'PUT', `/v2.0/bgp-speakers/${speaker.id}/add_bgp_peer`, { bgp_peer_id: peer.id })).status, 404);
          assert.equal((await as(who, 'DELETE', `/v2.0/bgp-peers/${peer.id}`)).status, 404);
        }
        assert.equal((await ok('admin', 'GET', '/v2.0/bgp-speakers')).bgp_speakers.length, 1);
        const agent = (await ok('admin', 'GET', '/v2.0/agents')).agents[0];
        await fault('member-A', 'GET', `/v2.0/agents/${agent.id}`, undefined, 404, 'HTTPNotFound', 'The resource could not be found.');
        await fault('member-A', 'PUT', `/v2.0/agents/${agent.id}`, { agent: { description: 'x' } }, 404, 'HTTPNotFound');
        await fault('member-A', 'GET', `/v2.0/agents/${agent.id}/l3-routers`, undefined, 404, 'HTTPNotFound');
        // The agents' own channel (topology, heartbeats, port status) is for service (admin) credentials.
        await fault('member-A', 'GET', '/v6stack/v1/changes', undefined, 403, 'PolicyNotAuthorized', 'rule:context_is_admin is disallowed by policy');
        await fault('member-B', 'PUT', '/v6stack/v1/agents/rogue/v6stack-agent', { agent: { agent_type: 'v6stack agent', configurations: {} } }, 403, 'PolicyNotAuthorized');
        assert.ok(!(await ok('admin', 'GET', '/v2.0/agents')).agents.some((a: any) => a.host === 'rogue'));
      });
    });
  }
});
