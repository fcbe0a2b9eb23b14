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
    assert.equal(list.length, 1);
    assert.equal(list[0].host, 'host-a');
    assert.equal(list[0].alive, true);
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
});
