// Subnet pools and address scopes. A pool hands out prefixes to subnets (domain/subnetpool.ts); a scope groups
// pools whose addresses may be routed to each other without translation (and, later, which BGP advertises).
// Neutron: db_base_plugin_v2 (create/update/delete_subnetpool, add/remove_prefixes, onboard_network_subnets),
// address_scope_db, ipam/subnet_alloc.py. Every write that changes what a pool may hand out takes the pool's lock
// (the row the allocator locks), so on PostgreSQL several API servers serialize on one pool and nothing else.

import { NeutronError, invalidInput, notFound } from '../../domain/errors.js';
import {
  addressKey,
  blockCidr,
  blockCovers,
  blockLast,
  buddyOf,
  buildSubnetPool,
  cannotAllocateRequested,
  checkAddressScopeUpdate,
  checkPoolQuotaUsage,
  checkPrefixesGrow,
  checkRescopeAffinity,
  checkScopePrefixes,
  cidrKeys,
  freeBlocks,
  insufficientSpace,
  keyAddress,
  onboardPrefixes,
  parentOf,
  poolAsk,
  prefixOperationBody,
  removePoolPrefixes,
  splitBlock,
  type Block,
  type PoolRequest,
  type Span,
} from '../../domain/subnetpool.js';
import type { IpVersion } from '../../domain/ip.js';
import { parseCidrLoose } from '../../domain/netaddr.js';
import type { Doc, PoolBlock, Tx } from '../../store/types.js';
import { addressScope, subnetpool, type ResourceSchema } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, ownerOf, saveDoc, type RequestContext } from '../context.js';
import type { ResourceDef } from '../resource.js';
import { dropRbacOf, rbacGrants, syncShared } from './rbac-policies.js';

/** The attributes a POST may carry: what SubnetPoolReader reads back from a stored pool on update. */
const postable = (doc: Doc): Record<string, unknown> =>
  Object.fromEntries(Object.entries(doc).filter(([k]) => (subnetpool as ResourceSchema).attributes[k]?.post === true));

async function existingDefault(tx: Tx, version: number, except?: string): Promise<Doc | null> {
  return (await tx.list('subnetpool')).find((p) => p.is_default === true && Number(p.ip_version) === version && p.id !== except) ?? null;
}

/** _get_address_scope under the caller's context: another project's unshared scope does not exist for it. */
async function visibleScope(tx: Tx, ctx: RequestContext, scopeId: string): Promise<Doc> {
  const scope = await tx.get('address_scope', scopeId);
  if (!scope || !(await scopeAccessible(tx, ctx, scope))) throw notFound('address_scope', scopeId);
  return scope;
}

/** AddressScope.is_accessible: admin, owner, shared with everyone, or an rbac entry sharing it with the caller's project. */
async function scopeAccessible(tx: Tx, ctx: RequestContext, scope: Doc): Promise<boolean> {
  if (ctx.isAdmin || scope.project_id === ctx.projectId || scope.shared === true) return true;
  return (await rbacGrants(tx, 'address_scope', scope.id, ctx.projectId)).shared;
}

/**
 * _validate_address_scope_id, in Neutron's order: the scope is visible (404), accessible (400), of the pool's family
 * (400); re-scoping keeps every network's family in one scope (400); the pool's prefixes overlap no other pool of the
 * scope (409).
 */
