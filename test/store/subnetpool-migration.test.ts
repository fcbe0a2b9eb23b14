// Schema v7 gives subnets their cidr keys (indexed with their pool) and pools a free-block list. A store of v6, with
// subnets already allocated from a pool and v3's cursor, upgrades in place: the keys of the stored subnets are filled
// in, the pool's list is built from them on its first allocation, and every answer respects what was there.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/store/types.js';
import { allocateSubnetFromPool } from '../../src/api/resources/subnetpools.js';
import { NeutronError } from '../../src/domain/errors.js';
import type { RequestContext } from '../../src/api/context.js';
import { PG_SKIP, withOldStore } from './harness.js';

const V6 = 6;
const POOL = {
  id: 'pool-1',
  name: 'old',
  project_id: 'p',
  prefixes: ['2001:db8:7700::/48'],
  ip_version: 6,
  default_prefixlen: '64',
  min_prefixlen: '40',
  max_prefixlen: '128',
  default_quota: null,
  is_default: false,
  shared: false,
  address_scope_id: null,
};
// A run of /64s from the start, a hole at :2::, a /60 further on, and a subnet of no pool.
const SUBNETS = [
  { id: 's0', network_id: 'n', subnetpool_id: 'pool-1', project_id: 'p', cidr: '2001:db8:7700::/64', ip_version: 6 },
  { id: 's1', network_id: 'n', subnetpool_id: 'pool-1', project_id: 'p', cidr: '2001:db8:7700:1::/64', ip_version: 6 },
  { id: 's3', network_id: 'n', subnetpool_id: 'pool-1', project_id: 'p', cidr: '2001:db8:7700:3::/64', ip_version: 6 },
  { id: 's60', network_id: 'n', subnetpool_id: 'pool-1', project_id: 'p', cidr: '2001:db8:7700:10::/60', ip_version: 6 },
  { id: 'loose', network_id: 'm', subnetpool_id: null, project_id: 'p', cidr: '2001:db8:9999::/64', ip_version: 6 },
];
const ROWS = SUBNETS.map((s) => [s.id, s.project_id, s.network_id, s.subnetpool_id, JSON.stringify(s)]);
const INSERT = 'INSERT INTO subnets (id, project_id, network_id, subnetpool_id, body) VALUES (?, ?, ?, ?, ?)';
// v3's cursor, as a v6 server left it after the run of /64s (the hole was made after it).
const CURSOR = "INSERT INTO subnetpool_cursors (pool_id, prefixlen, next_cidr) VALUES ('pool-1', 64, '2001:db8:7700:4::/64')";

const ctx: RequestContext = { projectId: 'p', isAdmin: true, requestId: 'migration' };

async function check(store: Store): Promise<void> {
  const refused = async (input: Record<string, unknown>, message: string): Promise<void> => {
    await assert.rejects(
      store.write((tx) => allocateSubnetFromPool(tx, ctx, POOL, { ip_version: 6, ...input })),
      (e: unknown) => e instanceof NeutronError && e.status === 409 && e.message === message,
    );
  };
  const cannot = 'Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.';
  await store.read(async (tx) => {
    assert.equal(await tx.poolSubnetOverlaps('pool-1', '620010db8770000000000000000000000', '620010db87700ffffffffffffffffffff'), true, 'the keys were filled in');
    assert.deepEqual(
      (await tx.poolUsage('pool-1', 'p')).sort((a, b) => a.prefixlen - b.prefixlen),
      [
        { prefixlen: 60, count: 1 },
        { prefixlen: 64, count: 3 },
      ],
    );
  });
  // The smallest free block first: the hole at :2:: (a /64), not v3's cursor.
  assert.equal(await store.write((tx) => allocateSubnetFromPool(tx, ctx, POOL, { ip_version: 6 })), '2001:db8:7700:2::/64');
  await refused({ cidr: '2001:db8:7700:3::/64' }, cannot);
  await refused({ cidr: '2001:db8:7700:14::/64' }, cannot); // inside the /60
  await refused({ cidr: '2001:db8:7700::/56' }, cannot); // around the /64s
  assert.equal(await store.write((tx) => allocateSubnetFromPool(tx, ctx, POOL, { ip_version: 6 })), '2001:db8:7700:4::/64');
  assert.equal(await store.write((tx) => allocateSubnetFromPool(tx, ctx, POOL, { ip_version: 6, cidr: '2001:db8:7700:20::/60' })), '2001:db8:7700:20::/60');
}

/** The v6 store: the pool, its subnets and v3's cursor. */
const OLD: [string, unknown[]][] = [
  ['INSERT INTO subnetpools (id, project_id, name, body) VALUES (?, ?, ?, ?)', [POOL.id, POOL.project_id, POOL.name, JSON.stringify(POOL)]],
  ...ROWS.map((r): [string, unknown[]] => [INSERT, r]),
  [CURSOR, []],
];

describe('schema v7 upgrades a store with pool subnets in place', () => {
  it('sqlite', () => withOldStore('sqlite', V6, OLD, check));
  it('postgres', { skip: PG_SKIP }, () => withOldStore('postgres', V6, OLD, check));
});
