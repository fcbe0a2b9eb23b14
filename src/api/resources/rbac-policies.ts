// RBAC policies (neutron/db/rbac_db_mixin.py and the callbacks that guard them: db_base_plugin_v2's network
// sharing checks, external_net_db's access_as_external handling, objects/rbac_db.py for subnet pools, address scopes
// and security groups). An entry grants one project (or every project, target_tenant '*') access to one object.
//
// The attributes and the entries are one fact stored twice: a network's `shared` is its access_as_shared '*' entry,
// its `router:external` whether it has any access_as_external entry; a subnet pool's, an address scope's and a
// security group's `shared` their access_as_shared '*' entry. Both directions go through this module: the object
// resources call syncShared / syncExternal when the attribute is written, the entries' writes set the attribute.

import { NeutronError, invalidInput, notFound } from '../../domain/errors.js';
import { DEVICE_OWNER_ROUTER_GW } from '../../domain/ipv6/owners.js';

/** constants.DEVICE_OWNER_NETWORK_PREFIX: ports the network's services own. */
const NETWORK_OWNER_PREFIX = 'network:';
import { UniqueViolation, type Doc, type Kind, type Tx } from '../../store/types.js';
import { ACCESS_EXTERNAL, ACCESS_SHARED, RBAC_ACTIONS, rbacPolicy, type RbacObjectType } from '../../schema/index.js';
import { deleteDoc, insertDoc, ownerOf, saveDoc, type RequestContext } from '../context.js';
import type { ResourceDef } from '../resource.js';
import { randomUUID } from 'node:crypto';

/** The store kind of each RBAC object type. */
const KIND_OF: Record<RbacObjectType, Kind> = {
  network: 'network',
  security_group: 'security_group',
  address_scope: 'address_scope',
  subnetpool: 'subnetpool',
};

export type RbacKind = 'network' | 'subnetpool' | 'address_scope' | 'security_group';

/** Python's repr of a tuple of strings, as InvalidActionForType prints the valid actions. */
function tupleRepr(items: readonly string[]): string {
  return items.length === 1 ? `('${items[0]}',)` : `(${items.map((i) => `'${i}'`).join(', ')})`;
}

export const rbacErrors = {
  duplicate: () => new NeutronError(409, 'DuplicateRbacPolicy', 'An RBAC policy already exists with those values.'),
  inUse: (objectId: string, details: string) =>
    new NeutronError(409, 'RbacPolicyInUse', `RBAC policy on object ${objectId} cannot be removed because other objects depend on it.\nDetails: ${details}`),
  /** RbacPolicyInitError raised in a BEFORE_CREATE callback: create_rbac_policy turns the failure into InvalidInput. */
  initError: (objectId: string, reason: string) => invalidInput(`Failed to create RBAC policy on object ${objectId} because ${reason}.`),
  invalidAction: (action: string, objectType: RbacObjectType) =>
    new NeutronError(
      400,
      'InvalidActionForType',
      `Invalid action '${action}' for object type '${objectType}'. Valid actions: ${tupleRepr(RBAC_ACTIONS[objectType])}`,
    ),
  /** neutron-lib InvalidSharedSetting (a Conflict). */
  invalidSharedSetting: (network: string) =>
    new NeutronError(409, 'InvalidSharedSetting', `Unable to reconfigure sharing settings for network ${network}. Multiple tenants are using it.`),
  /** neutron-lib ExternalNetworkInUse. */
  externalInUse: (networkId: string) =>
    new NeutronError(
      409,
      'ExternalNetworkInUse',
      `External network ${networkId} cannot be updated to be no longer external, since it has existing gateway ports.`,
    ),
  /** The policy rule create_rbac_policy:target_tenant (restrict_wildcard): only an admin shares with everyone. */
  wildcardForbidden: (op: 'create' | 'update') =>
    new NeutronError(403, 'PolicyNotAuthorized', `((rule:${op}_rbac_policy and rule:${op}_rbac_policy:target_tenant)) is disallowed by policy`),
};

/** The entries of one object, optionally of one action. */
async function entriesOf(tx: Tx, objectId: string, action?: string): Promise<Doc[]> {
  const rows = await tx.list('rbac_policy', { object_id: [objectId] });
  return action === undefined ? rows : rows.filter((r) => r.action === action);
}

/**
 * What the entries grant one project on one object: `shared` (an access_as_shared entry for it or for '*') and
 * `external` (an access_as_external one). Owners and admins are the policy's business, not the entries'.
 */
