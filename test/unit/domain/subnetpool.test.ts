// Subnet pool attributes and the prefix allocator (src/domain/subnetpool.ts). Texts and defaults are Neutron
// Zed's answers on the peer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NeutronError } from '../../../src/domain/errors.js';
import { allocateFromPool, buildSubnetPool, freeSpans } from '../../../src/domain/subnetpool.js';

function fails(fn: () => unknown, status: number, type: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NeutronError, String(e));
    assert.deepEqual({ status: e.status, type: e.type, message: e.message }, { status, type, message });
    return true;
  });
}

const noDefault = { existingDefault: null };

test('pool defaults: prefix lengths as strings, min 64 / 8, max = bits, default = min', () => {
  assert.deepEqual(buildSubnetPool({ name: 'p', prefixes: ['2001:db8:e000::/48'], default_prefixlen: 64 }, noDefault), {
    prefixes: ['2001:db8:e000::/48'],
    ip_version: 6,
    default_prefixlen: '64',
    min_prefixlen: '64',
    max_prefixlen: '128',
    default_quota: null,
    is_default: false,
    shared: false,
    address_scope_id: null,
  });
  const v4 = buildSubnetPool({ prefixes: ['10.0.0.0/8'] }, noDefault);
  assert.deepEqual([v4.ip_version, v4.min_prefixlen, v4.max_prefixlen, v4.default_prefixlen], [4, '8', '32', '8']);
  const s = buildSubnetPool({ prefixes: ['2001:db8::/32'], min_prefixlen: '48', max_prefixlen: 64, default_prefixlen: '56', default_quota: '5', is_default: 'true', shared: true }, noDefault);
  assert.deepEqual([s.min_prefixlen, s.max_prefixlen, s.default_prefixlen, s.default_quota, s.is_default, s.shared], ['48', '64', '56', 5, true, true]);
});

test('prefixes are compacted: overlaps and neighbours merge, canonical text, address order', () => {
  assert.deepEqual(
    buildSubnetPool({ prefixes: ['2001:db8:e100::/48', '2001:db8:e100:8000::/49', '2001:DB8:E200::1/48'] }, noDefault).prefixes,
    ['2001:db8:e100::/48', '2001:db8:e200::/48'],
  );
  assert.deepEqual(buildSubnetPool({ prefixes: ['10.1.0.0/16', '10.0.0.0/16'] }, noDefault).prefixes, ['10.0.0.0/15']);
  assert.deepEqual(buildSubnetPool({ prefixes: ['10.2.0.0/16', '10.0.0.0/16'] }, noDefault).prefixes, ['10.0.0.0/16', '10.2.0.0/16']);
});

