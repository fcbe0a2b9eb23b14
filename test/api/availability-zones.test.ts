// Availability zones through the API (Neutron's availability_zone, network_availability_zone,
// router_availability_zone, availability_zone_filter): the zones the agents report in their heartbeats, the list with
// its filters and states, hints validated at create (AvailabilityZoneNotFound, Neutron's list texts, create-only), and
// scheduling that honours them: a network's DHCP port and an HA router's hosts only in the hinted zones, an unhinted
// HA router spread over zones, a legacy router run by the agents of its zones; `availability_zones` from the agents.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';
import { noauth } from '../../src/api/server.js';

const beat = (api: Api, host: string, zone: string | undefined, configurations: Record<string, unknown> = {}) =>
  api.request('PUT', `/v6stack/v1/agents/${host}/v6stack-agent`, {
    agent: { agent_type: 'v6stack agent', configurations: { role: 'network', ...configurations }, ...(zone === undefined ? {} : { availability_zone: zone }) },
  });

for (const backend of backends()) {
  describe(`availability zones (${backend})`, () => {
    let api: Api;
    before(async () => {
      const admin = noauth('test-project');
      api = await startApi(backend, {
        settings: { ha: { maxL3AgentsPerRouter: 2 } },
        // X-Roles: member / none: a project member, a caller with no role at all.
        authenticate: (h) =>
          h['x-roles'] === 'member' ? { projectId: 'p-member', roles: ['member'], isAdmin: false } : h['x-roles'] === 'none' ? { projectId: 'p-none', roles: [], isAdmin: false } : admin(h),
      });
      for (const [h, z] of [['net-a1', 'az1'], ['net-a2', 'az1'], ['net-b1', 'az2']] as const) assert.equal((await beat(api, h, z)).status, 200);
      // A compute host's zone serves neither networks nor routers (Neutron's L2 agents have none).
      assert.equal((await beat(api, 'cmp-1', 'az-compute', { role: 'compute' })).status, 200);
    });
    after(async () => api.close());

    it('advertises the four aliases', async () => {
      const ext = (await api.request('GET', '/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
      for (const alias of ['availability_zone', 'network_availability_zone', 'router_availability_zone', 'availability_zone_filter']) assert.ok(ext.includes(alias), alias);
    });

    it("shows each agent's reported zone, keeps it across a heartbeat that omits it, and refuses a zone longer than 255", async () => {
      // One v6stack agent row per host; a network node's DHCP agent row (dhcp_agent_scheduler) carries the same zone.
      const agents = (await api.request('GET', '/v2.0/agents')).body.agents;
      assert.deepEqual(agents.filter((a: any) => a.agent_type === 'v6stack agent').map((a: any) => [a.host, a.availability_zone]).sort(), [['cmp-1', 'az-compute'], ['net-a1', 'az1'], ['net-a2', 'az1'], ['net-b1', 'az2']]);
      assert.deepEqual(agents.filter((a: any) => a.agent_type === 'DHCP agent').map((a: any) => [a.host, a.availability_zone]).sort(), [['net-a1', 'az1'], ['net-a2', 'az1'], ['net-b1', 'az2']]);
      assert.equal((await beat(api, 'net-b1', undefined)).body.agent.availability_zone, 'az2');
      const long = await beat(api, 'net-x', 'z'.repeat(256));
      assert.equal(long.status, 400);
      const filtered = (await api.request('GET', '/v2.0/agents?availability_zone=az1')).body.agents;
      assert.deepEqual([...new Set(filtered.map((a: any) => a.host))].sort(), ['net-a1', 'net-a2']);
    });

    it('lists one row per zone and resource, with filters; any reader may list, a caller without a role sees none', async () => {
      const all = (await api.request('GET', '/v2.0/availability_zones')).body.availability_zones;
      assert.deepEqual(all, [
        { name: 'az1', resource: 'network', state: 'available' },
        { name: 'az1', resource: 'router', state: 'available' },
        { name: 'az2', resource: 'network', state: 'available' },
        { name: 'az2', resource: 'router', state: 'available' },
      ]);
      assert.deepEqual((await api.request('GET', '/v2.0/availability_zones?resource=router&name=az2')).body.availability_zones, [{ name: 'az2', resource: 'router', state: 'available' }]);
      assert.deepEqual((await api.request('GET', '/v2.0/availability_zones?state=unavailable')).body.availability_zones, []);
      assert.deepEqual((await api.request('GET', '/v2.0/availability_zones?fields=name&resource=network')).body.availability_zones, [{ name: 'az1' }, { name: 'az2' }]);
      assert.deepEqual((await api.request('GET', '/v2.0/availability_zones', undefined, { 'x-roles': 'member' })).body.availability_zones.length, 4);
      assert.deepEqual((await api.request('GET', '/v2.0/availability_zones', undefined, { 'x-roles': 'none' })).body.availability_zones, []);
      assert.equal((await api.request('POST', '/v2.0/availability_zones', {})).status, 405);
    });

    it("validates hints as Neutron does: known zones only (404), a list of unique strings, 255 characters of JSON, create-only", async () => {
      const nf = await api.request('POST', '/v2.0/networks', { network: { name: 'n', availability_zone_hints: ['az1', 'nowhere'] } });
      assert.equal(nf.status, 404);
      assert.deepEqual(nf.body.NeutronError, { type: 'AvailabilityZoneNotFound', message: 'AvailabilityZone nowhere could not be found.', detail: '' });
      // The compute host's zone is no network's or router's.
      assert.equal((await api.request('POST', '/v2.0/routers', { router: { name: 'r', availability_zone_hints: ['az-compute'] } })).status, 404);
      const notList = await api.request('POST', '/v2.0/networks', { network: { availability_zone_hints: 'az1' } });
      assert.equal(notList.status, 400);
      assert.equal(notList.body.NeutronError.message, "Invalid input for availability_zone_hints. Reason: 'az1' is not a list.");
      const dup = await api.request('POST', '/v2.0/routers', { router: { availability_zone_hints: ['az1', 'az1'] } });
      assert.equal(dup.status, 400);
      assert.equal(dup.body.NeutronError.message, "Invalid input for availability_zone_hints. Reason: Duplicate items in the list: 'az1'.");
      const tooMany = await api.request('POST', '/v2.0/networks', { network: { availability_zone_hints: Array.from({ length: 40 }, (_, i) => `zone-${i}`) } });
      assert.equal(tooMany.status, 400);
      assert.deepEqual(tooMany.body.NeutronError, { type: 'InvalidInput', message: 'Invalid input for operation: Too many availability_zone_hints specified.', detail: '' });
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'hinted', availability_zone_hints: ['az2'] } })).body.network;
      assert.deepEqual(net.availability_zone_hints, ['az2']);
      const put = await api.request('PUT', `/v2.0/networks/${net.id}`, { network: { availability_zone_hints: ['az1'] } });
      assert.equal(put.status, 400);
      assert.match(put.body.NeutronError.message, /availability_zone_hints/);
      // A member may hint too (the attribute has no policy of its own in Neutron).
      const mine = await api.request('POST', '/v2.0/routers', { router: { name: 'm', availability_zone_hints: ['az1'] } }, { 'x-roles': 'member' });
      assert.equal(mine.status, 201);
      assert.deepEqual(mine.body.router.availability_zones, ['az1']);
    });

    it("puts a hinted network's DHCP port on a host of its zone, and shows that zone", async () => {
      for (const zone of ['az2', 'az1']) {
        const net = (await api.request('POST', '/v2.0/networks', { network: { name: `dhcp-${zone}`, availability_zone_hints: [zone] } })).body.network;
        assert.deepEqual(net.availability_zones, [], 'no DHCP port before a subnet dnsmasq serves');
        assert.equal((await api.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: zone === 'az2' ? '2001:db8:a2::/64' : '2001:db8:a1::/64', ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'dhcpv6-stateful' } })).status, 201);
        const dhcp = (await api.request('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`)).body.ports;
        assert.equal(dhcp.length, 1);
        assert.ok((zone === 'az2' ? ['net-b1'] : ['net-a1', 'net-a2']).includes(dhcp[0]['binding:host_id']), dhcp[0]['binding:host_id']);
        assert.deepEqual((await api.request('GET', `/v2.0/networks/${net.id}`)).body.network.availability_zones, [zone]);
        // The hint chose the network's DHCP agent (dhcp_agent_scheduler): it is bound to an agent of that zone.
        const bound = (await api.request('GET', `/v2.0/networks/${net.id}/dhcp-agents`)).body.agents;
        assert.deepEqual(bound.map((a: any) => [a.host, a.availability_zone]), [[dhcp[0]['binding:host_id'], zone]]);
        // A binding made before its host changed zone stays (Neutron does not reschedule on a zone change); the
        // network then shows where it really runs.
        if (zone !== 'az1') continue;
        const was = dhcp[0]['binding:host_id'];
        await beat(api, was, 'az9');
        const still = (await api.request('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`)).body.ports;
        assert.deepEqual(still.map((p: any) => p['binding:host_id']), [was]);
        assert.deepEqual((await api.request('GET', `/v2.0/networks/${net.id}`)).body.network.availability_zones, ['az9']);
        await beat(api, was, 'az1');
      }
    });

    it('schedules a hinted HA router only in its zones, spreads an unhinted one over zones, and shows the zones it runs in', async () => {
      const r2 = (await api.request('POST', '/v2.0/routers', { router: { name: 'ha-az2', ha: true, availability_zone_hints: ['az2'] } })).body.router;
      const hosts = async (id: string): Promise<string[]> => (await api.request('GET', `/v2.0/routers/${id}/l3-agents`)).body.agents.map((a: any) => a.host).sort();
      assert.deepEqual(await hosts(r2.id), ['net-b1'], 'one host: az2 has only one L3 agent');
      assert.deepEqual(r2.availability_zones, ['az2']);
      // max_l3_agents_per_router 2 over az1 (two hosts, the least loaded first) and az2: one in each zone.
      const spread = (await api.request('POST', '/v2.0/routers', { router: { name: 'ha-any', ha: true } })).body.router;
      const got = await hosts(spread.id);
      assert.equal(got.length, 2);
      assert.ok(got.includes('net-b1') && got.some((h) => h.startsWith('net-a')), got.join());
      assert.deepEqual(spread.availability_zones, ['az1', 'az2']);
      // A legacy router: run by the network nodes of its zones (l3-agents, l3-routers and the agent's own plan agree).
      const legacy = (await api.request('POST', '/v2.0/routers', { router: { name: 'legacy-az1', ha: false, availability_zone_hints: ['az1'] } })).body.router;
      assert.deepEqual(await hosts(legacy.id), ['net-a1', 'net-a2']);
      assert.deepEqual(legacy.availability_zones, ['az1']);
      const agents = (await api.request('GET', '/v2.0/agents')).body.agents;
      const onB1 = (await api.request('GET', `/v2.0/agents/${agents.find((a: any) => a.host === 'net-b1' && a.agent_type === 'v6stack agent').id}/l3-routers`)).body.routers.map((r: any) => r.id);
      assert.ok(!onB1.includes(legacy.id) && onB1.includes(r2.id));
      const unhinted = (await api.request('POST', '/v2.0/routers', { router: { name: 'legacy-any', ha: false } })).body.router;
      assert.deepEqual(unhinted.availability_zones, ['az1', 'az2']);
      // The zone of a host changes (its agent restarted with another --availability-zone): the routers show it at once.
      await beat(api, 'net-b1', 'az3');
      assert.deepEqual((await api.request('GET', `/v2.0/routers/${r2.id}`)).body.router.availability_zones, ['az3']);
      assert.deepEqual((await api.request('GET', '/v2.0/availability_zones?resource=router')).body.availability_zones.map((z: any) => z.name), ['az1', 'az3']);
      await beat(api, 'net-b1', 'az2');
    });

    it('shows a zone unavailable when every agent in it is administratively down', async () => {
      const b1 = (await api.request('GET', '/v2.0/agents?host=net-b1&agent_type=v6stack%20agent')).body.agents[0];
      await api.request('PUT', `/v2.0/agents/${b1.id}`, { agent: { admin_state_up: false } });
      const zones = (await api.request('GET', '/v2.0/availability_zones?name=az2')).body.availability_zones;
      assert.deepEqual(zones.map((z: any) => z.state), ['unavailable', 'unavailable']);
      // Still a zone: hints naming it are accepted (Neutron checks only that some agent reports it).
      assert.equal((await api.request('POST', '/v2.0/networks', { network: { availability_zone_hints: ['az2'] } })).status, 201);
      await api.request('PUT', `/v2.0/agents/${b1.id}`, { agent: { admin_state_up: true } });
    });
  });
}
