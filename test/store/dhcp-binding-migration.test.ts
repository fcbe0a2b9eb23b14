// Schema v12 adds the network -> DHCP agent bindings (dhcp_agent_scheduler). A store of v11 has DHCP ports on their
// hosts and no bindings: it upgrades in place, and when the host's agent reports (its "DHCP agent" row appears) the
// network is bound to it and its port stays as it was: nothing is moved or re-made by the upgrade.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ApiServer } from '../../src/api/server.js';
import { openStore } from '../../src/store/index.js';
import { migrations } from '../../src/store/schema.js';
import { freshStoreUrl, type Backend } from '../helpers/v6stack.js';
import { PG_SKIP } from './harness.js';

/** The schema version just before the DHCP binding migration (found by its table: the lead renumbers migrations). */
const V9 = migrations('sqlite').findIndex((m) => m.some((s) => /CREATE TABLE IF NOT EXISTS network_dhcp_agent_bindings\b/.test(s)));
assert.ok(V9 > 0, 'the DHCP binding migration is found');

async function serve(url: string): Promise<{ request: (m: string, p: string, b?: unknown) => Promise<{ status: number; body: any }>; close: () => Promise<void> }> {
  const store = await openStore(url);
  const server = new ApiServer({ store, defaultProjectId: 'mig' });
  const { port } = await server.listen(0, '::1');
  return {
    async request(method, path, body) {
      const res = await fetch(`http://[::1]:${port}${path}`, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async close() {
      await server.close();
      await store.close();
    },
  };
}

/** Back to v11: v12's table and the DHCP agent rows dropped and the version set back, as a v11 server left the store. */
async function toV9(backend: Backend, url: string): Promise<void> {
  const sql = ['DROP TABLE network_dhcp_agent_bindings', `DELETE FROM agents WHERE body LIKE '%"neutron-dhcp-agent"%'`, `UPDATE schema_version SET version = ${V9}`];
  if (backend === 'sqlite') {
    const db = new Database(url.replace(/^sqlite:/, ''));
    for (const s of sql) db.exec(s);
    db.close();
    return;
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of sql) await c.query(s);
  } finally {
    await c.end();
  }
}

async function upgrade(backend: Backend): Promise<void> {
  const fresh = await freshStoreUrl(backend);
  let s = await serve(fresh.url);
  try {
    // The v9 host's agent had reported (its row, alive, stays through the upgrade).
    assert.equal((await s.request('PUT', '/v6stack/v1/agents/mig-1/v6stack-agent', { agent: { agent_type: 'v6stack agent', configurations: { role: 'network' } } })).status, 200);
    const old = (await s.request('GET', '/v2.0/agents?agent_type=DHCP%20agent')).body.agents;
    assert.equal((await s.request('PUT', `/v2.0/agents/${old[0].id}`, { agent: { admin_state_up: false } })).status, 200, 'not scheduled to here: v9 had no bindings');
    const net = (await s.request('POST', '/v2.0/networks', { network: { name: 'old' } })).body.network;
    const sub = (await s.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:f1::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' } })).body.subnet;
    // The DHCP port as a v9 agent left it, on its host (no agent has reported to this server yet).
    const made = await s.request('POST', '/v2.0/ports', {
      port: { network_id: net.id, device_owner: 'network:dhcp', device_id: `dhcp-mig-1-${net.id}`, 'binding:host_id': 'mig-1', name: '', fixed_ips: [{ subnet_id: sub.id }] },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await s.close();
    await toV9(backend, fresh.url);

    s = await serve(fresh.url);
    const before = (await s.request('GET', `/v2.0/ports/${made.body.port.id}`)).body.port;
    assert.deepEqual(before.fixed_ips, made.body.port.fixed_ips, 'the upgrade and the start keep the port');
    assert.deepEqual((await s.request('GET', `/v2.0/networks/${net.id}/dhcp-agents`)).body.agents, []);
    // Another host reports first: the network stays where its port is (that host's agent, alive, is still to report).
    assert.equal((await s.request('PUT', '/v6stack/v1/agents/mig-0/v6stack-agent', { agent: { agent_type: 'v6stack agent', configurations: { role: 'network' } } })).status, 200);
    assert.deepEqual((await s.request('GET', `/v2.0/networks/${net.id}/dhcp-agents`)).body.agents, [], 'waits for mig-1');
    assert.equal((await s.request('PUT', '/v6stack/v1/agents/mig-1/v6stack-agent', { agent: { agent_type: 'v6stack agent', configurations: { role: 'network' } } })).status, 200);
    const agents = (await s.request('GET', `/v2.0/networks/${net.id}/dhcp-agents`)).body.agents;
    assert.deepEqual(agents.map((a: any) => [a.host, a.agent_type]), [['mig-1', 'DHCP agent']]);
    const ports = (await s.request('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`)).body.ports;
    assert.deepEqual(
      ports.map((p: any) => [p.id, p['binding:host_id'], p.fixed_ips]),
      [[made.body.port.id, agents[0].host, made.body.port.fixed_ips]],
      'one port, its address kept, on the host of the agent the network is bound to',
    );
  } finally {
    await s.close();
    await fresh.dispose();
  }
}

describe('schema v12 upgrades a store with DHCP ports in place', () => {
  it('sqlite', () => upgrade('sqlite'));
  it('postgres', { skip: PG_SKIP }, () => upgrade('postgres'));
});
