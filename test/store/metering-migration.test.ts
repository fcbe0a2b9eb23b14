// The metering migration gives a store made before it the metering tables: a store of the previous
// version, with a network in it, upgrades in place and then holds labels, rules and counts, keeping what it had.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { KIND_TABLES, METERING_KINDS, migrations } from '../../src/store/schema.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { PostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { freshPgSchema, PG_SKIP } from './harness.js';

const NETWORK = { id: 'net-1', name: 'old', project_id: 'p' };

/** The version before metering's migration (found by what it makes: other migrations may be appended after it). */
function meteringVersion(dialect: 'sqlite' | 'postgres'): number {
  const at = migrations(dialect).findIndex((m) => m.some((sql) => /CREATE TABLE IF NOT EXISTS metering_labels\b/.test(sql)));
  assert.ok(at > 0, 'a migration makes the metering tables');
  return at;
}

/** The statements of every migration before metering's, as a server of that version ran them. */
function before(dialect: 'sqlite' | 'postgres'): string[] {
  const tables = new Set(METERING_KINDS.map((k) => KIND_TABLES[k].table));
  // v1 makes every kind's table of today; a store of the previous version had none of metering's.
  return migrations(dialect)
    .slice(0, meteringVersion(dialect))
    .flat()
    .filter((sql) => ![...tables].some((t) => new RegExp(`\\b${t}\\b`).test(sql)));
}

async function check(store: Store): Promise<void> {
  await store.write(async (tx) => {
    await tx.insert('metering_label', { id: 'label-1', name: 'l', description: '', project_id: 'p', tenant_id: 'p', shared: false }, true);
    await tx.insert('metering_label_rule', { id: 'rule-1', metering_label_id: 'label-1', direction: 'egress', excluded: false, remote_ip_prefix: '2001:db8::/32', source_ip_prefix: null, destination_ip_prefix: null }, true);
    await tx.insert('metering_counter', { id: 'label-1/r/h', metering_label_id: 'label-1', router_id: 'r' }, false);
  });
  await store.read(async (tx) => {
    assert.equal((await tx.get('network', NETWORK.id))?.name, 'old', 'what the store had is kept');
    assert.equal((await tx.list('metering_label_rule', { metering_label_id: ['label-1'] })).length, 1);
    assert.equal((await tx.list('metering_counter', { metering_label_id: ['label-1'] })).length, 1);
  });
}

describe('the metering migration upgrades a store in place', () => {
  it('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-meter-mig-'));
    try {
      const file = join(dir, 'v6stack.db');
      const db = new Database(file);
      db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      for (const sql of before('sqlite')) db.exec(sql);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(meteringVersion('sqlite'));
      db.prepare('INSERT INTO networks (id, project_id, name, body) VALUES (?, ?, ?, ?)').run(NETWORK.id, NETWORK.project_id, NETWORK.name, JSON.stringify(NETWORK));
      assert.equal((db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'metering_labels'").get() as { n: number }).n, 0);
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
        await c.query('CREATE TABLE schema_version (version INTEGER NOT NULL)');
        for (const sql of before('postgres')) await c.query(sql);
        await c.query('INSERT INTO schema_version (version) VALUES ($1)', [meteringVersion('postgres')]);
        await c.query('INSERT INTO networks (id, project_id, name, body) VALUES ($1, $2, $3, $4)', [NETWORK.id, NETWORK.project_id, NETWORK.name, JSON.stringify(NETWORK)]);
        assert.equal((await c.query("SELECT to_regclass('metering_labels') AS t")).rows[0].t, null);
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