async function validateScope(tx: Tx, ctx: RequestContext, poolId: string, scopeId: string | null, prefixes: readonly string[], version: number): Promise<void> {
  if (scopeId === null) return;
  const scope = await visibleScope(tx, ctx, scopeId);
  if (!(await scopeAccessible(tx, ctx, scope))) {
    throw new NeutronError(
      400,
      'IllegalSubnetPoolAssociationToAddressScope',
      `Illegal subnetpool association: subnetpool ${poolId} cannot be associated with address scope ${scopeId}.`,
    );
  }
  if (Number(scope.ip_version) !== version) {
    throw new NeutronError(
      400,
      'IllegalSubnetPoolIpVersionAssociationToAddressScope',
      `Illegal subnetpool association: subnetpool ${poolId} cannot associate with address scope ${scope.id} because subnetpool ip_version is not ${scope.ip_version}.`,
    );
  }
  const poolSubnets = await tx.list('subnet', { subnetpool_id: [poolId] });
  if (poolSubnets.length) {
    const networks = [...new Set(poolSubnets.map((s) => s.network_id as string))];
    const onNetworks = (await tx.list('subnet', { network_id: networks })).filter((s) => Number(s.ip_version) === version);
    checkRescopeAffinity(new Set(poolSubnets.map((s) => s.id)), onNetworks);
  }
  const inScope = await tx.list('subnetpool', { address_scope_id: [scopeId] });
  checkScopePrefixes(poolId, prefixes, inScope.map((p) => ({ id: p.id, prefixes: p.prefixes as string[] })));
}

/**
 * A network's address scope per family (address_scope_db._extend_network_dict_address_scope): the scope of the pool
 * its subnets of that family come from (one pool, or pools of one scope, by the affinity rules), else null.
 */
export async function networkAddressScopes(tx: Tx, subnets: readonly Doc[]): Promise<{ ipv4_address_scope: string | null; ipv6_address_scope: string | null }> {
  const out: Record<string, string | null> = { ipv4_address_scope: null, ipv6_address_scope: null };
  for (const version of [4, 6]) {
    const poolId = subnets.find((s) => Number(s.ip_version) === version && s.subnetpool_id)?.subnetpool_id as string | undefined;
    const pool = poolId ? await tx.get('subnetpool', poolId) : undefined;
    out[`ipv${version}_address_scope`] = (pool?.address_scope_id as string | null | undefined) ?? null;
  }
  return out as { ipv4_address_scope: string | null; ipv6_address_scope: string | null };
}

/** Re-derives ipv4/ipv6_address_scope of networks whose subnets' pools changed scope. */
async function refreshNetworkScopes(tx: Tx, networkIds: Iterable<string>): Promise<void> {
  for (const id of new Set(networkIds)) {
    const network = await tx.get('network', id);
    if (!network) continue;
    const scopes = await networkAddressScopes(tx, await tx.list('subnet', { network_id: [id] }));
    if (network.ipv4_address_scope === scopes.ipv4_address_scope && network.ipv6_address_scope === scopes.ipv6_address_scope) continue;
    Object.assign(network, scopes);
    await saveDoc(tx, 'network', network);
  }
}

/** The pool as it is once locked: another server may have changed it since the request read it. */
async function lockPool(tx: Tx, doc: Doc): Promise<void> {
  await tx.lockSubnetPool(doc.id);
  const fresh = await tx.get('subnetpool', doc.id);
  if (!fresh) throw notFound('subnetpool', doc.id);
  for (const k of Object.keys(doc)) delete doc[k];
  Object.assign(doc, fresh);
}

/**
 * update_subnetpool with its checks in Neutron's order: prefixes only grow; the attribute rules (bounds, one
 * default per family); a pool in another project's scope is the scope owner's to change; the scope rules. The
 * caller holds the pool's lock. Returns the saved pool.
 */
async function updatePool(tx: Tx, ctx: RequestContext, doc: Doc, input: Record<string, unknown>): Promise<Doc> {
  if (input.prefixes !== undefined) checkPrefixesGrow(doc.prefixes as string[], input.prefixes as string[]);
  const version = Number(doc.ip_version);
  const fields = buildSubnetPool({ ...postable(doc), ...input }, { existingDefault: await existingDefault(tx, version, doc.id) });
  const origScope = (doc.address_scope_id as string | null) ?? null;
  if (origScope !== null) {
    // _check_subnetpool_update_allowed (is_address_scope_owned_by_project raises AddressScopeNotFound first).
    const scope = await visibleScope(tx, ctx, origScope);
    if (!(ctx.isAdmin || scope.project_id === ctx.projectId)) {
      throw new NeutronError(
        400,
        'IllegalSubnetPoolUpdate',
        `Illegal subnetpool update : subnetpool ${doc.id} cannot be updated when associated with shared address scope ${origScope}.`,
      );
    }
  }
  await validateScope(tx, ctx, doc.id, fields.address_scope_id, fields.prefixes, version);
  const nameAndDescription = Object.fromEntries(Object.entries(input).filter(([k]) => k === 'name' || k === 'description'));
  // New prefixes: the free-block list is rebuilt from them and the subnets on the next allocation.
  if ((doc.prefixes as string[]).join() !== fields.prefixes.join()) await tx.setSubnetPoolBlocksReady(doc.id, false);
  Object.assign(doc, fields, nameAndDescription);
  const saved = await saveDoc(tx, 'subnetpool', doc);
  if (origScope !== fields.address_scope_id) {
    await refreshNetworkScopes(tx, (await tx.list('subnet', { subnetpool_id: [doc.id] })).map((s) => s.network_id as string));
  }
  return saved;
}

