// Neutron's list conventions: attribute filters (repeated keys are OR-ed), `fields=`, `sort_key`/`sort_dir`,
// `limit`/`marker`/`page_reverse` with `<plural>_links`. Filters on indexed columns go to SQL; the rest are applied
// here. Filter names are validated as Neutron's filter-validation does (the default since Rocky): a key that is not a
// filter of the resource answers 400; where the caller passes no filter set (a plugin without validation in Neutron)
// unknown names are ignored.

import { badRequest, httpBadRequest } from '../domain/errors.js';
import { pyRepr, pyReprString } from '../domain/py.js';
import { LIST_CONTROLS, TAG_FILTERS } from '../schema/define.js';
import type { ColumnFilters, Doc } from '../store/types.js';
import { bool, isStorableText } from '../schema/types.js';

export interface ListQuery {
  columnFilters: ColumnFilters;
  memoryFilters: [string, string[]][];
  fields: string[] | null;
  sorts: { key: string; desc: boolean }[];
  limit: number | null;
  marker: string | null;
  pageReverse: boolean;
}

/**
 * A list request's query. `attributes` are the sort keys (and, without `filters`, what may be filtered on);
 * `filters`, when given, the only names that may be (neutron/api/api_common.py get_filters_from_dict: any other key
 * answers 400 HTTPBadRequest "[<keys>] is invalid attribute for filtering", after looking at every key).
 */
export function parseListQuery(
  params: URLSearchParams,
  attributes: ReadonlySet<string>,
  columns: ReadonlySet<string>,
  filters: ReadonlySet<string> | null = null,
): ListQuery {
  const q: ListQuery = { columnFilters: {}, memoryFilters: [], fields: null, sorts: [], limit: null, marker: null, pageReverse: false };
  const seen = new Set<string>();
  const invalid: string[] = [];
  for (const key of params.keys()) {
    if (seen.has(key) || LIST_CONTROLS.has(key)) continue;
    seen.add(key);
    if (filters && !filters.has(key)) {
      invalid.push(key);
      continue;
    }
    const name = key === 'tenant_id' ? 'project_id' : key;
    const values = params.getAll(key);
    // A value no store could hold matches nothing a store holds; PostgreSQL would refuse it as a parameter.
    if (!values.every(isStorableText)) throw httpBadRequest(`Invalid filter value for ${pyReprString(key)}`);
    if (columns.has(name)) q.columnFilters[name] = values;
    else if (attributes.has(name) || TAG_FILTERS.has(name)) q.memoryFilters.push([name, values]);
  }
  if (invalid.length) throw httpBadRequest(`${pyRepr(invalid)} is invalid attribute for filtering`);
  const fields = params.getAll('fields').flatMap((f) => f.split(',')).filter(Boolean);
  if (fields.length) q.fields = fields;

  const keys = params.getAll('sort_key');
  const dirs = params.getAll('sort_dir');
  if (keys.length !== dirs.length) throw httpBadRequest('The number of sort_keys and sort_dirs must be same');
  const badKeys = keys.filter((k) => !attributes.has(k));
  if (badKeys.length) throw httpBadRequest(`[${badKeys.map((k) => `'${k}'`).join(', ')}] is invalid attribute for sort_keys`);
  const badDirs = dirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (badDirs.length) {
    throw httpBadRequest(`[${badDirs.map((d) => `'${d}'`).join(', ')}] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`);
  }
  q.sorts = keys.map((key, i) => ({ key, desc: dirs[i] === 'desc' }));

  const limit = params.get('limit');
  if (limit !== null) {
    if (!/^\d+$/.test(limit)) throw badRequest('limit', `Limit must be an integer 0 or greater and not '${limit}'`);
    // Past 2^31 - 1 no store holds more rows; a larger number would not even bind as an SQL integer.
    q.limit = Number(limit) === 0 ? null : Math.min(Number(limit), 2 ** 31 - 1);
  }
  q.marker = params.get('marker');
  if (q.marker !== null && !isStorableText(q.marker)) throw httpBadRequest('Invalid marker');
  const reverse = params.get('page_reverse');
  q.pageReverse = reverse !== null && bool.convert(reverse, 'page_reverse');
  // Neutron pages only with a limit (api_common.get_limit_and_marker): without one, marker and page_reverse are
  // ignored and the whole collection is answered.
  if (q.limit === null) {
    q.marker = null;
    q.pageReverse = false;
  }
  return q;
}

/** True when the stored documents can be sent as they are, in stored order. */
export function isPlain(q: ListQuery): boolean {
  return !q.memoryFilters.length && !q.fields && !q.sorts.length && q.limit === null && q.marker === null && !q.pageReverse;
}

