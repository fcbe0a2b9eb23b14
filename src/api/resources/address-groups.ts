// Address groups (the address-group extension): neutron/db/address_group_db.py. A group is a list of CIDRs of both
// families, each stored as "%s/%s" % (net.network, net.prefixlen); add_addresses and remove_addresses change it
// (AddressesAlreadyExist 400 / AddressesNotFound 404, nothing changed); a group a security group rule names is
// AddressGroupInUse. The agent turns a group's CIDRs into nft sets (domain/firewall.ts addressGroupSet).

import { NeutronError, badAttribute, httpBadRequest, notFound } from '../../domain/errors.js';
import { parseCidrLoose } from '../../domain/netaddr.js';
import { pyRepr, pyStr } from '../../domain/py.js';
import type { Doc, Tx } from '../../store/types.js';
import { addressGroup } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, saveDoc, type RequestContext } from '../context.js';
import type { ResourceDef } from '../resource.js';

/** The store kind (an `rbac-address-group` names this as its object type's kind). */
export const ADDRESS_GROUP_KIND = 'address_group' as const;

/**
 * _process_requested_addresses: each requested address through netaddr.IPNetwork (a bare address is a host
 * prefix; netaddr's AddrFormatError is Neutron's 400 with that type), normalized and deduplicated.
 */
export function normalizeAddresses(requested: readonly unknown[]): string[] {
  const out = new Set<string>();
  for (const a of requested) {
    const p = parseCidrLoose(a);
    if (!p) throw new NeutronError(400, 'AddrFormatError', `invalid IPNetwork ${pyStr(a)}`);
    out.add(p.toString());
  }
  return [...out];
}

/** The `addresses` list of an action's body ({"addresses": [...]}, as openstacksdk and Tempest send it). */
function requestedAddresses(body: Record<string, unknown>): unknown[] {
  const inner = (body.address_group && typeof body.address_group === 'object' ? body.address_group : body) as Record<string, unknown>;
  if (inner.addresses === undefined) throw httpBadRequest("Failed to parse request. Required attribute 'addresses' not specified");
  if (!Array.isArray(inner.addresses)) throw badAttribute('addresses', `'${pyStr(inner.addresses)}' is not a list`);
  return inner.addresses;
}

const sortedRepr = (addrs: string[]): string => pyRepr([...addrs].sort());

async function addAddresses(tx: Tx, doc: Doc, requested: unknown[]): Promise<Doc> {
  const have = new Set(doc.addresses as string[]);
  const wanted = normalizeAddresses(requested);
  const present = wanted.filter((a) => have.has(a));
  if (present.length) {
    throw new NeutronError(400, 'AddressesAlreadyExist', `Addresses ${sortedRepr(present)} already exist in the address group ${doc.id}.`);
  }
  doc.addresses = [...(doc.addresses as string[]), ...wanted];
  return saveDoc(tx, ADDRESS_GROUP_KIND, doc);
}

async function removeAddresses(tx: Tx, doc: Doc, requested: unknown[]): Promise<Doc> {
  const have = new Set(doc.addresses as string[]);
  const wanted = normalizeAddresses(requested);
  const absent = wanted.filter((a) => !have.has(a));
  if (absent.length) {
    throw new NeutronError(404, 'AddressesNotFound', `Addresses ${sortedRepr(absent)} not found in the address group ${doc.id}.`);
  }
  const gone = new Set(wanted);
  doc.addresses = (doc.addresses as string[]).filter((a) => !gone.has(a));
  return saveDoc(tx, ADDRESS_GROUP_KIND, doc);
}

export const addressGroups: ResourceDef = {
  kind: ADDRESS_GROUP_KIND,
  schema: addressGroup,
  async create(tx, ctx, input) {
    const doc = newDoc(ctx, input, { addresses: [] });
    // create_address_group then add_addresses: the same normalization (duplicates after it are one address).
    doc.addresses = normalizeAddresses((input.addresses as string[] | undefined) ?? []);
    return insertDoc(tx, ADDRESS_GROUP_KIND, doc);
  },
  async update(tx, _ctx, doc, input) {
    Object.assign(doc, input);
    return saveDoc(tx, ADDRESS_GROUP_KIND, doc);
  },
  async remove(tx, _ctx, doc) {
    const rules = await tx.list('security_group_rule');
    if (rules.some((r) => r.remote_address_group_id === doc.id)) {
      throw new NeutronError(409, 'AddressGroupInUse', `Address group ${doc.id} is in use on one or more security group rules.`);
    }
    await deleteDoc(tx, ADDRESS_GROUP_KIND, doc.id);
  },
  actions: {
    async add_addresses(tx, _ctx: RequestContext, doc, body) {
      return { address_group: await addAddresses(tx, doc, requestedAddresses(body)) };
    },
    async remove_addresses(tx, _ctx: RequestContext, doc, body) {
      return { address_group: await removeAddresses(tx, doc, requestedAddresses(body)) };
    },
  },
};

/** The 404 a rule's remote_address_group_id gets when it names no group. */
export const addressGroupNotFound = (id: string): NeutronError => notFound(ADDRESS_GROUP_KIND, id);
