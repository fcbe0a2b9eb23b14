// The PostgreSQL store, for several API servers sharing one database. Same contract as the embedded store:
//
// - write(fn) runs in a READ COMMITTED transaction shared by the writes queued together (group commit, see write),
//   each under its own savepoint, committed (and so, with the server's default synchronous_commit = on, flushed to
//   the WAL) before the promise resolves. A deadlock or serialization failure (40P01, 40001) rolls the write back to
//   its savepoint and runs it again in a later batch, a bounded number of times.
// - ipamCursor(subnet) locks the subnet's ipam_subnets row (SELECT ... FOR UPDATE) until the transaction ends: the
//   allocators of one subnet queue there, whichever server they run on, and each sees its predecessor's allocations
//   because READ COMMITTED takes a fresh snapshot for every statement after the lock is granted.
// - Uniqueness breaks surface as UniqueViolation with SQLite's names. Inserts use ON CONFLICT DO NOTHING and report
//   the conflict themselves, so (as on SQLite) the transaction stays usable when fn catches the error; a port update
//   runs under a savepoint for the same reason. Any 23505 that does surface is mapped by its constraint name.
// - The change feed is published in commit order (see schema.ts, v2).
// - Migrations run in one transaction under an advisory lock, so servers starting together migrate once.

import pg from 'pg';
import { migrations, tableOf } from './schema.js';
import { columnValues, countSql, joinedBodiesSql, insertSql, selectBodySql, updateParams, updateSql, whereClause } from './sql.js';
import type { Allocation, Change, ColumnFilters, Doc, Kind, Store, Tx } from './types.js';
import { UniqueViolation } from './types.js';

export interface PostgresOptions {
  /** Pooled connections (default 16, or the URL's `pool_size` query parameter). */
  poolSize?: number;
  /** Runs of fn before a deadlock or serialization failure is given up on (default 8). */
  maxAttempts?: number;
}

export const DEFAULT_POOL_SIZE = 16;
const DEFAULT_MAX_ATTEMPTS = 8;
/** Advisory lock keys (pg_advisory_xact_lock): schema migrations, and publishing the change feed. */
const MIGRATION_LOCK = 7636917301;
const FEED_LOCK = 7636917302;
/** Statement texts converted and prepared once; past this many (IN lists of every length), texts run unprepared. */
const MAX_CACHED_STATEMENTS = 2000;
/** Kinds whose update can break a uniqueness rule besides the id (a port's MAC). */
const GUARDED_UPDATES = new Set<Kind>(['port']);

const RETRYABLE = new Set(['40001', '40P01']);
/** Writes one group-commit transaction carries at most. */
const MAX_BATCH = 64;

interface Job {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  attempts: number;
}

interface PgError {
  code?: string;
  constraint?: string;
}

function isRetryable(e: unknown): boolean {
  return RETRYABLE.has((e as PgError)?.code ?? '');
}

/** Maps a PostgreSQL unique violation onto the rule it protects, by constraint (or unique index) name. */
export function uniqueViolation(e: unknown): UniqueViolation | null {
  const err = e as PgError;
  if (err?.code !== '23505') return null;
  switch (err.constraint) {
    case 'ports_network_mac':
      return new UniqueViolation('port_mac');
    case 'ip_allocations_pkey':
      return new UniqueViolation('ip_allocation');
    case 'default_security_groups_pkey':
      return new UniqueViolation('default_security_group');
    default:
      return new UniqueViolation('id');
  }
}

interface Prepared {
  text: string;
  name: string | undefined;
}

