// What only the PostgreSQL store has to get right: several servers migrating one database at once, deadlocks rerun,
// the change feed in commit order although transactions take their seq in another, and its pool settings.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore, numberPlaceholders } from '../../src/store/postgres.js';
import { openStore } from '../../src/store/index.js';
import { migrations } from '../../src/store/schema.js';
import { UniqueViolation } from '../../src/store/types.js';
import { changesShown, freshPgSchema, PG_SKIP, withStore } from './harness.js';

describe('postgres: placeholders', () => {
  it('numbers ? placeholders in order', () => {
    assert.equal(numberPlaceholders('SELECT a FROM t WHERE b = ? AND c IN (?, ?)'), 'SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)');
    assert.equal(numberPlaceholders('SELECT 1'), 'SELECT 1');
  });
});

/** Resolves when `n` parties have arrived. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return () => {
    if (++arrived >= n) open();
    return opened;
  };
}

describe('postgres store', { skip: PG_SKIP }, () => {
  it('migrates once when several servers start together on an empty database', async () => {
    const { url, schema, drop } = await freshPgSchema();
    const stores: PostgresStore[] = [];
    try {
      const started = await Promise.allSettled(Array.from({ length: 4 }, () => PostgresStore.connect(url)));
      for (const s of started) if (s.status === 'fulfilled') stores.push(s.value);
      assert.deepEqual(started.filter((s) => s.status === 'rejected'), []);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const v = await c.query('SELECT version FROM schema_version');
        assert.deepEqual(v.rows, [{ version: migrations('postgres').length }]);
        const t = await c.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [schema]);
        assert.ok(t.rows[0].n >= 15, `tables in ${schema}: ${t.rows[0].n}`);
      } finally {
        await c.end();
      }
      // And each of them works on the shared tables.
      await Promise.all(stores.map((s, i) => s.write((tx) => tx.insert('network', { id: `n${i}` }))));
      assert.equal(await stores[0]!.read((tx) => tx.count('network')), 4);
    } finally {
      for (const s of stores) await s.close();
      await drop();
    }
  });

  it('reruns the whole transaction after a deadlock', () =>
    withStore('postgres', async ({ store, peer }) => {
      const other = (await peer()) as PostgresStore;
      const both = barrier(2);
      let runs = 0;
      // Two servers lock two subnets in opposite orders: PostgreSQL aborts one with 40P01; its fn runs again.
      const lockBoth = (s: PostgresStore, first: string, second: string) =>
        s.write(async (tx) => {
          runs++;
          await tx.ipamCursor(first);
          await both();
          await tx.ipamCursor(second);
          await tx.allocate({ subnet_id: first, ip_address: `2001:db8::${second}`, port_id: 'p', network_id: 'n' });
          await tx.setIpamCursor(second, `2001:db8::${first}`);
          return 'done';
        });
      const results = await Promise.all([lockBoth(store as PostgresStore, 'a', 'b'), lockBoth(other, 'b', 'a')]);
      assert.deepEqual(results, ['done', 'done']);
      assert.equal(runs, 3, 'one of the two ran twice');
      assert.equal((store as PostgresStore).retries + other.retries, 1);
      await store.read(async (tx) => {
        assert.equal(await tx.countAllocations('a'), 1);
        assert.equal(await tx.countAllocations('b'), 1);
      });
    }));

  it('gives up on a retryable failure after maxAttempts and reports it', async () => {
    const { url, drop } = await freshPgSchema();
    const a = await PostgresStore.connect(url, { maxAttempts: 1 });
    const b = await PostgresStore.connect(url, { maxAttempts: 1 });
    try {
      const both = barrier(2);
      const lockBoth = (s: PostgresStore, first: string, second: string) =>
        s.write(async (tx) => {
          await tx.ipamCursor(first);
          await both();
          await tx.ipamCursor(second);
        });
      const results = await Promise.allSettled([lockBoth(a, 'a', 'b'), lockBoth(b, 'b', 'a')]);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(rejected.length, 1);
      assert.equal((rejected[0]!.reason as { code?: string }).code, '40P01');
    } finally {
      await a.close();
      await b.close();
      await drop();
    }
  });

  it('hands out changes in commit order: a reader never steps past a change still being committed', () =>
    withStore('postgres', async ({ store, peer }) => {
      const other = await peer();
      let letGo!: () => void;
      const hold = new Promise<void>((r) => (letGo = r));
      let recorded!: () => void;
      const slowRecorded = new Promise<void>((r) => (recorded = r));
      // The slow transaction writes first (so it holds the older transaction id) but commits last. (Its change row
      // itself is held back to ride with the commit of its batch: what orders the feed is the transaction id.)
      const slow = store.write(async (tx) => {
        await tx.insert('network', { id: 'slow' });
        await tx.recordChange('network', 'slow', 'create');
        // Pipelined writes are sent but not awaited: an awaited read on the same connection returns only once the
        // server has run them, so the slow transaction really holds its (older) transaction id before 'fast' writes.
        // Without it, on a loaded machine 'fast' could reach the server first and be published first: correct
        // commit order, but not the race this test is about.
        await tx.get('network', 'slow');
        recorded();
        await hold;
      });
      await slowRecorded;
      await other.write((tx) => tx.recordChange('network', 'fast', 'create'));

      let early;
      try {
        early = await store.changesSince(0, 100);
      } finally {
        letGo();
        await slow;
      }
      assert.deepEqual(early, [], 'nothing is published while an older transaction that wrote is still open');
      const later = await changesShown(other, 0, 100, 2);
      assert.deepEqual(later.map((c) => c.id), ['slow', 'fast']);
      assert.deepEqual(later.map((c) => c.seq), [1, 2]);
    }));

  it('publishes at once while an unrelated transaction stays open: another schema\'s, or one that wrote no change', () =>
    withStore('postgres', async ({ store, url }) => {
      // Another database user of the same cluster (another server's schema, a psql left in a transaction): it holds
      // an older transaction id for as long as it likes, and has nothing to do with this feed. So does a transaction
      // on this very schema that has written no change.
      const { url: elsewhere, drop } = await freshPgSchema();
      const outsider = new pg.Client({ connectionString: elsewhere });
      const reader = new pg.Client({ connectionString: url });
      await outsider.connect();
      await reader.connect();
      try {
        await outsider.query('BEGIN');
        await outsider.query('CREATE TABLE t (x int)'); // takes a transaction id
        await reader.query('BEGIN');
        await reader.query('SELECT pg_current_xact_id()');
        await store.write((tx) => tx.recordChange('network', 'n1', 'create'));
        const got = await store.changesSince(0, 100);
        assert.deepEqual(got.map((c) => c.id), ['n1'], 'a committed change is published while unrelated transactions stay open');
      } finally {
        await outsider.end();
        await reader.end();
        await drop();
      }
    }));

  it('runs a batch pipelined, and reruns it with savepoints only when one write must be undone alone', () =>
    withStore('postgres', async ({ store }) => {
      const pgStore = store as PostgresStore;
      const missing = new Error('not there');
      // A write that fails having changed nothing is answered with its error; the batch needs no rerun.
      const first = await Promise.allSettled([
        store.write((tx) => tx.insert('network', { id: 'a', name: 'a' }, true)),
        store.write(async (tx) => {
          if (!(await tx.get('network', 'nope'))) throw missing;
        }),
        store.write(async (tx) => {
          await tx.insert('network', { id: 'b', name: 'b' }, true);
          return (await tx.get('network', 'a'))?.name;
        }),
      ]);
      assert.deepEqual(first, [
        { status: 'fulfilled', value: undefined },
        { status: 'rejected', reason: missing },
        { status: 'fulfilled', value: 'a' },
      ]);
      assert.equal(pgStore.careful, 0, 'no careful rerun');
      // An insert that breaks a rule is not waited for in a pipelined batch: it aborts the transaction, and the
      // batch is rerun with savepoints, where the failing write alone is rolled back and gets its UniqueViolation.
      const second = await Promise.allSettled([
        store.write((tx) => tx.insert('network', { id: 'c', name: 'c' }, true)),
        store.write(async (tx) => {
          await tx.insert('network', { id: 'd', name: 'd' }, true);
          await tx.insert('network', { id: 'a', name: 'again' }, true);
        }),
        store.write((tx) => tx.insert('network', { id: 'e', name: 'e' }, true)),
      ]);
      assert.equal(second[0].status, 'fulfilled');
      assert.equal(second[1].status, 'rejected');
      assert.equal(((second[1] as PromiseRejectedResult).reason as UniqueViolation).constraint, 'id');
      assert.equal(second[2].status, 'fulfilled');
      assert.equal(pgStore.careful, 1, 'one careful rerun');
      await store.read(async (tx) => {
        assert.deepEqual((await tx.list('network')).map((d) => `${d.id}:${d.name}`), ['a:a', 'b:b', 'c:c', 'e:e']);
      });
      assert.deepEqual((await changesShown(store, 0, 10, 4)).map((c) => c.id), ['a', 'b', 'c', 'e']);
    }));

  it("locks a subnet once per batch: the batch's writes see each other's cursor moves, a rerun starts afresh", () =>
    withStore('postgres', async ({ store }) => {
      const pgStore = store as PostgresStore;
      const a = (ip: string) => ({ subnet_id: 's', ip_address: `2001:db8::${ip}`, port_id: `p${ip}`, network_id: 'n' });
      /** Takes an address and moves the cursor to it; answers the cursor it found. */
      const take = (ip: string, fail?: Error) =>
        store.write(async (tx) => {
          const before = await tx.ipamCursor('s');
          assert.equal(await tx.tryAllocate(a(ip), true), true);
          if (fail) throw fail;
          return before;
        });
      const cursorOf = (subnet: string) => store.write((tx) => tx.ipamCursor(subnet));
      // One pipelined batch: each write finds the cursor where the one before it left it, set either way.
      const first = await Promise.all([
        take('1'),
        take('2'),
        store.write(async (tx) => {
          const before = await tx.ipamCursor('s');
          await tx.setIpamCursor('s', '2001:db8::10');
          return before;
        }),
        cursorOf('s'),
        // A subnet's IPAM state dropped in the batch is made afresh by the next write that locks it.
        store.write(async (tx) => {
          await tx.ipamCursor('t');
          assert.equal(await tx.tryAllocate({ ...a('1'), subnet_id: 't' }, true), true);
        }),
        store.write(async (tx) => {
          await tx.release('t', '2001:db8::1', false);
          await tx.dropIpam('t');
        }),
        cursorOf('t'),
      ]);
      assert.deepEqual(first, [null, '2001:db8::1', '2001:db8::2', '2001:db8::10', undefined, undefined, null]);
      assert.equal(pgStore.careful, 0);
      // A write that fails after taking an address undoes the batch, which runs again with savepoints: its cursor
      // move is forgotten with it, and the others find the cursor as the database has it.
      const boom = new Error('boom');
      const second = await Promise.allSettled([take('11'), take('12', boom), take('13'), cursorOf('s')]);
      assert.deepEqual(second, [
        { status: 'fulfilled', value: '2001:db8::10' },
        { status: 'rejected', reason: boom },
        { status: 'fulfilled', value: '2001:db8::11' },
        { status: 'fulfilled', value: '2001:db8::13' },
      ]);
      assert.equal(pgStore.careful, 1);
      await store.read(async (tx) => {
        assert.deepEqual((await tx.allocationsOfSubnet('s')).map((x) => x.ip_address).sort(), ['1', '11', '13', '2'].map((i) => `2001:db8::${i}`));
        assert.equal(await tx.countAllocations('t'), 0);
      });
    }));

  it('takes its pool size from the options or the URL, and opens through openStore', async () => {
    const { url, drop } = await freshPgSchema();
    const u = new URL(url);
    u.searchParams.set('pool_size', '2');
    const store = await openStore(u.toString());
    try {
      assert.equal(store.dialect, 'postgres');
      // More writers than connections: they queue for the two and all land.
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.write((tx) => tx.insert('network', { id: `n${i}` }))));
      assert.equal(await store.read((tx) => tx.count('network')), 20);
      u.searchParams.set('pool_size', 'zero');
      await assert.rejects(PostgresStore.connect(u.toString()), /invalid PostgreSQL pool size/);
    } finally {
      await store.close();
      await drop();
    }
  });

  it('refuses a database whose schema is newer than this code', async () => {
    const { url, drop } = await freshPgSchema();
    try {
      const s = await PostgresStore.connect(url);
      await s.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('UPDATE schema_version SET version = 999');
      await c.end();
      await assert.rejects(PostgresStore.connect(url), /schema version 999 is newer/);
    } finally {
      await drop();
    }
  });
});
