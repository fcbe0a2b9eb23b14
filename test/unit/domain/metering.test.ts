// domain/metering.ts: how a rule's prefixes are read (ipaddress.ip_interface, netaddr.IPNetwork's text), Neutron's
// checks across attributes and its overlap rule, which labels a router meters, and the nft table and script that
// count them (excluded rules first, named counters kept across changes, nothing done when the kernel already
// holds the plan).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  counterName,
  labelsOfRouter,
  meteringPrefixError,
  meteringRuleProblem,
  meteringScript,
  overlappingRule,
  parseCounterName,
  parseMeteringPrefix,
  planMeteringTable,
  readMeteringTable,
  ruleMatch,
  type MeteringRule,
} from '../../../src/domain/metering.js';

const L1 = '11111111-1111-4111-8111-111111111111';
const L2 = '22222222-2222-4222-8222-222222222222';
const rule = (over: Partial<MeteringRule>): MeteringRule => ({
  id: 'r',
  metering_label_id: L1,
  direction: 'egress',
  excluded: false,
  remote_ip_prefix: null,
  source_ip_prefix: null,
  destination_ip_prefix: null,
  ...over,
});

describe('metering prefixes', () => {
  it('reads what ip_interface reads and stores what netaddr prints', () => {
    assert.equal(parseMeteringPrefix('10.0.0.1/24')?.stored, '10.0.0.1/24');
    assert.equal(parseMeteringPrefix('10.0.0.1/24')?.prefix.toString(), '10.0.0.0/24');
    assert.equal(parseMeteringPrefix('10.0.0.1')?.stored, '10.0.0.1/32');
    assert.equal(parseMeteringPrefix('2001:DB8::1')?.stored, '2001:db8::1/128');
    assert.equal(parseMeteringPrefix('192.0.2.0/255.255.255.0')?.stored, '192.0.2.0/24');
    for (const bad of ['nonsense', '10.0.0.0/33', '2001:db8::/129', '10/8', '10.0.0.0/255.0.255.0', 5, null]) assert.equal(parseMeteringPrefix(bad), null, String(bad));
    assert.equal(meteringPrefixError('source_ip_prefix', 'x'), "source_ip_prefix: x is invalid ['x' does not appear to be an IPv4 or IPv6 interface].");
  });

  it("refuses remote with source/destination, and a rule of no prefix, with Neutron's texts", () => {
    assert.match(meteringRuleProblem(rule({ remote_ip_prefix: '10.0.0.0/8', destination_ip_prefix: '10.0.0.0/8' }))!, /^Cannot use 'remote-ip-prefix'/);
    assert.match(meteringRuleProblem(rule({}))!, /^You must define at least one/);
    assert.equal(meteringRuleProblem(rule({ source_ip_prefix: '10.0.0.0/8' })), null);
  });

  it('finds overlaps among the same label, direction and excluded only', () => {
    const stored = [rule({ id: 'a', remote_ip_prefix: '2001:db8::/48' })];
    assert.equal(overlappingRule(stored, rule({ remote_ip_prefix: '2001:db8:0:1::/64' }))?.id, 'a');
    assert.equal(overlappingRule(stored, rule({ remote_ip_prefix: '2001:db8:1::/64' })), null);
    assert.equal(overlappingRule(stored, rule({ direction: 'ingress', remote_ip_prefix: '2001:db8::/64' })), null);
    assert.equal(overlappingRule(stored, rule({ excluded: true, remote_ip_prefix: '2001:db8::/64' })), null);
    assert.equal(overlappingRule(stored, rule({ metering_label_id: L2, remote_ip_prefix: '2001:db8::/64' })), null);
    assert.equal(overlappingRule(stored, rule({ remote_ip_prefix: '10.0.0.0/8' })), null);
    // source/destination prefixes are not checked (check_for_rule_overlaps compares remote_ip_prefix only).
    assert.equal(overlappingRule([rule({ id: 'b', source_ip_prefix: '10.0.0.0/8' })], rule({ source_ip_prefix: '10.0.0.0/8' })), null);
  });
});

