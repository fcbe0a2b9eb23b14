// Schema v5 keys segments by physical network too, and fills segment_allocations from the networks themselves (v4's
// table was filled lazily per type, and before v4 nothing stopped two networks from asking for one VNI): after the
// upgrade every network's segment is held, the first of a duplicate pair keeps it, and v4's VXLAN cursor is kept.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/store/types.js';
import { PG_SKIP, withOldStore } from './harness.js';

const NETWORKS = [
  { id: 'n-vxlan', 'provider:network_type': 'vxlan', 'provider:physical_network': null, 'provider:segmentation_id': 7 },
  { id: 'n-vxlan-dup', 'provider:network_type': 'vxlan', 'provider:physical_network': null, 'provider:segmentation_id': 7 },
  { id: 'n-vlan', 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 101 },
  { id: 'n-flat', 'provider:network_type': 'flat', 'provider:physical_network': 'physnet2', 'provider:segmentation_id': null },
  { id: 'n-local', 'provider:network_type': 'local', 'provider:physical_network': null, 'provider:segmentation_id': null },
];
const V4 = 4;

/** What v4 had recorded: the VXLAN segment and its cursor (VLAN and flat were never recorded there). */
const V4_STATE = [
  "INSERT INTO network_segments (network_type, segmentation_id, network_id) VALUES ('vxlan', 7, 'n-vxlan')",
  "INSERT INTO segment_cursors (network_type, last_id) VALUES ('vxlan', 7)",
];

async function check(store: Store): Promise<void> {
  await store.read(async (tx) => {
    assert.equal(await tx.tryReserveSegment({ network_type: 'vxlan', physical_network: '', segmentation_id: 7 }, 'x'), false);
    assert.equal(await tx.tryReserveSegment({ network_type: 'vlan', physical_network: 'physnet1', segmentation_id: 101 }, 'x'), false);
    assert.equal(await tx.tryReserveSegment({ network_type: 'flat', physical_network: 'physnet2', segmentation_id: 0 }, 'x'), false);
    assert.equal(await tx.countSegments('vxlan', ''), 1);
    assert.equal(await tx.countSegments('local', ''), 0);
    assert.equal(await tx.segmentCursor('vxlan', ''), 7);
  });
}

/** The v4 store: the networks (with a duplicate VNI), and what v4 had recorded of them. */
const ROWS: [string, unknown[]][] = [...NETWORKS.map((n): [string, unknown[]] => ['INSERT INTO networks (id, body) VALUES (?, ?)', [n.id, JSON.stringify(n)]]), ...V4_STATE.map((sql): [string, unknown[]] => [sql, []])];

describe('schema v5 carries existing segments over', () => {
  it('sqlite', () => withOldStore('sqlite', V4, ROWS, check));
  it('postgres', { skip: PG_SKIP }, () => withOldStore('postgres', V4, ROWS, check));
});
