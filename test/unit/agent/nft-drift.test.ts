// The resync's kernel check (agent/nft.ts kernelDrift): what `nft -j list table` shows against what was applied, and
// against what it showed right after the apply (kernelContents).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelContents, kernelDrift } from '../../../src/agent/nft.js';
import { objectKey, type AppliedFirewall, type Family, type NftObject } from '../../../src/domain/firewall.js';

const objects: NftObject[] = [
  { kind: 'chain', family: 'inet', name: 'forward-egress', hook: 'type filter hook forward priority filter; policy accept;', rules: ['meta mark & 0x0000ffff vmap @egress-ports'] },
  { kind: 'chain', family: 'inet', name: 'in-p', rules: ['ct state established,related accept', 'drop'] },
  { kind: 'set', family: 'inet', name: 'a6-ag', decl: 'type ipv6_addr; flags interval;', elements: ['2001:db8::/64', '2001:db8:1::5'] },
  { kind: 'map', family: 'inet', name: 'egress-ports', decl: 'type mark : verdict;', elements: new Map([['0x00000001', 'jump eg-p']]) },
];
const applied: AppliedFirewall = { objects: new Map(objects.map((o) => [objectKey(o), o])) };

/** The items `nft -j list table inet v6stack-fw` gives for those objects. */
function listing(): Map<Family, Record<string, any>[]> {
  return new Map([['inet', [
    { table: { family: 'inet', name: 'v6stack-fw', handle: 1 } },
    { chain: { family: 'inet', table: 'v6stack-fw', name: 'forward-egress', handle: 2, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
    { chain: { family: 'inet', table: 'v6stack-fw', name: 'in-p', handle: 3 } },
    { set: { family: 'inet', name: 'a6-ag', table: 'v6stack-fw', type: 'ipv6_addr', handle: 4, flags: ['interval'], elem: [{ prefix: { addr: '2001:db8::', len: 64 } }, '2001:db8:1::5'] } },
    { map: { family: 'inet', name: 'egress-ports', table: 'v6stack-fw', type: 'mark', handle: 5, map: 'verdict', elem: [[1, { jump: { target: 'eg-p' } }]] } },
    { rule: { family: 'inet', table: 'v6stack-fw', chain: 'forward-egress', handle: 6, expr: [{ vmap: { key: { '&': [{ meta: { key: 'mark' } }, 65535] }, data: '@egress-ports' } }] } },
    { rule: { family: 'inet', table: 'v6stack-fw', chain: 'in-p', handle: 7, expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }] } },
    { rule: { family: 'inet', table: 'v6stack-fw', chain: 'in-p', handle: 8, expr: [{ drop: null }] } },
  ]]]);
}

test('an untouched table is no drift', () => {
  assert.equal(kernelDrift(listing(), applied), null);
});

test('a deleted table, a flushed chain, an unhooked base chain, a changed set, an extra object are drift', () => {
  assert.match(kernelDrift(new Map(), applied)!, /^inet chain forward-egress is missing$/);
  const flushed = listing();
  flushed.set('inet', flushed.get('inet')!.filter((i) => i.rule?.chain !== 'in-p'));
  assert.equal(kernelDrift(flushed, applied), 'inet chain in-p holds 0 rules, not 2');
  const unhooked = listing();
  delete unhooked.get('inet')![1]!.chain.hook;
  assert.equal(kernelDrift(unhooked, applied), 'inet chain forward-egress has no hook');
  const setChanged = listing();
  setChanged.get('inet')![3]!.set.elem.pop();
  assert.equal(kernelDrift(setChanged, applied), 'inet set a6-ag holds 1 elements, not 2');
  const extra = listing();
  extra.get('inet')!.push({ chain: { family: 'inet', table: 'v6stack-fw', name: 'intruder', handle: 9 } });
  assert.equal(kernelDrift(extra, applied), 'inet chain intruder is not ours');
});

test('content: the same listing with other handles, counters or element order is no drift', () => {
  const contents = kernelContents(listing());
  assert.equal(kernelDrift(listing(), applied, contents), null);
  const relisted = listing();
  for (const item of relisted.get('inet')!) for (const v of Object.values(item)) v.handle += 100;
  relisted.get('inet')![3]!.set.elem.reverse();
  relisted.get('inet')![7]!.rule.expr.unshift({ counter: { packets: 12, bytes: 3400 } });
  const withCounter = listing();
  withCounter.get('inet')![7]!.rule.expr.unshift({ counter: { packets: 0, bytes: 0 } });
  assert.equal(kernelDrift(relisted, applied, kernelContents(withCounter)), null);
});

test('content: a rule replaced in place (same count) and an element swapped for another are drift', () => {
  const contents = kernelContents(listing());
  const replaced = listing();
  replaced.get('inet')![7]!.rule.expr = [{ accept: null }]; // `nft replace rule ... handle 8 accept`
  assert.equal(kernelDrift(replaced, applied), null, 'the count alone does not see it');
  assert.equal(kernelDrift(replaced, applied, contents), 'inet chain in-p: rule 2 of 2 differs from what was applied');
  const swapped = listing();
  swapped.get('inet')![3]!.set.elem[1] = '2001:db8:1::6';
  assert.equal(kernelDrift(swapped, applied, contents), 'inet set a6-ag holds other elements');
  const repointed = listing();
  repointed.get('inet')![4]!.map.elem[0] = [1, { jump: { target: 'eg-q' } }];
  assert.equal(kernelDrift(repointed, applied, contents), 'inet map egress-ports holds other elements');
  const policy = listing();
  policy.get('inet')![1]!.chain.policy = 'drop';
  assert.equal(kernelDrift(policy, applied, contents), 'inet chain forward-egress has another hook, type or policy');
});
