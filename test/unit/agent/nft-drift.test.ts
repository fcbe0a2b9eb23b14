// The resync's kernel check (agent/nft.ts kernelDrift): what `nft -j list table` shows against what was applied.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelDrift } from '../../../src/agent/nft.js';
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
    { rule: { family: 'inet', table: 'v6stack-fw', chain: 'forward-egress', handle: 6, expr: [] } },
    { rule: { family: 'inet', table: 'v6stack-fw', chain: 'in-p', handle: 7, expr: [] } },
    { rule: { family: 'inet', table: 'v6stack-fw', chain: 'in-p', handle: 8, expr: [] } },
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