describe('metering plan', () => {
  it("gives a router its project's labels and the shared ones; none when it is down", () => {
    const labels = [
      { id: L2, project_id: 'p', shared: false },
      { id: L1, project_id: 'q', shared: true },
      { id: '33333333-3333-4333-8333-333333333333', project_id: 'q', shared: false },
    ];
    assert.deepEqual(labelsOfRouter({ id: 'r', project_id: 'p', admin_state_up: true }, labels).map((l) => l.id), [L1, L2]);
    assert.deepEqual(labelsOfRouter({ id: 'r', project_id: 'p', admin_state_up: false }, labels), []);
  });

  it('matches the far end for remote_ip_prefix, both ends for source/destination, one family per rule', () => {
    assert.equal(ruleMatch(rule({ direction: 'egress', remote_ip_prefix: '2001:db8::/32' })), 'ip6 daddr 2001:db8::/32');
    assert.equal(ruleMatch(rule({ direction: 'ingress', remote_ip_prefix: '192.0.2.1/24' })), 'ip saddr 192.0.2.0/24');
    assert.equal(ruleMatch(rule({ source_ip_prefix: 'fd00::/8', destination_ip_prefix: '2001:db8::/32' })), 'ip6 saddr fd00::/8 ip6 daddr 2001:db8::/32');
    assert.equal(ruleMatch(rule({ source_ip_prefix: '10.0.0.0/8', destination_ip_prefix: '2001:db8::/32' })), null);
  });

  it('puts excluded rules first, counts each label once per direction in a named counter', () => {
    const t = planMeteringTable('qg-abc', [{ id: L1, project_id: 'p', shared: false }], [
      rule({ id: '1', remote_ip_prefix: '2001:db8::/32' }),
      rule({ id: '2', remote_ip_prefix: '2001:db8:dead::/48', excluded: true }),
      rule({ id: '3', direction: 'ingress', remote_ip_prefix: '0.0.0.0/0' }),
    ]);
    assert.deepEqual(t.counters, [counterName(L1, 'ingress'), counterName(L1, 'egress')].sort());
    assert.deepEqual(t.egress, [`jump out-${L1}`]);
    const out = t.labelChains.find((c) => c.name === `out-${L1}`)!;
    assert.deepEqual(out.rules, ['ip6 daddr 2001:db8:dead::/48 return', `ip6 daddr 2001:db8::/32 counter name "out-${L1}" return`]);
    assert.deepEqual(parseCounterName(`in-${L1}`), { labelId: L1, direction: 'ingress' });
    assert.equal(parseCounterName('in-nonsense'), null);
  });

  it('writes a script that keeps existing counters, removes stale ones, and nothing when the kernel holds the plan', () => {
    const t = planMeteringTable('qg-abc', [{ id: L1, project_id: 'p', shared: false }], [rule({ id: '1', remote_ip_prefix: '2001:db8::/32' })]);
    const fresh = meteringScript(t, null)!;
    assert.match(fresh, new RegExp(`add counter inet v6stack_metering out-${L1}`));
    assert.match(fresh, /add rule inet v6stack_metering forward oifname "qg-abc" jump egress/);
    // The kernel's table as nft -j lists it after that script: nothing to do.
    const nftables = [
      { table: { family: 'inet', name: 'v6stack_metering' } },
      { counter: { name: `in-${L1}`, packets: 3, bytes: 300 } },
      { counter: { name: `out-${L1}`, packets: 4, bytes: 400 } },
      ...['forward', 'ingress', 'egress', `in-${L1}`, `out-${L1}`].map((name) => ({ chain: { name } })),
      { rule: { chain: 'forward', expr: [{ match: { left: { meta: { key: 'iifname' } }, right: 'qg-abc' } }, { jump: { target: 'ingress' } }] } },
      { rule: { chain: 'forward', expr: [{ match: { left: { meta: { key: 'oifname' } }, right: 'qg-abc' } }, { jump: { target: 'egress' } }] } },
      { rule: { chain: 'ingress', expr: [] } },
      { rule: { chain: 'egress', expr: [] } },
      { rule: { chain: `out-${L1}`, expr: [] } },
    ];
    const have = readMeteringTable(JSON.stringify({ nftables }));
    assert.deepEqual(have.counters.get(`out-${L1}`), { packets: 4, bytes: 400 });
    assert.equal(meteringScript(t, have), null);
    // Another rule: chains refilled, counters kept (no `add counter` for those that exist).
    const t2 = planMeteringTable('qg-abc', [{ id: L1, project_id: 'p', shared: false }], [rule({ id: '1', remote_ip_prefix: '2001:db8::/32' }), rule({ id: '2', remote_ip_prefix: '10.0.0.0/8' })]);
    const change = meteringScript(t2, have)!;
    assert.doesNotMatch(change, /add counter/);
    assert.match(change, new RegExp(`flush chain inet v6stack_metering out-${L1}`));
    // The label went: its chains and counters are deleted after the flushes; no label at all: the table goes.
    const t3 = planMeteringTable('qg-abc', [{ id: L2, project_id: 'p', shared: false }], []);
    const swap = meteringScript(t3, have)!.split('\n');
    assert.ok(swap.indexOf(`delete counter inet v6stack_metering out-${L1}`) > swap.indexOf('flush chain inet v6stack_metering egress'));
    assert.ok(swap.includes(`delete chain inet v6stack_metering in-${L1}`));
    assert.equal(meteringScript(null, have), 'delete table inet v6stack_metering\n');
    assert.equal(meteringScript(null, null), null);
  });
});
