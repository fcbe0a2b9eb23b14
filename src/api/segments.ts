// Network segments against the store: which VXLAN / Geneve VNI, VLAN id or flat physical network a network is carried
// on, held by one network at most (Neutron's TunnelIdInUse, VlanIdInUse, FlatNetworkInUse).
//
// A network that names no segmentation id gets one by a next-fit walk over the type's range, from the id after the
// one last handed out (the store's segment cursor), wrapping once: an allocation costs a couple of look-ups however
// many networks there are. (Neutron picks at random among its configured vni_ranges; which free id is chosen is
// not part of the API.) A segment named explicitly is taken if free, anywhere in the range, and the walk steps over
// it when it gets there.

import { NeutronError } from '../domain/errors.js';
import type { Segment, Tx } from '../store/types.js';

/** Segmentation ids of each type that has them: VXLAN and Geneve VNIs (24 bits), 802.1Q VLAN ids. */
export const SEGMENT_RANGE: Record<string, { min: number; max: number }> = {
  vxlan: { min: 1, max: 16777215 },
  geneve: { min: 1, max: 16777215 },
  vlan: { min: 1, max: 4094 },
};

function inUse(seg: Segment): NeutronError {
  if (seg.network_type === 'flat') {
    return new NeutronError(409, 'FlatNetworkInUse', `Unable to create the flat network. Physical network ${seg.physical_network} is in use.`);
  }
  if (seg.network_type === 'vlan') {
    return new NeutronError(
      409,
      'VlanIdInUse',
      `Unable to create the network. The VLAN ${seg.segmentation_id} on physical network ${seg.physical_network} is in use.`,
    );
  }
  return new NeutronError(409, 'TunnelIdInUse', `Unable to create the network. The tunnel ID ${seg.segmentation_id} is in use.`);
}

const noNetworkAvailable = (): NeutronError =>
  new NeutronError(503, 'NoNetworkAvailable', 'Unable to create the network. No tenant network is available for allocation.');

/** The segment a network's provider attributes name (null for a local network, which has none). */
export function segmentOf(type: string, physnet: string | null, segmentationId: number | null): Segment | null {
  if (type === 'local') return null;
  return { network_type: type, physical_network: physnet ?? '', segmentation_id: type === 'flat' ? 0 : (segmentationId ?? 0) };
}

/**
 * Reserves the network's segment and returns its segmentation id: the one asked for (409 when another network holds
 * it), or for a type with a range and none asked for, the next free one after the cursor (503 when none is free).
 */
export async function reserveSegment(
  tx: Tx,
  networkId: string,
  type: string,
  physnet: string | null,
  asked: number | null,
  range: { min: number; max: number } | undefined = SEGMENT_RANGE[type],
): Promise<number | null> {
  if (asked !== null || !range) {
    const seg = segmentOf(type, physnet, asked);
    if (seg && !(await tx.tryReserveSegment(seg, networkId))) throw inUse(seg);
    return asked;
  }
  const physical = physnet ?? '';
  const last = await tx.segmentCursor(type, physical);
  let id = last === null || last >= range.max ? range.min : last + 1;
  let wrapped = false;
  for (;;) {
    if (await tx.tryReserveSegment({ network_type: type, physical_network: physical, segmentation_id: id }, networkId, true)) return id;
    if (++id > range.max) {
      // Past the end: go round once more from the start, unless every id is held.
      if (wrapped || (await tx.countSegments(type, physical)) >= range.max - range.min + 1) throw noNetworkAvailable();
      wrapped = true;
      id = range.min;
    }
  }
}

/** Frees a network's segment (the network document's provider attributes). */
export async function releaseSegment(tx: Tx, network: Record<string, unknown>): Promise<void> {
  const seg = segmentOf(
    network['provider:network_type'] as string,
    network['provider:physical_network'] as string | null,
    network['provider:segmentation_id'] as number | null,
  );
  if (seg) await tx.releaseSegment(seg);
}