export async function rbacGrants(tx: Tx, kind: RbacKind, objectId: string, projectId: string): Promise<{ shared: boolean; external: boolean }> {
  let shared = false;
  let external = false;
  for (const e of await tx.list('rbac_policy', { object_id: [objectId], target_tenant: ['*', projectId] })) {
    if (e.object_type !== kind) continue;
    if (e.action === ACCESS_SHARED) shared = true;
    else if (e.action === ACCESS_EXTERNAL) external = true;
  }
  return { shared, external };
}

/** A new entry, owned by `projectId`. */
function entry(projectId: string, objectType: RbacObjectType, objectId: string, action: string, target: string): Doc {
  return { id: randomUUID(), object_type: objectType, object_id: objectId, target_tenant: target, tenant_id: projectId, project_id: projectId, action };
}

async function insertEntry(tx: Tx, doc: Doc): Promise<Doc> {
  const same = await tx.list('rbac_policy', { object_id: [doc.object_id as string], target_tenant: [doc.target_tenant as string] });
  if (same.some((e) => e.action === doc.action && e.object_type === doc.object_type)) throw rbacErrors.duplicate();
  try {
    return await insertDoc(tx, 'rbac_policy', doc);
  } catch (e) {
    // The unique index (object_type, object_id, action, target_tenant): a concurrent writer got there first.
    if (e instanceof UniqueViolation) throw rbacErrors.duplicate();
    throw e;
  }
}

/**
 * The object's `shared` attribute follows its access_as_shared '*' entry. A network's revision moves with any change
 * of its entries (NetworkRBAC.revises_on_change); the other objects' do not.
 */
async function refreshObject(tx: Tx, objectType: RbacObjectType, objectId: string, bump: boolean): Promise<void> {
  const kind = KIND_OF[objectType];
  const doc = await tx.get(kind, objectId);
  if (!doc) return;
  const entries = await entriesOf(tx, objectId);
  const shared = entries.some((e) => e.action === ACCESS_SHARED && e.target_tenant === '*');
  let changed = doc.shared !== shared;
  doc.shared = shared;
  if (objectType === 'network') {
    const external = entries.some((e) => e.action === ACCESS_EXTERNAL);
    if (doc['router:external'] !== external) {
      if (!external) await checkNoGatewayPorts(tx, objectId);
      doc['router:external'] = external;
      changed = true;
    }
  }
  if (objectType === 'network' && bump) await saveDoc(tx, kind, doc);
  else if (changed) {
    await tx.update(kind, doc);
    await tx.recordChange(kind, doc.id, 'update');
  }
}

/** external_net_db._process_l3_update: a network with router gateways stays external. */
async function checkNoGatewayPorts(tx: Tx, networkId: string): Promise<void> {
  const gw = await tx.list('port', { network_id: [networkId], device_owner: [DEVICE_OWNER_ROUTER_GW] });
  if (gw.length) throw rbacErrors.externalInUse(networkId);
}

// ---------------------------------------------------------------------------------------------------------------
// The attribute side: object resources call these when `shared` / `router:external` is written.

/**
 * Makes or removes the object's access_as_shared '*' entry for a `shared` written on create or update (the caller
 * stores the attribute itself). Unsharing is refused while projects without an entry of their own depend on it.
 */
export async function syncShared(tx: Tx, objectType: RbacObjectType, doc: Doc, shared: boolean): Promise<void> {
  const wildcard = (await entriesOf(tx, doc.id, ACCESS_SHARED)).find((e) => e.target_tenant === '*');
  if (shared && !wildcard) {
    await insertEntry(tx, entry(doc.project_id as string, objectType, doc.id, ACCESS_SHARED, '*'));
  } else if (!shared && wildcard) {
    if (objectType === 'network') await checkNetworkUnshare(tx, doc);
    else await checkObjectAccessLoss(tx, objectType, doc, '*', null);
    await deleteDoc(tx, 'rbac_policy', wildcard.id);
  }
}

/**
 * `router:external` written on a network: true makes the access_as_external '*' entry (unless the network is
 * already external through an entry for one project), false removes every access_as_external entry, refused while
 * routers have gateways on it.
 */
export async function syncExternal(tx: Tx, network: Doc, external: boolean, wasExternal: boolean): Promise<void> {
  if (external === wasExternal) return;
  if (external) {
    await insertEntry(tx, entry(network.project_id as string, 'network', network.id, ACCESS_EXTERNAL, '*'));
    return;
  }
  await checkNoGatewayPorts(tx, network.id);
  for (const e of await entriesOf(tx, network.id, ACCESS_EXTERNAL)) await deleteDoc(tx, 'rbac_policy', e.id);
}

/** The object is being deleted: its entries go with it (the RBAC tables' ON DELETE CASCADE). */
export async function dropRbacOf(tx: Tx, objectId: string): Promise<void> {
  for (const e of await entriesOf(tx, objectId)) await deleteDoc(tx, 'rbac_policy', e.id);
}

