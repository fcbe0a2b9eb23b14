// Subnet pool attributes and the prefix allocator (src/domain/subnetpool.ts). Texts and defaults are Neutron
// Zed's answers on the peer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NeutronError } from '../../../src/domain/errors.js';
import {
  allocateFromPool,
  buildSubnetPool,
  checkAddressScopeUpdate,
  checkNetworkPoolAffinity,
  checkPoolQuota,
  checkPrefixesGrow,
  checkRescopeAffinity,
  checkScopePrefixes,
  freeSpans,
  onboardPrefixes,
  prefixOperationBody,
  prefixesOverlap,
  quotaUnits,
  removePoolPrefixes,
  requestedPrefixlen,
} from '../../../src/domain/subnetpool.js';

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

test('prefix sets: overlap and cover across families, whatever the spelling order', () => {
  assert.equal(prefixesOverlap(['20.0.0.0/18'], ['20.0.0.0/12']), true);
  assert.equal(prefixesOverlap(['20.0.0.0/18', '30.0.0.0/18'], ['20.10.0.0/24', '40.0.0.0/18']), false);
  assert.equal(prefixesOverlap(['40.0.0.0/18', '30.0.0.0/12'], ['20.0.0.0/18', '30.0.0.0/18']), true);
  assert.equal(prefixesOverlap(['2001:db8::/32'], ['2001:db8:ffff:ffff::/64']), true);
  assert.equal(prefixesOverlap(['2001:db8::/32'], ['2001:db9::/32']), false, 'neighbours do not overlap');
  assert.equal(prefixesOverlap(['10.0.0.0/8'], ['::a00:0/104']), false, 'families never meet');
  checkPrefixesGrow(['2001:db8:1::/48'], ['2001:db8::/32']);
  checkPrefixesGrow(['10.0.0.0/24', '10.0.1.0/24'], ['10.0.0.0/23']);
  fails(
    () => checkPrefixesGrow(['10.11.12.0/24'], ['10.11.12.0/26']),
    400,
    'IllegalSubnetPoolPrefixUpdate',
    'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.',
  );
});

test('address scope: pools of one scope never share an address (409 AddressScopePrefixConflict)', () => {
  const others = [
    { id: 'a', prefixes: ['20.0.0.0/18', '30.0.0.0/18'] },
    { id: 'b', prefixes: ['2001:db8:1::/48'] },
  ];
  const conflict = 'Failed to associate address scope: subnetpools within an address scope must have unique prefixes.';
  fails(() => checkScopePrefixes('new', ['40.0.0.0/18', '50.0.0.0/18', '30.0.0.0/12'], others), 409, 'AddressScopePrefixConflict', conflict);
  fails(() => checkScopePrefixes('new', ['2001:db8::/32'], others), 409, 'AddressScopePrefixConflict', conflict);
  checkScopePrefixes('new', ['20.0.64.0/18', '2001:db8:2::/48'], others);
  // A pool is compared with the others, not with itself (an update of its own prefixes).
  checkScopePrefixes('a', ['20.0.0.0/16'], others);
});

test('address scope: a shared scope stays shared; everything else may change', () => {
  fails(
    () => checkAddressScopeUpdate({ id: 'sc-1', shared: true }, { name: 'n', shared: false }),
    400,
    'AddressScopeUpdateError',
    "Unable to update address scope sc-1 : Shared address scope can't be unshared.",
  );
  checkAddressScopeUpdate({ id: 'sc-1', shared: true }, { name: 'n' });
  checkAddressScopeUpdate({ id: 'sc-1', shared: true }, { shared: true });
  checkAddressScopeUpdate({ id: 'sc-1', shared: false }, { shared: true });
  checkAddressScopeUpdate({ id: 'sc-1', shared: false }, { shared: false });
});

