// Output of the resource commands, shaped like the `openstack` client (cliff + osc-lib + prettytable): Field/Value
// tables for one resource, column tables for lists, and the json / value / yaml forms. Pure: strings in, strings out.

/** How a column is turned into text in a table (osc-lib's FormattableColumn classes). */
export type Formatter =
  | 'list' //          format_columns.ListColumn: sorted, ', '-joined
  | 'listdict' //      ListDictColumn: one "k='v', k2='v2'" line per dict
  | 'dict' //          DictColumn: "k='v', k2='v2'"
  | 'pools' //         subnet AllocationPoolsColumn: start-end,start-end
  | 'hostroutes' //    subnet HostRoutesColumn: nexthop shown as gateway
  | 'routes' //        router RoutesColumn: nexthop shown as gateway
  | 'updown' //        AdminStateColumn: UP / DOWN
  | 'external' //      RouterExternalColumn: External / Internal
  | 'json' //          RouterInfoColumn: json.dumps of the value
  | 'sgrules' //       security group rules: empty keys and the group/project ids dropped
  | 'alive'; //        agent AliveColumn: :-) / XXX

export interface Column {
  /** The header shown (Field name in a show table, column header in a list). */
  name: string;
  /** The attribute in the API body ('provider:network_type', 'security_groups', ...). */
  key: string;
  fmt?: Formatter;
  /** The SDK declares the attribute an int (subnet pool prefix lengths travel as strings): convert, align right. */
  int?: boolean;
}

export type OutputFormat = 'table' | 'json' | 'value' | 'yaml';
export const OUTPUT_FORMATS: OutputFormat[] = ['table', 'json', 'value', 'yaml'];

// ---------------------------------------------------------------------------------------------------- Python text

// Python's repr() and str() of a JSON value: how osc-lib prints values no formatter knows (the one copy).
import { pyRepr, pyStr } from '../domain/py.js';
export { pyRepr, pyStr };

/** Python's json.dumps (default separators, no indent). */
export function pyJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return '[' + v.map(pyJson).join(', ') + ']';
  if (typeof v === 'object') {
    return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ') + '}';
  }
  return JSON.stringify(v);
}

/** osc-lib utils.format_dict: sorted keys, nested dicts flattened with dotted keys, None as empty. */
export function formatDict(d: Record<string, unknown>, prefix?: string): string {
  const parts: string[] = [];
  for (const k of Object.keys(d).sort()) {
    const key = prefix ? `${prefix}.${k}` : k;
    const v = d[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) parts.push(formatDict(v as Record<string, unknown>, key));
    else if (v !== null && v !== undefined) parts.push(`${key}='${pyStr(v)}'`);
    else parts.push(`${key}=`);
  }
  return parts.join(', ');
}

