// The dhcp_agent_scheduler extension: each v6stack agent that serves DHCP shows as a "DHCP agent" row, networks are
// bound to those agents (automatically when they get their first served subnet, by hand through
// /v2.0/agents/{id}/dhcp-networks), and each network's DHCP port sits on the host of its agent. Agents here are real
// heartbeats on the agent API, as `v6stack agent` sends; the answers and texts are Neutron's
// (neutron/db/agentschedulers_db.py, neutron_lib/exceptions/dhcpagentscheduler.py).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';
import { noauth } from '../../src/api/server.js';

async function heartbeat(api: Api, host: string, role = 'all'): Promise<void> {
  const r = await api.request('PUT', `/v6stack/v1/agents/${host}/v6stack-agent`, { agent: { agent_type: 'v6stack agent', configurations: { role } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function dhcpAgent(api: Api, host: string): Promise<any> {
  const list = (await api.request('GET', `/v2.0/agents?host=${host}&agent_type=DHCP%20agent`)).body.agents;
  assert.equal(list.length, 1, `one DHCP agent on ${host}`);
  return list[0];
}

async function network(api: Api, name: string): Promise<any> {
  const r = await api.request('POST', '/v2.0/networks', { network: { name } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.network;
}

async function dhcpSubnet(api: Api, networkId: string, third: string): Promise<any> {
  const r = await api.request('POST', '/v2.0/subnets', {
    subnet: { network_id: networkId, ip_version: 6, cidr: `2001:db8:${third}::/64`, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.subnet;
}

const hostsOfNetwork = async (api: Api, id: string): Promise<string[]> => {
  const r = await api.request('GET', `/v2.0/networks/${id}/dhcp-agents`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.agents.map((a: any) => a.host).sort();
};
const networksOfAgent = async (api: Api, agentId: string): Promise<string[]> => {
  const r = await api.request('GET', `/v2.0/agents/${agentId}/dhcp-networks`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.networks.map((n: any) => n.id);
};
const dhcpPortHosts = async (api: Api, networkId: string): Promise<string[]> =>
  (await api.request('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${networkId}`)).body.ports.map((p: any) => p['binding:host_id']).sort();

for (const backend of backends()) {
  describe(`dhcp_agent_scheduler (${backend})`, () => {
    let api: Api;
    before(async () => {
      // Admin for every caller but one who says X-Roles: member (the extension is admin only).
      const admin = noauth('test-project');
      api = await startApi(backend, {
        authenticate: (h) => (h['x-roles'] === 'member' ? { projectId: 'someone', roles: ['member'], isAdmin: false } : admin(h)),
      });
    });
    after(async () => api.close());

    it('is advertised, and a DHCP host shows a "DHCP agent" row; a compute host does not', async () => {
      const ext = await api.request('GET', '/v2.0/extensions/dhcp_agent_scheduler');
      assert.equal(ext.status, 200);
      assert.equal(ext.body.extension.name, 'DHCP Agent Scheduler');
      await heartbeat(api, 'sched-1', 'network');
      await heartbeat(api, 'sched-c', 'compute');
      const a = await dhcpAgent(api, 'sched-1');
      assert.equal(a.binary, 'neutron-dhcp-agent');
      assert.equal(a.alive, true);
      assert.equal(a.configurations.dhcp_driver, 'dnsmasq');
      assert.deepEqual((await api.request('GET', '/v2.0/agents?host=sched-c&agent_type=DHCP%20agent')).body.agents, []);
    });

    it('a network is scheduled with its first DHCP subnet, its port on the agent\'s host; both directions list it', async () => {
      const net = await network(api, 'auto');
      assert.deepEqual(await hostsOfNetwork(api, net.id), [], 'no served subnet: not scheduled');
      await dhcpSubnet(api, net.id, 'e1');
      const hosts = await hostsOfNetwork(api, net.id);
      assert.equal(hosts.length, 1, 'dhcp_agents_per_network = 1');
      assert.deepEqual(await dhcpPortHosts(api, net.id), hosts);
      const agent = await dhcpAgent(api, hosts[0]!);
      assert.ok((await networksOfAgent(api, agent.id)).includes(net.id));
    });

    it('a network with no subnet can be hosted by hand, and removed (Tempest test_add_remove_network_from_dhcp_agent)', async () => {
      const agent = await dhcpAgent(api, 'sched-1');
      const net = await network(api, 'by-hand');
      const add = await api.request('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, { network_id: net.id });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      assert.equal(add.body, null);
      assert.ok((await networksOfAgent(api, agent.id)).includes(net.id));
      assert.deepEqual(await hostsOfNetwork(api, net.id), ['sched-1']);
      const again = await api.request('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, { network_id: net.id });
      assert.equal(again.status, 409);
      assert.deepEqual(again.body.NeutronError.type, 'NetworkHostedByDHCPAgent');
      assert.equal(again.body.NeutronError.message, `The network ${net.id} has been already hosted by the DHCP Agent ${agent.id}.`);
      assert.equal((await api.request('DELETE', `/v2.0/agents/${agent.id}/dhcp-networks/${net.id}`)).status, 204);
      assert.ok(!(await networksOfAgent(api, agent.id)).includes(net.id));
      const gone = await api.request('DELETE', `/v2.0/agents/${agent.id}/dhcp-networks/${net.id}`);
      assert.equal(gone.status, 409);
      assert.equal(gone.body.NeutronError.type, 'NetworkNotHostedByDhcpAgent');
      assert.equal(gone.body.NeutronError.message, `The network ${net.id} is not hosted by the DHCP Agent ${agent.id}.`);
    });

    it("answers Neutron's errors: not a DHCP agent, an agent down administratively, no such network, a bad id", async () => {
      const net = await network(api, 'errors');
      const v6 = (await api.request('GET', '/v2.0/agents?host=sched-1&binary=v6stack-agent')).body.agents[0];
      const notDhcp = await api.request('POST', `/v2.0/agents/${v6.id}/dhcp-networks`, { network_id: net.id });
      assert.equal(notDhcp.status, 404);
      assert.equal(notDhcp.body.NeutronError.type, 'InvalidDHCPAgent');
      assert.equal(notDhcp.body.NeutronError.message, `Agent ${v6.id} is not a valid DHCP Agent or has been disabled.`);
      const missing = '7b0ae9a5-7f2b-4cc1-9a36-8a1e1f0a0b0c';
      const noNet = await api.request('POST', `/v2.0/agents/${v6.id}/dhcp-networks`, { network_id: missing });
      assert.equal(noNet.status, 404);
      assert.equal(noNet.body.NeutronError.type, 'NetworkNotFound');
      const bad = await api.request('POST', `/v2.0/agents/${v6.id}/dhcp-networks`, { network_id: 'nope' });
      assert.equal(bad.status, 400);
      const noAgent = await api.request('GET', `/v2.0/agents/${missing}/dhcp-networks`);
      assert.equal(noAgent.status, 404);
      await heartbeat(api, 'sched-down', 'network');
      const down = await dhcpAgent(api, 'sched-down');
      assert.equal((await api.request('PUT', `/v2.0/agents/${down.id}`, { agent: { admin_state_up: false } })).status, 200);
      const disabled = await api.request('POST', `/v2.0/agents/${down.id}/dhcp-networks`, { network_id: net.id });
      assert.equal(disabled.status, 404);
      assert.equal(disabled.body.NeutronError.type, 'InvalidDHCPAgent');
      // An agent down administratively is given no network by the scheduler either.
      const other = await network(api, 'not-on-down');
      await dhcpSubnet(api, other.id, 'e2');
      assert.ok(!(await hostsOfNetwork(api, other.id)).includes('sched-down'));
    });

    it('is admin only (Neutron: rule:get_dhcp-agents, create_dhcp-network)', async () => {
      const agent = await dhcpAgent(api, 'sched-1');
      const net = await network(api, 'policy');
      const member = { 'X-Roles': 'member' };
      // Agents are admin only: a member finds no agent at all (Neutron's policy hook answers a plain 404).
      const list = await api.request('GET', `/v2.0/agents/${agent.id}/dhcp-networks`, undefined, member);
      assert.equal(list.status, 404, JSON.stringify(list.body));
      const add = await api.request('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, { network_id: net.id }, member);
      assert.equal(add.status, 404, JSON.stringify(add.body));
      const own = (await api.request('POST', '/v2.0/networks', { network: { name: 'mine' } }, member)).body.network;
      const onNet = await api.request('GET', `/v2.0/networks/${own.id}/dhcp-agents`, undefined, member);
      assert.equal(onNet.status, 403, JSON.stringify(onNet.body));
      assert.equal(onNet.body.NeutronError.message, 'rule:get_dhcp-agents is disallowed by policy');
      assert.deepEqual(await hostsOfNetwork(api, net.id), [], 'nothing was bound');
    });

    it('moving a network from one agent to another moves its DHCP port, addresses kept', async () => {
      await heartbeat(api, 'sched-2', 'network');
      const net = await network(api, 'moving');
      await dhcpSubnet(api, net.id, 'e3');
      const [from] = await hostsOfNetwork(api, net.id);
      const to = from === 'sched-1' ? 'sched-2' : 'sched-1';
      const before = (await api.request('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${net.id}`)).body.ports[0];
      const a = await dhcpAgent(api, from!);
      const b = await dhcpAgent(api, to);
      // Remove first (as Tempest does): the port goes with the last agent; adding the other one makes a new one.
      assert.equal((await api.request('DELETE', `/v2.0/agents/${a.id}/dhcp-networks/${net.id}`)).status, 204);
      assert.deepEqual(await dhcpPortHosts(api, net.id), []);
      // Not rescheduled by the next heartbeat (Neutron neither): the operator decides.
      await heartbeat(api, from!, 'network');
      assert.deepEqual(await hostsOfNetwork(api, net.id), []);
      assert.equal((await api.request('POST', `/v2.0/agents/${b.id}/dhcp-networks`, { network_id: net.id })).status, 201);
      assert.deepEqual(await dhcpPortHosts(api, net.id), [to]);
      // Add then remove: the port moves with its address.
      const onTo = (await api.request('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${net.id}`)).body.ports[0];
      assert.equal((await api.request('POST', `/v2.0/agents/${a.id}/dhcp-networks`, { network_id: net.id })).status, 201);
      assert.deepEqual(await dhcpPortHosts(api, net.id), [from, to].sort(), 'one port per hosting agent');
      assert.equal((await api.request('DELETE', `/v2.0/agents/${b.id}/dhcp-networks/${net.id}`)).status, 204);
      const ports = (await api.request('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${net.id}`)).body.ports;
      assert.deepEqual(ports.map((p: any) => p['binding:host_id']), [from]);
      assert.ok(before.fixed_ips.length > 0 && onTo.fixed_ips.length > 0);
    });

    it('a deleted DHCP agent\'s networks are rescheduled; a deleted network leaves no binding', async () => {
      await heartbeat(api, 'sched-3', 'network');
      const net = await network(api, 'resched');
      await dhcpSubnet(api, net.id, 'e4');
      const [host] = await hostsOfNetwork(api, net.id);
      const agent = await dhcpAgent(api, host!);
      const port = (await api.request('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${net.id}`)).body.ports[0];
      assert.equal((await api.request('DELETE', `/v2.0/agents/${agent.id}`)).status, 204);
      const [next] = await hostsOfNetwork(api, net.id);
      assert.ok(next && next !== host, `rescheduled from ${host} to ${next}`);
      const moved = (await api.request('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${net.id}`)).body.ports;
      assert.deepEqual(moved.map((p: any) => [p.id, p['binding:host_id'], p.fixed_ips]), [[port.id, next, port.fixed_ips]]);
      const nextAgent = await dhcpAgent(api, next!);
      assert.equal((await api.request('DELETE', `/v2.0/networks/${net.id}`)).status, 204);
      assert.ok(!(await networksOfAgent(api, nextAgent.id)).includes(net.id));
      const store = api.store;
      const left = await store.read((tx) => tx.list('network_dhcp_agent_binding', { network_id: [net.id] }));
      assert.deepEqual(left, []);
    });
  });
}

describe('dhcp_agents_per_network = 2', () => {
  let api: Api;
  before(async () => {
    api = await startApi('sqlite', { settings: { dhcp: { agentsPerNetwork: 2 } } });
  });
  after(async () => api.close());

  it('gives a network two agents and two DHCP ports; an agent coming alive tops a network up', async () => {
    await heartbeat(api, 'pair-1', 'network');
    const net = await network(api, 'pair');
    await dhcpSubnet(api, net.id, 'e5');
    assert.deepEqual(await hostsOfNetwork(api, net.id), ['pair-1'], 'only one agent alive');
    await heartbeat(api, 'pair-2', 'network');
    assert.deepEqual(await hostsOfNetwork(api, net.id), ['pair-1', 'pair-2']);
    assert.deepEqual(await dhcpPortHosts(api, net.id), ['pair-1', 'pair-2']);
    const addrs = (await api.request('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${net.id}`)).body.ports.map((p: any) => p.fixed_ips[0].ip_address);
    assert.equal(new Set(addrs).size, 2, 'each dnsmasq its own address');
  });
});
