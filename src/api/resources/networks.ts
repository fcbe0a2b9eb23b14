// Networks: L2 segments with provider attributes (type, physical network, segment id), MTU, and the
// router:external flag that makes a network usable as a router gateway.

import { badAttribute, conflict, inUse, invalidInput } from '../../domain/errors.js';
import { maxNetworkMtu, type MtuConfig } from '../../domain/mtu.js';
import type { Doc, Tx } from '../../store/types.js';
import { STANDARD_ATTRS, bool, int, list, nullableStr, str } from '../attributes.js';
import { deleteDoc, insertDoc, newDoc, saveDoc } from '../context.js';
import { releasePortAddresses } from '../ipam.js';
import type { ResourceDef } from '../resource.js';
import { deleteSubnetCascade } from './subnets.js';

export const NETWORK_TYPES = ['vxlan', 'flat', 'vlan', 'geneve', 'local'] as const;
const MAX_SEGMENT: Record<string, number> = { vxlan: 16777215, geneve: 16777215, vlan: 4094 };

/** Ports the network itself owns; they do not keep a network "in use" (Neutron's auto-delete owners). */
export const NETWORK_OWNED_PORTS = new Set(['network:dhcp']);

/**
 * Segments taken are rows of network_segments, so picking a free one is a next-fit probe from the last one handed out
 * (O(1) while ids are not exhausted) rather than a scan of every network. The table is filled from the networks once,
 * on first use of a type (networks made before it existed). The cursor row is the type's lock on PostgreSQL.
 */
async function segmentsReady(tx: Tx, type: string): Promise<number> {
  const last = await tx.lockSegments(type);
  if (last !== undefined && last !== null) return last;
  for (const n of await tx.list('network')) {
    if (n['provider:network_type'] === type && typeof n['provider:segmentation_id'] === 'number') await tx.claimSegment(type, n['provider:segmentation_id'], n.id as string);
  }
  await tx.setSegmentCursor(type, 0);
  return 0;
}

async function pickSegment(tx: Tx, type: string, networkId: string): Promise<number> {
  const max = MAX_SEGMENT[type]!;
  let id = await segmentsReady(tx, type);
  for (let tries = 0; tries < max; tries++) {
    id = (id % max) + 1;
    if (await tx.claimSegment(type, id, networkId)) {
      await tx.setSegmentCursor(type, id);
      return id;
    }
  }
  throw invalidInput(`Unable to create the network. No tenant network is available for allocation`);
}

async function claimExplicitSegment(tx: Tx, type: string, physnet: string | null, segment: number, networkId: string): Promise<void> {
  await segmentsReady(tx, type);
  if (await tx.claimSegment(type, segment, networkId)) return;
  throw type === 'vlan'
    ? conflict('VlanIdInUse', `Unable to create the network. The VLAN ${segment} on physical network ${physnet} is in use.`)
    : conflict('TunnelIdInUse', `Unable to create the network. The tunnel ID ${segment} is in use.`);
}

function validateProvider(type: string, physnet: string | null, segment: number | null): void {
  if (!(NETWORK_TYPES as readonly string[]).includes(type)) {
    throw invalidInput(`network_type value '${type}' not supported`);
  }
  if ((type === 'flat' || type === 'vlan') && !physnet) {
    throw invalidInput(`physical_network required for ${type} provider network`);
  }
  if (type === 'flat' && segment !== null) throw invalidInput('segmentation_id cannot be specified for flat provider network');
  if (type === 'local' && (physnet || segment !== null)) {
    throw invalidInput(`${physnet ? 'physical_network' : 'segmentation_id'} prohibited for local provider network`);
  }
  if ((type === 'vxlan' || type === 'geneve') && physnet) {
    throw invalidInput(`provider:physical_network specified for ${type.toUpperCase()} network`);
  }
  const max = MAX_SEGMENT[type];
  if (segment !== null && max !== undefined && (segment < 1 || segment > max)) {
    throw invalidInput(`segmentation_id out of range (1 through ${max})`);
  }
}

/**
 * Neutron's rule: a network's MTU is at most what its segment type leaves of the physical MTU (1450 for VXLAN on a
 * 1500-byte IPv4 underlay, 1430 on an IPv6 one); a network created without one gets exactly that.
 */