const toStored = (b: Block): PoolBlock => ({ first_key: addressKey(b.version, b.start), prefixlen: b.length });
const fromStored = (b: PoolBlock): Block => {
  const a = keyAddress(b.first_key);
  return { version: a.version, start: a.value, length: Number(b.prefixlen) };
};

/**
 * (Re)builds a locked pool's free-block list from its prefixes and its subnets: once per pool after the upgrade to
 * schema v7, after its prefixes change, and if the list was ever found to disagree with the subnets. The only pool
 * operation that reads every subnet of the pool (their keys, from the index), and none of the allocations does.
 */
async function rebuildFreeBlocks(tx: Tx, pool: Doc): Promise<void> {
  await tx.clearPoolBlocks(pool.id);
  const version = Number(pool.ip_version) as 4 | 6;
  const allocated: Span[] = [];
  for (const r of await tx.poolSubnetRanges(pool.id)) {
    const first = keyAddress(r.first);
    if (first.version === version) allocated.push([first.value, keyAddress(r.last).value]);
  }
  for (const b of freeBlocks(pool.prefixes as string[], allocated, version)) await tx.addPoolBlock(pool.id, toStored(b));
  await tx.setSubnetPoolBlocksReady(pool.id, true);
}

/**
 * A prefix from a subnet pool, in Neutron's order (smallest free block first), for a subnet of `projectId`.
 * The pool is locked for the rest of the transaction and read again under the lock. Then, as
 * SubnetAllocator.allocate_subnet: the prefix length bounds, the project's quota (default_quota, counted for the
 * project that will own the subnet, as Neutron's subnet_request.tenant_id), the allocation.
 *
 * Flat at any size: the choice is one look-up in the pool's free-block list (the buddy list, domain/subnetpool.ts),
 * a specific cidr is free when the free block at or before its start covers it, and the allocation splits that block
 * (at most one row per bit of length). Exactness does not rest on the list alone: the chosen prefix is checked
 * against the pool's subnets themselves (two range look-ups on their indexed cidr keys), and a list that disagrees
 * is rebuilt from them before the answer is given, so a request never gets a prefix a subnet of the pool overlaps.
 */
