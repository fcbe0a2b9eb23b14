// Subnet pools and address scopes. A pool hands out prefixes to subnets (domain/subnetpool.ts); a scope groups
// pools whose addresses may be routed to each other without translation (and, later, which BGP advertises).

import { NeutronError, notFound } from '../../domain/errors.js';
import { buildSubnetPool } from '../../domain/subnetpool.js';
import { IpPrefix } from '../../domain/ip.js';
import type { Doc, Tx } from '../../store/types.js';
import { addressScope, subnetpool, type ResourceSchema } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, saveDoc } from '../context.js';
import type { ResourceDef } from '../resource.js';

async function checkScope(tx: Tx, poolId: string, scopeId: unknown, version: number): Promise<void> {
  if (scopeId === null || scopeId === undefined) return;
  const scope = await tx.get('address_scope', scopeId as string);
  if (!scope) throw notFound('address_scope', scopeId as string);
  if (scope.ip_version !== version) {
    throw new NeutronError(
      400,
      'IllegalSubnetPoolIpVersionAssociationWithAddressScope',
      `Illegal subnetpool association: subnetpool ${poolId} cannot associate with address scope ${scope.id} because subnetpool ip_version is not ${scope.ip_version}.`,
    );
  }
}

async function existingDefault(tx: Tx, version: number, except?: string): Promise<Doc | null> {
  return (await tx.list('subnetpool')).find((p) => p.is_default === true && Number(p.ip_version) === version && p.id !== except) ?? null;
}

export const subnetpools: ResourceDef = {
  kind: 'subnetpool',
  schema: subnetpool,

  async create(tx, ctx, input) {
    const versionHint = Array.isArray(input.prefixes) ? IpPrefix.parse(input.prefixes[0])?.version : undefined;
    const fields = buildSubnetPool(input, { existingDefault: versionHint ? await existingDefault(tx, versionHint) : null });
    const doc = newDoc(ctx, input, { ...fields });
    await checkScope(tx, doc.id, doc.address_scope_id, Number(doc.ip_version));
    return insertDoc(tx, 'subnetpool', doc);
  },

  async update(tx, _ctx, doc, input) {
    const merged = { ...doc, ...input };
    const version = Number(doc.ip_version);
    const fields = buildSubnetPool(
      Object.fromEntries(Object.entries(merged).filter(([k]) => (subnetpool as ResourceSchema).attributes[k]?.post === true)),
      { existingDefault: await existingDefault(tx, version, doc.id) },
    );
    // Prefixes may only grow: a pool never drops address space subnets may be using.
    const before = (doc.prefixes as string[]).map((p) => IpPrefix.parse(p)!);
    const after = (fields.prefixes as string[]).map((p) => IpPrefix.parse(p)!);
    if (!before.every((b) => after.some((a) => a.covers(b)))) {
      throw new NeutronError(400, 'IllegalSubnetPoolPrefixUpdate', `Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes`);
    }
    await checkScope(tx, doc.id, fields.address_scope_id, version);
    const nameAndDescription = Object.fromEntries(Object.entries(input).filter(([k]) => k === 'name' || k === 'description'));
    Object.assign(doc, fields, nameAndDescription);
    await tx.setSubnetPoolCursor(doc.id, null, null); // prefixes or lengths may have changed
    return saveDoc(tx, 'subnetpool', doc);
  },

  async remove(tx, _ctx, doc) {
    if ((await tx.count('subnet', { subnetpool_id: [doc.id] })) > 0) {
      throw new NeutronError(
        409,
        'SubnetPoolInUse',
        `Unable to complete operation on subnetpool ${doc.id}. Subnets are allocated from this subnet pool.`,
      );
    }
    await deleteDoc(tx, 'subnetpool', doc.id);
  },

  actions: {
    async add_prefixes(tx, _ctx, doc, body) {
      const add = subnetpool.attributes.prefixes.type.convert(body.prefixes, 'prefixes');
      const fields = buildSubnetPool(
        { ...Object.fromEntries(Object.entries(doc).filter(([k]) => (subnetpool as ResourceSchema).attributes[k]?.post === true)), prefixes: [...(doc.prefixes as string[]), ...add] },
        { existingDefault: await existingDefault(tx, Number(doc.ip_version), doc.id) },
      );
      doc.prefixes = fields.prefixes;
      await tx.setSubnetPoolCursor(doc.id, null, null);
      await saveDoc(tx, 'subnetpool', doc);
      return { prefixes: doc.prefixes };
    },
  },
};

export const addressScopes: ResourceDef = {
  kind: 'address_scope',
  schema: addressScope,
  async create(tx, ctx, input) {
    const doc = newDoc(ctx, input, { shared: input.shared ?? false, ip_version: input.ip_version });
    return insertDoc(tx, 'address_scope', doc);
  },
  async update(tx, _ctx, doc, input) {
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
    await deleteDoc(tx, 'address_scope', doc.id);
  },
};
