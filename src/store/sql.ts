// Every statement the two stores run for the Tx contract, written once. A statement that is the same in both dialects
// is one string here, used by both stores; where the dialects really differ, the variants stand side by side (or a
// statement is marked PostgreSQL only) with the reason. Statements use `?` placeholders; the PostgreSQL store numbers
// them (numberPlaceholders) once per statement text and prepares it under a name, the SQLite store prepares the text
// once and keeps the Statement: a text here is built once (per kind, at load), never per call.
//
// What stays in the stores is their machinery, which has no counterpart: transactions, savepoints and migrations
// (sqlite.ts, postgres.ts), PostgreSQL's feed publishing and advisory locks (postgres.ts). The schema, and the
// statements on schema_version, are in schema.ts.

import { COMMON_COLUMNS, KIND_TABLES, tableOf, type Dialect } from './schema.js';
import type { ColumnFilters, Doc, Kind } from './types.js';

// ---- placeholders

/** `?` placeholders to PostgreSQL's `$1, $2, ...` (our statements have no `?` inside literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * A row lock to the end of the transaction, PostgreSQL only: allocators of one subnet, pool or segment range queue
 * on its cursor row, whichever API server they run on. SQLite has no FOR UPDATE and needs none: group commit runs
 * one writer at a time.
 */
const forUpdate = (select: string): Record<Dialect, string> => ({ sqlite: select, postgres: `${select} FOR UPDATE` });

// ---- documents (one table per kind, see schema.ts)

/** The statements on one kind's table whose text does not depend on filters. */
export interface DocumentSql {
  get: string;
  /**
   * Parameters: columnValues(kind, doc). Fails on a conflict: on SQLite the error names the rule; on PostgreSQL this
   * is a pipelined batch's unawaited insert, whose failure has the batch rerun carefully (postgres.ts).
   */
  insert: string;
  /** Parameters: updateParams(kind, doc). */
  update: string;
  remove: string;
  /**
   * PostgreSQL only. A failed statement aborts a PostgreSQL transaction (SQLite's carries on), so an awaited insert
   * skips a conflict (`ifAbsent`) and the store asks which rule was broken (`exists`, PORT_MAC_TAKEN); SQLite's
   * constraint error names the rule itself. `announced`: the change-feed row is inserted by the same statement, from
   * what the insert RETURNED (parameters: columnValues, then the kind); SQLite runs CHANGES.record after it (no DML
   * inside WITH there, and a statement costs it no round trip).
   */
  postgres: { exists: string; ifAbsent: string; announced: string; ifAbsentAnnounced: string };
}

function documentSqlOf(kind: Kind): DocumentSql {
  const t = tableOf(kind);
  const cols = [...COMMON_COLUMNS, ...t.columns, ...(t.derived ?? []).map((d) => d.name), 'body'];
  const insert = `INSERT INTO ${t.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
  const announced = (onConflict: string): string =>
    `WITH d AS (${insert}${onConflict} RETURNING id) INSERT INTO changes (kind, id, op) SELECT ?, id, 'create' FROM d`;
  return {
    get: `SELECT body FROM ${t.table} WHERE id = ?`,
    insert,
    update: `UPDATE ${t.table} SET ${cols.slice(1).map((c) => `${c} = ?`).join(', ')} WHERE id = ?`,
    remove: `DELETE FROM ${t.table} WHERE id = ?`,
    postgres: {
      exists: `SELECT 1 FROM ${t.table} WHERE id = ?`,
      ifAbsent: `${insert} ON CONFLICT DO NOTHING`,
      announced: announced(''),
      ifAbsentAnnounced: announced(' ON CONFLICT DO NOTHING'),
    },
  };
}

const DOCUMENT_SQL = Object.fromEntries(Object.keys(KIND_TABLES).map((k) => [k, documentSqlOf(k as Kind)])) as Record<Kind, DocumentSql>;

export function documentSql(kind: Kind): DocumentSql {
  return DOCUMENT_SQL[kind];
}

/** PostgreSQL only (see DocumentSql.postgres): did a port insert that did nothing break the MAC rule? */
export const PORT_MAC_TAKEN = 'SELECT 1 FROM ports WHERE network_id = ? AND mac_address = ?';

/** ` WHERE ...` (or '') and its parameters; throws for a column the kind does not index. */
export function whereClause(kind: Kind, filters?: ColumnFilters): { sql: string; params: string[] } {
  const allowed = new Set<string>([...COMMON_COLUMNS, ...tableOf(kind).columns]);
  const clauses: string[] = [];
  const params: string[] = [];
  for (const [col, values] of Object.entries(filters ?? {})) {
    if (!values) continue;
    if (!allowed.has(col)) throw new Error(`column ${col} is not indexed for ${kind}`);
    if (values.length === 0) return { sql: ' WHERE 1 = 0', params: [] };
    clauses.push(values.length === 1 ? `${col} = ?` : `${col} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  }
  return { sql: clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '', params };
}