function matches(doc: Doc, name: string, values: string[]): boolean {
  if (TAG_FILTERS.has(name)) {
    const tags = new Set((doc.tags as string[]) ?? []);
    const wanted = values.flatMap((v) => v.split(','));
    if (name === 'tags') return wanted.every((t) => tags.has(t));
    if (name === 'tags-any') return wanted.some((t) => tags.has(t));
    if (name === 'not-tags') return !wanted.every((t) => tags.has(t));
    return !wanted.some((t) => tags.has(t));
  }
  const actual = doc[name];
  if (name === 'fixed_ips' && Array.isArray(actual)) {
    // fixed_ips=ip_address=X / fixed_ips=subnet_id=Y / fixed_ips=ip_address_substr=Z. As Neutron's _get_ports_query:
    // the values of one key are alternatives (IN), different keys must all hold (each an `any` over the port's
    // addresses, not necessarily the same one).
    const wanted = new Map<string, string[]>();
    for (const v of values) {
      const [k, ...rest] = v.split('=');
      wanted.set(k!, [...(wanted.get(k!) ?? []), rest.join('=')]);
    }
    const ips = actual as Record<string, string>[];
    return [...wanted].every(([k, wants]) =>
      ips.some((ip) => wants.some((want) => (k === 'ip_address_substr' ? ip.ip_address!.includes(want) : ip[k] === want))),
    );
  }
  return values.some((v) => {
    if (typeof actual === 'boolean') return actual === bool.convert(v, name);
    if (actual === null || actual === undefined) return v === '' || v === 'None';
    if (Array.isArray(actual)) return actual.map(String).includes(v);
    return String(actual) === v;
  });
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export interface ListResult {
  items: Doc[];
  links: { rel: 'next' | 'previous'; href: string }[];
}

/** Filters, sorts and pages documents; `notFound` is raised for an unknown marker. */
export function applyList(docs: Doc[], q: ListQuery, selfUrl: URL, onMissingMarker: (id: string) => Error): ListResult {
  let items = docs.filter((d) => q.memoryFilters.every(([n, v]) => matches(d, n, v)));
  const paging = q.limit !== null || q.marker !== null;
  const sorts = [...q.sorts];
  if (paging && !sorts.some((s) => s.key === 'id')) sorts.push({ key: 'id', desc: false });
  if (sorts.length) {
    items = [...items].sort((a, b) => {
      for (const s of sorts) {
        const c = compare(a[s.key], b[s.key]);
        if (c !== 0) return s.desc ? -c : c;
      }
      return 0;
    });
  }
  const links: ListResult['links'] = [];
  if (paging) {
    if (q.pageReverse) items.reverse();
    let start = 0;
    if (q.marker !== null) {
      const at = items.findIndex((d) => d.id === q.marker);
      if (at === -1) throw onMissingMarker(q.marker);
      start = at + 1;
    }
    const end = q.limit === null ? items.length : start + q.limit;
    items = items.slice(start, end);
    if (q.pageReverse) items.reverse();
    links.push(...pageLinks(items[0]?.id, items[items.length - 1]?.id, items.length, q, selfUrl));
  }
  if (q.fields) items = items.map((d) => pick(d, q.fields!));
  return { items, links };
}

/**
 * Whether a listing can be paged by the store in id order (Tx.listPage) instead of in memory: a limit, no sort but
 * by id, nothing filtered outside SQL, no id filter of its own.
 */
export function pagesById(q: ListQuery): boolean {
  return q.limit !== null && !q.memoryFilters.length && q.sorts.every((s) => s.key === 'id') && q.sorts.length <= 1 && !q.columnFilters.id;
}

/**
 * Neutron's `next`/`previous` links of a page (neutron/api/api_common.py get_pagination_links), from its first and
 * last ids (in the order returned) and how many it holds. `next` always pages forward from the last item and
 * `previous` backward from the first; `next` is left out only on a short forward page and `previous` only on a short
 * reverse page. So a full last page still has a `next` link (to an empty page), and the first page a `previous` one:
 * clients and Tempest walk the links until they stop, as they do against Neutron.
 */
export function pageLinks(first: string | undefined, last: string | undefined, count: number, q: ListQuery, selfUrl: URL): ListResult['links'] {
  const links: ListResult['links'] = [];
  if (q.limit === null) return links;
  const short = count < q.limit;
  const link = (marker: string | undefined, reverse: boolean): string => {
    const u = new URL(selfUrl.href);
    u.searchParams.delete('marker');
    u.searchParams.delete('page_reverse');
    if (marker !== undefined) u.searchParams.set('marker', marker);
    if (reverse) u.searchParams.set('page_reverse', 'True');
    return u.href;
  };
  if (!(short && !q.pageReverse)) links.push({ rel: 'next', href: link(last, false) });
  if (!(short && q.pageReverse)) links.push({ rel: 'previous', href: link(first, true) });
  return links;
}

export function pick(doc: Doc, fields: readonly string[]): Doc {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (Object.hasOwn(doc, f)) out[f] = doc[f];
  return out as Doc;
}
