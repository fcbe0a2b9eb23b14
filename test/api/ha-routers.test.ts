// HA routers through the API (Neutron's l3-ha and l3_agent_scheduler): the per-project HA network, one
// network:router_ha_interface port per live L3 agent (at most max_l3_agents_per_router), the VRID, interfaces as
// ha_router_replicated_interface, the l3-agents and l3-routers views with ha_state as the agents report it,
// --l3-ha as the default, conversion with Neutron's error, and the HA network going with the last HA router.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

const beat = (api: Api, host: string, configurations: Record<string, unknown> = {}) =>
  api.request('PUT', `/v6stack/v1/agents/${host}/v6stack-agent`, { agent: { agent_type: 'v6stack agent', configurations: { role: 'network', ...configurations } } });

for (const backend of backends()) {
  describe(`HA routers (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend, { settings: { ha: { maxL3AgentsPerRouter: 2 } } });
      for (const h of ['net-a', 'net-b', 'net-c']) assert.equal((await beat(api, h)).status, 200);
      assert.equal((await beat(api, 'cmp-1', { role: 'compute' })).status, 200);
    });
    after(async () => api.close());

    it('makes the HA network, one HA port per scheduled L3 agent with one VRID, and shows the hosting agents standby until they report', async () => {
      const router = (await api.request('POST', '/v2.0/routers', { router: { name: 'r1', ha: true, project_id: 'p1' } })).body.router;
      assert.equal(router.ha, true);
      const nets = (await api.request('GET', `/v2.0/networks?name=${encodeURIComponent('HA network tenant p1')}`)).body.networks;
      assert.equal(nets.length, 1);
      assert.equal(nets[0].project_id, '');
      const subnets = (await api.request('GET', `/v2.0/subnets?network_id=${nets[0].id}`)).body.subnets;
      assert.deepEqual(subnets.map((s: any) => [s.name, s.cidr, s.enable_dhcp, s.gateway_ip]), [['HA subnet tenant p1', '169.254.192.0/18', false, null]]);
      const ports = (await api.request('GET', `/v2.0/ports?device_id=${router.id}`)).body.ports;
      assert.equal(ports.length, 2, 'max_l3_agents_per_router 2 of three live L3 agents (the compute host is not one)');
      assert.ok(ports.every((p: any) => p.device_owner === 'network:router_ha_interface' && p.name === 'HA port tenant p1' && p.network_id === nets[0].id));
      assert.deepEqual(ports.map((p: any) => p['binding:host_id']).sort(), ['net-a', 'net-b']);
      assert.equal(new Set(ports.map((p: any) => p['binding:vif_details'].ha_vr_id)).size, 1);
      assert.equal(ports[0]['binding:vif_details'].ha_vr_id, 1);
      const agents = (await api.request('GET', `/v2.0/routers/${router.id}/l3-agents`)).body.agents;
      assert.deepEqual(agents.map((a: any) => [a.host, a.ha_state]).sort(), [['net-a', 'standby'], ['net-b', 'standby']]);

      // A second HA router in the project: the same HA network, another VRID, scheduled on the least loaded host first.
      const r2 = (await api.request('POST', '/v2.0/routers', { router: { name: 'r2', ha: true, project_id: 'p1' } })).body.router;
      const ports2 = (await api.request('GET', `/v2.0/ports?device_id=${r2.id}`)).body.ports;
      assert.ok(ports2.map((p: any) => p['binding:host_id']).includes('net-c'));
      assert.equal(ports2[0]['binding:vif_details'].ha_vr_id, 2);
      assert.equal((await api.request('GET', `/v2.0/networks?name=${encodeURIComponent('HA network tenant p1')}`)).body.networks.length, 1);

      // The agents report VRRP states; a dead agent that said active shows standby while another lives.
      const [first, second] = ports.map((p: any) => p['binding:host_id']).sort();
      await beat(api, first, { ha_routers: { [router.id]: 'active' } });
      await beat(api, second, { ha_routers: { [router.id]: 'standby' } });
      let shown = (await api.request('GET', `/v2.0/routers/${router.id}/l3-agents`)).body.agents;
      assert.deepEqual(shown.map((a: any) => [a.host, a.ha_state]).sort(), [[first, 'active'], [second, 'standby']]);
      const onAgent = (await api.request('GET', `/v2.0/agents/${shown.find((a: any) => a.host === first).id}/l3-routers`)).body.routers;
      assert.ok(onAgent.some((r: any) => r.id === router.id));
      await api.request('PUT', `/v2.0/agents/${shown.find((a: any) => a.host === first).id}`, { agent: { admin_state_up: false } });
      await beat(api, second, { ha_routers: { [router.id]: 'active' } });
      shown = (await api.request('GET', `/v2.0/routers/${router.id}/l3-agents`)).body.agents;
      assert.deepEqual(shown.map((a: any) => [a.host, a.ha_state]).sort(), [[first, 'standby'], [second, 'active']]);
      await api.request('PUT', `/v2.0/agents/${shown.find((a: any) => a.host === first).id}`, { agent: { admin_state_up: true } });

      // Deleting the routers deletes their HA ports; the HA network goes with the last one.
      assert.equal((await api.request('DELETE', `/v2.0/routers/${router.id}`)).status, 204);
      assert.equal((await api.request('GET', `/v2.0/networks?name=${encodeURIComponent('HA network tenant p1')}`)).body.networks.length, 1);
      assert.equal((await api.request('DELETE', `/v2.0/routers/${r2.id}`)).status, 204);
      assert.equal((await api.request('GET', `/v2.0/networks?name=${encodeURIComponent('HA network tenant p1')}`)).body.networks.length, 0);
      assert.equal((await api.request('GET', `/v2.0/ports?device_owner=network:router_ha_interface`)).body.ports.length, 0);
    });

    it('gives a legacy router ha_state null in l3-agents, and converts only with admin_state_up false (Neutron\'s error otherwise)', async () => {
      const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'tenant', project_id: 'p2' } })).body.network;
      const sub = (await api.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, project_id: 'p2', ip_version: 6, cidr: '2001:db8:20::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).body.subnet;
      const router = (await api.request('POST', '/v2.0/routers', { router: { name: 'legacy', project_id: 'p2' } })).body.router;
      assert.equal(router.ha, false);
      await api.request('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id });
      const legacyAgents = (await api.request('GET', `/v2.0/routers/${router.id}/l3-agents`)).body.agents;
      assert.ok(legacyAgents.length >= 3 && legacyAgents.every((a: any) => a.ha_state === null));

      const refused = await api.request('PUT', `/v2.0/routers/${router.id}`, { router: { ha: true } });
      assert.equal(refused.status, 400);
      assert.deepEqual(refused.body.NeutronError, {
        type: 'BadRequest',
        message: 'Bad router request: Cannot change HA attribute of active routers. Please set router admin_state_up to False prior to upgrade.',
        detail: '',
      });
      const converted = await api.request('PUT', `/v2.0/routers/${router.id}`, { router: { ha: true, admin_state_up: false } });
      assert.equal(converted.status, 200);
      const owners = (await api.request('GET', `/v2.0/ports?device_id=${router.id}`)).body.ports.map((p: any) => p.device_owner).sort();
      assert.deepEqual(owners, ['network:ha_router_replicated_interface', 'network:router_ha_interface', 'network:router_ha_interface']);
      const back = await api.request('PUT', `/v2.0/routers/${router.id}`, { router: { ha: false } });
      assert.equal(back.status, 200);
      const after = (await api.request('GET', `/v2.0/ports?device_id=${router.id}`)).body.ports.map((p: any) => p.device_owner);
      assert.deepEqual(after, ['network:router_interface']);
      assert.equal((await api.request('GET', `/v2.0/networks?name=${encodeURIComponent('HA network tenant p2')}`)).body.networks.length, 0);
    });

    it('makes routers HA by default with --l3-ha, and schedules an HA router made before any agent at the first L3 heartbeat', async () => {
      const other = await startApi(backend, { settings: { ha: { l3Ha: true } } });
      try {
        const r = (await other.request('POST', '/v2.0/routers', { router: { name: 'early' } })).body.router;
        assert.equal(r.ha, true);
        assert.equal((await other.request('GET', `/v2.0/ports?device_id=${r.id}`)).body.ports.length, 0);
        const legacy = (await other.request('POST', '/v2.0/routers', { router: { name: 'explicit', ha: false } })).body.router;
        assert.equal(legacy.ha, false);
        await beat(other, 'late-a');
        await beat(other, 'late-b');
        const ports = (await other.request('GET', `/v2.0/ports?device_id=${r.id}`)).body.ports;
        assert.deepEqual(ports.map((p: any) => p['binding:host_id']).sort(), ['late-a', 'late-b']);
        assert.equal((await other.request('GET', `/v2.0/ports?device_id=${legacy.id}`)).body.ports.length, 0);
      } finally {
        await other.close();
      }
    });
  });
}