export async function allocateSubnetFromPool(tx: Tx, ctx: RequestContext, pool: Doc, input: Record<string, unknown>): Promise<string> {
  const { blocksReady } = await tx.lockSubnetPool(pool.id);
  const fresh = (await tx.get('subnetpool', pool.id)) ?? pool;
  const request: PoolRequest = {
    ...(input.cidr !== undefined ? { cidr: input.cidr as string } : {}),
    ...(input.prefixlen !== undefined ? { prefixlen: Number(input.prefixlen) } : {}),
    ...(typeof input.gateway_ip === 'string' ? { gateway_ip: input.gateway_ip } : {}),
    ip_version: Number(input.ip_version),
  };
  // The family, the cidr's form and the length bounds come before the quota (Neutron's order).
  const ask = poolAsk(fresh as never, request);
  if (fresh.default_quota) {
    const usage = await tx.poolUsage(pool.id, ownerOf(ctx, input));
    checkPoolQuotaUsage(Number(fresh.default_quota), ask.version, usage, ask.prefixlen);
  }
  if (ask.foreign) throw cannotAllocateRequested();
  if (!blocksReady) await rebuildFreeBlocks(tx, fresh);
  for (let attempt = 0; ; attempt++) {
    let from: Block | undefined;
    let want: Block;
    if (ask.specific) {
      want = ask.specific;
      const stored = await tx.poolBlockAtOrBefore(pool.id, addressKey(want.version, want.start));
      from = stored && fromStored(stored);
      if (!from || !blockCovers(from, want)) throw cannotAllocateRequested();
    } else {
      const stored = await tx.poolBlockFitting(pool.id, ask.prefixlen);
      if (!stored) throw insufficientSpace(ask.prefixlen);
      from = fromStored(stored);
      want = { version: from.version, start: from.start, length: ask.prefixlen };
    }
    const first = addressKey(want.version, want.start);
    const clash = await tx.poolSubnetOverlaps(pool.id, first, addressKey(want.version, blockLast(want)));
    if (!clash && (await tx.takePoolBlock(pool.id, toStored(from)))) {
      for (const b of splitBlock(from, want)) await tx.addPoolBlock(pool.id, toStored(b));
      return blockCidr(want);
    }
    // The list disagrees with the subnets (it can only have gone stale by a bug, or by a write that bypassed it):
    // rebuild it from them and ask again; a second disagreement is a bug, not the user's.
    if (attempt > 0) throw new Error(`subnet pool ${pool.id}: free-block list disagrees with its subnets after a rebuild`);
    await rebuildFreeBlocks(tx, fresh);
  }
}

/**
 * A subnet of the pool is deleted: its block returns to the pool's free list, merged with its buddy while the buddy
 * is free, upwards (the list's blocks stay maximal). Under the pool's lock. A pool whose list is not built yet
 * builds it from its subnets later, without this one.
 */
export async function releaseSubnetToPool(tx: Tx, poolId: string, cidr: unknown): Promise<void> {
  const { blocksReady } = await tx.lockSubnetPool(poolId);
  if (!blocksReady) return;
  const keys = cidrKeys(cidr);
  if (!keys) return;
  const start = keyAddress(keys.first);
  let block: Block = { version: start.version, start: start.value, length: keys.length };
  for (let buddy = buddyOf(block); buddy && (await tx.takePoolBlock(poolId, toStored(buddy))); buddy = buddyOf(block)) block = parentOf(block);
  await tx.addPoolBlock(poolId, toStored(block));
}

