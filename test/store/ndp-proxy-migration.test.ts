// The NDP proxy migration: a store made before it upgrades in place. Its routers (stored without the attribute)
// show enable_ndp_proxy false, as Neutron's routers without a router_ndp_proxy_state row do; the ndp_proxies table
// exists, is filterable by router and port, and holds Neutron's unique (router_id, ip_address) as the last guard.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrations, type Dialect } from '../../src/store/schema.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { PostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { freshPgSchema, PG_SKIP } from './harness.js';

/** The schema version just before the NDP proxy migration (found by its statement: the lead may renumber it). */
const before = (d: Dialect): number => migrations(d).findIndex((m) => m.some((s) => s.includes('ndp_proxies_router_ip')));

const ROUTER = { id: 'r-1', name: 'old', project_id: 'p', tenant_id: 'p', admin_state_up: true, status: 'ACTIVE', external_gateway_info: null, routes: [] };
const ROUTER_ROW = [ROUTER.id, ROUTER.project_id, ROUTER.name, JSON.stringify(ROUTER)];
const proxy = (id: string, ip: string) => ({ id, name: '', project_id: 'p', tenant_id: 'p', router_id: 'r-1', port_id: 'port-1', ip_address: ip, description: '' });

async function check(store: Store): Promise<void> {
  await store.read(async (tx) => {
    assert.equal((await tx.get('router', 'r-1'))?.enable_ndp_proxy, false, 'the stored router got enable_ndp_proxy false');
  });
  await store.write(async (tx) => {
    await tx.insert('ndp_proxy', proxy('np-1', '2001:db8::5'), true);
  });
  await store.read(async (tx) => {
    assert.deepEqual((await tx.list('ndp_proxy', { router_id: ['r-1'] })).map((d) => d.id), ['np-1']);
    assert.equal(await tx.count('ndp_proxy', { port_id: ['port-1'] }), 1);
  });
  await assert.rejects(store.write((tx) => tx.insert('ndp_proxy', proxy('np-2', '2001:db8::5'), true)), 'one proxy per router and address');
  await store.write((tx) => tx.insert('ndp_proxy', proxy('np-3', '2001:db8::6'), true));
}

describe('the NDP proxy migration upgrades a store in place', () => {
  it('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-ndp-mig-'));
    try {
      const file = join(dir, 'v6stack.db');
      const db = new Database(file);
      const v = before('sqlite');
      assert.ok(v > 0);
      db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      for (const sql of migrations('sqlite').slice(0, v).flat()) db.exec(sql);
      // v1 makes every kind's table on a fresh store: drop the new one, as a store made before it has none.
      db.exec('DROP TABLE IF EXISTS ndp_proxies');
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v);
      db.prepare('INSERT INTO routers (id, project_id, name, body) VALUES (?, ?, ?, ?)').run(...ROUTER_ROW);
      db.close();
      const store = new SqliteStore(file);
      try {
        await check(store);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('postgres', { skip: PG_SKIP }, async () => {
    const { url, drop } = await freshPgSchema();
    try {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const v = before('postgres');
        await c.query('CREATE TABLE schema_version (version INTEGER NOT NULL)');
        for (const sql of migrations('postgres').slice(0, v).flat()) await c.query(sql);
        await c.query('DROP TABLE IF EXISTS ndp_proxies');
        await c.query('INSERT INTO schema_version (version) VALUES ($1)', [v]);
        await c.query('INSERT INTO routers (id, project_id, name, body) VALUES ($1, $2, $3, $4)', ROUTER_ROW);
      } finally {
        await c.end();
      }
      const store = await PostgresStore.connect(url);
      try {
        await check(store);
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  });
});
