// The PostgreSQL store's side of one transaction (PgTx: the Tx contract as statements) and how a statement is
// sent: on a pipelined connection, corked per tick, awaited or not (see postgres.ts for the batches that use it).

import pg from 'pg';
import { CHANGES, DEFAULT_SECURITY_GROUPS, IPAM, SEGMENTS, SUBNET_POOL } from './sql.js';
import { columnValues, countSql, documentSql, pageSql, PORT_MAC_TAKEN, selectBodySql, updateParams, whereClause } from './sql.js';
import type { Allocation, Change, ColumnFilters, Doc, Kind, PoolBlock, Segment, Tx } from './types.js';
import { UniqueViolation } from './types.js';

/** Kinds whose update can break a uniqueness rule besides the id (a port's MAC). */
const GUARDED_UPDATES = new Set<Kind>(['port']);
const RETRYABLE = new Set(['40001', '40P01']);

/**
 * The statements of a batch sent without awaiting their answers. Answers come back in order, so each has settled
 * by the time any statement sent after it has; `failed` holds the first error among them.
 */
export interface Unawaited {
  pending: Promise<void>[];
  failed: unknown;
}

/**
 * The IPAM cursors of the subnets a pipelined batch's transaction has locked (ipam_subnets rows, SELECT ... FOR
 * UPDATE), as this transaction last wrote them. The lock is held until the batch commits or rolls back, and every
 * other allocator takes it before moving a cursor, so the row cannot change underneath: the batch's later writes on
 * the subnet read the cursor from here instead of locking it again (one round trip fewer per port). A batch that
 * is undone is rerun in a new transaction with a new map; careful batches (savepoints, whose rollback also drops
 * the locks taken after them) do not use one.
 */
export type LockedCursors = Map<string, string | null>;

/** What one write (one fn) did to its transaction, as the batch needs to know it. */
export interface WriteState {
  /** The first deadlock or serialization failure of its statements, even one fn caught. */
  retryable: unknown;
  /** The first failure of its statements that it did not undo itself: the transaction is aborted from there. */
  failed: unknown;
  /** It has changed (or, for an unawaited statement, may have changed) a row. */
  changed: boolean;
}

interface PgError {
  code?: string;
  constraint?: string;
}

/** A write statement's result: did it change a row? */
const inserted = (r: pg.QueryResult): boolean => (r.rowCount ?? 0) > 0;

