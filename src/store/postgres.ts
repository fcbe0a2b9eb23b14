// The PostgreSQL store, for several API servers sharing one database. Same contract as the embedded store:
//
// - write(fn) runs in a READ COMMITTED transaction shared by the writes queued together (group commit, see write),
//   committed (and so, with the server's default synchronous_commit = on, flushed to the WAL) before the promise
//   resolves. A failing write undoes only its own changes: a batch runs without savepoints while that costs nothing
//   and is rerun with one savepoint per write when a write must be undone alone (see runBatch). A deadlock or
//   serialization failure (40P01, 40001) makes the write run again in a later batch, a bounded number of times.
// - Connections run in node-pg's pipeline mode: a statement whose answer nothing waits for (BEGIN, COMMIT, the
//   change-feed row, a cursor move, a new document's insert) is sent and not awaited, and travels with the next
//   statement that is; statements a request issues together (Promise.all) share one round trip and one write.
// - ipamCursor(subnet) locks the subnet's ipam_subnets row (SELECT ... FOR UPDATE) until the transaction ends: the
//   allocators of one subnet queue there, whichever server they run on, and each sees its predecessor's allocations
//   because READ COMMITTED takes a fresh snapshot for every statement after the lock is granted. A pipelined batch
//   locks a subnet once: its later writes read the cursor it holds (see LockedCursors in postgres-tx.ts).
// - Uniqueness breaks surface as UniqueViolation with SQLite's names. Awaited inserts use ON CONFLICT DO NOTHING and
//   report the conflict themselves, so (as on SQLite) the transaction stays usable when fn catches the error; a port
//   update runs under a savepoint for the same reason. (An unawaited insert that conflicts aborts its pipelined
//   batch, which is then rerun with awaited inserts.) Any 23505 that does surface is mapped by its constraint name.
// - The change feed is published in commit order (see schema.ts, v2).
// - Migrations run in one transaction under an advisory lock, so servers starting together migrate once.

import pg from 'pg';
import { migrations, SCHEMA_VERSION, SUBNET_KEYS_BACKFILL, SUBNET_KEYS_VERSION } from './schema.js';
import { CHANGES, numberPlaceholders } from './sql.js';
import { isRetryable, PgTx, submit, type LockedCursors, type Prepared, type Unawaited, type WriteState } from './postgres-tx.js';
import type { Change, Kind, Store, Tx } from './types.js';

export { uniqueViolation } from './postgres-tx.js';
export { numberPlaceholders } from './sql.js';

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
/** Writes one group-commit transaction carries at most. */
const MAX_BATCH = 64;
/** The feed read, numbered once here: it runs on the pool, outside the prepared-statement cache of the batches. */
const CHANGES_SINCE = numberPlaceholders(CHANGES.since.postgres);

interface Job {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  attempts: number;
  /** Run with every statement awaited (after a batch whose unawaited statement failed). */
  careful?: boolean;
}

/** A pipelined batch that cannot single out what to undo: it is rolled back and run again carefully. */
class RerunCarefully extends Error {
  constructor(
    readonly failure: unknown,
    /** The write that failed, when it is known. */
    readonly job?: Job,
  ) {
    super(`batch rerun with savepoints after: ${(failure as Error)?.message ?? String(failure)}`);
  }
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
  /** Pipelined batches rolled back and rerun with savepoints (see runBatch). */
  careful = 0;
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
    // Pipeline mode (node-pg 8.23): queries go out as they are issued, each with its own Sync, instead of one per
    // round trip. @types/pg does not know the option yet.
    const config = { connectionString: parsed.toString(), max: poolSize, application_name: 'v6stack', pipeline: true };
    const pool = new pg.Pool(config as pg.PoolConfig);
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
      await c.query(SCHEMA_VERSION.create);
      const res = await c.query<{ version: number }>(SCHEMA_VERSION.get);
      const current = res.rows[0]?.version ?? 0;
      if (current > all.length) throw new Error(`database schema version ${current} is newer than this v6stack (${all.length})`);
      if (current === all.length) return;
      for (let v = current; v < all.length; v++) for (const sql of all[v]!) await c.query(sql);
      // v7's cidr keys of the subnets stored before it (computed here, not in SQL).
      if (current > 0 && current < SUBNET_KEYS_VERSION) {
        const rows = (await c.query<{ id: string; body: string }>(SUBNET_KEYS_BACKFILL.select)).rows;
        // In chunks, one statement each (arrays unnested), not a round trip per subnet.
        for (let i = 0; i < rows.length; i += 5000) {
          const cols: unknown[][] = [[], [], [], []];
          for (const row of rows.slice(i, i + 5000)) {
            const [first, last, length, id] = SUBNET_KEYS_BACKFILL.params(row);
            cols[0]!.push(id);
            cols[1]!.push(first);
            cols[2]!.push(last);
            cols[3]!.push(length);
          }
          await c.query(
            `UPDATE subnets AS s SET cidr_first = v.f, cidr_last = v.l, cidr_len = v.n
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS v(id, f, l, n) WHERE s.id = v.id`,
            cols,
          );
        }
      }
      await c.query(SCHEMA_VERSION.clear);
      await c.query(numberPlaceholders(SCHEMA_VERSION.set), [all.length]);
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
   * Group commit, as on SQLite: writes queue up and run in batches, one transaction per batch, each batch on the
   * connection the writer holds while the queue has work. A batch takes the subnet locks and pays the commit's WAL
   * flush once for all its writes, where one transaction per request made 8 clients on one subnet wait for each
   * other's flush. Each write's failure undoes only its own changes (see runBatch); a write that hits a deadlock or
   * serialization failure is queued again (bounded attempts). Callers are answered after the COMMIT.
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

