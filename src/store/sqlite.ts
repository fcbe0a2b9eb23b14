// The embedded store: SQLite through better-sqlite3, WAL journal, synchronous=FULL (an acknowledged write has been
// fsynced and survives kill -9 or power loss).
//
// Group commit: writes that arrive in the same turn of the event loop share one transaction and one fsync. Each
// write runs inside its own SAVEPOINT, so one request's error rolls back only that request's changes; every caller
// is answered only after the COMMIT has returned. better-sqlite3 is synchronous, so a whole batch runs without
// yielding to other requests: writers are serialized, which is also what keeps concurrent allocators honest.

import Database from 'better-sqlite3';
import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations, SCHEMA_VERSION, SUBNET_KEYS_BACKFILL, SUBNET_KEYS_VERSION } from './schema.js';
import { CHANGES, DEFAULT_SECURITY_GROUPS, IPAM, SEGMENTS, SUBNET_POOL } from './sql.js';
import { columnValues, countSql, documentSql, joinedBodiesSql, pageSql, selectBodySql, updateParams, whereClause } from './sql.js';
import type { Allocation, Change, Doc, PoolBlock, Store, Tx } from './types.js';
import { UniqueViolation } from './types.js';

type Statement = Database.Statement;

interface Job {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Maps a SQLite constraint error onto the rule it protects. */
function uniqueViolation(e: unknown): UniqueViolation | null {
  const err = e as { code?: string; message?: string };
  if (err?.code !== 'SQLITE_CONSTRAINT_UNIQUE' && err?.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
  const m = err.message ?? '';
  if (m.includes('ports.network_id, ports.mac_address')) return new UniqueViolation('port_mac');
  if (m.includes('ip_allocations.')) return new UniqueViolation('ip_allocation');
  if (m.includes('default_security_groups.')) return new UniqueViolation('default_security_group');
  return new UniqueViolation('id');
}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private readonly tx: Tx;
  private queue: Job[] = [];
  private flushing = false;
  private scheduled = false;
  /** Largest number of writes one transaction has carried (for operators and benchmarks). */
  maxBatch = 0;
  batches = 0;
  /** WAL fsyncs done; several batches may share one. */
  syncs = 0;
  private readonly walPath: string | null;
  private walFd: number | null = null;
  /** Answers of committed batches waiting for the next WAL fsync, and whether one is running. */
  private awaitingSync: (() => void)[] = [];
  private awaitingSyncFailures: ((e: unknown) => void)[] = [];
  private syncing = false;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Durability: SQLite commits with synchronous=NORMAL (no fsync at COMMIT; checkpoints still fsync the WAL and the
    // database file in order, so the file is never torn), and we fsync the WAL ourselves on libuv's thread pool before
    // answering (see flush). An answered write is on disk exactly as with synchronous=FULL, but the event loop goes on
    // building the next batch while the disk works, instead of blocking in COMMIT.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = OFF');
    this.db.pragma('busy_timeout = 5000');
    // 64 MiB of page cache keeps the hot index pages of a large port table in memory.
    this.db.pragma('cache_size = -65536');
    this.walPath = path === ':memory:' ? null : `${path}-wal`;
    this.migrate();
    this.tx = this.makeTx();
  }

  private migrate(): void {
    this.db.exec(SCHEMA_VERSION.create);
    const row = this.db.prepare(SCHEMA_VERSION.get).get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    const all = migrations('sqlite');
    if (current > all.length) throw new Error(`database schema version ${current} is newer than this v6stack (${all.length})`);
    const apply = this.db.transaction(() => {
      for (let v = current; v < all.length; v++) for (const sql of all[v]!) this.db.exec(sql);
      // v7's cidr keys of the subnets stored before it (computed here, not in SQL).
      if (current > 0 && current < SUBNET_KEYS_VERSION) {
        const update = this.db.prepare(SUBNET_KEYS_BACKFILL.update);
        for (const row of this.db.prepare(SUBNET_KEYS_BACKFILL.select).all() as { id: string; body: string }[]) {
          update.run(...SUBNET_KEYS_BACKFILL.params(row));
        }
      }
      this.db.exec(SCHEMA_VERSION.clear);
      this.db.prepare(SCHEMA_VERSION.set).run(all.length);
    });
    if (current < all.length) apply();
  }

  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private makeTx(): Tx {
    const run = <T>(f: () => T): Promise<T> => {
      try {
        return Promise.resolve(f());
      } catch (e) {
        return Promise.reject(uniqueViolation(e) ?? e);
      }
    };
    return {
      get: (kind, id) =>
        run(() => {
          const row = this.stmt(documentSql(kind).get).get(id) as { body: string } | undefined;
          return row ? (JSON.parse(row.body) as Doc) : undefined;
        }),
      list: (kind, filters) =>
        run(() => {
          const w = whereClause(kind, filters);
          // Plucked like listRaw's: the two share one cached statement, and pluck() is a mode of the statement.
          const bodies = this.stmt(selectBodySql(kind, w.sql)).pluck().all(...w.params) as string[];
          return bodies.map((b) => JSON.parse(b) as Doc);
        }),
      listPage: (kind, filters, page) =>
        run(() => {
          const q = pageSql(kind, filters, page, 'sqlite');
          return this.stmt(q.sql).pluck().all(...q.params) as string[];
        }),
      listRaw: (kind, filters) =>
        run(() => {
          const w = whereClause(kind, filters);
          return this.stmt(selectBodySql(kind, w.sql))
            .pluck()
            .all(...w.params) as string[];
        }),
      listJoined: (kind, filters) =>
        run(() => {
          const w = whereClause(kind, filters);
          const j = this.stmt(joinedBodiesSql(kind, w.sql)).pluck().get(...w.params) as Buffer | null;
          return j ? [j] : [];
        }),
      count: (kind, filters) =>
        run(() => {
          const w = whereClause(kind, filters);
          return (this.stmt(countSql(kind, w.sql)).get(...w.params) as { n: number }).n;
        }),
      insert: (kind, doc, announce) =>
        run(() => {
          this.stmt(documentSql(kind).insert).run(...columnValues(kind, doc));
          if (announce) this.stmt(CHANGES.record).run(kind, doc.id, 'create');
        }),
      update: (kind, doc) =>
        run(() => {
          this.stmt(documentSql(kind).update).run(...updateParams(kind, doc));
        }),
      remove: (kind, id) => run(() => this.stmt(documentSql(kind).remove).run(id).changes > 0),

      ipamCursor: (subnetId) =>
        run(() => {
          const row = this.stmt(IPAM.cursor.sqlite).get(subnetId) as { cursor_ip: string | null } | undefined;
          return row?.cursor_ip ?? null;
        }),
      setIpamCursor: (subnetId, cursor) =>
        run(() => {
          this.stmt(IPAM.setCursor).run(subnetId, cursor);
        }),
      isAllocated: (subnetId, ip) => run(() => this.stmt(IPAM.isAllocated).get(subnetId, ip) !== undefined),
      allocate: (a) =>
        run(() => {
          if (this.stmt(IPAM.take).run(a.subnet_id, a.ip_address, a.port_id, a.network_id).changes !== 1) {
            throw new UniqueViolation('ip_allocation');
          }
        }),
      tryAllocate: (a, moveCursor) =>
        run(() => {
          const taken = this.stmt(IPAM.take).run(a.subnet_id, a.ip_address, a.port_id, a.network_id).changes === 1;
          if (taken && moveCursor) this.stmt(IPAM.setCursor).run(a.subnet_id, a.ip_address);
          return taken;
        }),
      release: (subnetId, ip, behindCursor) =>
        run(() => {
          this.stmt(IPAM.release).run(subnetId, ip);
          if (behindCursor) this.stmt(IPAM.keepReleased).run(subnetId, ip);
        }),
      takeReleased: (subnetId) =>
        run(() => this.stmt(IPAM.takeReleased.sqlite).pluck().get(subnetId, subnetId) as string | undefined),
      allocationsOfSubnet: (subnetId) => run(() => this.stmt(IPAM.allocationsOfSubnet).all(subnetId) as Allocation[]),
      countAllocations: (subnetId) => run(() => (this.stmt(IPAM.countAllocations).get(subnetId) as { n: number }).n),
      lockSubnetPool: (poolId) =>
        run(() => {
          const row = this.stmt(SUBNET_POOL.lock.sqlite).get(poolId) as { blocks_ready: number | null } | undefined;
          return { blocksReady: row?.blocks_ready === 1 };
        }),
      setSubnetPoolBlocksReady: (poolId, ready) =>
        run(() => {
          this.stmt(SUBNET_POOL.setReady).run(poolId, ready ? 1 : 0);
        }),
      poolBlockFitting: (poolId, prefixlen) => run(() => this.stmt(SUBNET_POOL.fitting).get(poolId, poolId, prefixlen) as PoolBlock | undefined),
      poolBlockAtOrBefore: (poolId, key) => run(() => this.stmt(SUBNET_POOL.atOrBefore).get(poolId, key) as PoolBlock | undefined),
      addPoolBlock: (poolId, block) =>
        run(() => {
          this.stmt(SUBNET_POOL.addBlock).run(poolId, block.first_key, block.prefixlen);
        }),
      takePoolBlock: (poolId, block) => run(() => this.stmt(SUBNET_POOL.takeBlock).run(poolId, block.first_key, block.prefixlen).changes > 0),
      clearPoolBlocks: (poolId) =>
        run(() => {
          this.stmt(SUBNET_POOL.clearBlocks).run(poolId);
        }),
      poolSubnetOverlaps: (poolId, first, last) =>
        run(() => this.stmt(SUBNET_POOL.overlapping).get(poolId, first, last, poolId, first, first) !== undefined),
      poolSubnetRanges: (poolId) =>
        run(() =>
          (this.stmt(SUBNET_POOL.ranges).all(poolId) as { cidr_first: string | null; cidr_last: string | null }[])
            .filter((r) => r.cidr_first !== null && r.cidr_last !== null)
            .map((r) => ({ first: r.cidr_first!, last: r.cidr_last! })),
        ),
      poolUsage: (poolId, projectId) =>
        run(() => (this.stmt(SUBNET_POOL.usage).all(poolId, projectId) as { prefixlen: number; n: number }[]).map((r) => ({ prefixlen: r.prefixlen, count: r.n }))),
      dropIpam: (subnetId) =>
        run(() => {
          this.stmt(IPAM.dropCursor).run(subnetId);
          this.stmt(IPAM.dropReleased).run(subnetId);
        }),
      segmentCursor: (type, physnet) =>
        run(() => {
          const row = this.stmt(SEGMENTS.cursor.sqlite).get(type, physnet) as { last_id: number | null } | undefined;
          return row?.last_id ?? null;
        }),
      tryReserveSegment: (seg, networkId, moveCursor) =>
        run(() => {
          const taken = this.stmt(SEGMENTS.reserve).run(seg.network_type, seg.physical_network, seg.segmentation_id, networkId).changes === 1;
          if (taken && moveCursor) this.stmt(SEGMENTS.setCursor).run(seg.network_type, seg.physical_network, seg.segmentation_id);
          return taken;
        }),
      releaseSegment: (seg) =>
        run(() => {
          this.stmt(SEGMENTS.release).run(seg.network_type, seg.physical_network, seg.segmentation_id);
        }),
      countSegments: (type, physnet) => run(() => (this.stmt(SEGMENTS.count).get(type, physnet) as { n: number }).n),
      defaultSecurityGroup: (projectId) =>
        run(() => {
          const row = this.stmt(DEFAULT_SECURITY_GROUPS.get).get(projectId) as { security_group_id: string } | undefined;
          return row?.security_group_id;
        }),
      setDefaultSecurityGroup: (projectId, sgId) =>
        run(() => {
          if (this.stmt(DEFAULT_SECURITY_GROUPS.set).run(projectId, sgId).changes !== 1) throw new UniqueViolation('default_security_group');
        }),
      // Writes run one after the other in one event-loop turn per batch: a count is never stale.
      lockQuota: () => Promise.resolve(),
      recordChange: (kind, id, op) =>
        run(() => {
          this.stmt(CHANGES.record).run(kind, id, op);
        }),
    };
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const jobs = this.queue;
    this.queue = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      // Prepared once: exec() would parse these statements again for every request of every batch.
      this.stmt('BEGIN IMMEDIATE').run();
      for (const job of jobs) {
        this.stmt('SAVEPOINT request').run();
        try {
          const value = await job.fn(this.tx);
          this.stmt('RELEASE request').run();
          outcomes.push({ ok: true, value });
        } catch (e) {
          this.stmt('ROLLBACK TO request').run();
          this.stmt('RELEASE request').run();
          outcomes.push({ ok: false, value: e });
        }
      }
      this.stmt('COMMIT').run();
      this.batches++;
      if (jobs.length > this.maxBatch) this.maxBatch = jobs.length;
      // Answer only once the WAL frames of this commit are on disk.
      this.awaitingSync.push(() =>
        jobs.forEach((job, i) => (outcomes[i]!.ok ? job.resolve(outcomes[i]!.value) : job.reject(outcomes[i]!.value))),
      );
      this.awaitingSyncFailures.push((e) => jobs.forEach((job) => job.reject(e)));
      this.syncWal();
    } catch (e) {
      // The batch could not commit (disk full, I/O error): nothing of it is durable, so every caller fails.
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const job of jobs) job.reject(e);
    } finally {
      this.flushing = false;
      if (this.queue.length) this.schedule();
    }
  }

  /**
   * fsyncs the WAL for every batch committed so far, one fsync at a time: batches that commit while one runs share
   * the next. fsync on any descriptor of the file flushes the file, whatever wrote it.
   */
  private syncWal(): void {
    if (this.syncing || !this.awaitingSync.length) return;
    const done = this.awaitingSync;
    const failed = this.awaitingSyncFailures;
    this.awaitingSync = [];
    this.awaitingSyncFailures = [];
    if (this.walPath === null) {
      for (const d of done) d();
      return;
    }
    this.syncing = true;
    try {
      this.walFd ??= openSync(this.walPath, 'r');
    } catch (e) {
      this.syncing = false;
      for (const f of failed) f(e);
      return;
    }
    fdatasync(this.walFd, (err) => {
      this.syncing = false;
      this.syncs++;
      if (err) for (const f of failed) f(err);
      else for (const d of done) d();
      this.syncWal();
    });
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return fn(this.tx);
  }

  async changesSince(seq: number, limit: number): Promise<Change[]> {
    return this.stmt(CHANGES.since.sqlite).all(seq, limit) as Change[];
  }

  async close(): Promise<void> {
    while (this.queue.length || this.flushing || this.syncing || this.awaitingSync.length) {
      await new Promise((r) => setImmediate(r));
    }
    this.db.close();
    if (this.walFd !== null) closeSync(this.walFd);
  }
}
