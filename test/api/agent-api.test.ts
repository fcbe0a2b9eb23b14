// The agents' side of the API: heartbeats appear in Neutron's agent list, and the change feed wakes a
// long-polling agent as soon as a write commits.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Api } from '../helpers/v6stack.js';

describe('agent API', () => {
  let api: Api;
  before(async () => {
    api = await startApi('sqlite');
  });
  after(async () => api.close());

  it('lists an agent that sent a heartbeat, alive', async () => {
    const r = await api.request('PUT', '/v6stack/v1/agents/host-a/v6stack-agent', { agent: { agent_type: 'L3 agent', configurations: { routers: 0 } } });
    assert.equal(r.status, 200);
    const again = await api.request('PUT', '/v6stack/v1/agents/host-a/v6stack-agent', { agent: { agent_type: 'L3 agent' } });
    assert.equal(again.body.agent.id, r.body.agent.id, 'one agent per host and binary');
    const list = (await api.request('GET', '/v2.0/agents')).body.agents;
    // The agent, and its DHCP role as Neutron shows one (its role is all by default): a "DHCP agent" row.
    assert.deepEqual(list.map((a: any) => [a.host, a.binary, a.agent_type, a.alive]).sort(), [
      ['host-a', 'neutron-dhcp-agent', 'DHCP agent', true],
      ['host-a', 'v6stack-agent', 'L3 agent', true],
    ]);
  });

  it('returns changes after a sequence number and wakes a long poll on the next write', async () => {
    const first = (await api.request('GET', '/v6stack/v1/changes?since=0')).body;
    assert.ok(first.changes.length >= 1);
    const polled = api.request('GET', `/v6stack/v1/changes?since=${first.last}&wait=10`);
    await new Promise((r) => setTimeout(r, 50));
    const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'woken' } })).body.network;
    const woken = (await polled).body;
    assert.deepEqual(woken.changes.map((c: { id: string; op: string }) => [c.id, c.op]), [[net.id, 'create']]);
    assert.ok(woken.last > first.last);
    const bad = await api.request('GET', '/v6stack/v1/changes?since=-1');
    assert.equal(bad.status, 400);
  });

  it('shows an agent dead once its last heartbeat is older than agent_down_time', async () => {
    const short = await startApi('sqlite', { settings: { agentDownTimeMs: 2500 } });
    try {
      await short.request('PUT', '/v6stack/v1/agents/host-b/v6stack-agent', { agent: { agent_type: 'v6stack agent' } });
      // Heartbeat timestamps have a resolution of a second (a fresh one is up to 1 s old); the deadline bounds the wait.
      const end = Date.now() + 10_000;
      let alive = true;
      while (alive && Date.now() < end) {
        alive = (await short.request('GET', '/v2.0/agents')).body.agents[0].alive;
        if (alive) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(alive, false);
      await short.request('PUT', '/v6stack/v1/agents/host-b/v6stack-agent', { agent: { agent_type: 'v6stack agent' } });
      assert.equal((await short.request('GET', '/v2.0/agents')).body.agents[0].alive, true, 'a heartbeat revives it');
    } finally {
      await short.close();
    }
  });

  it('takes port statuses from an agent: only changes are written and returned, other hosts\' ports and deleted ones skipped, bad input refused', async () => {
    const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'status' } })).body.network;
    const mine = (await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, 'binding:host_id': 'host-a' } })).body.port;
    const theirs = (await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, 'binding:host_id': 'host-b' } })).body.port;
    assert.equal(mine.status, 'DOWN', 'a new port is DOWN until an agent has plugged it');
    const gone = '00000000-0000-4000-8000-000000000000';
    const r = await api.request('PUT', '/v6stack/v1/ports/status', { host: 'host-a', ports: { [mine.id]: 'ACTIVE', [theirs.id]: 'ACTIVE', [gone]: 'ACTIVE' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.ports.map((p: any) => [p.id, p.status]), [[mine.id, 'ACTIVE']]);
    const shown = (await api.request('GET', `/v2.0/ports/${mine.id}`)).body.port;
    assert.equal(shown.status, 'ACTIVE');
    assert.equal(shown.revision_number, mine.revision_number + 1);
    assert.equal((await api.request('GET', `/v2.0/ports/${theirs.id}`)).body.port.status, 'DOWN', 'host-b reports its own ports');
    const same = await api.request('PUT', '/v6stack/v1/ports/status', { host: 'host-a', ports: { [mine.id]: 'ACTIVE' } });
    assert.deepEqual(same.body.ports, [], 'nothing changed, nothing written');
    // Users cannot set it through Neutron's API, as in Neutron.
    const ro = await api.request('PUT', `/v2.0/ports/${mine.id}`, { port: { status: 'DOWN' } });
    assert.equal(ro.status, 400);
    for (const body of [{ ports: { [mine.id]: 'UP' } }, { ports: [mine.id] }, {}]) {
      const bad = await api.request('PUT', '/v6stack/v1/ports/status', body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.NeutronError.type, 'HTTPBadRequest');
    }
    assert.equal((await api.request('GET', `/v2.0/ports/${mine.id}`)).body.port.status, 'ACTIVE', 'a refused report changes nothing');
  });
});