export function isRetryable(e: unknown): boolean {
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

export interface Prepared {
  text: string;
  name: string | undefined;
}

/** One advisory lock per (resource, project) quota: 64-bit hash of the key, in a space of its own (the key prefix). */
const QUOTA_LOCK = 'SELECT pg_advisory_xact_lock(hashtextextended(?, 7636917303))';

/** Sockets corked until the end of the current tick (see submit). */
const corked = new WeakSet<object>();

/**
 * Sends one statement on a pipelined connection and resolves with its result. Statements sent in the same tick
 * (a request's reads issued together; a write's unawaited insert with the next write's reads) leave in one socket
 * write: the socket is corked until the tick ends, where node-pg writes each statement on its own.
 * The statement is handed over as a pg.Query made from (text, values), which node-pg takes as it is (a config
 * object is copied, property descriptors and all, on every call: 5% of the server's CPU).
 */
export function submit<R extends pg.QueryResultRow>(client: pg.PoolClient, config: pg.QueryConfig & { binary?: boolean }): Promise<pg.QueryResult<R>> {
  const stream = (client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream;
  if (stream?.cork && stream.uncork && !corked.has(stream)) {
    corked.add(stream);
    stream.cork();
    process.nextTick(() => {
      corked.delete(stream);
      stream.uncork!();
    });
  }
  return new Promise((resolve, reject) => {
    const callback = (err?: Error, res?: pg.QueryResult<R>): void => (err ? reject(err) : resolve(res!));
    let query: pg.Query & { name?: string };
    if (config.binary || config.types) query = new ConfiguredQuery(config, callback);
    else {
      query = new QueryOf(config.text, config.values ?? [], callback);
      if (config.name) query.name = config.name;
    }
    client.query(query);
  });
}

/** pg.Query from a whole config (result format, type parsers) and a callback. */
const ConfiguredQuery = pg.Query as unknown as new (
  config: pg.QueryConfig,
  callback: (err?: Error, res?: pg.QueryResult<never>) => void,
) => pg.Query & { name?: string };

/**
 * Every column as a Buffer: with binary results node-pg turns the value it decoded back into bytes (for text, its
 * UTF-8) and hands that to the type parser, which keeps it as it is.
 */
const RAW_BYTES = { getTypeParser: () => (value: Buffer) => value } as unknown as pg.CustomTypesConfig;
const COMMA = Buffer.from(',');

/** pg.Query as node-pg constructs it: (text, values, callback); the name is set afterwards. */
const QueryOf = pg.Query as unknown as new (
  text: string,
  values: unknown[],
  callback: (err?: Error, res?: pg.QueryResult<never>) => void,
) => pg.Query & { name?: string };

/** What PgTx needs of its store: statement texts and names, and the default security groups already known. */
export interface StatementCache {
  prepared(sql: string): Prepared;
  readonly defaultGroups: Map<string, string>;
}

export class PgTx implements Tx {
  /** Default security groups read in a write, for the store to remember once its batch has committed. */
  readonly learned = new Map<string, string>();

  constructor(
    private readonly store: StatementCache,
    private readonly client: pg.PoolClient,
    private readonly state: WriteState,
    /** Where a write's unawaited statements go (its batch's); without it every statement is awaited. */
    private readonly unawaited?: Unawaited,
    /** A write (inside a batch's transaction), not a read. */
    private readonly inWrite = false,
    /** The batch's locked subnet cursors (pipelined batches only). */
    private readonly cursors?: LockedCursors,
  ) {}

  /**
   * A write whose answer the request does not need: sent now, not awaited (pipelined behind the statements before
   * it, answered before any sent after it). Its failure aborts the transaction and is caught by the batch.
   */
  private async later(sql: string, params: unknown[]): Promise<void> {
    this.state.changed = true;
    if (!this.unawaited) {
      await this.q(sql, params);
      return;
    }
    this.expect(this.q(sql, params));
  }

  /** Records an unawaited statement with the batch, whose failure (which aborts the transaction) it notes. */
  private expect(result: Promise<unknown>): void {
    const u = this.unawaited!;
    u.pending.push(result.then(() => undefined, (e: unknown) => void (u.failed ??= e)));
  }

  /** A write statement: the write has changed rows when `changed(result)` says so. */
  private async w<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params: unknown[],
    changed: (r: pg.QueryResult<R>) => boolean = () => true,
  ): Promise<pg.QueryResult<R>> {
    const res = await this.q<R>(sql, params);
    if (changed(res)) this.state.changed = true;
    return res;
  }

  /** `undone`: the caller rolls the statement back itself (to its own savepoint) when it fails. */
  /** `raw`: binary results, each row an array of Buffers of what PostgreSQL sent (see RAW_BYTES). */
  private async q<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    undone = false,
    raw = false,
  ): Promise<pg.QueryResult<R>> {
    const p = this.store.prepared(sql);
    const config: pg.QueryConfig & { binary?: boolean } = p.name ? { name: p.name, text: p.text, values: params } : { text: p.text, values: params };
    if (raw) Object.assign(config, { binary: true, types: RAW_BYTES });
    try {
      return await submit<R>(this.client, config);
    } catch (e) {
      if (isRetryable(e)) this.state.retryable ??= e;
      if (!undone) this.state.failed ??= e;
      throw uniqueViolation(e) ?? e;
    }
  }

  async get(kind: Kind, id: string): Promise<Doc | undefined> {
    const res = await this.q<{ body: string }>(documentSql(kind).get, [id]);
    return res.rows[0] ? (JSON.parse(res.rows[0].body) as Doc) : undefined;
  }

  async list(kind: Kind, filters?: ColumnFilters): Promise<Doc[]> {
    return (await this.listRaw(kind, filters)).map((b) => JSON.parse(b) as Doc);
  }

  async listPage(kind: Kind, filters: ColumnFilters | undefined, page: { after?: string; desc: boolean; limit: number }): Promise<string[]> {
    const q = pageSql(kind, filters, page, 'postgres');
    const res = await this.q<{ body: string }>(q.sql, q.params);
    return res.rows.map((r) => r.body);
  }

  async listRaw(kind: Kind, filters?: ColumnFilters): Promise<string[]> {
    const w = whereClause(kind, filters);
    const res = await this.q<{ body: string }>(selectBodySql(kind, w.sql), w.params);
    return res.rows.map((r) => r.body);
  }

  /**
   * The bodies as Buffers (binary results; node-pg decodes each value and hands it back encoded, see RAW_BYTES)
   * with separators between them, copied once into the response by the caller. PostgreSQL's string_agg took longer:
   * for 2,000 ports 7 ms to aggregate in the server against 3 ms for the rows, and its 1.6 MB value was then decoded
   * and encoded again here; joining the rows as strings was slower too.
   */
  async listJoined(kind: Kind, filters?: ColumnFilters): Promise<Buffer[]> {
    const w = whereClause(kind, filters);
    const res = await this.q<{ body: Buffer }>(selectBodySql(kind, w.sql), w.params, false, true);
    const pieces: Buffer[] = [];
    for (const { body } of res.rows) {
      if (pieces.length) pieces.push(COMMA);
      pieces.push(body);
    }
    return pieces;
  }

  async count(kind: Kind, filters?: ColumnFilters): Promise<number> {
    const w = whereClause(kind, filters);
    const res = await this.q<{ n: string }>(countSql(kind, w.sql), w.params);
    return Number(res.rows[0]!.n);
  }

  async insert(kind: Kind, doc: Doc, announce = false): Promise<void> {
    const d = documentSql(kind);
    // Announced: the change-feed row is inserted by the same statement, from what the insert returned.
    const params = announce ? [...columnValues(kind, doc), kind] : columnValues(kind, doc);
    if (this.unawaited) {
      // Pipelined batch: a new document's id is fresh and a port's MAC was checked, so the insert is expected to
      // land and is not waited for. If it breaks a rule after all, it fails (no ON CONFLICT here), which aborts the
      // transaction; the batch is then rerun carefully, where the insert is waited for and the rule reported.
      this.state.changed = true;
      this.expect(this.q(announce ? d.postgres.announced : d.insert, params));
      return;
    }
    const sql = announce ? d.postgres.ifAbsentAnnounced : d.postgres.ifAbsent;
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await this.w(sql, params, inserted);
      if (res.rowCount === 1) return;
      // Which rule did it break? (The conflicting row may have gone since; then try again.)
      if ((await this.q(d.postgres.exists, [doc.id])).rowCount) throw new UniqueViolation('id');
      if (kind === 'port' && doc.network_id != null && doc.mac_address != null) {
        const mac = await this.q(PORT_MAC_TAKEN, [String(doc.network_id), String(doc.mac_address)]);
        if (mac.rowCount) throw new UniqueViolation('port_mac');
      }
    }
    throw new UniqueViolation('id');
  }

  async update(kind: Kind, doc: Doc): Promise<void> {
    if (!GUARDED_UPDATES.has(kind)) {
      await this.w(documentSql(kind).update, updateParams(kind, doc));
      return;
    }
    await this.q('SAVEPOINT guarded_update');
    try {
      await this.q(documentSql(kind).update, updateParams(kind, doc), true);
      this.state.changed = true;
    } catch (e) {
      await this.q('ROLLBACK TO SAVEPOINT guarded_update');
      await this.q('RELEASE SAVEPOINT guarded_update');
      throw e;
    }
    await this.q('RELEASE SAVEPOINT guarded_update');
  }

  async remove(kind: Kind, id: string): Promise<boolean> {
    const res = await this.w(documentSql(kind).remove, [id], inserted);
    return (res.rowCount ?? 0) > 0;
  }

  async ipamCursor(subnetId: string): Promise<string | null> {
    const known = this.cursors?.get(subnetId);
    if (known !== undefined) return known;
    let res = await this.q<{ cursor_ip: string | null }>(IPAM.cursor.postgres, [subnetId]);
    if (!res.rowCount) {
      // First allocation on the subnet: make the row (waiting for a concurrent maker to finish), then lock it.
      await this.w(IPAM.makeCursorRow, [subnetId], inserted);
      res = await this.q<{ cursor_ip: string | null }>(IPAM.cursor.postgres, [subnetId]);
    }
    const cursor = res.rows[0]?.cursor_ip ?? null;
    if (res.rowCount) this.cursors?.set(subnetId, cursor);
    return cursor;
  }

  async setIpamCursor(subnetId: string, cursor: string | null): Promise<void> {
    this.moved(subnetId, cursor);
    await this.later(IPAM.setCursor, [subnetId, cursor]);
  }

  async isAllocated(subnetId: string, ip: string): Promise<boolean> {
    return ((await this.q(IPAM.isAllocated, [subnetId, ip])).rowCount ?? 0) > 0;
  }

  async allocate(a: Allocation): Promise<void> {
    const res = await this.w(IPAM.take, [a.subnet_id, a.ip_address, a.port_id, a.network_id], inserted);
    if (res.rowCount !== 1) throw new UniqueViolation('ip_allocation');
  }

  async tryAllocate(a: Allocation, moveCursor = false): Promise<boolean> {
    const res = await this.w(moveCursor ? IPAM.takeAndMoveCursor : IPAM.take, [a.subnet_id, a.ip_address, a.port_id, a.network_id], inserted);
    if (res.rowCount === 1 && moveCursor) this.moved(a.subnet_id, a.ip_address);
    return res.rowCount === 1;
  }

  /** The transaction has moved a subnet's cursor: remembered if it holds the subnet's lock. */
  private moved(subnetId: string, cursor: string | null): void {
    if (this.cursors?.has(subnetId)) this.cursors.set(subnetId, cursor);
  }

  async release(subnetId: string, ip: string, behindCursor: boolean): Promise<void> {
    await this.w(IPAM.release, [subnetId, ip], inserted);
    if (behindCursor) await this.w(IPAM.keepReleased, [subnetId, ip], inserted);
  }

  async takeReleased(subnetId: string): Promise<string | undefined> {
    const res = await this.w<{ ip_address: string }>(IPAM.takeReleased.postgres, [subnetId, subnetId], inserted);
    return res.rows[0]?.ip_address;
  }

  async allocationsOfSubnet(subnetId: string): Promise<Allocation[]> {
    const res = await this.q<Allocation & pg.QueryResultRow>(IPAM.allocationsOfSubnet, [subnetId]);
    return res.rows;
  }

  async countAllocations(subnetId: string): Promise<number> {
    const res = await this.q<{ n: string }>(IPAM.countAllocations, [subnetId]);
    return Number(res.rows[0]!.n);
  }

  async lockSubnetPool(poolId: string): Promise<{ blocksReady: boolean }> {
    let res = await this.q<{ blocks_ready: number | null }>(SUBNET_POOL.lock.postgres, [poolId]);
    if (!res.rowCount) {
      await this.w(SUBNET_POOL.makeLockRow, [poolId], inserted);
      res = await this.q<{ blocks_ready: number | null }>(SUBNET_POOL.lock.postgres, [poolId]);
    }
    return { blocksReady: res.rows[0]?.blocks_ready === 1 };
  }

  async setSubnetPoolBlocksReady(poolId: string, ready: boolean): Promise<void> {
    await this.later(SUBNET_POOL.setReady, [poolId, ready ? 1 : 0]);
  }

  async poolBlockFitting(poolId: string, prefixlen: number): Promise<PoolBlock | undefined> {
    return (await this.q<PoolBlock>(SUBNET_POOL.fitting, [poolId, poolId, prefixlen])).rows[0];
  }

  async poolBlockAtOrBefore(poolId: string, key: string): Promise<PoolBlock | undefined> {
    return (await this.q<PoolBlock>(SUBNET_POOL.atOrBefore, [poolId, key])).rows[0];
  }

  async addPoolBlock(poolId: string, block: PoolBlock): Promise<void> {
    await this.later(SUBNET_POOL.addBlock, [poolId, block.first_key, block.prefixlen]);
  }

  async takePoolBlock(poolId: string, block: PoolBlock): Promise<boolean> {
    return ((await this.w(SUBNET_POOL.takeBlock, [poolId, block.first_key, block.prefixlen], inserted)).rowCount ?? 0) > 0;
  }

  async clearPoolBlocks(poolId: string): Promise<void> {
    await this.w(SUBNET_POOL.clearBlocks, [poolId], inserted);
  }

  async poolSubnetOverlaps(poolId: string, first: string, last: string): Promise<boolean> {
    return ((await this.q(SUBNET_POOL.overlapping, [poolId, first, last, poolId, first, first])).rowCount ?? 0) > 0;
  }

  async poolSubnetRanges(poolId: string): Promise<{ first: string; last: string }[]> {
    const res = await this.q<{ cidr_first: string | null; cidr_last: string | null }>(SUBNET_POOL.ranges, [poolId]);
    return res.rows.filter((r) => r.cidr_first !== null && r.cidr_last !== null).map((r) => ({ first: r.cidr_first!, last: r.cidr_last! }));
  }

  async poolUsage(poolId: string, projectId: string): Promise<{ prefixlen: number; count: number }[]> {
    const res = await this.q<{ prefixlen: number; n: string }>(SUBNET_POOL.usage, [poolId, projectId]);
    return res.rows.map((r) => ({ prefixlen: Number(r.prefixlen), count: Number(r.n) }));
  }

  async dropIpam(subnetId: string): Promise<void> {
    this.cursors?.delete(subnetId);
    await this.w(IPAM.dropCursor, [subnetId], inserted);
    await this.w(IPAM.dropReleased, [subnetId], inserted);
  }

  async segmentCursor(type: string, physnet: string): Promise<number | null> {
    let res = await this.q<{ last_id: number | null }>(SEGMENTS.cursor.postgres, [type, physnet]);
    if (!res.rowCount) {
      // The range's first allocation: make the row (waiting for a concurrent maker to finish), then lock it.
      await this.w(SEGMENTS.makeCursorRow, [type, physnet], inserted);
      res = await this.q<{ last_id: number | null }>(SEGMENTS.cursor.postgres, [type, physnet]);
    }
    return res.rows[0]?.last_id ?? null;
  }

  async tryReserveSegment(seg: Segment, networkId: string, moveCursor = false): Promise<boolean> {
    const res = await this.w(
      moveCursor ? SEGMENTS.reserveAndMoveCursor : SEGMENTS.reserve,
      [seg.network_type, seg.physical_network, seg.segmentation_id, networkId],
      inserted,
    );
    return res.rowCount === 1;
  }

  async releaseSegment(seg: Segment): Promise<void> {
    await this.w(SEGMENTS.release, [seg.network_type, seg.physical_network, seg.segmentation_id], inserted);
  }

  async countSegments(type: string, physnet: string): Promise<number> {
    const res = await this.q<{ n: string }>(SEGMENTS.count, [type, physnet]);
    return Number(res.rows[0]!.n);
  }

  async defaultSecurityGroup(projectId: string): Promise<string | undefined> {
    // A project's default group, once made, is never replaced (Neutron refuses to delete it): remembered per store.
    const known = this.store.defaultGroups.get(projectId);
    if (known) return known;
    const res = await this.q<{ security_group_id: string }>(DEFAULT_SECURITY_GROUPS.get, [projectId]);
    const id = res.rows[0]?.security_group_id;
    // In a write the row may be an earlier write's of the same batch, not yet committed: it is remembered only once
    // the batch commits (see learned).
    if (id) (this.inWrite ? this.learned : this.store.defaultGroups).set(projectId, id);
    return id;
  }

  async setDefaultSecurityGroup(projectId: string, securityGroupId: string): Promise<void> {
    const res = await this.w(DEFAULT_SECURITY_GROUPS.set, [projectId, securityGroupId], inserted);
    if (res.rowCount !== 1) throw new UniqueViolation('default_security_group');
  }

  async lockQuota(projectId: string, resource: string): Promise<void> {
    // Held to the end of the transaction (the batch's): a count issued after this (even in the same round trip)
    // takes its READ COMMITTED snapshot once the lock is granted, so it sees every earlier holder's inserts.
    await this.q(QUOTA_LOCK, [`quota:${resource}:${projectId}`]);
  }

  async recordChange(kind: Kind, id: string, op: Change['op']): Promise<void> {
    await this.later(CHANGES.record, [kind, id, op]);
  }
}
