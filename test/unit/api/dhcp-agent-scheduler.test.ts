// The DHCP scheduler's choice (pure): the agent already holding the network's DHCP port first (a store upgraded from
// before the bindings keeps its ports where they are), then the least loaded (Neutron's WeightScheduler counts the
// networks each agent hosts), then by host; never more than dhcp_agents_per_network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindingId, dhcpAgentUsable, pickDhcpAgents } from '../../../src/api/dhcp-agent-scheduler.js';

const agents = [
  { id: 'c', host: 'node-c' },
  { id: 'a', host: 'node-a' },
  { id: 'b', host: 'node-b' },
];

test('the least loaded agent, ties by host; none when the network has enough', () => {
  assert.deepEqual(pickDhcpAgents(agents, 0, 1, new Map()), ['a']);
  assert.deepEqual(pickDhcpAgents(agents, 0, 1, new Map([['a', 2], ['b', 1]])), ['c']);
  assert.deepEqual(pickDhcpAgents(agents, 0, 2, new Map([['a', 2], ['b', 1], ['c', 1]])), ['b', 'c']);
  assert.deepEqual(pickDhcpAgents(agents, 1, 1, new Map()), []);
  assert.deepEqual(pickDhcpAgents(agents, 1, 3, new Map()), ['a', 'b']);
  assert.deepEqual(pickDhcpAgents([], 0, 1, new Map()), []);
});

test('an agent on the host of the network\'s DHCP port comes first, whatever its load', () => {
  assert.deepEqual(pickDhcpAgents(agents, 0, 1, new Map([['c', 9]]), new Set(['node-c'])), ['c']);
  assert.deepEqual(pickDhcpAgents(agents, 0, 2, new Map([['c', 9]]), new Set(['node-c'])), ['c', 'a']);
});

test('usable: a DHCP agent, up, alive (agent_down_time)', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const row = { id: 'x', agent_type: 'DHCP agent', admin_state_up: true, heartbeat_timestamp: '2026-12-07 11:59:30' };
  assert.equal(dhcpAgentUsable(row, now, 75_000), true);
  assert.equal(dhcpAgentUsable({ ...row, admin_state_up: false }, now, 75_000), false);
  assert.equal(dhcpAgentUsable({ ...row, heartbeat_timestamp: '2026-12-07 11:58:00' }, now, 75_000), false);
  assert.equal(dhcpAgentUsable({ ...row, agent_type: 'v6stack agent' }, now, 75_000), false);
});

test('a binding id names the pair, so the store itself refuses a second one', () => {
  assert.equal(bindingId('n1', 'a1'), 'n1:a1');
  assert.notEqual(bindingId('n1', 'a1'), bindingId('n1', 'a2'));
});