test('remove_prefixes: compacted remainder, no-op when disjoint, refused while a subnet uses the space', () => {
  assert.deepEqual(removePoolPrefixes(['2001:db8:1234::/48', '2001:db8:4321::/48'], ['2001:db8:4321::/48'], [], 6), ['2001:db8:1234::/48']);
  // Removing part of a prefix leaves its canonical decomposition.
  assert.deepEqual(removePoolPrefixes(['10.0.0.0/22'], ['10.0.1.0/24'], [], 4), ['10.0.0.0/24', '10.0.2.0/23']);
  assert.deepEqual(removePoolPrefixes(['10.0.0.0/22'], ['192.168.0.0/16'], ['10.0.0.0/24'], 4), ['10.0.0.0/22'], 'disjoint: unchanged');
  assert.deepEqual(removePoolPrefixes(['10.0.0.0/22'], ['10.0.0.0/8'], [], 4), [], 'everything');
  assert.deepEqual(removePoolPrefixes(['10.0.0.0/22'], ['10.0.2.0/23'], ['10.0.0.0/24'], 4), ['10.0.0.0/23'], 'a subnet elsewhere does not matter');
  fails(
    () => removePoolPrefixes(['2001:db8::/48'], ['2001:db8:0:ff00::/56'], ['2001:db8:0:ff01::/64'], 6),
    400,
    'IllegalSubnetPoolPrefixUpdate',
    'Illegal update to prefixes: One or more the prefixes to be removed is in use by a subnet..',
  );
});

test('add/remove_prefixes body: a non-empty list of subnets', () => {
  assert.deepEqual(prefixOperationBody({ prefixes: ['2001:db8::/48'] }), ['2001:db8::/48']);
  for (const bad of [{}, { prefixes: [] }, { prefixes: '2001:db8::/48' }, { prefixes: null }, [], null, 'x']) {
    fails(() => prefixOperationBody(bad), 400, 'HTTPBadRequest', 'Request body contains invalid data');
  }
  fails(() => prefixOperationBody({ prefixes: ['nope'] }), 400, 'HTTPBadRequest', "Invalid input for prefixes. Reason: 'nope' is not a valid IP subnet.");
});

test('quota: IPv6 in /64 units, IPv4 in addresses; 0 or null is no quota; SubnetPoolQuotaExceeded', () => {
  assert.equal(quotaUnits(6, 64), 1);
  assert.equal(quotaUnits(6, 56), 256);
  assert.equal(quotaUnits(6, 128), 2 ** -64);
  assert.equal(quotaUnits(4, 24), 256);
  assert.equal(quotaUnits(4, 32), 1);
  const exceeded = (fn: () => unknown) => fails(fn, 409, 'SubnetPoolQuotaExceeded', 'Per-project subnet pool prefix quota exceeded.');
  // 4 /64s: three used, the fourth fits, a fifth does not; a /63 (2 units) does not fit after three.
  checkPoolQuota(4, 6, ['2001:db8::/64', '2001:db8:0:1::/64', '2001:db8:0:2::/64'], 64);
  exceeded(() => checkPoolQuota(4, 6, ['2001:db8::/64', '2001:db8:0:1::/64', '2001:db8:0:2::/64', '2001:db8:0:3::/64'], 64));
  exceeded(() => checkPoolQuota(4, 6, ['2001:db8::/64', '2001:db8:0:1::/64', '2001:db8:0:2::/64'], 63));
  exceeded(() => checkPoolQuota(255, 6, [], 56));
  checkPoolQuota(256, 6, [], 56);
  // IPv4: 512 addresses = two /24s.
  checkPoolQuota(512, 4, ['10.0.0.0/24'], 24);
  exceeded(() => checkPoolQuota(512, 4, ['10.0.0.0/24', '10.0.1.0/24'], 32));
  checkPoolQuota(0, 6, Array.from({ length: 10 }, (_, i) => `2001:db8:0:${i}::/64`), 48);
  checkPoolQuota(null, 6, [], 0);
  assert.equal(requestedPrefixlen(pool48, {}), 64);
  assert.equal(requestedPrefixlen(pool48, { prefixlen: 80 }), 80);
  assert.equal(requestedPrefixlen(pool48, { cidr: '2001:db8:face:1::/72' }), 72);
});

