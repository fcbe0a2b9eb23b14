// A subnet pool's free space kept as a buddy list (src/domain/subnetpool.ts: splitBlock, buddyOf, parentOf,
// freeBlocks) answers exactly as Neutron's allocator run on the whole pool (allocateFromPool): the same prefix for
// every request, the same refusals, through runs, other lengths, explicit prefixes and holes. The list is driven here
// the way api/resources/subnetpools.ts drives the store's table (allocate: the smallest fitting block, or the block
// at or before an explicit prefix; release: merge with free buddies upwards).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressKey,
  allocateFromPool,
  blockCidr,
  blockCovers,
  buddyOf,
  cidrKeys,
  freeBlocks,
  keyAddress,
  parentOf,
  poolAsk,
  splitBlock,
  type Block,
  type PoolForAllocation,
  type PoolRequest,
} from '../../../src/domain/subnetpool.js';
import { IpPrefix } from '../../../src/domain/ip.js';

/** The free list as the store keeps it: by start key, with the two look-ups the store's SQL makes. */
class FreeList {
  readonly blocks = new Map<string, Block>();
  constructor(blocks: Block[]) {
    for (const b of blocks) this.add(b);
  }
  add(b: Block): void {
    const key = addressKey(b.version, b.start);
    assert.ok(!this.blocks.has(key), `block ${blockCidr(b)} twice`);
    this.blocks.set(key, b);
  }
  take(b: Block): boolean {
    const key = addressKey(b.version, b.start);
    const have = this.blocks.get(key);
    if (!have || have.length !== b.length) return false;
    this.blocks.delete(key);
    return true;
  }
  fitting(prefixlen: number): Block | undefined {
    let best: Block | undefined;
    for (const b of this.blocks.values()) {
      if (b.length > prefixlen) continue;
      if (!best || b.length > best.length || (b.length === best.length && b.start < best.start)) best = b;
    }
    return best;
  }
  atOrBefore(key: string): Block | undefined {
    let best: string | undefined;
    for (const k of this.blocks.keys()) if (k <= key && (best === undefined || k > best)) best = k;
    return best === undefined ? undefined : this.blocks.get(best);
  }
}

function allocate(list: FreeList, pool: PoolForAllocation, request: PoolRequest): string {
  const ask = poolAsk(pool, request);
  let from: Block | undefined;
  let want: Block;
  if (ask.specific) {
    want = ask.specific;
    from = list.atOrBefore(addressKey(want.version, want.start));
    if (!from || !blockCovers(from, want)) throw new Error('cannot');
  } else {
    from = list.fitting(ask.prefixlen);
    if (!from) throw new Error('insufficient');
    want = { version: from.version, start: from.start, length: ask.prefixlen };
  }
  assert.ok(list.take(from));
  for (const b of splitBlock(from, want)) list.add(b);
  return blockCidr(want);
}

function release(list: FreeList, cidr: string): void {
  const keys = cidrKeys(cidr)!;
  const start = keyAddress(keys.first);
  let block: Block = { version: start.version, start: start.value, length: keys.length };
  for (let buddy = buddyOf(block); buddy && list.take(buddy); buddy = buddyOf(block)) block = parentOf(block);
  list.add(block);
}

const spansOf = (cidrs: string[]): [bigint, bigint][] => cidrs.map((c) => IpPrefix.parse(c)!).map((p) => [p.first.value, p.last.value]);