// ---------------------------------------------------------------------------------------------------------------
// Who depends on an entry.

/**
 * db_base_plugin_v2._validate_shared_update: a network is unshared only while every project with ports (other than
 * the network's own) or subnets on it is its owner or has an entry of its own.
 */
async function checkNetworkUnshare(tx: Tx, network: Doc): Promise<void> {
  const ports = (await tx.list('port', { network_id: [network.id] })).filter((p) => !String(p.device_owner ?? '').startsWith(NETWORK_OWNER_PREFIX));
  const subnets = await tx.list('subnet', { network_id: [network.id] });
  const projects = new Set([...ports, ...subnets].map((d) => d.project_id as string));
  if (projects.size === 0 || (projects.size === 1 && projects.has(network.project_id as string))) return;
  const allowed = new Set((await entriesOf(tx, network.id, ACCESS_SHARED)).map((e) => e.target_tenant as string).filter((t) => t !== '*'));
  allowed.add(network.project_id as string);
  if ([...projects].some((p) => !allowed.has(p))) throw rbacErrors.invalidSharedSetting(network.name as string);
}

/**
 * db_base_plugin_v2.ensure_no_tenant_ports_on_network: the project losing a network's access_as_shared entry (or,
 * for '*', every project without an entry of its own) must have no ports on it.
 */
async function checkNetworkSharedLoss(tx: Tx, network: Doc, lost: string): Promise<void> {
  const shared = await entriesOf(tx, network.id, ACCESS_SHARED);
  const ports = await tx.list('port', { network_id: [network.id] });
  let stranded: Doc[];
  if (lost === '*') {
    const allowed = new Set(shared.map((e) => e.target_tenant as string).filter((t) => t !== '*'));
    allowed.add(network.project_id as string);
    stranded = ports.filter((p) => !allowed.has(p.project_id as string));
  } else {
    if (shared.some((e) => e.target_tenant === '*')) return;
    stranded = ports.filter((p) => p.project_id === lost);
  }
  if (stranded.length) throw rbacErrors.inUse(network.id, rbacErrors.invalidSharedSetting(network.id).message);
}

/**
 * external_net_db._validate_ext_not_in_use_by_tenant: routers whose gateway is on the network and whose project
 * would lose its access_as_external entry keep the entry in place.
 */
async function checkNetworkExternalLoss(tx: Tx, network: Doc, lost: string, newTarget: string | null): Promise<void> {
  const entries = await entriesOf(tx, network.id, ACCESS_EXTERNAL);
  const gwRouters = new Set(
    (await tx.list('port', { network_id: [network.id], device_owner: [DEVICE_OWNER_ROUTER_GW] })).map((p) => p.device_id as string),
  );
  const routers = (await Promise.all([...gwRouters].map((id) => tx.get('router', id)))).filter((r): r is Doc => r !== undefined);
  let stranded: boolean;
  if (lost !== '*') {
    if (entries.some((e) => e.target_tenant === '*')) return;
    stranded = routers.some((r) => r.project_id === lost);
  } else {
    if (network.is_default === true) throw rbacErrors.inUse(network.id, 'Default external networks must be shared to everyone.');
    const allowed = new Set(entries.map((e) => e.target_tenant as string).filter((t) => t !== '*'));
    if (newTarget !== null) allowed.add(newTarget);
    stranded = routers.some((r) => !allowed.has(r.project_id as string));
  }
  if (stranded) throw rbacErrors.inUse(network.id, 'There are routers attached to this network that depend on this policy for access.');
}

/** The projects that use a subnet pool, address scope or security group (get_bound_project_ids). */
async function boundProjects(tx: Tx, objectType: RbacObjectType, objectId: string): Promise<Set<string>> {
  let users: Doc[] = [];
  if (objectType === 'subnetpool') users = await tx.list('subnet', { subnetpool_id: [objectId] });
  else if (objectType === 'address_scope') users = await tx.list('subnetpool', { address_scope_id: [objectId] });
  else if (objectType === 'security_group') users = (await tx.list('port')).filter((p) => (p.security_groups as string[] | undefined)?.includes(objectId));
  return new Set(users.map((u) => u.project_id as string));
}

/** rbac_db._validate_rbac_policy_delete for the objects other than networks. */
async function checkObjectAccessLoss(tx: Tx, objectType: RbacObjectType, object: Doc, lost: string, _newTarget: string | null): Promise<void> {
  if (object.project_id === lost) return;
  const bound = await boundProjects(tx, objectType, object.id);
  const shared = await entriesOf(tx, object.id, ACCESS_SHARED);
  const inUse = rbacErrors.inUse(object.id, `project_id=${lost}`);
  if (lost !== '*') {
    if (shared.some((e) => e.target_tenant === '*')) return;
    if (bound.has(lost)) throw inUse;
    return;
  }
  const others = new Set(shared.map((e) => e.target_tenant as string).filter((t) => t !== '*'));
  if ([...bound].some((p) => !others.has(p))) throw inUse;
}