test('network affinity: one pool per family, or pools of the network\'s one scope', () => {
  const v6 = (subnetpool_id: string | null) => ({ ip_version: 6, subnetpool_id });
  const v4 = (subnetpool_id: string | null) => ({ ip_version: 4, subnetpool_id });
  const poolErr = (fn: () => unknown) =>
    fails(fn, 400, 'NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.');
  const scopeErr = (fn: () => unknown) =>
    fails(fn, 400, 'NetworkAddressScopeAffinityError', 'Subnets of the same address family hosted on the same network must all participate in the same address scope.');
  const p1 = { id: 'p1', address_scope_id: null };
  const p2 = { id: 'p2', address_scope_id: null };
  const s1 = { id: 's1', address_scope_id: 'scope-a' };
  const s2 = { id: 's2', address_scope_id: 'scope-a' };
  const s3 = { id: 's3', address_scope_id: 'scope-b' };
  checkNetworkPoolAffinity(6, p1, null, [v6('p1'), v4(null), v4('p9')]);
  poolErr(() => checkNetworkPoolAffinity(6, p2, null, [v6('p1')]));
  poolErr(() => checkNetworkPoolAffinity(6, p1, null, [v6(null)]), );
  poolErr(() => checkNetworkPoolAffinity(6, null, null, [v6('p1')]));
  checkNetworkPoolAffinity(6, null, null, [v6(null), v4('p9')]);
  // Two pools of one scope may share a network; a pool of another scope, or none, may not.
  checkNetworkPoolAffinity(6, s2, 'scope-a', [v6('s1')]);
  scopeErr(() => checkNetworkPoolAffinity(6, s3, 'scope-a', [v6('s1')]));
  scopeErr(() => checkNetworkPoolAffinity(6, p1, 'scope-a', [v6('s1')]));
  poolErr(() => checkNetworkPoolAffinity(6, null, 'scope-a', [v6('s1')]));
  // A scoped pool on a network whose family has unscoped subnets: one pool rule.
  poolErr(() => checkNetworkPoolAffinity(6, s1, null, [v6('p1')]));
  // Prefix delegation counts as a pool of its own, outside every scope.
  checkNetworkPoolAffinity(6, 'prefix_delegation', null, [v6('prefix_delegation'), v4(null)]);
  poolErr(() => checkNetworkPoolAffinity(6, 'prefix_delegation', null, [v6(null)]));
  scopeErr(() => checkNetworkPoolAffinity(6, 'prefix_delegation', 'scope-a', [v6('s1')]));
});

test('re-scoping a pool: every subnet of its family on its networks must be its own', () => {
  checkRescopeAffinity(new Set(['a', 'b']), [{ id: 'a' }, { id: 'b' }]);
  fails(
    () => checkRescopeAffinity(new Set(['a']), [{ id: 'a' }, { id: 'c' }]),
    400,
    'NetworkAddressScopeAffinityError',
    'Subnets of the same address family hosted on the same network must all participate in the same address scope.',
  );
});

test('onboarding: the subnets\' cidrs join the pool unless they meet an allocated prefix', () => {
  assert.deepEqual(
    onboardPrefixes('p', ['2001:db8:face::/48'], ['2001:db8:face::/64'], [{ id: 's', cidr: '2001:db8:cafe:d::/64' }]),
    ['2001:db8:face::/48', '2001:db8:cafe:d::/64'],
  );
  fails(
    () => onboardPrefixes('p', ['2001:db8:face::/48'], ['2001:db8:face::/64'], [{ id: 's', cidr: '2001:db8:face::/64' }]),
    400,
    'IllegalSubnetPoolUpdate',
    'Illegal subnetpool update : Onboarding subnet s: 2001:db8:face::/64 conflicts with allocated prefixes in subnet pool p.',
  );
});
