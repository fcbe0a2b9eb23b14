// SQL shared by both stores: how a document maps onto its table's columns, and how column filters become a WHERE
// clause. Statements use `?` placeholders (SQLite's); the PostgreSQL store numbers them once per statement text.

import { COMMON_COLUMNS, tableOf, type Dialect } from './schema.js';
import type { ColumnFilters, Doc, Kind } from './types.js';

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

/** The row of a document: id, project_id, name, the kind's own columns, then the JSON body. */
export function columnValues(kind: Kind, doc: Doc): unknown[] {
  const cols = tableOf(kind).columns;
  return [
    doc.id,
    doc.project_id ?? null,
    doc.name ?? null,
    ...cols.map((c) => (doc[c] === undefined || doc[c] === null ? null : String(doc[c]))),
    JSON.stringify(doc),
  ];
}

const memo = new Map<string, string>();
function memoized(key: string, make: () => string): string {
  let s = memo.get(key);
  if (s === undefined) memo.set(key, (s = make()));
  return s;
}

/** INSERT of a document; parameters are columnValues(kind, doc). */
export function insertSql(kind: Kind): string {
  return memoized(`insert ${kind}`, () => {
    const t = tableOf(kind);
    const cols = ['id', 'project_id', 'name', ...t.columns, 'body'];
    return `INSERT INTO ${t.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
  });
}

/** UPDATE of a document by id; parameters are updateParams(kind, doc). */
export function updateSql(kind: Kind): string {
  return memoized(`update ${kind}`, () => {
    const t = tableOf(kind);
    const cols = ['project_id', 'name', ...t.columns, 'body'];
    return `UPDATE ${t.table} SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`;
  });
}

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
 * SQLite: one row, one column: the bodies joined by commas in insertion order (NULL when there are none). An ordered
 * subquery feeds the aggregate in order (SQLite runs it as a co-routine); the aggregate's own ORDER BY would sort
 * every body again, doubling the time. (PostgreSQL returns the rows and the store joins them: see postgres-tx.ts.)
 */
export function joinedBodiesSql(kind: Kind, where: string): string {
  return `SELECT CAST(group_concat(body, ',') AS BLOB) AS j FROM (SELECT body FROM ${tableOf(kind).table}${where} ORDER BY seq)`;
}

export function countSql(kind: Kind, where: string): string {
  return `SELECT COUNT(*) AS n FROM ${tableOf(kind).table}${where}`;
}