/** The checks before an entry stops granting `lost` (a delete, or an update to another target). */
async function checkAccessLoss(tx: Tx, policy: Doc, object: Doc, newTarget: string | null): Promise<void> {
  const lost = policy.target_tenant as string;
  const type = policy.object_type as RbacObjectType;
  if (type !== 'network') return checkObjectAccessLoss(tx, type, object, lost, newTarget);
  if (policy.action === ACCESS_SHARED) {
    if (lost === object.project_id) return; // self-sharing grants nothing the owner lacks
    return checkNetworkSharedLoss(tx, object, lost);
  }
  return checkNetworkExternalLoss(tx, object, lost, newTarget);
}

/** The object an entry names, looked up as an admin (a 404 in its own type's words when it does not exist). */
async function objectOf(tx: Tx, objectType: RbacObjectType, objectId: string): Promise<Doc> {
  const doc = await tx.get(KIND_OF[objectType], objectId);
  if (!doc) throw notFound(KIND_OF[objectType], objectId);
  return doc;
}

/** validate_rbac_policy_change: only an admin manipulates entries of objects it does not own. */
function checkOwner(ctx: RequestContext, objectType: RbacObjectType, object: Doc): void {
  if (ctx.isAdmin || object.project_id === ctx.projectId) return;
  throw invalidInput(`Only admins can manipulate policies on ${objectType === 'network' ? 'networks' : 'objects'} they do not own`);
}

/** SubnetPool.validate_rbac_policy_create: the target must have access to the pool's address scope. */
async function checkPoolScopeAccess(tx: Tx, pool: Doc, target: string): Promise<void> {
  const scopeId = pool.address_scope_id as string | null | undefined;
  if (!scopeId) return;
  const grants = (await entriesOf(tx, scopeId, ACCESS_SHARED)).filter((e) => e.target_tenant === '*' || e.target_tenant === target);
  if (!grants.length) throw rbacErrors.initError(pool.id, "target project doesn't have access to associated address scope.");
}

export const rbacPolicies: ResourceDef = {
  kind: 'rbac_policy',
  schema: rbacPolicy,

  async create(tx, ctx, input) {
    const objectType = input.object_type as RbacObjectType;
    const target = input.target_tenant as string;
    const action = input.action as string;
    if (target === '*' && !ctx.isAdmin) throw rbacErrors.wildcardForbidden('create');
    const object = await objectOf(tx, objectType, input.object_id as string);
    checkOwner(ctx, objectType, object);
    if (!RBAC_ACTIONS[objectType].includes(action)) throw rbacErrors.invalidAction(action, objectType);
    if (objectType === 'subnetpool') await checkPoolScopeAccess(tx, object, target);
    const doc = await insertEntry(tx, entry(ownerOf(ctx, input), objectType, object.id, action, target));
    await refreshObject(tx, objectType, object.id, true);
    return doc;
  },

  async update(tx, ctx, doc, input) {
    const target = input.target_tenant as string | undefined;
    if (target === undefined || target === doc.target_tenant) return doc;
    if (target === '*' && !ctx.isAdmin) throw rbacErrors.wildcardForbidden('update');
    const objectType = doc.object_type as RbacObjectType;
    const object = await objectOf(tx, objectType, doc.object_id as string);
    checkOwner(ctx, objectType, object);
    // Retargeting to '*' widens access: nothing can lose it (rbac_db.validate_rbac_policy_update).
    if (!(objectType !== 'network' && target === '*')) await checkAccessLoss(tx, doc, object, target);
    if ((await tx.list('rbac_policy', { object_id: [object.id], target_tenant: [target] })).some((e) => e.action === doc.action)) {
      throw rbacErrors.duplicate();
    }
    doc.target_tenant = target;
    await tx.update('rbac_policy', doc);
    await tx.recordChange('rbac_policy', doc.id, 'update');
    await refreshObject(tx, objectType, object.id, true);
    return doc;
  },

  async remove(tx, _ctx, doc) {
    const objectType = doc.object_type as RbacObjectType;
    const object = await tx.get(KIND_OF[objectType], doc.object_id as string);
    if (object) await checkAccessLoss(tx, doc, object, null);
    await deleteDoc(tx, 'rbac_policy', doc.id);
    if (object) await refreshObject(tx, objectType, object.id, true);
  },
};