/** The row of a document: id, project_id, name, the kind's own columns, its derived columns, then the JSON body. */
export function columnValues(kind: Kind, doc: Doc): unknown[] {
  const t = tableOf(kind);
  const cols = t.columns;
  const values: unknown[] = [doc.id, doc.project_id ?? null, doc.name ?? null, ...cols.map((c) => (doc[c] === undefined || doc[c] === null ? null : String(doc[c])))];
  if (t.derived) for (const d of t.derived) values.push(d.of(doc));
  values.push(JSON.stringify(doc));
  return values;
}

/** The parameters of DocumentSql.update: the row without its id, then the id. */
export function updateParams(kind: Kind, doc: Doc): unknown[] {
  const values = columnValues(kind, doc);
  return [...values.slice(1), doc.id];
}

/**
 * A page in id order (see Tx.listPage): the filters' WHERE, then the id bound, then `LIMIT ?`. Ids compare by code
 * point, as the API's in-memory sort does: SQLite's BINARY collation is that; on PostgreSQL `COLLATE "C"` makes it
 * so whatever the database's collation (at the price of a sort when that is not the index's).
 */
export function pageSql(
  kind: Kind,
  filters: ColumnFilters | undefined,
  page: { after?: string; desc: boolean; limit: number },
  dialect: Dialect,
): { sql: string; params: (string | number)[] } {
  const w = whereClause(kind, filters);
  const id = dialect === 'postgres' ? 'id COLLATE "C"' : 'id';
  const bound = page.after === undefined ? '' : `${w.sql ? ' AND' : ' WHERE'} ${id} ${page.desc ? '<' : '>'} ?`;
  const sql = `SELECT body FROM ${tableOf(kind).table}${w.sql}${bound} ORDER BY ${id} ${page.desc ? 'DESC' : 'ASC'} LIMIT ?`;
  return { sql, params: [...w.params, ...(page.after === undefined ? [] : [page.after]), page.limit] };
}

export function selectBodySql(kind: Kind, where: string): string {
  return `SELECT body FROM ${tableOf(kind).table}${where} ORDER BY seq`;
}

/**
 * SQLite only: one row, one column: the bodies joined by commas in insertion order (NULL when there are none). An
 * ordered subquery feeds the aggregate in order (SQLite runs it as a co-routine); the aggregate's own ORDER BY would
 * sort every body again, doubling the time. PostgreSQL runs selectBodySql with binary results and the store joins
 * the rows: its string_agg was slower (see postgres-tx.ts, listJoined).
 */
export function joinedBodiesSql(kind: Kind, where: string): string {
  return `SELECT CAST(group_concat(body, ',') AS BLOB) AS j FROM (SELECT body FROM ${tableOf(kind).table}${where} ORDER BY seq)`;
}

export function countSql(kind: Kind, where: string): string {
  return `SELECT COUNT(*) AS n FROM ${tableOf(kind).table}${where}`;
}

// ---- IPAM: allocations, the next-fit cursor, released addresses

const IPAM_CURSOR = 'SELECT cursor_ip FROM ipam_subnets WHERE subnet_id = ?';
/** Parameters: subnet, address, port, network. Nothing happens when the address is taken (changes/rowCount 0). */
const TAKE_ADDRESS = 'INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING';
const SET_IPAM_CURSOR_ON_CONFLICT = 'ON CONFLICT (subnet_id) DO UPDATE SET cursor_ip = excluded.cursor_ip';
const TAKE_RELEASED = (lock: string): string =>
  `DELETE FROM ipam_released WHERE subnet_id = ? AND ip_address = (SELECT ip_address FROM ipam_released WHERE subnet_id = ? LIMIT 1${lock}) RETURNING ip_address`;

