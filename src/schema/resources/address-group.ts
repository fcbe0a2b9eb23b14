// address-groups: neutron-lib api/definitions/address_group.py (the `address-group` extension). `addresses` is
// type:subnet_list on POST (each a cidr with its prefix length: "10.20.30.40" alone is refused), stored normalized
// as address_group_db._process_requested_addresses does ("192.168.0.10/24" -> "192.168.0.0/24"); it changes only
// through the add_addresses / remove_addresses member actions (allow_put False).

import { badAttribute } from '../../domain/errors.js';
import { validatePrefixText } from '../../domain/subnetpool.js';
import { pyStr } from '../../domain/py.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import { cidrText, listOf, string, withConverter, type Type } from '../types.js';
import { id, name, project, standardTail } from './standard.js';

/** convert_none_to_empty_list, then validate_subnet_list (_validate_list_of_items: the first bad item's reason). */
const subnetList: Type<string[]> = withConverter(listOf(cidrText), (v, attr) => {
  if (v === null) return [];
  if (!Array.isArray(v)) throw badAttribute(attr, `'${pyStr(v)}' is not a list`);
  const dups = v.filter((x, i) => v.indexOf(x) !== i);
  if (dups.length) throw badAttribute(attr, `Duplicate items in the list: '${[...new Set(dups)].map((d) => pyStr(d)).join(', ')}'`);
  for (const item of v) {
    const reason = validatePrefixText(item);
    if (reason) throw badAttribute(attr, reason);
  }
  return v as string[];
});

export const addressGroup = defineResource({
  kind: 'address_group',
  singular: 'address_group',
  plural: 'address_groups',
  path: 'address-groups',
  doc: 'CIDRs of both families, normalized; changed with `PUT …/add_addresses` and `…/remove_addresses`; a group a security group rule names (`remote_address_group_id`) cannot be deleted.',
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete'],
  actions: ['add_addresses', 'remove_addresses'],
  attributes: {
    id,
    name,
    ...project,
    addresses: { filter: false, type: subnetList, post: true, default: [], doc: 'stored normalized (host bits cleared)' },
    ...standardTail,
    description: { type: string(1024), post: true, put: true, default: '' },
  },
});

export type AddressGroup = DocOf<typeof addressGroup>;
export type AddressGroupInput = InputOf<typeof addressGroup>;
