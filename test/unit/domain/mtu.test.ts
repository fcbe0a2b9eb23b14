// Network MTU from the physical MTU and the underlay's IP version, as Neutron derives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encapOverhead, maxNetworkMtu } from '../../../src/domain/mtu.js';

test("Neutron's defaults: 1500-byte IPv4 underlay gives VXLAN 1450, Geneve 1442, flat/vlan/local 1500", () => {
  assert.equal(maxNetworkMtu('vxlan'), 1450);
  assert.equal(maxNetworkMtu('geneve'), 1442);
  for (const t of ['flat', 'vlan', 'local']) assert.equal(maxNetworkMtu(t), 1500);
});

test('an IPv6 underlay costs 20 bytes more per tunnelled frame (VXLAN over IPv6: 70)', () => {
  assert.equal(encapOverhead('vxlan', 4), 50);
  assert.equal(encapOverhead('vxlan', 6), 70);
  assert.equal(maxNetworkMtu('vxlan', { globalPhysnetMtu: 1500, overlayIpVersion: 6 }), 1430);
  assert.equal(maxNetworkMtu('geneve', { globalPhysnetMtu: 1500, overlayIpVersion: 6 }), 1422);
  assert.equal(maxNetworkMtu('flat', { globalPhysnetMtu: 9000, overlayIpVersion: 6 }), 9000);
  assert.equal(maxNetworkMtu('vxlan', { globalPhysnetMtu: 9000, overlayIpVersion: 6 }), 8930);
});