export const IPAM = {
  cursor: forUpdate(IPAM_CURSOR),
  /**
   * PostgreSQL only: the subnet's first allocation makes its cursor row (waiting for a concurrent maker to finish),
   * so that there is a row to lock.
   */
  makeCursorRow: 'INSERT INTO ipam_subnets (subnet_id, cursor_ip) VALUES (?, NULL) ON CONFLICT DO NOTHING',
  setCursor: `INSERT INTO ipam_subnets (subnet_id, cursor_ip) VALUES (?, ?) ${SET_IPAM_CURSOR_ON_CONFLICT}`,
  isAllocated: 'SELECT 1 FROM ip_allocations WHERE subnet_id = ? AND ip_address = ?',
  take: TAKE_ADDRESS,
  /**
   * PostgreSQL only: take the address and, when taken, move the cursor to it, in one statement (a round trip
   * fewer); SQLite runs take, then setCursor (no DML inside WITH there).
   */
  takeAndMoveCursor: `WITH a AS (${TAKE_ADDRESS} RETURNING subnet_id, ip_address)
           INSERT INTO ipam_subnets (subnet_id, cursor_ip) SELECT subnet_id, ip_address FROM a
           ${SET_IPAM_CURSOR_ON_CONFLICT}`,
  release: 'DELETE FROM ip_allocations WHERE subnet_id = ? AND ip_address = ?',
  keepReleased: 'INSERT INTO ipam_released (subnet_id, ip_address) VALUES (?, ?) ON CONFLICT DO NOTHING',
  /**
   * Removes and returns one released address (parameters: subnet, subnet). PostgreSQL: SKIP LOCKED, so two takers
   * who did not lock the subnet first never get the same address; SQLite runs one writer at a time.
   */
  takeReleased: { sqlite: TAKE_RELEASED(''), postgres: TAKE_RELEASED(' FOR UPDATE SKIP LOCKED') } as Record<Dialect, string>,
  allocationsOfSubnet: 'SELECT subnet_id, ip_address, port_id, network_id FROM ip_allocations WHERE subnet_id = ?',
  countAllocations: 'SELECT COUNT(*) AS n FROM ip_allocations WHERE subnet_id = ?',
  dropCursor: 'DELETE FROM ipam_subnets WHERE subnet_id = ?',
  dropReleased: 'DELETE FROM ipam_released WHERE subnet_id = ?',
} as const;

// ---- subnet pools (schema v3, v7)

export const SUBNET_POOL = {
  /** The pool's row: whether its buddy list is built; on PostgreSQL, locked (the pool's lock). */
  lock: forUpdate('SELECT blocks_ready FROM subnetpool_cursors WHERE pool_id = ?'),
  /** PostgreSQL only: makes the row to lock (see IPAM.makeCursorRow). */
  makeLockRow: 'INSERT INTO subnetpool_cursors (pool_id, prefixlen, next_cidr, blocks_ready) VALUES (?, NULL, NULL, NULL) ON CONFLICT DO NOTHING',
  setReady:
    'INSERT INTO subnetpool_cursors (pool_id, prefixlen, next_cidr, blocks_ready) VALUES (?, NULL, NULL, ?) ON CONFLICT (pool_id) DO UPDATE SET blocks_ready = excluded.blocks_ready',
  /**
   * The smallest free block that holds a prefix of the given length (the longest prefix length not above it), the
   * lowest address among equals (parameters: pool, pool, length): two index seeks.
   */
  fitting: `SELECT first_key, prefixlen FROM subnetpool_free_blocks WHERE pool_id = ? AND prefixlen =
              (SELECT MAX(prefixlen) FROM subnetpool_free_blocks WHERE pool_id = ? AND prefixlen <= ?)
            ORDER BY first_key LIMIT 1`,
  /** The free block starting at or before an address key: the only one that can hold a block starting there. */
  atOrBefore: 'SELECT first_key, prefixlen FROM subnetpool_free_blocks WHERE pool_id = ? AND first_key <= ? ORDER BY first_key DESC LIMIT 1',
  addBlock: 'INSERT INTO subnetpool_free_blocks (pool_id, first_key, prefixlen) VALUES (?, ?, ?)',
  takeBlock: 'DELETE FROM subnetpool_free_blocks WHERE pool_id = ? AND first_key = ? AND prefixlen = ?',
  clearBlocks: 'DELETE FROM subnetpool_free_blocks WHERE pool_id = ?',
  /**
   * A subnet of the pool overlapping [first, last] (parameters: pool, first, last, pool, first, first): one starting
   * inside the range, or the last one starting before it, if it reaches into it. Subnets of one pool are disjoint, so
   * no other can.
   */
  overlapping: `SELECT 1 AS hit FROM (SELECT 1 AS x FROM subnets WHERE subnetpool_id = ? AND cidr_first >= ? AND cidr_first <= ? LIMIT 1) a
                UNION ALL
                SELECT 1 FROM (SELECT cidr_last FROM subnets WHERE subnetpool_id = ? AND cidr_first < ? ORDER BY cidr_first DESC LIMIT 1) b
                WHERE b.cidr_last >= ?`,
  ranges: 'SELECT cidr_first, cidr_last FROM subnets WHERE subnetpool_id = ?',
  usage: 'SELECT cidr_len AS prefixlen, COUNT(*) AS n FROM subnets WHERE subnetpool_id = ? AND project_id = ? AND cidr_len IS NOT NULL GROUP BY cidr_len',
} as const;

