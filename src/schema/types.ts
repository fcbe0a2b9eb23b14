// The value types of the resource definitions: for each, how a request value is converted and validated (with
// neutron-lib's texts: converters raise InvalidInput, validators "Invalid input for <attr>. Reason: ..."), how
// docs/api.md names it, and whether a stored value has it. One rule per type: one UUID pattern, one boolean
// converter (convert_to_boolean's accepted forms), one string rule. Pure: no I/O, no HTTP.

import { isIP } from 'node:net';
import { badAttribute, invalidInput } from '../domain/errors.js';
import { normalizeMac } from '../domain/mac.js';
import { parseCidrLoose, validateIpAddress } from '../domain/netaddr.js';
import { pyBool, pyInt, pyRepr, pySetRepr, pyStr } from '../domain/py.js';
import { isUuid } from '../domain/uuid.js';
import { hintsTooLong } from '../domain/availability-zone.js';

export interface Type<T> {
  /** How docs/api.md names the type. */
  readonly describe: string;
  /** Whether a stored (or shown) value has this type. */
  is(value: unknown): boolean;
  /** A request value, converted and validated; throws Neutron's error. `attr` names the attribute in messages. */
  convert(value: unknown, attr: string): T;
}

/** The value type a Type describes. */
export type TypeOf<X> = X extends Type<infer T> ? T : never;

export { isUuid } from '../domain/uuid.js';

/**
 * Text a store can hold in a column: no NUL (PostgreSQL's TEXT refuses it, and no name or address needs one) and no
 * lone UTF-16 surrogate (it has no UTF-8 form, so it would be stored as U+FFFD and read back changed).
 */
