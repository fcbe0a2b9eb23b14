// Schema v5 keys segments by physical network too, and fills segment_allocations from the networks themselves (v4's
// table was filled lazily per type, and before v4 nothing stopped two networks from asking for one VNI): after the
// upgrade every network's segment is held, the first of a duplicate pair keeps it, and v4's VXLAN cursor is kept.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrations } from '../../src/store/schema.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { PostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { freshPgSchema, PG_SKIP } from './harness.js';

const NETWORKS = [
  { id: 'n-vxlan', 'provider:network_type': 'vxlan', 'provider:physical_network': null, 'provider:segmentation_id': 7 },
  { id: 'n-vxlan-dup', 'provider:network_type': 'vxlan', 'provider:physical_network': null, 'provider:segmentation_id': 7 },
  { id: 'n-vlan', 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 101 },
  { id: 'n-flat', 'provider:network_type': 'flat', 'provider:physical_network': 'physnet2', 'provider:segmentation_id': null },
  { id: 'n-local', 'provider:network_type': 'local', 'provider:physical_network': null, 'provider:segmentation_id': null },
];
const V4 = 4;

/** What v4 had recorded: the VXLAN segment and its cursor (VLAN and flat were never recorded there). */
const V4_STATE = [
  "INSERT INTO network_segments (network_type, segmentation_id, network_id) VALUES ('vxlan', 7, 'n-vxlan')",
  "INSERT INTO segment_cursors (network_type, last_id) VALUES ('vxlan', 7)",
];

async function check(store: Store): Promise<void> {
  await store.read(async (tx) => {
    assert.equal(await tx.tryReserveSegment({ network_type: 'vxlan', physical_network: '', segmentation_id: 7 }, 'x'), false);
    assert.equal(await tx.tryReserveSegment({ network_type: 'vlan', physical_network: 'physnet1', segmentation_id: 101 }, 'x'), false);
    assert.equal(await tx.tryReserveSegment({ network_type: 'flat', physical_network: 'physnet2', segmentation_id: 0 }, 'x'), false);
    assert.equal(await tx.countSegments('vxlan', ''), 1);
    assert.equal(await tx.countSegments('local', ''), 0);
    assert.equal(await tx.segmentCursor('vxlan', ''), 7);
  });
}

describe('schema v5 carries existing segments over', () => {
  it('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-seg-'));
    try {
      const file = join(dir, 'v6stack.db');
      const db = new Database(file);
      db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      for (const sql of migrations('sqlite').slice(0, V4).flat()) db.exec(sql);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(V4);
      for (const n of NETWORKS) db.prepare('INSERT INTO networks (id, body) VALUES (?, ?)').run(n.id, JSON.stringify(n));
      for (const sql of V4_STATE) db.exec(sql);
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
        for (const sql of migrations('postgres').slice(0, V4).flat()) await c.query(sql);
        await c.query('INSERT INTO schema_version (version) VALUES ($1)', [V4]);
        for (const n of NETWORKS) await c.query('INSERT INTO networks (id, body) VALUES ($1, $2)', [n.id, JSON.stringify(n)]);
        for (const sql of V4_STATE) await c.query(sql);
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