/** A small deterministic generator (the test must not depend on luck). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

test('address keys sort as addresses, per family', () => {
  assert.equal(addressKey(6, 0n), '6' + '0'.repeat(32));
  assert.equal(addressKey(4, 0x0a000001n), '40a000001');
  assert.ok(addressKey(6, 0x20010db8n << 96n) < addressKey(6, (0x20010db8n << 96n) + 1n));
  assert.ok(addressKey(6, 9n) < addressKey(6, 10n), 'fixed width: no "10" < "9"');
  assert.deepEqual(cidrKeys('2001:db8::/32'), { first: '620010db8000000000000000000000000', last: '620010db8ffffffffffffffffffffffff', length: 32 });
  assert.deepEqual(keyAddress('40a000001'), { version: 4, value: 0x0a000001n });
  assert.equal(cidrKeys('not a cidr'), null);
});

test('splitting a block leaves the buddies on the way down; merging climbs back', () => {
  const from: Block = { version: 6, start: 0x20010db8n << 96n, length: 48 };
  const want: Block = { version: 6, start: (0x20010db8n << 96n) + (5n << 64n), length: 64 };
  const rest = splitBlock(from, want).map(blockCidr);
  assert.deepEqual(rest.slice(0, 3), ['2001:db8:0:4::/64', '2001:db8:0:6::/63', '2001:db8::/62']);
  assert.equal(rest.length, 16);
  const list = new FreeList(splitBlock(from, want));
  release(list, '2001:db8:0:5::/64');
  assert.deepEqual([...list.blocks.values()].map(blockCidr), ['2001:db8::/48'], 'all merged back into the /48');
  assert.equal(buddyOf({ version: 6, start: 0n, length: 0 }), null);
});

test('the free list is the canonical decomposition Neutron sorts', () => {
  assert.deepEqual(
    freeBlocks(['2001:db8::/61'], spansOf(['2001:db8:0:1::/64', '2001:db8:0:4::/63']), 6).map(blockCidr),
    ['2001:db8::/64', '2001:db8:0:2::/63', '2001:db8:0:6::/63'],
  );
});

for (const [name, pool] of [
  ['one IPv6 prefix', { prefixes: ['2001:db8:a00::/56'], min_prefixlen: 56, max_prefixlen: 64, default_prefixlen: 64 }],
  ['IPv6 prefixes of several sizes', { prefixes: ['2001:db8:1::/60', '2001:db8:2::/58', '2001:db8:2:40::/62'], min_prefixlen: 58, max_prefixlen: 66, default_prefixlen: 64 }],
  ['IPv4', { prefixes: ['10.10.0.0/22', '10.20.0.0/24'], min_prefixlen: 22, max_prefixlen: 30, default_prefixlen: 26 }],
] as [string, PoolForAllocation][]) {
  test(`the buddy list agrees with the exact allocator: ${name}`, () => {
    const version = IpPrefix.parse(pool.prefixes[0])!.version;
    const list = new FreeList(freeBlocks(pool.prefixes, [], version));
    const allocated: string[] = [];
    const random = lcg(name.length * 7919);
    const min = Number(pool.min_prefixlen);
    const max = Number(pool.max_prefixlen);
    let refused = 0;
    for (let step = 0; step < 1500; step++) {
      const r = random();
      if (r < 0.3 && allocated.length) {
        const i = Math.floor(random() * allocated.length);
        release(list, allocated[i]!);
        allocated.splice(i, 1);
        continue;
      }
      let request: PoolRequest;
      if (r < 0.45) {
        // An explicit prefix somewhere in (or just outside) the pool.
        const base = IpPrefix.parse(pool.prefixes[Math.floor(random() * pool.prefixes.length)]!)!;
        const len = min + Math.floor(random() * (max - min + 1));
        const offset = BigInt(Math.floor(random() * 2 ** Math.min(len - base.length + 1, 30))) << BigInt(base.network.bits - len);
        const size = 1n << BigInt(base.network.bits - len);
        request = { cidr: blockCidr({ version, start: (base.first.value + offset) & ~(size - 1n), length: len }) };
      } else if (r < 0.7) {
        request = { prefixlen: min + Math.floor(random() * (max - min + 1)) };
      } else request = {};
      let exact: string | null = null;
      try {
        exact = allocateFromPool(pool, allocated, request);
      } catch {
        exact = null;
      }
      let got: string | null = null;
      try {
        got = allocate(list, pool, request);
      } catch {
        got = null;
      }
      assert.equal(got, exact, `step ${step}: ${JSON.stringify(request)} with ${allocated.length} allocated`);
      if (got) allocated.push(got);
      else refused++;
      // The list is always exactly the pool's free space, decomposed canonically.
      if (step % 100 === 0) {
        const canonical = freeBlocks(pool.prefixes, spansOf(allocated), version).map(blockCidr).sort();
        assert.deepEqual([...list.blocks.values()].map(blockCidr).sort(), canonical, `step ${step}`);
      }
    }
    assert.ok(refused > 0 && allocated.length > 0, 'both answers were exercised');
  });
}