// ---- network segments (VNIs, VLAN ids, flat physical networks)

/** Parameters: type, physical network, segmentation id, network. Nothing happens when the segment is held. */
const RESERVE_SEGMENT =
  'INSERT INTO segment_allocations (network_type, physical_network, segmentation_id, network_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING';
const SET_SEGMENT_CURSOR_ON_CONFLICT = 'ON CONFLICT (network_type, physical_network) DO UPDATE SET last_id = excluded.last_id';

export const SEGMENTS = {
  cursor: forUpdate('SELECT last_id FROM segment_cursors WHERE network_type = ? AND physical_network = ?'),
  /** PostgreSQL only: makes the row to lock (see IPAM.makeCursorRow). */
  makeCursorRow: 'INSERT INTO segment_cursors (network_type, physical_network, last_id) VALUES (?, ?, NULL) ON CONFLICT DO NOTHING',
  setCursor: `INSERT INTO segment_cursors (network_type, physical_network, last_id) VALUES (?, ?, ?) ${SET_SEGMENT_CURSOR_ON_CONFLICT}`,
  reserve: RESERVE_SEGMENT,
  /** PostgreSQL only: reserve and move the cursor in one statement (see IPAM.takeAndMoveCursor). */
  reserveAndMoveCursor: `WITH s AS (${RESERVE_SEGMENT} RETURNING network_type, physical_network, segmentation_id)
           INSERT INTO segment_cursors (network_type, physical_network, last_id) SELECT network_type, physical_network, segmentation_id FROM s
           ${SET_SEGMENT_CURSOR_ON_CONFLICT}`,
  release: 'DELETE FROM segment_allocations WHERE network_type = ? AND physical_network = ? AND segmentation_id = ?',
  count: 'SELECT COUNT(*) AS n FROM segment_allocations WHERE network_type = ? AND physical_network = ?',
} as const;

// ---- default security groups

export const DEFAULT_SECURITY_GROUPS = {
  get: 'SELECT security_group_id FROM default_security_groups WHERE project_id = ?',
  /** Nothing happens when the project has one already (the store then raises UniqueViolation). */
  set: 'INSERT INTO default_security_groups (project_id, security_group_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
} as const;

// ---- the change feed

export const CHANGES = {
  record: 'INSERT INTO changes (kind, id, op) VALUES (?, ?, ?)',
  /**
   * Changes after a position (parameters: position, limit). SQLite commits one batch at a time, so `seq` is commit
   * order; on PostgreSQL it is not, and readers follow `pub_seq`, numbered in commit order by the store when it
   * publishes (postgres.ts, changesSince; schema.ts, v2).
   */
  since: {
    sqlite: 'SELECT seq, kind, id, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?',
    postgres: 'SELECT pub_seq AS seq, kind, id, op FROM changes WHERE pub_seq > ? ORDER BY pub_seq LIMIT ?',
  } as Record<Dialect, string>,
} as const;
