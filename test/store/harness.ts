// Fresh stores for the store tests: SQLite in a temp directory, always; PostgreSQL in a uniquely named schema of
// the database V6STACK_TEST_PG_URL names (search_path set through the URL's `options`), dropped afterwards.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import Database from 'better-sqlite3';
import { migrations } from '../../src/store/schema.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { PostgresStore, numberPlaceholders } from '../../src/store/postgres.js';
import type { Change, Store } from '../../src/store/types.js';

export type Dialect = 'sqlite' | 'postgres';

export const PG_URL = process.env.V6STACK_TEST_PG_URL;
export const PG_SKIP = PG_URL
  ? false
  : 'V6STACK_TEST_PG_URL is not set, so the PostgreSQL store is not tested (bash scripts/ci-postgres.sh prints a URL)';

export interface Fresh {
  /** A URL openStore understands, for this empty database. */
  url: string;
  store: Store;
  /** Another store on the same database, as a second API server would open it (PostgreSQL only). */
  peer(): Promise<Store>;
  dispose(): Promise<void>;
}

/** Runs SQL as the test role on the test database itself (not in the fresh schema). */
async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** An empty PostgreSQL schema and a URL whose connections use it; nothing is created in it yet. */
export async function freshPgSchema(): Promise<{ url: string; schema: string; drop: () => Promise<void> }> {
  const schema = `v6test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE SCHEMA ${schema}`));
  const u = new URL(PG_URL!);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return { url: u.toString(), schema, drop: () => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => {}) };
}

export async function fresh(dialect: Dialect): Promise<Fresh> {
  const opened: Store[] = [];
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-store-'));
    const path = join(dir, 'v6stack.db');
    const store = new SqliteStore(path);
    opened.push(store);
    return {
      url: `sqlite:${path}`,
      store,
      peer: async () => {
        throw new Error('the embedded store is one process; it has no peers');
      },
      dispose: async () => {
        for (const s of opened) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { url, drop } = await freshPgSchema();
  const store = await PostgresStore.connect(url);
  opened.push(store);
  return {
    url,
    store,
    peer: async () => {
      const s = await PostgresStore.connect(url);
      opened.push(s);
      return s;
    },
    dispose: async () => {
      for (const s of opened) await s.close();
      await drop();
    },
  };
}

/** Runs fn with a fresh store of that dialect and disposes of it however fn ends. */
export async function withStore<T>(dialect: Dialect, fn: (f: Fresh) => Promise<T>): Promise<T> {
  const f = await fresh(dialect);
  try {
    return await fn(f);
  } finally {
    await f.dispose();
  }
}

/** The dialects to run the contract against, each with its skip reason (false: run it). */
export const DIALECTS: { dialect: Dialect; skip: string | false }[] = [
  { dialect: 'sqlite', skip: false },
  { dialect: 'postgres', skip: PG_SKIP },
];

/**
 * changesSince, waiting (a bounded while) until it shows at least `count` changes. On PostgreSQL a committed change
 * is published once every older transaction that wrote to the same feed has ended; SQLite answers at once.
 */
export async function changesShown(store: Store, since: number, limit: number, count: number): Promise<Change[]> {
  for (let i = 0; ; i++) {
    const got = await store.changesSince(since, limit);
    if (got.length >= count || i >= 400) return got;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A store as an older server left it, for the migration tests: the schema of `version` (migrations 1..version and
 * nothing after) holding `rows` (SQL with ? placeholders, and their values), then opened by today's store, which
 * upgrades it, and handed to `check`. Removed afterwards, however `check` ends.
 */
export async function withOldStore(dialect: Dialect, version: number, rows: [string, unknown[]][], check: (store: Store) => Promise<void>): Promise<void> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-old-'));
    try {
      const file = join(dir, 'v6stack.db');
      const db = new Database(file);
      db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      for (const sql of migrations('sqlite').slice(0, version).flat()) db.exec(sql);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(version);
      for (const [sql, values] of rows) db.prepare(sql).run(...values);
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
    return;
  }
  const { url, drop } = await freshPgSchema();
  try {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      for (const sql of migrations('postgres').slice(0, version).flat()) await c.query(sql);
      await c.query('INSERT INTO schema_version (version) VALUES ($1)', [version]);
      for (const [sql, values] of rows) await c.query(numberPlaceholders(sql), values);
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
}
