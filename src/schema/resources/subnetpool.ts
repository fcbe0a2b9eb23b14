// subnetpools (neutron-lib api/definitions/subnetpool.py, default-subnetpools, address-scope) and address-scopes.
// The pool's rules across attributes (prefix bounds, one default per family, compaction) are domain/subnetpool.ts's.

import { badAttribute, invalidInput } from '../../domain/errors.js';
import { pyInt, pyStr } from '../../domain/py.js';
import { validatePrefixText } from '../../domain/subnetpool.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import { bool, cidrText, int, listOf, nonNegativeInt, nullable, oneOf, string, uuid, withConverter, type Type } from '../types.js';
import { id, name, project, standardTail } from './standard.js';

/** validate_subnet_list: unique, each a recognised cidr. */
const prefixes: Type<string[]> = withConverter(listOf(cidrText), (v, attr) => {
  if (!Array.isArray(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a list`);
  const dups = v.filter((p, i) => v.indexOf(p) !== i);
  if (dups.length) throw badAttribute(attr, `Duplicate items in the list: '${[...new Set(dups)].map(pyStr).join(', ')}'`);
  for (const p of v) {
    const msg = validatePrefixText(p);
    if (msg) throw badAttribute(attr, msg);
  }
  return v as string[];
});

/** A prefix length: an integer on the way in, a string on the wire (as Neutron Zed returns them: "64"). */
const prefixlen: Type<string> = {
  describe: 'integer 0..128 (shown as a string)',
  is: (v) => typeof v === 'string' && /^\d{1,3}$/.test(v) && Number(v) <= 128,
  convert(v, attr) {
    const n = pyInt(v);
    if (n === null) throw invalidInput(`'${pyStr(v)}' is not an integer`);
    if (n < 0) throw badAttribute(attr, `'${n}' should be non-negative`);
    return String(n); // bounds against the family: domain/subnetpool.ts (IllegalSubnetPoolPrefixBounds)
  },
};

export const subnetpool = defineResource({
  kind: 'subnetpool',
  singular: 'subnetpool',
  plural: 'subnetpools',
  doc: "Prefix lengths are strings on the wire, as Neutron's; one default pool per family.",
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete', 'tags'],
  actions: ['add_prefixes', 'remove_prefixes', 'onboard_network_subnets'],
  attributes: {
    id,
    name,
    ...project,
    prefixes: { filter: false, type: prefixes, post: true, put: true, required: true, doc: 'compacted; may only grow' },
    default_quota: { type: nullable(nonNegativeInt), post: true, put: true, default: null },
    ip_version: { type: oneOf([4, 6] as const), doc: "from the prefixes" },
    default_prefixlen: { type: prefixlen, post: true, put: true, doc: 'default: min_prefixlen' },
    min_prefixlen: { type: prefixlen, post: true, put: true, doc: 'default: 8 (IPv4), 64 (IPv6)' },
    max_prefixlen: { type: prefixlen, post: true, put: true, doc: 'default: 32 / 128' },
    is_default: { type: bool, post: true, put: true, default: false, adminOnly: true },
    shared: { type: bool, post: true, default: false, adminOnly: true },
    address_scope_id: { type: nullable(uuid), post: true, put: true, default: null },
    ...standardTail,
  },
});

export type SubnetPool = DocOf<typeof subnetpool>;
export type SubnetPoolInput = InputOf<typeof subnetpool>;

const scopeVersion: Type<4 | 6> = withConverter(oneOf([4, 6] as const), (v, attr) => oneOf([4, 6] as const).convert(int().convert(v, attr), attr));

export const addressScope = defineResource({
  kind: 'address_scope',
  singular: 'address_scope',
  plural: 'address_scopes',
  path: 'address-scopes',
  doc: 'Groups subnet pools whose addresses route to each other without translation.',
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete'],
  attributes: {
    id,
    name,
    ...project,
    shared: { type: bool, post: true, put: true, default: false, adminOnly: true },
    ip_version: { type: scopeVersion, post: true, required: true },
    ...standardTail,
  },
});

export type AddressScope = DocOf<typeof addressScope>;