/** Python's sorted() on strings compares code points, as does this. */
function pySorted(items: string[]): string[] {
  return [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function formatListOfDicts(v: unknown[]): string {
  return v.map((d) => formatDict((d ?? {}) as Record<string, unknown>)).join('\n');
}

function renameNexthop(routes: unknown[]): Record<string, unknown>[] {
  return routes.map((r) => {
    const { nexthop, ...rest } = (r ?? {}) as Record<string, unknown>;
    return nexthop === undefined ? rest : { ...rest, gateway: nexthop };
  });
}

/** The human-readable text of a value, as the openstack client's table formatter prints it. */
export function humanValue(v: unknown, fmt?: Formatter): string {
  switch (fmt) {
    case 'updown':
      return v ? 'UP' : 'DOWN';
    case 'external':
      return v ? 'External' : 'Internal';
    case 'alive':
      return v ? ':-)' : 'XXX';
    case 'json':
      return pyJson(v);
  }
  if (v === null || v === undefined) return 'None';
  switch (fmt) {
    case 'list':
      return Array.isArray(v) ? pySorted(v.map(pyStr)).join(', ') : pyStr(v);
    case 'listdict':
      return Array.isArray(v) ? formatListOfDicts(v) : pyStr(v);
    case 'dict':
      return typeof v === 'object' && !Array.isArray(v) ? formatDict(v as Record<string, unknown>) : pyStr(v);
    case 'pools':
      return Array.isArray(v)
        ? v.map((p) => `${(p as Record<string, unknown>)?.start ?? ''}-${(p as Record<string, unknown>)?.end ?? ''}`).join(',')
        : pyStr(v);
    case 'hostroutes':
    case 'routes':
      return Array.isArray(v) ? formatListOfDicts(renameNexthop(v)) : pyStr(v);
    case 'sgrules':
      return Array.isArray(v)
        ? formatListOfDicts(
            v.map((r) => {
              const out: Record<string, unknown> = {};
              for (const [k, x] of Object.entries((r ?? {}) as Record<string, unknown>)) {
                if (['security_group_id', 'tenant_id', 'project_id'].includes(k)) continue;
                if (!x || (Array.isArray(x) && x.length === 0) || (typeof x === 'object' && Object.keys(x).length === 0)) continue;
                out[k] = x;
              }
              return out;
            }),
          )
        : pyStr(v);
  }
  return pyStr(v);
}

/** The machine-readable value (json / yaml / value forms): what the API said, routes keep nexthop. */
export function machineValue(v: unknown, c?: Column): unknown {
  if (c?.int && typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return v === undefined ? null : v;
}

function cellValue(r: Record<string, unknown>, c: Column): unknown {
  return machineValue(r[c.key], c);
}

// ---------------------------------------------------------------------------------------------------- tables

type Align = 'l' | 'r';

/** A prettytable as cliff configures it: padding 1, +---+ borders, multi-line cells split into rows. */
export function renderTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const cells = rows.map((r) => r.map((c) => c.replace(/\r\n?/g, '\n').split('\n')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => Math.max(...r[i]!.map((l) => l.length)))));
  const pad = (s: string, i: number): string => (align[i] === 'r' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (parts: string[]): string => '| ' + parts.map(pad).join(' | ') + ' |';
  const out = [rule, line(headers), rule];
  for (const r of cells) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(r.map((c) => c[k] ?? '')));
  }
  out.push(rule);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------- yaml

const YAML_PLAIN_UNSAFE = /^(?:|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][-+]?\d+)?|0x[0-9a-fA-F_]+|0o?[0-7_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|\d{4}-\d\d?-\d\d?(?:[Tt ].*)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$/;

function yamlScalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  const s = String(v);
  const needsQuote =
    YAML_PLAIN_UNSAFE.test(s) ||
    /^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(s) ||
    /[\s]$/.test(s) ||
    s.endsWith(':') ||
    s.includes(': ') ||
    s.includes(' #') ||
    /[\n\t]/.test(s);
  if (!needsQuote) return s;
  if (/\n/.test(s)) return JSON.stringify(s);
  return "'" + s.replace(/'/g, "''") + "'";
}

function yamlLines(v: unknown, indent: string): string[] {
  if (Array.isArray(v)) {
    if (!v.length) return [];
    const out: string[] = [];
    for (const item of v) {
      if (item !== null && typeof item === 'object' && (Array.isArray(item) ? item.length : Object.keys(item).length)) {
        const inner = yamlLines(item, indent + '  ');
        out.push(indent + '- ' + inner[0]!.slice(indent.length + 2), ...inner.slice(1));
      } else out.push(indent + '- ' + yamlInline(item));
    }
    return out;
  }
  const out: string[] = [];
  for (const k of pySorted(Object.keys(v as Record<string, unknown>))) {
    const x = (v as Record<string, unknown>)[k];
    const key = yamlScalar(k);
    if (x !== null && typeof x === 'object' && (Array.isArray(x) ? x.length : Object.keys(x).length)) {
      out.push(`${indent}${key}:`, ...yamlLines(x, Array.isArray(x) ? indent : indent + '  '));
    } else out.push(`${indent}${key}: ${yamlInline(x)}`);
  }
  return out;
}

function yamlInline(v: unknown): string {
  if (Array.isArray(v)) return '[]';
  if (v !== null && typeof v === 'object') return '{}';
  return yamlScalar(v);
}

/** YAML in the style of PyYAML's safe_dump(default_flow_style=False): sorted keys, block style. */
export function toYaml(v: unknown): string {
  if (v === null || typeof v !== 'object') return yamlScalar(v) + '\n';
  if (Array.isArray(v) ? !v.length : !Object.keys(v).length) return yamlInline(v) + '\n';
  return yamlLines(v, '').join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------- output

export interface OutputOptions {
  format?: string;
  column?: string[];
}

/** cliff's -c: keep the named columns in their original order; none recognised is an error. */
export function selectColumns(columns: Column[], wanted: string[] | undefined): Column[] {
  if (!wanted || !wanted.length) return columns;
  const picked = columns.filter((c) => wanted.includes(c.name));
  if (!picked.length) {
    throw new Error(
      `No recognized column names in ${pyRepr(wanted)}. Recognized columns are ${pyRepr(columns.map((c) => c.name))}.`,
    );
  }
  return picked;
}

function checkFormat(format: string | undefined): OutputFormat {
  const f = (format ?? 'table') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(f)) throw new Error(`argument -f/--format: invalid choice: '${format}' (choose from ${OUTPUT_FORMATS.map((x) => `'${x}'`).join(', ')})`);
  return f;
}

/** One resource: a Field/Value table, or the json / value / yaml forms. Ends with a newline. */
export function formatOne(columns: Column[], record: Record<string, unknown>, opts: OutputOptions = {}): string {
  const format = checkFormat(opts.format);
  const cols = selectColumns(columns, opts.column);
  switch (format) {
    case 'json': {
      const obj: Record<string, unknown> = {};
      for (const c of cols) obj[c.name] = cellValue(record, c);
      return JSON.stringify(obj, null, 2) + '\n';
    }
    case 'yaml': {
      const obj: Record<string, unknown> = {};
      for (const c of cols) obj[c.name] = cellValue(record, c);
      return toYaml(obj);
    }
    case 'value':
      return cols.map((c) => pyStr(cellValue(record, c)) + '\n').join('');
    default:
      return (
        renderTable(
          ['Field', 'Value'],
          cols.map((c) => [c.name, humanValue(cellValue(record, c), c.fmt)]),
        ) + '\n'
      );
  }
}

/** A list: a column table (nothing but a newline when empty, as cliff prints), or json / value / yaml. */
export function formatList(columns: Column[], records: Record<string, unknown>[], opts: OutputOptions = {}): string {
  const format = checkFormat(opts.format);
  const cols = selectColumns(columns, opts.column);
  switch (format) {
    case 'json':
      return JSON.stringify(records.map((r) => Object.fromEntries(cols.map((c) => [c.name, cellValue(r, c)]))), null, 2) + '\n';
    case 'yaml':
      return toYaml(records.map((r) => Object.fromEntries(cols.map((c) => [c.name, cellValue(r, c)]))));
    case 'value':
      return records.map((r) => cols.map((c) => pyStr(cellValue(r, c))).join(' ') + '\n').join('');
    default: {
      if (!records.length) return '\n';
      // cliff aligns a column right when the first row's value is an int (a bool is not an int there)
      const align: Align[] = cols.map((c) => {
        const v = cellValue(records[0]!, c);
        return !c.fmt && typeof v === 'number' && Number.isInteger(v) ? 'r' : 'l';
      });
      return renderTable(cols.map((c) => c.name), records.map((r) => cols.map((c) => humanValue(cellValue(r, c), c.fmt))), align) + '\n';
    }
  }
}
