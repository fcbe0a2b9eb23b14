// Python's text forms, as Neutron's messages show request values. Neutron builds many messages with '%s' % value,
// so a dict from the request shows up as {'start': '10.0.0.5', 'end': '10.0.0.1'} and a JSON null as None; clients
// (and osc-lib, which the CLI imitates) compare those texts. The one copy: the API, the schema and the CLI use it.

/** repr() of a Python str: single quotes unless the text holds a ' and no ". */
export function pyReprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** repr() of the Python value json.loads would have produced. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyReprString(v);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyReprString(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** str() of the same value: strings as they are, everything else as repr(). */
export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** repr() of a Python set of strings, in the order given (Python's own order depends on the hash seed). */
export function pySetRepr(items: Iterable<string>): string {
  return `{${[...items].map(pyReprString).join(', ')}}`;
}

/** Python int(x) as neutron-lib convert_to_int uses it; null when Python would raise. */
export function pyInt(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) && Number.isSafeInteger(Math.trunc(v)) ? Math.trunc(v) : null;
  if (typeof v === 'string') {
    const t = v.trim().replaceAll('_', '');
    if (!/^[+-]?\d+$/.test(t)) return null;
    const n = Number(t);
    // Python's int is unbounded; ours must stay exact to be stored, so a number past 2^53 is refused as junk.
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

/** oslo strutils.bool_from_string(strict=True) as converters.convert_to_boolean uses it; null when it raises. */
export function pyBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const s = pyStr(v).trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  return null;
}