/** `?` placeholders to `$1, $2, ...` (our statements have no `?` inside literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  private readonly statements = new Map<string, Prepared>();
  private readonly maxAttempts: number;
  private closed = false;
  private queue: Job[] = [];
  private draining = false;
  /** Transactions rerun after a deadlock or serialization failure (for operators and tests). */
  retries = 0;
  /** Projects' default security group ids, as read from committed rows (see PgTx.defaultSecurityGroup). */
  readonly defaultGroups = new Map<string, string>();

  private constructor(
    private readonly pool: pg.Pool,
    options: PostgresOptions,
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  }

  static async connect(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const parsed = new URL(url);
    const fromUrl = parsed.searchParams.get('pool_size');
    parsed.searchParams.delete('pool_size');
    const poolSize = options.poolSize ?? (fromUrl ? Number(fromUrl) : DEFAULT_POOL_SIZE);
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`invalid PostgreSQL pool size ${fromUrl ?? poolSize}`);
    const pool = new pg.Pool({ connectionString: parsed.toString(), max: poolSize, application_name: 'v6stack' });
    // An idle pooled connection that drops (server restart) must not take the process down; the pool replaces it.
    pool.on('error', (e) => process.emitWarning(`v6stack: idle PostgreSQL connection failed: ${e.message}`));
    const store = new PostgresStore(pool, options);
    try {
      await store.migrate();
      await store.checkDurability();
    } catch (e) {
      await pool.end();
      throw e;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const all = migrations('postgres');
    await this.transaction(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const res = await c.query<{ version: number }>('SELECT version FROM schema_version');
      const current = res.rows[0]?.version ?? 0;
      if (current > all.length) throw new Error(`database schema version ${current} is newer than this v6stack (${all.length})`);
      if (current === all.length) return;
      for (let v = current; v < all.length; v++) for (const sql of all[v]!) await c.query(sql);
      await c.query('DELETE FROM schema_version');
      await c.query('INSERT INTO schema_version (version) VALUES ($1)', [all.length]);
    });
  }

  /** An acknowledged write is durable only if the server flushes its WAL at commit; say so when it does not. */
  private async checkDurability(): Promise<void> {
    const res = await this.pool.query<{ fsync: string; sc: string }>(
      "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc",
    );
    const row = res.rows[0]!;
    if (row.fsync !== 'on' || row.sc === 'off') {
      process.emitWarning(
        `v6stack: PostgreSQL has fsync=${row.fsync}, synchronous_commit=${row.sc}: acknowledged writes may be lost in a crash`,
      );
    }
  }

  /** The numbered text of a `?` statement, and a prepared-statement name while the cache has room. */
  prepared(sql: string): Prepared {
    let p = this.statements.get(sql);
    if (!p) {
      const text = numberPlaceholders(sql);
      if (this.statements.size >= MAX_CACHED_STATEMENTS) return { text, name: undefined };
      p = { text, name: `v6s${this.statements.size}` };
      this.statements.set(sql, p);
    }
    return p;
  }

  /**
   * Runs fn in one transaction on a pooled client; reruns it on deadlock or serialization failure. `failure()` tells
   * whether a statement inside hit one, even when fn caught (and wrapped) that error.
   */
  private async transaction<T>(fn: (client: pg.PoolClient, failure: (e: unknown) => void) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let retryable: unknown;
      const failure = (e: unknown) => {
        if (isRetryable(e)) retryable ??= e;
      };
      let broken: Error | undefined;
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        await client.query('BEGIN');
        const value = await fn(client, failure);
        const done = await client.query('COMMIT');
        // COMMIT of a transaction that a swallowed error had aborted answers ROLLBACK rather than failing.
        if (done.command === 'ROLLBACK') throw retryable ?? new Error('transaction was aborted by an earlier error and rolled back');
        outcome = { ok: true, value };
      } catch (e) {
        failure(e);
        try {
          await client.query('ROLLBACK');
        } catch (re) {
          broken = re as Error;
        }
        outcome = { ok: false, error: e };
      } finally {
        client.release(broken);
      }
      if (outcome.ok) return outcome.value;
      if (retryable === undefined || attempt >= this.maxAttempts) throw outcome.error;
      this.retries++;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
    }
  }

  /**
   * Group commit, as on SQLite: writes queue up and run in batches, one transaction per batch on one connection,
   * each write under its own SAVEPOINT so that its error rolls back only its own changes. A batch takes the subnet
   * locks and pays the commit's WAL flush once for all its writes, where one transaction per request made 8 clients
   * on one subnet wait for each other's flush. A write that hits a deadlock or serialization failure is rolled back
   * to its savepoint and queued again (bounded attempts). Callers are answered after the COMMIT.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject, attempts: 0 });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) await this.runBatch(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.draining = false;
      if (this.queue.length) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  private async runBatch(jobs: Job[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      for (const job of jobs) job.reject(e);
      return;
    }
    const answers: (() => void)[] = [];
    const again: Job[] = [];
    let broken: Error | undefined;
    try {
      // Round trips are what a write costs here (node-pg's CPU per statement and the loopback latency), so the
      // batch's fixed statements ride along with others as one simple-protocol query: BEGIN with the first
      // SAVEPOINT, and each write's change-feed rows, its RELEASE and the next write's SAVEPOINT together.
      await client.query('BEGIN; SAVEPOINT request');
      for (const [i, job] of jobs.entries()) {
        let retryable: unknown;
        const failure = (e: unknown): void => {
          if (isRetryable(e)) retryable ??= e;
        };
        const next = i < jobs.length - 1 ? '; SAVEPOINT request' : '';
        try {
          const tx = new PgTx(this, client, failure, true);
          const value = await job.fn(tx);
          // A deadlock that fn caught still aborted its statements: treat the write as failed.
          if (retryable !== undefined) throw retryable;
          await client.query(`${tx.changesSql()}RELEASE SAVEPOINT request${next}`);
          answers.push(() => {
            for (const [p, g] of tx.learned) this.defaultGroups.set(p, g);
            job.resolve(value);
          });
        } catch (e) {
          await client.query(`ROLLBACK TO SAVEPOINT request; RELEASE SAVEPOINT request${next}`);
          if ((retryable !== undefined || isRetryable(e)) && ++job.attempts < this.maxAttempts) {
            this.retries++;
            again.push(job);
          } else answers.push(() => job.reject(e));
        }
      }
      const done = await client.query('COMMIT');
      if (done.command === 'ROLLBACK') throw new Error('transaction was aborted by an earlier error and rolled back');
      for (const answer of answers) answer();
    } catch (e) {
      // The batch as a whole failed (connection lost, commit refused): nothing of it is durable.
      try {
        await client.query('ROLLBACK');
      } catch (re) {
        broken = re as Error;
      }
      for (const job of jobs) {
        if (again.includes(job)) continue;
        if (isRetryable(e) && ++job.attempts < this.maxAttempts) again.push(job);
        else job.reject(e);
      }
    } finally {
      client.release(broken);
    }
    if (again.length) this.queue.unshift(...again);
  }

  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    const client = await this.pool.connect();
    try {
      return await fn(new PgTx(this, client, () => {}));
    } finally {
      client.release();
    }
  }

  async changesSince(seq: number, limit: number): Promise<Change[]> {
    const pending = await this.pool.query('SELECT 1 FROM changes WHERE pub_seq IS NULL LIMIT 1');
    if (pending.rowCount) {
      await this.transaction(async (c) => {
        await c.query(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
        // Publishes, in (transaction, seq) order, the changes of every transaction older than all running ones:
        // no change can appear later behind what this hands out.
        await c.query(
          `WITH base AS (SELECT COALESCE(MAX(pub_seq), 0) AS b FROM changes),
                unpublished AS (SELECT seq, row_number() OVER (ORDER BY txid, seq) AS rn FROM changes
                         WHERE pub_seq IS NULL AND txid < pg_snapshot_xmin(pg_current_snapshot()))
           UPDATE changes c SET pub_seq = base.b + unpublished.rn FROM base, unpublished WHERE c.seq = unpublished.seq`,
        );
      });
    }
    const res = await this.pool.query<{ seq: string; kind: Kind; id: string; op: Change['op'] }>(
      'SELECT pub_seq AS seq, kind, id, op FROM changes WHERE pub_seq > $1 ORDER BY pub_seq LIMIT $2',
      [seq, limit],
    );
    return res.rows.map((r) => ({ seq: Number(r.seq), kind: r.kind, id: r.id, op: r.op }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining || this.queue.length) await new Promise((r) => setTimeout(r, 5));
    await this.pool.end();
  }
}

/** A SQL string literal (standard_conforming_strings is on by default: only quotes need doubling). */
const literal = (v: string): string => `'${v.replaceAll("'", "''")}'`;