function checkMtu(mtu: number, type: string, cfg: MtuConfig | undefined): void {
  const max = maxNetworkMtu(type, cfg);
  if (mtu > max) throw invalidInput(`Requested MTU is too big, maximum is ${max}`);
}

export const networks: ResourceDef = {
  kind: 'network',
  singular: 'network',
  plural: 'networks',
  attrs: {
    ...STANDARD_ATTRS,
    admin_state_up: { post: true, put: true, convert: bool },
    shared: { post: true, put: true, convert: bool },
    'router:external': { post: true, put: true, convert: bool },
    is_default: { post: true, put: true, convert: bool },
    port_security_enabled: { post: true, put: true, convert: bool },
    mtu: { post: true, put: true, convert: (v, n) => int(v, n, 68) },
    'provider:network_type': { post: true, convert: (v, n) => str(v, n) },
    'provider:physical_network': { post: true, convert: (v, n) => nullableStr(v, n) },
    'provider:segmentation_id': { post: true, convert: (v, n) => (v === null ? null : int(v, n, 0)) },
    availability_zone_hints: { post: true, convert: (v, n) => list(v, n).map((z) => str(z, n)) },
    status: {},
    subnets: {},
    availability_zones: {},
    ipv4_address_scope: {},
    ipv6_address_scope: {},
    l2_adjacency: {},
  },

  async create(tx, ctx, input) {
    const type = (input['provider:network_type'] as string | undefined) ?? 'vxlan';
    const physnet = (input['provider:physical_network'] as string | null | undefined) ?? null;
    let segment = (input['provider:segmentation_id'] as number | null | undefined) ?? null;
    validateProvider(type, physnet, segment);
    const mtu = (input.mtu as number | undefined) ?? maxNetworkMtu(type, ctx.settings?.mtu);
    checkMtu(mtu, type, ctx.settings?.mtu);
    const doc = newDoc(ctx, input, {
      admin_state_up: input.admin_state_up ?? true,
      mtu,
      status: 'ACTIVE',
      subnets: [],
      shared: input.shared ?? false,
      port_security_enabled: input.port_security_enabled ?? true,
      'router:external': input['router:external'] ?? false,
      'provider:network_type': type,
      'provider:physical_network': physnet,
      'provider:segmentation_id': segment,
      is_default: input.is_default ?? false,
      availability_zone_hints: input.availability_zone_hints ?? [],
      availability_zones: [],
      ipv4_address_scope: null,
      ipv6_address_scope: null,
      l2_adjacency: true,
    });
    if (MAX_SEGMENT[type] !== undefined) {
      if (segment === null) segment = await pickSegment(tx, type, doc.id as string);
      else await claimExplicitSegment(tx, type, physnet, segment, doc.id as string);
      doc['provider:segmentation_id'] = segment;
    }
    return insertDoc(tx, 'network', doc);
  },

  async update(tx, ctx, doc, input) {
    if (input.mtu !== undefined) checkMtu(input.mtu as number, doc['provider:network_type'] as string, ctx.settings?.mtu);
    if (input.mtu !== undefined && (input.mtu as number) < 1280) {
      const v6 = (await tx.list('subnet', { network_id: [doc.id] })).some((s) => s.ip_version === 6);
      if (v6) throw badAttribute('mtu', `MTU ${input.mtu} is too small for IPv6 subnets on network ${doc.id}`);
    }
    Object.assign(doc, input);
    return saveDoc(tx, 'network', doc);
  },

  async remove(tx, _ctx, doc) {
    const ports = await tx.list('port', { network_id: [doc.id] });
    const busy = ports.filter((p) => !NETWORK_OWNED_PORTS.has(p.device_owner as string));
    if (busy.length) {
      const e = inUse.network(doc.id);
      e.message = e.message.replace(/\.$/, `, id for these ports is: ${busy.map((p) => p.id).join(',')}.`);
      throw e;
    }
    for (const p of ports) await removePortRows(tx, p);
    for (const s of await tx.list('subnet', { network_id: [doc.id] })) await deleteSubnetCascade(tx, s, doc);
    if (typeof doc['provider:segmentation_id'] === 'number') await tx.releaseSegment(doc['provider:network_type'] as string, doc['provider:segmentation_id']);
    await deleteDoc(tx, 'network', doc.id);
  },
};

async function removePortRows(tx: Tx, port: Doc): Promise<void> {
  await releasePortAddresses(tx, port);
  await deleteDoc(tx, 'port', port.id);
}
