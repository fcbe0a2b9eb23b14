// domain/nat.ts: a router's IPv4 NAT table as data, the nft transaction between two states (only the elements that
// changed; the whole table when it is missing or of another shape) and the reading of `nft -j list table`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffNat, floatingAddresses, natSignature, planNat, readNatTable, renderNatTable, type NatActual, type NatTable } from '../../../src/domain/nat.js';

const base = { gatewayLink: 'qg-0123456789a', gatewayIpv4: '192.0.2.5', enableSnat: true, internalCidrs: ['10.0.1.0/24', '10.0.0.0/24', '2001:db8:1::/64'], floatingIps: [] };

/** What the kernel would hold after applying `t` (as readNatTable returns it). */
const asActual = (t: NatTable, link = t.gatewayLink): NatActual => ({ signature: natSignature(link), dnat: new Map(t.dnat), fipSnat: new Map(t.fipSnat), snat: new Map(t.snat) });

test('planNat: SNAT of each internal IPv4 subnet to the gateway address; IPv6 subnets never', () => {
  const t = planNat(base);
  assert.deepEqual([...t.snat], [['10.0.0.0/24', '192.0.2.5'], ['10.0.1.0/24', '192.0.2.5']]);
  assert.equal(t.dnat.size, 0);
  assert.ok(!renderNatTable(t).includes('2001:db8'));
});

test('planNat: enable_snat false, or a gateway without an IPv4 address, is no SNAT; floating IPs still translate', () => {
  const fips = [{ floating: '192.0.2.50', fixed: '10.0.0.5' }];
  for (const t of [planNat({ ...base, enableSnat: false, floatingIps: fips }), planNat({ ...base, gatewayIpv4: null, floatingIps: fips })]) {
    assert.equal(t.snat.size, 0);
    assert.deepEqual([...t.dnat], [['192.0.2.50', '10.0.0.5']]);
    assert.deepEqual([...t.fipSnat], [['10.0.0.5', '192.0.2.50']]);
  }
});

test('planNat: one floating address per fixed address and per floating address (the first, in address order)', () => {
  const t = planNat({ ...base, floatingIps: [{ floating: '192.0.2.51', fixed: '10.0.0.5' }, { floating: '192.0.2.50', fixed: '10.0.0.5' }, { floating: '192.0.2.50', fixed: '10.0.0.6' }] });
  assert.deepEqual([...t.dnat], [['192.0.2.50', '10.0.0.5']]);
  assert.deepEqual(floatingAddresses([{ floating: '192.0.2.51', fixed: 'x' }, { floating: '192.0.2.50', fixed: 'y' }]), ['192.0.2.50/32', '192.0.2.51/32']);
});

test('renderNatTable: one table with three maps, two nat chains and rules naming only the gateway link', () => {
  const text = renderNatTable(planNat({ ...base, floatingIps: [{ floating: '192.0.2.50', fixed: '10.0.0.5' }] }));
  assert.equal(text, [
    'add table ip v6stack_nat { comment "v6stack: IPv4 NAT of this router (SNAT, floating IPs)"; }',
    'add map ip v6stack_nat floating_to_fixed { type ipv4_addr : ipv4_addr; elements = { 192.0.2.50 : 10.0.0.5 }; }',
    'add map ip v6stack_nat fixed_to_floating { type ipv4_addr : ipv4_addr; elements = { 10.0.0.5 : 192.0.2.50 }; }',
    'add map ip v6stack_nat snat_to { type ipv4_addr : ipv4_addr; flags interval; elements = { 10.0.0.0/24 : 192.0.2.5, 10.0.1.0/24 : 192.0.2.5 }; }',
    'add chain ip v6stack_nat prerouting { type nat hook prerouting priority dstnat; policy accept; }',
    'add chain ip v6stack_nat postrouting { type nat hook postrouting priority srcnat; policy accept; }',
    'add rule ip v6stack_nat prerouting iifname "qg-0123456789a" dnat to ip daddr map @floating_to_fixed',
    'add rule ip v6stack_nat postrouting oifname "qg-0123456789a" snat to ip saddr map @fixed_to_floating',
    'add rule ip v6stack_nat postrouting oifname "qg-0123456789a" snat to ip saddr map @snat_to',
  ].join('\n'));
});

test('diffNat: nothing to do when the kernel holds the plan (an agent restart changes nothing)', () => {
  const t = planNat({ ...base, floatingIps: [{ floating: '192.0.2.50', fixed: '10.0.0.5' }] });
  assert.equal(diffNat(t, asActual(t)), null);
  assert.equal(diffNat(null, null), null);
});

test('diffNat: a missing table is made whole; one of another shape is replaced in the same transaction', () => {
  const t = planNat(base);
  const made = diffNat(t, null)!;
  assert.equal(made.script, renderNatTable(t));
  assert.equal(made.incremental, false);
  const moved = diffNat(t, asActual(t, 'qg-otherlink00'))!;
  assert.equal(moved.script, `add table ip v6stack_nat\ndelete table ip v6stack_nat\n${renderNatTable(t)}`);
});