class PgTx implements Tx {
  /** Change-feed rows held back to ride with the write's RELEASE (group-commit writes only). */
  private changes: string[] = [];
  /** Default security groups read in a batch, remembered by the store after its commit. */
  readonly learned = new Map<string, string>();

  constructor(
    private readonly store: PostgresStore,
    private readonly client: pg.PoolClient,
    private readonly failure: (e: unknown) => void,
    private readonly deferChanges = false,
  ) {}

  private async q<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    const p = this.store.prepared(sql);
    try {
      return await this.client.query<R>(p.name ? { name: p.name, text: p.text, values: params } : { text: p.text, values: params });
    } catch (e) {
      this.failure(e);
      throw uniqueViolation(e) ?? e;
    }
  }

  async get(kind: Kind, id: string): Promise<Doc | undefined> {
    const res = await this.q<{ body: string }>(`SELECT body FROM ${tableOf(kind).table} WHERE id = ?`, [id]);
    return res.rows[0] ? (JSON.parse(res.rows[0].body) as Doc) : undefined;
  }

  async list(kind: Kind, filters?: ColumnFilters): Promise<Doc[]> {
    return (await this.listRaw(kind, filters)).map((b) => JSON.parse(b) as Doc);
  }

  async listRaw(kind: Kind, filters?: ColumnFilters): Promise<string[]> {
    const w = whereClause(kind, filters);
    const res = await this.q<{ body: string }>(selectBodySql(kind, w.sql), w.params);
    return res.rows.map((r) => r.body);
  }

  async listJoined(kind: Kind, filters?: ColumnFilters): Promise<Buffer> {
    const w = whereClause(kind, filters);
    const res = await this.q<{ j: string | null }>(joinedBodiesSql(kind, w.sql, 'postgres'), w.params);
    return Buffer.from(res.rows[0]?.j ?? '', 'utf8');
  }

  async count(kind: Kind, filters?: ColumnFilters): Promise<number> {
    const w = whereClause(kind, filters);
    const res = await this.q<{ n: string }>(countSql(kind, w.sql), w.params);
    return Number(res.rows[0]!.n);
  }

  async insert(kind: Kind, doc: Doc): Promise<void> {
    const t = tableOf(kind);
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await this.q(`${insertSql(kind)} ON CONFLICT DO NOTHING`, columnValues(kind, doc));
      if (res.rowCount === 1) return;
      // Which rule did it break? (The conflicting row may have gone since; then try again.)
      if ((await this.q(`SELECT 1 FROM ${t.table} WHERE id = ?`, [doc.id])).rowCount) throw new UniqueViolation('id');
      if (kind === 'port' && doc.network_id != null && doc.mac_address != null) {
        const mac = await this.q('SELECT 1 FROM ports WHERE network_id = ? AND mac_address = ?', [
          String(doc.network_id),
          String(doc.mac_address),
        ]);
        if (mac.rowCount) throw new UniqueViolation('port_mac');
      }
    }
    throw new UniqueViolation('id');
  }

  async update(kind: Kind, doc: Doc): Promise<void> {
    if (!GUARDED_UPDATES.has(kind)) {
      await this.q(updateSql(kind), updateParams(kind, doc));
      return;
    }
    await this.q('SAVEPOINT guarded_update');
    try {
      await this.q(updateSql(kind), updateParams(kind, doc));
    } catch (e) {
      await this.q('ROLLBACK TO SAVEPOINT guarded_update');
      await this.q('RELEASE SAVEPOINT guarded_update');
      throw e;
    }
    await this.q('RELEASE SAVEPOINT guarded_update');
  }

  async remove(kind: Kind, id: string): Promise<boolean> {
    const res = await this.q(`DELETE FROM ${tableOf(kind).table} WHERE id = ?`, [id]);
    return (res.rowCount ?? 0) > 0;
  }

  async ipamCursor(subnetId: string): Promise<string | null> {
    const lock = 'SELECT cursor_ip FROM ipam_subnets WHERE subnet_id = ? FOR UPDATE';
    let res = await this.q<{ cursor_ip: string | null }>(lock, [subnetId]);
    if (!res.rowCount) {
      // First allocation on the subnet: make the row (waiting for a concurrent maker to finish), then lock it.
      await this.q('INSERT INTO ipam_subnets (subnet_id, cursor_ip) VALUES (?, NULL) ON CONFLICT DO NOTHING', [subnetId]);
      res = await this.q<{ cursor_ip: string | null }>(lock, [subnetId]);
    }
    return res.rows[0]?.cursor_ip ?? null;
  }

  async setIpamCursor(subnetId: string, cursor: string | null): Promise<void> {
    await this.q(
      'INSERT INTO ipam_subnets (subnet_id, cursor_ip) VALUES (?, ?) ON CONFLICT (subnet_id) DO UPDATE SET cursor_ip = excluded.cursor_ip',
      [subnetId, cursor],
    );
  }

  async isAllocated(subnetId: string, ip: string): Promise<boolean> {
    return ((await this.q('SELECT 1 FROM ip_allocations WHERE subnet_id = ? AND ip_address = ?', [subnetId, ip])).rowCount ?? 0) > 0;
  }

  async allocate(a: Allocation): Promise<void> {
    const res = await this.q(
      'INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [a.subnet_id, a.ip_address, a.port_id, a.network_id],
    );
    if (res.rowCount !== 1) throw new UniqueViolation('ip_allocation');
  }

  async tryAllocate(a: Allocation): Promise<boolean> {
    const res = await this.q(
      'INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [a.subnet_id, a.ip_address, a.port_id, a.network_id],
    );
    return res.rowCount === 1;
  }

  async release(subnetId: string, ip: string, behindCursor: boolean): Promise<void> {
    await this.q('DELETE FROM ip_allocations WHERE subnet_id = ? AND ip_address = ?', [subnetId, ip]);
    if (behindCursor) {
      await this.q('INSERT INTO ipam_released (subnet_id, ip_address) VALUES (?, ?) ON CONFLICT DO NOTHING', [subnetId, ip]);
    }
  }

  async takeReleased(subnetId: string): Promise<string | undefined> {
    // SKIP LOCKED: two takers (who did not lock the subnet first) never get the same address.
    const res = await this.q<{ ip_address: string }>(
      `DELETE FROM ipam_released WHERE subnet_id = ? AND ip_address = (
         SELECT ip_address FROM ipam_released WHERE subnet_id = ? LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING ip_address`,
      [subnetId, subnetId],
    );
    return res.rows[0]?.ip_address;
  }

  async allocationsOfSubnet(subnetId: string): Promise<Allocation[]> {
    const res = await this.q<Allocation & pg.QueryResultRow>(
      'SELECT subnet_id, ip_address, port_id, network_id FROM ip_allocations WHERE subnet_id = ?',
      [subnetId],
    );
    return res.rows;
  }

  async countAllocations(subnetId: string): Promise<number> {
    const res = await this.q<{ n: string }>('SELECT COUNT(*) AS n FROM ip_allocations WHERE subnet_id = ?', [subnetId]);
    return Number(res.rows[0]!.n);
  }

  async lockSubnetPool(poolId: string): Promise<{ prefixlen: number | null; next_cidr: string | null }> {
    const lock = 'SELECT prefixlen, next_cidr FROM subnetpool_cursors WHERE pool_id = ? FOR UPDATE';
    let res = await this.q<{ prefixlen: number | null; next_cidr: string | null }>(lock, [poolId]);
    if (!res.rowCount) {
      await this.q('INSERT INTO subnetpool_cursors (pool_id, prefixlen, next_cidr) VALUES (?, NULL, NULL) ON CONFLICT DO NOTHING', [poolId]);
      res = await this.q<{ prefixlen: number | null; next_cidr: string | null }>(lock, [poolId]);
    }
    return res.rows[0] ?? { prefixlen: null, next_cidr: null };
  }

  async setSubnetPoolCursor(poolId: string, prefixlen: number | null, nextCidr: string | null): Promise<void> {
    await this.q(
      'INSERT INTO subnetpool_cursors (pool_id, prefixlen, next_cidr) VALUES (?, ?, ?) ON CONFLICT (pool_id) DO UPDATE SET prefixlen = excluded.prefixlen, next_cidr = excluded.next_cidr',
      [poolId, prefixlen, nextCidr],
    );
  }

  async lockSegments(type: string): Promise<number | null | undefined> {
    const res = await this.q<{ last_id: number | null }>('SELECT last_id FROM segment_cursors WHERE network_type = ? FOR UPDATE', [type]);
    if (res.rowCount) return res.rows[0]!.last_id;
    // No row yet: make one (NULL = not filled yet) so that this transaction holds the lock from here on.
    await this.q('INSERT INTO segment_cursors (network_type, last_id) VALUES (?, NULL) ON CONFLICT DO NOTHING', [type]);
    const again = await this.q<{ last_id: number | null }>('SELECT last_id FROM segment_cursors WHERE network_type = ? FOR UPDATE', [type]);
    return again.rows[0]?.last_id === null ? undefined : again.rows[0]?.last_id;
  }

  async setSegmentCursor(type: string, lastId: number): Promise<void> {
    await this.q('INSERT INTO segment_cursors (network_type, last_id) VALUES (?, ?) ON CONFLICT (network_type) DO UPDATE SET last_id = excluded.last_id', [type, lastId]);
  }

  async claimSegment(type: string, id: number, networkId: string): Promise<boolean> {
    const res = await this.q('INSERT INTO network_segments (network_type, segmentation_id, network_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [type, id, networkId]);
    return res.rowCount === 1;
  }

  async releaseSegment(type: string, id: number): Promise<void> {
    await this.q('DELETE FROM network_segments WHERE network_type = ? AND segmentation_id = ?', [type, id]);
  }

  async dropIpam(subnetId: string): Promise<void> {
    await this.q('DELETE FROM ipam_subnets WHERE subnet_id = ?', [subnetId]);
    await this.q('DELETE FROM ipam_released WHERE subnet_id = ?', [subnetId]);
  }

  async defaultSecurityGroup(projectId: string): Promise<string | undefined> {
    // A project's default group, once made, is never replaced (Neutron refuses to delete it): remembered per store.
    const known = this.store.defaultGroups.get(projectId);
    if (known) return known;
    const res = await this.q<{ security_group_id: string }>(
      'SELECT security_group_id FROM default_security_groups WHERE project_id = ?',
      [projectId],
    );
    const id = res.rows[0]?.security_group_id;
    // In a group-commit batch the row may be an earlier write's of the same batch, not yet committed: it is
    // remembered only once the batch commits.
    if (id) (this.deferChanges ? this.learned : this.store.defaultGroups).set(projectId, id);
    return id;
  }

  async setDefaultSecurityGroup(projectId: string, securityGroupId: string): Promise<void> {
    const res = await this.q(
      'INSERT INTO default_security_groups (project_id, security_group_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
      [projectId, securityGroupId],
    );
    if (res.rowCount !== 1) throw new UniqueViolation('default_security_group');
  }

  async recordChange(kind: Kind, id: string, op: Change['op']): Promise<void> {
    if (this.deferChanges) this.changes.push(`(${literal(kind)}, ${literal(id)}, ${literal(op)})`);
    else await this.q('INSERT INTO changes (kind, id, op) VALUES (?, ?, ?)', [kind, id, op]);
  }

  /** The held-back change rows as one INSERT statement (with its ';'), or ''. */
  changesSql(): string {
    if (!this.changes.length) return '';
    const sql = `INSERT INTO changes (kind, id, op) VALUES ${this.changes.join(', ')}; `;
    this.changes = [];
    return sql;
  }
}