  /** Runs batches until the queue is empty, on one pooled connection (a new one if a batch broke it). */
  private async drain(): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      while (this.queue.length) {
        if (!client) {
          try {
            client = await this.pool.connect();
          } catch (e) {
            for (const job of this.queue.splice(0)) job.reject(e);
            break;
          }
        }
        const broken = await this.runBatch(client, this.queue.splice(0, MAX_BATCH));
        if (broken) {
          client.release(broken);
          client = undefined;
        }
      }
    } finally {
      client?.release();
      this.draining = false;
      if (this.queue.length) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  /**
   * One batch, run "pipelined" unless one of its writes is marked careful. Returns an error when the connection is
   * no longer usable.
   *
   * Pipelined: no savepoints; BEGIN, the writes' unawaited statements (Tx `later`, and inserts) and the COMMIT travel
   * with the statements around them, so a write costs only the round trips of the statements whose answers it
   * needs. A write that fails having changed nothing (a 404, a validation error) is answered with its error and the
   * batch goes on. A write that fails after changing rows, or a statement that fails (which aborts a PostgreSQL
   * transaction, so COMMIT answers ROLLBACK), can only be undone with the whole batch: it is rolled back and its
   * writes are queued again, marked careful, without counting an attempt (except the deadlocked write's).
   *
   * Careful: every statement awaited, each write under its own SAVEPOINT, rolled back alone when it fails (and
   * queued again, with its attempt counted, when it failed on a deadlock or serialization failure).
   *
   * Nothing is answered before the COMMIT has returned.
   */
  private async runBatch(client: pg.PoolClient, jobs: Job[]): Promise<Error | undefined> {
    const careful = jobs.some((j) => j.careful);
    const unawaited: Unawaited = { pending: [], failed: undefined };
    const unawait = (p: Promise<unknown>): void => {
      unawaited.pending.push(p.then(() => undefined, (e: unknown) => void (unawaited.failed ??= e)));
    };
    /** Waits for every unawaited statement so far; a failure among them means a careful rerun. */
    const settle = async (): Promise<void> => {
      await Promise.all(unawaited.pending);
      if (unawaited.failed !== undefined) throw new RerunCarefully(unawaited.failed);
    };
    const answers: (() => void)[] = [];
    const again: Job[] = [];
    const cursors: LockedCursors | undefined = careful ? undefined : new Map();
    let broken: Error | undefined;
    try {
      if (careful) await submit(client, { text: 'BEGIN' });
      else unawait(submit(client, { text: 'BEGIN' }));
      for (const job of jobs) {
        const state: WriteState = { retryable: undefined, failed: undefined, changed: false };
        if (careful) await submit(client, { text: 'SAVEPOINT request' });
        try {
          const tx = new PgTx(this, client, state, careful ? undefined : unawaited, true, cursors);
          const value = await job.fn(tx);
          // A statement that failed (a deadlock, say) aborted the transaction even if fn caught its error.
          if (state.failed !== undefined) throw state.failed;
          if (careful) await submit(client, { text: 'RELEASE SAVEPOINT request' });
          answers.push(() => {
            for (const [project, group] of tx.learned) this.defaultGroups.set(project, group);
            job.resolve(value);
          });
        } catch (e) {
          if (e instanceof RerunCarefully) throw e;
          if (!careful) {
            await settle();
            if (state.changed || state.failed !== undefined) throw new RerunCarefully(state.retryable ?? e, job);
            answers.push(() => job.reject(e));
            continue;
          }
          await submit(client, { text: 'ROLLBACK TO SAVEPOINT request' });
          await submit(client, { text: 'RELEASE SAVEPOINT request' });
          if ((state.retryable !== undefined || isRetryable(e)) && ++job.attempts < this.maxAttempts) {
            this.retries++;
            again.push(job);
          } else answers.push(() => job.reject(e));
        }
      }
      // Sent behind the unawaited statements: if one of them failed, the transaction is aborted and COMMIT
      // answers ROLLBACK, so nothing of the batch lands.
      const committing = submit(client, { text: 'COMMIT' });
      committing.catch(() => undefined);
      await settle().catch(async (e: unknown) => {
        await committing.catch(() => undefined);
        throw e;
      });
      const done = await committing;
      if (done.command === 'ROLLBACK') throw new Error('transaction was aborted by an earlier error and rolled back');
      for (const answer of answers) answer();
    } catch (e) {
      // The batch as a whole failed (connection lost, commit refused) or is to be rerun: nothing of it is durable.
      try {
        await Promise.all(unawaited.pending);
        await submit(client, { text: 'ROLLBACK' });
      } catch (re) {
        broken = re as Error;
      }
      if (e instanceof RerunCarefully) this.careful++;
      for (const job of jobs) {
        if (again.includes(job)) continue;
        if (e instanceof RerunCarefully) {
          // The write that hit a deadlock or serialization failure has used an attempt; the others have not.
          if (job === e.job && isRetryable(e.failure)) {
            if (++job.attempts >= this.maxAttempts) {
              job.reject(e.failure);
              continue;
            }
            this.retries++;
          }
          job.careful = true;
          again.push(job);
        } else if (isRetryable(e) && ++job.attempts < this.maxAttempts) again.push(job);
        else job.reject(e);
      }
    }
    if (again.length) this.queue.unshift(...again);
    return broken;
  }

  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    const client = await this.pool.connect();
    try {
      return await fn(new PgTx(this, client, { retryable: undefined, failed: undefined, changed: false }));
    } finally {
      client.release();
    }
  }

  async changesSince(seq: number, limit: number): Promise<Change[]> {
    const pending = await this.pool.query('SELECT 1 FROM changes WHERE pub_seq IS NULL LIMIT 1');
    if (pending.rowCount) {
      await this.transaction(async (c) => {
        await c.query(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
        // Publishes, in (transaction, seq) order, the changes of every transaction older than all running ones
        // that wrote to this feed: no change can appear later behind what this hands out. Only those count (they
        // hold a lock on this schema's changes table until they end): the cluster's oldest running transaction
        // (pg_snapshot_xmin) could be another schema's, another database's or a session idle in a transaction,
        // and held every agent's feed back for as long as it stayed open (the API tests on a loaded machine saw a
        // committed change missing from the feed).
        await c.query(
          `WITH writers AS (SELECT x FROM pg_snapshot_xip(pg_current_snapshot()) AS x
                              WHERE xid(x) IN (SELECT t.transactionid FROM pg_locks r
                                                 JOIN pg_locks t ON t.virtualtransaction = r.virtualtransaction
                                                  AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
                                                WHERE r.locktype = 'relation' AND r.relation = 'changes'::regclass
                                                  AND r.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                                  AND r.pid <> pg_backend_pid())),
                horizon AS (SELECT COALESCE(MIN(x), pg_snapshot_xmax(pg_current_snapshot())) AS h FROM writers),
                base AS (SELECT COALESCE(MAX(pub_seq), 0) AS b FROM changes),
                unpublished AS (SELECT seq, row_number() OVER (ORDER BY txid, seq) AS rn FROM changes, horizon
                         WHERE pub_seq IS NULL AND txid < horizon.h)
           UPDATE changes c SET pub_seq = base.b + unpublished.rn FROM base, unpublished WHERE c.seq = unpublished.seq`,
        );
      });
    }
    const res = await this.pool.query<{ seq: string; kind: Kind; id: string; op: Change['op'] }>(
      CHANGES_SINCE,
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