test('diffNat: a re-association is an element change only, and only the moved floating IP loses its flows', () => {
  const before = planNat({ ...base, floatingIps: [{ floating: '192.0.2.50', fixed: '10.0.0.5' }, { floating: '192.0.2.60', fixed: '10.0.0.9' }] });
  const after = planNat({ ...base, floatingIps: [{ floating: '192.0.2.50', fixed: '10.0.0.6' }, { floating: '192.0.2.60', fixed: '10.0.0.9' }] });
  const c = diffNat(after, asActual(before))!;
  assert.equal(c.incremental, true);
  assert.deepEqual(c.staleFloating, ['192.0.2.50']);
  assert.equal(c.script, [
    'delete element ip v6stack_nat floating_to_fixed { 192.0.2.50 }',
    'delete element ip v6stack_nat fixed_to_floating { 10.0.0.5 }',
    'add element ip v6stack_nat floating_to_fixed { 192.0.2.50 : 10.0.0.6 }',
    'add element ip v6stack_nat fixed_to_floating { 10.0.0.6 : 192.0.2.50 }',
  ].join('\n'));
});

test('diffNat: enable_snat false empties the SNAT map and touches no floating IP; no gateway removes the table', () => {
  const on = planNat({ ...base, floatingIps: [{ floating: '192.0.2.50', fixed: '10.0.0.5' }] });
  const off = planNat({ ...base, enableSnat: false, floatingIps: [{ floating: '192.0.2.50', fixed: '10.0.0.5' }] });
  const c = diffNat(off, asActual(on))!;
  assert.equal(c.script, 'delete element ip v6stack_nat snat_to { 10.0.0.0/24, 10.0.1.0/24 }');
  assert.deepEqual(c.staleFloating, []);
  const gone = diffNat(null, asActual(on))!;
  assert.equal(gone.script, 'delete table ip v6stack_nat');
  assert.deepEqual(gone.staleFloating, ['192.0.2.50']);
});

// `nft -j list table ip v6stack_nat` as nftables 1.0.6 printed it for renderNatTable's table (with a /32 SNAT entry).
const LISTED = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'ip', name: 'v6stack_nat', handle: 1 } },
    { map: { family: 'ip', name: 'floating_to_fixed', table: 'v6stack_nat', type: 'ipv4_addr', handle: 1, map: 'ipv4_addr', elem: [['192.0.2.50', '10.0.0.5']] } },
    { map: { family: 'ip', name: 'fixed_to_floating', table: 'v6stack_nat', type: 'ipv4_addr', handle: 2, map: 'ipv4_addr', elem: [['10.0.0.5', '192.0.2.50']] } },
    { map: { family: 'ip', name: 'snat_to', table: 'v6stack_nat', type: 'ipv4_addr', handle: 3, map: 'ipv4_addr', flags: ['interval'], elem: [[{ prefix: { addr: '10.0.0.0', len: 24 } }, '192.0.2.5'], ['10.0.1.7', '192.0.2.5']] } },
    { chain: { family: 'ip', table: 'v6stack_nat', name: 'prerouting', handle: 4, type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' } },
    { chain: { family: 'ip', table: 'v6stack_nat', name: 'postrouting', handle: 6, type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } },
    { rule: { family: 'ip', table: 'v6stack_nat', chain: 'prerouting', handle: 5, expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'qg-0123456789a' } }, { dnat: { addr: { map: { key: { payload: { protocol: 'ip', field: 'daddr' } }, data: '@floating_to_fixed' } } } }] } },
    { rule: { family: 'ip', table: 'v6stack_nat', chain: 'postrouting', handle: 7, expr: [{ match: { op: '==', left: { meta: { key: 'oifname' } }, right: 'qg-0123456789a' } }, { snat: { addr: { map: { key: { payload: { protocol: 'ip', field: 'saddr' } }, data: '@fixed_to_floating' } } } }] } },
    { rule: { family: 'ip', table: 'v6stack_nat', chain: 'postrouting', handle: 8, expr: [{ match: { op: '==', left: { meta: { key: 'oifname' } }, right: 'qg-0123456789a' } }, { snat: { addr: { map: { key: { payload: { protocol: 'ip', field: 'saddr' } }, data: '@snat_to' } } } }] } },
  ],
});

test('readNatTable: the maps (a /32 interval key shown bare is read as /32) and the rules\' signature', () => {
  const a = readNatTable(LISTED)!;
  assert.equal(a.signature, natSignature('qg-0123456789a'));
  assert.deepEqual([...a.dnat], [['192.0.2.50', '10.0.0.5']]);
  assert.deepEqual([...a.snat], [['10.0.0.0/24', '192.0.2.5'], ['10.0.1.7/32', '192.0.2.5']]);
  assert.equal(readNatTable(''), null);
  assert.equal(readNatTable(JSON.stringify({ nftables: [{ metainfo: {} }] })), null);
  // The plan it came from, read back: nothing to do.
  const t = planNat({ ...base, internalCidrs: ['10.0.0.0/24', '10.0.1.7/32'], floatingIps: [{ floating: '192.0.2.50', fixed: '10.0.0.5' }] });
  assert.equal(diffNat(t, a), null);
});