export function isStorableText(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** Any JSON value whose strings are all storable, at most `depth` levels deep (binding:profile, configurations). */
export function isStorableJson(v: unknown, depth = 8): boolean {
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'string') return isStorableText(v);
  if (depth === 0 || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.every((x) => isStorableJson(x, depth - 1));
  return Object.entries(v as object).every(([k, x]) => isStorableText(k) && isStorableJson(x, depth - 1));
}

// ---------------------------------------------------------------------------------------------------------------
// Scalars.

/** validate_string with a maximum length (neutron-lib NAME_MAX_LEN / DESCRIPTION_MAX_LEN are 255). */
export function string(max = 255): Type<string> {
  return {
    describe: `string ≤${max}`,
    is: (v) => typeof v === 'string' && v.length <= max,
    convert(v, attr) {
      if (typeof v !== 'string' || !isStorableText(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a valid string`);
      if (v.length > max) throw badAttribute(attr, `'${v}' exceeds maximum length of ${max}`);
      return v;
    },
  };
}

/** A value or JSON null (validate_*_or_none). */
export function nullable<T>(t: Type<T>): Type<T | null> {
  return {
    describe: `${t.describe} or null`,
    is: (v) => v === null || t.is(v),
    convert: (v, attr) => (v === null ? null : t.convert(v, attr)),
  };
}

/** converters.convert_to_boolean: oslo bool_from_string(strict) — true/false, 1/0, t/f, on/off, y/n, yes/no. */
export const bool: Type<boolean> = {
  describe: 'boolean',
  is: (v) => typeof v === 'boolean',
  convert(v) {
    const b = pyBool(v);
    if (b === null) throw invalidInput(`'${pyStr(v)}' cannot be converted to boolean`);
    return b;
  },
};

/** converters.convert_to_int, then validate_range / validate_non_negative when bounds are given. */
export function int(min?: number, max?: number): Type<number> {
  const bounds = min !== undefined && max !== undefined ? ` ${min}..${max}` : min !== undefined ? ` ≥${min}` : '';
  return {
    describe: `integer${bounds}`,
    is: (v) => Number.isSafeInteger(v) && (min === undefined || (v as number) >= min) && (max === undefined || (v as number) <= max),
    convert(v, attr) {
      const n = pyInt(v);
      if (n === null) throw invalidInput(`'${pyStr(v)}' is not an integer`);
      if (min !== undefined && n < min) throw badAttribute(attr, `'${n}' should be greater than or equal to ${min}`);
      if (max !== undefined && n > max) throw badAttribute(attr, `'${n}' should be smaller than or equal to ${max}`);
      return n;
    },
  };
}

/** validate_non_negative after convert_to_int (the subnet's prefixlen). */
export const nonNegativeInt: Type<number> = {
  describe: 'integer ≥0',
  is: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
  convert(v, attr) {
    const n = pyInt(v);
    if (n === null) throw invalidInput(`'${pyStr(v)}' is not an integer`);
    if (n < 0) throw badAttribute(attr, `'${n}' should be non-negative`);
    return n;
  },
};

/** validate_values: one of a fixed set (Neutron prints the value bare: "foo is not in valid_values"). */
export function oneOf<const V extends string | number>(values: readonly V[]): Type<V> {
  return {
    describe: values.map((v) => `\`${v}\``).join(' | '),
    is: (v) => (values as readonly unknown[]).includes(v),
    convert(v, attr) {
      if (!(values as readonly unknown[]).includes(v)) throw badAttribute(attr, `${pyStr(v)} is not in valid_values`);
      return v as V;
    },
  };
}

/** validate_uuid. */
export const uuid: Type<string> = {
  describe: 'uuid',
  is: isUuid,
  convert(v, attr) {
    if (!isUuid(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a valid UUID`);
    return v;
  },
};

/** netaddr's mac_unix_expanded form, as MACs are stored. */
const MAC_STORED = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** validate_mac_address; stored in netaddr's mac_unix_expanded form. */
export const mac: Type<string> = {
  describe: 'MAC address',
  is: (v) => typeof v === 'string' && MAC_STORED.test(v) && v !== '00:00:00:00:00:00' && v !== 'ff:ff:ff:ff:ff:ff',
  convert(v, attr) {
    const m = normalizeMac(v);
    if (m === null) throw badAttribute(attr, `'${pyStr(v)}' is not a valid MAC address`);
    return m;
  },
};

/** validate_ip_address. */
export const ipAddress: Type<string> = {
  describe: 'IP address',
  // Node's own parser (the check runs on every stored document; the converter is Neutron's).
  is: (v) => typeof v === 'string' && isIP(v) !== 0,
  convert(v, attr) {
    const msg = validateIpAddress(v);
    if (msg) throw badAttribute(attr, msg);
    return v as string;
  },
};

function isCidrText(v: string): boolean {
  const slash = v.indexOf('/');
  if (slash === -1) return false;
  const family = isIP(v.slice(0, slash));
  const len = v.slice(slash + 1);
  return family !== 0 && /^\d{1,3}$/.test(len) && Number(len) <= (family === 4 ? 32 : 128);
}

/** A stored cidr ("2001:db8::/64"): what any cidr converter produced. */
export const cidrText: Type<string> = {
  describe: 'CIDR',
  is: (v) => typeof v === 'string' && isCidrText(v),
  convert(v, attr) {
    if (typeof v !== 'string' || !isStorableText(v) || parseCidrLoose(v) === null) throw badAttribute(attr, `'${pyStr(v)}' is not a valid IP subnet`);
    return v;
  },
};

/** ISO-8601 timestamps as Neutron prints them; set by the server, never by a request. */
export const timestamp: Type<string> = {
  describe: 'timestamp',
  is: (v) => typeof v === 'string' && /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?$/.test(v),
  convert(v, attr) {
    if (!this.is(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a valid timestamp`);
    return v as string;
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Containers.

/** validate_list of a type (Neutron: "'x' is not a list"; an item's own error names the attribute). */
export function listOf<T>(item: Type<T>, opts: { unique?: boolean } = {}): Type<T[]> {
  return {
    describe: `list of ${item.describe}`,
    is: (v) => Array.isArray(v) && v.every((x) => item.is(x)),
    convert(v, attr) {
      if (!Array.isArray(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a list`);
      const out = v.map((x) => item.convert(x, attr));
      if (opts.unique) {
        const dups = out.filter((x, i) => out.indexOf(x) !== i);
        if (dups.length) throw badAttribute(attr, `Duplicate items in the list: '${[...new Set(dups)].map(pyStr).join(', ')}'`);
      }
      return out;
    },
  };
}

/** validate_dict without a key spec: any JSON object whose text can be stored (binding:profile). */
export const anyDict: Type<Record<string, unknown>> = {
  describe: 'object',
  is: (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && isStorableJson(v),
  convert(v, attr) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a dictionary`);
    if (!isStorableJson(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a valid dictionary`);
    return v as Record<string, unknown>;
  },
};

/** validators._verify_dict_keys (strict): the reason text, or null. */
export function verifyDictKeys(expected: string[], target: unknown): string | null {
  if (typeof target !== 'object' || target === null || Array.isArray(target)) {
    return `Invalid input. '${pyStr(target)}' must be a dictionary with keys: ${pyRepr(expected)}`;
  }
  const provided = Object.keys(target);
  const same = provided.length === expected.length && expected.every((k) => provided.includes(k));
  if (same) return null;
  return `Validation of dictionary's keys failed. Expected keys: ${pySetRepr(expected)} Provided keys: ${pySetRepr(provided)}`;
}

/**
 * A stored object with these fields (a stored-shape check only: requests for such attributes have converters of
 * their own, written where Neutron's validator for them has its own texts).
 */
export function record(fields: Record<string, Type<unknown>>, optional: readonly string[] = []): Type<Record<string, unknown>> {
  const names = Object.keys(fields);
  return {
    describe: `{${names.map((n) => `${n}${optional.includes(n) ? '?' : ''}`).join(', ')}}`,
    is(v) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
      const o = v as Record<string, unknown>;
      if (!Object.keys(o).every((k) => k in fields)) return false;
      return names.every((n) => (o[n] === undefined ? optional.includes(n) : fields[n]!.is(o[n])));
    },
    convert(v, attr) {
      if (!this.is(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a valid ${attr}`);
      return v as Record<string, unknown>;
    },
  };
}

/** A type with another request converter (the stored form is checked by `stored`). */
export function withConverter<T>(stored: Type<T>, convert: (v: unknown, attr: string) => T, describe = stored.describe): Type<T> {
  return { describe, is: (v) => stored.is(v), convert };
}

/**
 * availability_zone_hint_list (neutron-lib validators/availability_zone.py): a list of unique strings whose JSON text
 * fits the 255-character column (else InvalidInput "Too many availability_zone_hints specified"). Whether each zone
 * exists is the resource's check (it reads the agents).
 */
export const azHintList: Type<string[]> = {
  describe: 'list of unique strings (JSON ≤255)',
  is: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string') && hintsTooLong(v as string[]) === null,
  convert(v, attr) {
    const hints = listOf(string(Number.MAX_SAFE_INTEGER), { unique: true }).convert(v, attr);
    const tooLong = hintsTooLong(hints);
    if (tooLong) throw invalidInput(tooLong);
    return hints;
  },
};
