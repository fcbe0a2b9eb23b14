// rbac_policies: neutron/extensions/rbac.py's RESOURCE_ATTRIBUTE_MAP (Zed), with the object types of
// rbac-security-groups, rbac-address-scope and rbac-subnetpool (neutron/db/rbac_db_models.py). No standard
// attributes: an RBAC entry has no name, description, tags, timestamps or revision number.

import { invalidInput } from '../../domain/errors.js';
import { pyStr } from '../../domain/py.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import { oneOf, string, uuid, withConverter } from '../types.js';
import { id, project } from './standard.js';

/** The object types an entry may name, in rbac_db_models' order; each maps to the store kind of its object. */
export const RBAC_OBJECT_TYPES = ['network', 'security_group', 'address_scope', 'subnetpool'] as const;
export type RbacObjectType = (typeof RBAC_OBJECT_TYPES)[number];

export const ACCESS_SHARED = 'access_as_shared';
export const ACCESS_EXTERNAL = 'access_as_external';

/** get_valid_actions of each RBAC model: only networks (with external-net) may be shared as external. */
export const RBAC_ACTIONS: Record<RbacObjectType, readonly string[]> = {
  network: [ACCESS_SHARED, ACCESS_EXTERNAL],
  security_group: [ACCESS_SHARED],
  address_scope: [ACCESS_SHARED],
  subnetpool: [ACCESS_SHARED],
};

/** convert_valid_object_type: stripped and lower-cased, else "'<x>' is not a valid RBAC object type". */
const objectType = withConverter(oneOf(RBAC_OBJECT_TYPES), (v) => {
  const normalized = typeof v === 'string' ? v.trim().toLowerCase() : v;
  if (!(RBAC_OBJECT_TYPES as readonly unknown[]).includes(normalized)) throw invalidInput(`'${pyStr(v)}' is not a valid RBAC object type`);
  return normalized as RbacObjectType;
});

export const rbacPolicy = defineResource({
  kind: 'rbac_policy',
  singular: 'rbac_policy',
  plural: 'rbac_policies',
  path: 'rbac-policies',
  doc: "Shares a network, subnet pool, address scope or security group with one project or every project (`target_tenant` `*`), or makes a network usable as an external network (`access_as_external`, networks only). A network's `shared` is its `access_as_shared` `*` entry and its `router:external` its `access_as_external` entries: setting either attribute makes or removes the entry, and the entries set the attributes. An entry another project still depends on (its ports, subnets, routers or subnet pools) cannot be removed or retargeted (409 `RbacPolicyInUse`); the same entry twice is 409 `DuplicateRbacPolicy`. Only `target_tenant` may be updated.",
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete'],
  attributes: {
    id,
    object_type: { type: objectType, post: true, required: true, doc: '`network`, `subnetpool`, `address_scope` or `security_group`' },
    object_id: { type: uuid, post: true, required: true },
    target_tenant: { type: string(255), post: true, put: true, required: true, doc: 'a project id, or `*` for every project' },
    ...project,
    action: { type: string(255), post: true, required: true, doc: '`access_as_shared`, or `access_as_external` (networks)' },
  },
});

export type RbacPolicy = DocOf<typeof rbacPolicy>;
export type RbacPolicyInput = InputOf<typeof rbacPolicy>;
