// Networks: L2 segments with provider attributes (type, physical network, segment id), MTU, and the
// router:external flag that makes a network usable as a router gateway.

import { badAttribute, inUse, invalidInput } from '../../domain/errors.js';
import { maxNetworkMtu, type MtuConfig } from '../../domain/mtu.js';
import { AUTO_DELETE_PORT_OWNERS, IPV6_MIN_MTU } from '../../domain/ipv6/index.js';
import type { Doc, Tx } from '../../store/types.js';
import { network } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, saveDoc } from '../context.js';
import { releasePortAddresses } from '../ipam.js';
import type { ResourceDef } from '../resource.js';
import { SEGMENT_RANGE, releaseSegment, reserveSegment } from '../segments.js';
import { deleteSubnetCascade } from './subnets.js';
import { deleteDisassociatedFloatingIps } from './floatingips.js';
import { dropRbacOf, syncExternal, syncShared } from './rbac-policies.js';
import { dhcpAgentsHostingNetwork, dropDhcpBindingsOfNetwork } from '../dhcp-agent-scheduler.js';
import { checkZoneHints, networkAvailabilityZones } from '../availability-zones.js';

export const NETWORK_TYPES = ['vxlan', 'flat', 'vlan', 'geneve', 'local'] as const;

/** Ports the network itself owns; they do not keep a network "in use" (Neutron's auto-delete owners). */
export const NETWORK_OWNED_PORTS = AUTO_DELETE_PORT_OWNERS;

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
  const range = SEGMENT_RANGE[type];
  if (segment !== null && range !== undefined && (segment < range.min || segment > range.max)) {
    throw invalidInput(`segmentation_id out of range (${range.min} through ${range.max})`);
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
  schema: network,
  /** dhcp_agent_scheduler: the DHCP agents hosting the network. */
  subCollections: { 'dhcp-agents': { list: (tx, _ctx, doc, settings) => dhcpAgentsHostingNetwork(tx, doc, settings) } },

  /** network_availability_zone: the zones of the agents serving its DHCP, as they are now. */
  async present(tx, doc) {
    return { ...doc, availability_zones: await networkAvailabilityZones(tx, doc) };
  },

  async create(tx, ctx, input) {
    await checkZoneHints(tx, input.availability_zone_hints as string[] | undefined);
    const type = (input['provider:network_type'] as string | undefined) ?? 'vxlan';
    const physnet = (input['provider:physical_network'] as string | null | undefined) ?? null;
    const segment = (input['provider:segmentation_id'] as number | null | undefined) ?? null;
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
      'provider:segmentation_id': null,
      is_default: input.is_default ?? false,
      availability_zone_hints: input.availability_zone_hints ?? [],
      availability_zones: [],
      ipv4_address_scope: null,
      ipv6_address_scope: null,
      l2_adjacency: true,
    });
    doc['provider:segmentation_id'] = await reserveSegment(tx, doc.id, type, physnet, segment);
    await insertDoc(tx, 'network', doc);
    // `shared` and `router:external` are RBAC entries (db_base_plugin_v2.create_network, _process_l3_create).
    if (doc.shared === true) await syncShared(tx, 'network', doc, true);
    if (doc['router:external'] === true) await syncExternal(tx, doc, true, false);
    return doc;
  },

  async update(tx, ctx, doc, input) {
    if (input.mtu !== undefined) checkMtu(input.mtu as number, doc['provider:network_type'] as string, ctx.settings?.mtu);
    if (input.mtu !== undefined && (input.mtu as number) < IPV6_MIN_MTU) {
      const v6 = (await tx.list('subnet', { network_id: [doc.id] })).some((s) => s.ip_version === 6);
      if (v6) throw badAttribute('mtu', `MTU ${input.mtu} is too small for IPv6 subnets on network ${doc.id}`);
    }
    if (input.shared !== undefined) await syncShared(tx, 'network', doc, input.shared as boolean);
    if (input['router:external'] !== undefined) await syncExternal(tx, doc, input['router:external'] as boolean, doc['router:external'] === true);
    Object.assign(doc, input);
    return saveDoc(tx, 'network', doc);
  },

  async remove(tx, _ctx, doc) {
    if (doc['router:external'] === true) await deleteDisassociatedFloatingIps(tx, doc.id);
    const ports = await tx.list('port', { network_id: [doc.id] });
    const busy = ports.filter((p) => !NETWORK_OWNED_PORTS.has(p.device_owner as string));
    if (busy.length) {
      const e = inUse.network(doc.id);
      e.message = e.message.replace(/\.$/, `, id for these ports is: ${busy.map((p) => p.id).join(',')}.`);
      throw e;
    }
    for (const p of ports) await removePortRows(tx, p);
    for (const s of await tx.list('subnet', { network_id: [doc.id] })) await deleteSubnetCascade(tx, s, doc);
    await releaseSegment(tx, doc);
    await dropRbacOf(tx, doc.id);
    await dropDhcpBindingsOfNetwork(tx, doc.id);
    await deleteDoc(tx, 'network', doc.id);
  },
};

async function removePortRows(tx: Tx, port: Doc): Promise<void> {
  await releasePortAddresses(tx, port);
  await deleteDoc(tx, 'port', port.id);
}