export const subnetpools: ResourceDef = {
  kind: 'subnetpool',
  schema: subnetpool,

  async create(tx, ctx, input) {
    const versionHint = Array.isArray(input.prefixes) ? parseCidrLoose(input.prefixes[0])?.version : undefined;
    const fields = buildSubnetPool(input, { existingDefault: versionHint ? await existingDefault(tx, versionHint) : null });
    const doc = newDoc(ctx, input, { ...fields });
    await validateScope(tx, ctx, doc.id, fields.address_scope_id, fields.prefixes, fields.ip_version);
    await insertDoc(tx, 'subnetpool', doc);
    if (doc.shared === true) await syncShared(tx, 'subnetpool', doc, true); // SubnetPool's RBAC create hook
    return doc;
  },

  async update(tx, ctx, doc, input) {
    await lockPool(tx, doc);
    return updatePool(tx, ctx, doc, input);
  },

  async remove(tx, _ctx, doc) {
    await lockPool(tx, doc);
    if ((await tx.count('subnet', { subnetpool_id: [doc.id] })) > 0) {
      throw new NeutronError(400, 'SubnetPoolDeleteError', 'Unable to delete subnet pool: Subnet pool has existing allocations.');
    }
    await dropRbacOf(tx, doc.id);
    await deleteDoc(tx, 'subnetpool', doc.id);
  },

  actions: {
    /** PUT /v2.0/subnetpools/{id}/add_prefixes {"prefixes": [...]} → {"prefixes": [...]}: an update of the list. */
    async add_prefixes(tx, ctx, doc, body) {
      const add = prefixOperationBody(body);
      await lockPool(tx, doc);
      const saved = await updatePool(tx, ctx, doc, { prefixes: [...(doc.prefixes as string[]), ...add] });
      return { prefixes: saved.prefixes };
    },

    /** PUT /v2.0/subnetpools/{id}/remove_prefixes: refused while a subnet of the pool uses a removed address. */
    async remove_prefixes(tx, _ctx, doc, body) {
      const remove = prefixOperationBody(body);
      await lockPool(tx, doc);
      const allocated = (await tx.list('subnet', { subnetpool_id: [doc.id] })).map((s) => s.cidr as string);
      const after = removePoolPrefixes(doc.prefixes as string[], remove, allocated, Number(doc.ip_version) as IpVersion);
      if (after.join() !== (doc.prefixes as string[]).join()) {
        doc.prefixes = after;
        await tx.setSubnetPoolBlocksReady(doc.id, false);
        await saveDoc(tx, 'subnetpool', doc);
      }
      return { prefixes: doc.prefixes };
    },

    /**
     * PUT /v2.0/subnetpools/{id}/onboard_network_subnets {"network_id": ...} (extension subnet_onboard): the
     * network's subnets of the pool's family become the pool's, their cidrs join its prefixes (through the update
     * rules, so the scope's prefixes stay unique). Answers [{"id", "cidr"}], as Neutron.
     */
    async onboard_network_subnets(tx, ctx, doc, body) {
      const networkId = body.network_id;
      if (networkId === undefined || networkId === null) throw invalidInput('network_id must be specified.');
      const network = typeof networkId === 'string' ? await tx.get('network', networkId) : undefined;
      if (!network) throw notFound('network', String(networkId));
      if (!ctx.isAdmin && network.project_id !== ctx.projectId) throw new NeutronError(403, 'NotAuthorized', 'Not authorized.');
      await lockPool(tx, doc);
      const version = Number(doc.ip_version);
      const onboard = (await tx.list('subnet', { network_id: [network.id] })).filter((s) => Number(s.ip_version) === version);
      const allocated = (await tx.list('subnet', { subnetpool_id: [doc.id] })).map((s) => s.cidr as string);
      const prefixes = onboardPrefixes(doc.id, doc.prefixes as string[], allocated, onboard.map((s) => ({ id: s.id, cidr: s.cidr as string })));
      await updatePool(tx, ctx, doc, { prefixes });
      // The subnets become the pool's allocations (their cidrs may already lie inside its prefixes).
      await tx.setSubnetPoolBlocksReady(doc.id, false);
      for (const s of onboard) {
        s.subnetpool_id = doc.id;
        await saveDoc(tx, 'subnet', s);
      }
      await refreshNetworkScopes(tx, [network.id]);
      return onboard.map((s) => ({ id: s.id, cidr: s.cidr }));
    },
  },
};

export const addressScopes: ResourceDef = {
  kind: 'address_scope',
  schema: addressScope,
  async create(tx, ctx, input) {
    const doc = newDoc(ctx, input, { shared: input.shared ?? false, ip_version: input.ip_version });
    await insertDoc(tx, 'address_scope', doc);
    if (doc.shared === true) await syncShared(tx, 'address_scope', doc, true); // AddressScope's RBAC create hook
    return doc;
  },
  async update(tx, _ctx, doc, input) {
    checkAddressScopeUpdate(doc as Doc & { shared: boolean }, input);
    if (input.shared !== undefined) await syncShared(tx, 'address_scope', doc, input.shared as boolean);
    Object.assign(doc, input);
    return saveDoc(tx, 'address_scope', doc);
  },
  async remove(tx, _ctx, doc) {
    if ((await tx.count('subnetpool', { address_scope_id: [doc.id] })) > 0) {
      throw new NeutronError(
        409,
        'AddressScopeInUse',
        `Unable to complete operation on address scope ${doc.id}. There are one or more subnet pools in use on the address scope.`,
      );
    }
    await dropRbacOf(tx, doc.id);
    await deleteDoc(tx, 'address_scope', doc.id);
  },
};
