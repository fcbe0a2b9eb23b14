// Neutron's resource attribute maps, reduced to what the API layer needs: which attributes a request may carry on
// POST and PUT, which are required, and how each value is checked and converted. Texts are Neutron's
// (neutron-lib api/attributes.py, api/validators, api/converters), as the real server answers them.

import { NeutronError, badAttribute, httpBadRequest, invalidInput } from '../domain/errors.js';

export type Convert = (value: unknown, name: string) => unknown;

export interface Attr {
  /** Allowed in POST. */
  post?: boolean;
  /** Allowed in PUT. */
  put?: boolean;
  /** Required in POST. */
  required?: boolean;
  convert?: Convert;
}

export type AttrMap = Record<string, Attr>;

/** The attributes every Neutron resource with standard attributes has. */
export const STANDARD_ATTRS: AttrMap = {
  id: {},
  name: { post: true, put: true, convert: (v, n) => str(v, n, 255) },
  description: { post: true, put: true, convert: (v, n) => str(v, n, 255) },
  project_id: { post: true, convert: (v, n) => str(v, n, 255) },
  tenant_id: { post: true, convert: (v, n) => str(v, n, 255) },
  tags: {},
  created_at: {},
  updated_at: {},
  revision_number: {},
};

export function str(value: unknown, name: string, max = 255): string {
  if (typeof value !== 'string') throw badAttribute(name, `'${pyRepr(value)}' is not a valid string`);
  if (value.length > max) throw badAttribute(name, `'${value}' exceeds maximum length of ${max}`);
  return value;
}

export function nullableStr(value: unknown, name: string, max = 255): string | null {
  return value === null ? null : str(value, name, max);
}

/** neutron-lib convert_to_boolean: booleans, 0/1, and the strings true/false/1/0 in any case. */
export function bool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const v = value.toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
  }
  throw invalidInput(`'${pyRepr(value)}' cannot be converted to boolean`);
}

export function int(value: unknown, name: string, min?: number, max?: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw badAttribute(name, `'${pyRepr(value)}' is not an integer`);
  if (min !== undefined && n < min) throw badAttribute(name, `'${n}' should be greater than or equal to ${min}`);
  if (max !== undefined && n > max) throw badAttribute(name, `'${n}' should be smaller than or equal to ${max}`);
  return n;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function uuid(value: unknown, name: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw badAttribute(name, `'${pyRepr(value)}' is not a valid UUID`);
  return value;
}

export function uuidOrNull(value: unknown, name: string): string | null {
  return value === null ? null : uuid(value, name);
}

export function list(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw badAttribute(name, `'${pyRepr(value)}' is not a list`);
  return value;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Python's repr-ish rendering of a JSON value, as Neutron's messages show them. */
export function pyRepr(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as object)
      .map(([k, v]) => `'${k}': ${pyLiteral(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

function pyLiteral(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : pyRepr(value);
}

/**
 * Checks a request body against the attribute map and converts its values. Unknown attributes, attributes not
 * allowed for the operation and missing required ones are refused with Neutron's texts, before any other check.
 */
export function checkBody(
  map: AttrMap,
  body: Record<string, unknown>,
  op: 'create' | 'update',
): Record<string, unknown> {
  const unknown = Object.keys(body).filter((k) => !(k in map));
  if (unknown.length) throw httpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    const attr = map[name]!;
    if (op === 'create' && !attr.post) throw httpBadRequest(`Attribute '${name}' not allowed in POST`);
    if (op === 'update' && !attr.put) throw httpBadRequest(`Cannot update read-only attribute ${name}`);
    out[name] = attr.convert ? attr.convert(value, name) : value;
  }
  if (op === 'create') {
    for (const [name, attr] of Object.entries(map)) {
      if (attr.required && !(name in body)) {
        throw httpBadRequest(`Failed to parse request. Required attribute '${name}' not specified`);
      }
    }
  }
  return out;
}

/** The resource's own object from `{"<singular>": {...}}`. */
export function unwrap(body: unknown, singular: string): Record<string, unknown> {
  const inner = (body as Record<string, unknown> | null)?.[singular];
  if (body === null || typeof body !== 'object' || Array.isArray(body) || inner === undefined) {
    throw httpBadRequest(`Unable to find '${singular}' in request body`);
  }
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) throw httpBadRequest('Body contains invalid data');
  return inner as Record<string, unknown>;
}

export function isNeutronError(e: unknown): e is NeutronError {
  return e instanceof NeutronError;
}