test('pool errors', () => {
  const p = (extra: Record<string, unknown>) => () => buildSubnetPool({ prefixes: ['2001:db8::/32'], ...extra }, noDefault);
  fails(() => buildSubnetPool({ prefixes: ['2001:db8:e100::/48', '10.0.0.0/8'] }, noDefault), 400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
  fails(() => buildSubnetPool({ prefixes: [] }, noDefault), 400, 'EmptySubnetPoolPrefixList', 'Empty subnet pool prefix list.');
  fails(() => buildSubnetPool({ prefixes: '2001:db8::/32' }, noDefault), 400, 'HTTPBadRequest', "Invalid input for prefixes. Reason: '2001:db8::/32' is not a list.");
  fails(() => buildSubnetPool({ prefixes: ['bogus'] }, noDefault), 400, 'HTTPBadRequest', "Invalid input for prefixes. Reason: 'bogus' is not a valid IP subnet.");
  fails(() => buildSubnetPool({ prefixes: ['10.0.0.0'] }, noDefault), 400, 'HTTPBadRequest', "Invalid input for prefixes. Reason: '10.0.0.0' isn't a recognized IP subnet cidr, '10.0.0.0/32' is recommended.");
  fails(p({ min_prefixlen: 64, max_prefixlen: 48 }), 400, 'IllegalSubnetPoolPrefixBounds', 'Illegal prefix bounds: min_prefixlen=64, max_prefixlen=48.');
  fails(p({ max_prefixlen: 129 }), 400, 'IllegalSubnetPoolPrefixBounds', 'Illegal prefix bounds: max_prefixlen=129, ip_version_max=128.');
  fails(p({ default_prefixlen: 40 }), 400, 'IllegalSubnetPoolPrefixBounds', 'Illegal prefix bounds: default_prefixlen=40, min_prefixlen=64.');
  fails(p({ default_prefixlen: 40, min_prefixlen: 64, max_prefixlen: 48 }), 400, 'IllegalSubnetPoolPrefixBounds', 'Illegal prefix bounds: min_prefixlen=64, max_prefixlen=48.');
  fails(p({ min_prefixlen: 32, max_prefixlen: 48, default_prefixlen: 56 }), 400, 'IllegalSubnetPoolPrefixBounds', 'Illegal prefix bounds: default_prefixlen=56, max_prefixlen=48.');
  fails(p({ min_prefixlen: -1 }), 400, 'HTTPBadRequest', "Invalid input for min_prefixlen. Reason: '-1' should be non-negative.");
  fails(p({ default_prefixlen: 'abc' }), 400, 'InvalidInput', "Invalid input for operation: 'abc' is not an integer.");
  fails(p({ default_prefixlen: null }), 400, 'InvalidInput', "Invalid input for operation: 'None' is not an integer.");
  fails(p({ is_default: 'x' }), 400, 'InvalidInput', "Invalid input for operation: 'x' cannot be converted to boolean.");
  fails(p({ default_quota: -1 }), 400, 'HTTPBadRequest', "Invalid input for default_quota. Reason: '-1' should be non-negative.");
  fails(p({ address_scope_id: 'not-a-uuid' }), 400, 'HTTPBadRequest', "Invalid input for address_scope_id. Reason: 'not-a-uuid' is not a valid UUID.");
  fails(
    () => buildSubnetPool({ prefixes: ['2001:db8::/32'], is_default: true }, { existingDefault: { id: 'x' } }),
    400,
    'InvalidInput',
    'Invalid input for operation: A default subnetpool for this IP family has already been set. Only one default may exist per IP family.',
  );
  assert.equal(buildSubnetPool({ prefixes: ['2001:db8::/32'], is_default: false }, { existingDefault: { id: 'x' } }).is_default, false);
});

const pool48 = { prefixes: ['2001:db8:face::/48'], min_prefixlen: '64', max_prefixlen: '128', default_prefixlen: '64' };

test('allocation: first free /64s in order, explicit prefixes, gateway-derived requests', () => {
  assert.equal(allocateFromPool(pool48, [], {}), '2001:db8:face::/64');
  assert.equal(allocateFromPool(pool48, ['2001:db8:face::/64'], {}), '2001:db8:face:1::/64');
  assert.equal(allocateFromPool(pool48, ['2001:db8:face::/64'], { cidr: '2001:db8:face:ff::/64' }), '2001:db8:face:ff::/64');
  assert.equal(allocateFromPool(pool48, [], { gateway_ip: '2001:db8:face:fd::1' }), '2001:db8:face:fd::/64');
  assert.equal(allocateFromPool(pool48, [], { prefixlen: 80 }), '2001:db8:face::/80');
  const cannot = 'Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.';
  fails(() => allocateFromPool(pool48, ['2001:db8:face::/64'], { cidr: '2001:db8:face::/64' }), 409, 'SubnetAllocationError', cannot);
  fails(() => allocateFromPool(pool48, [], { cidr: '2001:db8:f000::/64' }), 409, 'SubnetAllocationError', cannot);
  fails(() => allocateFromPool(pool48, ['2001:db8:face:0:8000::/65'], { cidr: '2001:db8:face::/64' }), 409, 'SubnetAllocationError', cannot);
});

test('allocation: the smallest free block is used first (after ::, :1:: and :ff:: the next is :fe::)', () => {
  // Measured on the peer: with :0::, :1:: and :ff:: taken, the next /64 is :fe::, not :2::.
  const taken = ['2001:db8:face::/64', '2001:db8:face:1::/64', '2001:db8:face:ff::/64'];
  assert.equal(allocateFromPool(pool48, taken, {}), '2001:db8:face:fe::/64');
  // Among blocks of the same size, the lowest address first.
  const two = { ...pool48, prefixes: ['2001:db8:b::/64', '2001:db8:a::/64'] };
  assert.equal(allocateFromPool(two, [], {}), '2001:db8:a::/64');
  // A request too big for the small blocks goes to the first block that can hold it.
  const mixed = { ...pool48, min_prefixlen: 48, prefixes: ['2001:db8:1::/64', '2001:db8:2::/48'] };
  assert.equal(allocateFromPool(mixed, [], { prefixlen: 56 }), '2001:db8:2::/56');
  assert.equal(allocateFromPool(mixed, [], { prefixlen: 64 }), '2001:db8:1::/64');
});

test('allocation: limits, family, exhaustion', () => {
  fails(() => allocateFromPool(pool48, [], { prefixlen: 56 }), 400, 'MinPrefixSubnetAllocationError', 'Unable to allocate subnet with prefix length 56, minimum allowed prefix is 64.');
  fails(() => allocateFromPool({ ...pool48, max_prefixlen: 96 }, [], { prefixlen: 112 }), 400, 'MaxPrefixSubnetAllocationError', 'Unable to allocate subnet with prefix length 112, maximum allowed prefix is 96.');
  fails(() => allocateFromPool(pool48, [], { prefixlen: 130 }), 400, 'AddrFormatError', 'invalid IPNetwork ::/130');
  fails(() => allocateFromPool(pool48, [], { ip_version: 4 }), 400, 'BadRequest', 'Bad subnets request: Cannot allocate IPv4 subnet from IPv6 subnet pool.');
  const tiny = { prefixes: ['2001:db8::/63'], min_prefixlen: 64, max_prefixlen: 128, default_prefixlen: 64 };
  const a = allocateFromPool(tiny, [], {});
  const b = allocateFromPool(tiny, [a], {});
  assert.deepEqual([a, b], ['2001:db8::/64', '2001:db8:0:1::/64']);
  fails(() => allocateFromPool(tiny, [a, b], {}), 409, 'SubnetAllocationError', 'Failed to allocate subnet: Insufficient prefix space to allocate subnet size /64.');
  // Allocations from other pools or families in the list do not matter.
  assert.equal(allocateFromPool(tiny, ['10.0.0.0/8', '2001:db9::/64'], {}), '2001:db8::/64');
  // IPv4 works the same way.
  const v4 = { prefixes: ['10.0.0.0/16'], min_prefixlen: 8, max_prefixlen: 32, default_prefixlen: 24 };
  assert.equal(allocateFromPool(v4, ['10.0.0.0/24'], {}), '10.0.1.0/24');
});

test('allocation never enumerates: huge pools and many allocations', () => {
  // A /8 of /128s: 2^120 candidates; the answer comes from interval arithmetic.
  const huge = { prefixes: ['2000::/8'], min_prefixlen: 8, max_prefixlen: 128, default_prefixlen: 128 };
  assert.equal(allocateFromPool(huge, ['2000::/128', '2000::2/128'], {}), '2000::1/128');
  assert.equal(allocateFromPool(huge, ['2000::/9'], { prefixlen: 9 }), '2080::/9');
  // 2,000 /64s one after another out of a /32, each call given everything allocated so far.
  const pool32 = { prefixes: ['2001:db8::/32'], min_prefixlen: 64, max_prefixlen: 64, default_prefixlen: 64 };
  const taken: string[] = [];
  for (let i = 0; i < 2000; i++) taken.push(allocateFromPool(pool32, taken, {}));
  assert.equal(new Set(taken).size, 2000);
  assert.equal(taken[1999], '2001:db8:0:7cf::/64');
  // One call over 100,000 allocations, unsorted, with a hole in the middle.
  const many = Array.from({ length: 100_000 }, (_, i) => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`).reverse();
  many.splice(many.indexOf('2001:db8:0:1234::/64'), 1);
  assert.equal(allocateFromPool(pool32, many, {}), '2001:db8:0:1234::/64');
  assert.deepEqual(freeSpans(['2001:db8::/32'], many, 6).length, 2);
});
