// The store contract (src/store/types.ts), run against the embedded SQLite store and the PostgreSQL store alike.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { UniqueViolation } from '../../src/store/types.js';
import type { Doc, Store, Tx } from '../../src/store/types.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { changesShown, DIALECTS, withStore } from './harness.js';

const net = (id: string, project: string, name: string, extra: Record<string, unknown> = {}): Doc => ({
  id,
  project_id: project,
  name,
  admin_state_up: true,
  tags: [],
  ...extra,
});

const port = (id: string, network: string, mac: string | null, extra: Record<string, unknown> = {}): Doc => ({
  id,
  project_id: 'p1',
  name: '',
  network_id: network,
  mac_address: mac,
  device_id: '',
  device_owner: '',
  ...extra,
});

function isUnique(constraint: string) {
  return (e: unknown) => {
    assert.ok(e instanceof UniqueViolation, `expected UniqueViolation(${constraint}), got ${String(e)}`);
    assert.equal(e.constraint, constraint);
    return true;
  };
}

/** Catches the UniqueViolation a tx call throws, so fn can go on in the same transaction. */
async function violation(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UniqueViolation) return e.constraint;
    throw e;
  }
  return 'none';
}

const addr = (n: number) => `2001:db8::${n.toString(16)}`;
const indexOf = (ip: string) => parseInt(ip.slice('2001:db8::'.length), 16);

/**
 * A next-fit allocator reduced to its store traffic: read the cursor, yield (so that, unless the cursor locks the
 * subnet, another allocator runs here and reads the same cursor), skip taken addresses, allocate, move the cursor.
 */
async function allocateNext(tx: Tx, subnet: string, portId: string): Promise<string> {
  const cursor = await tx.ipamCursor(subnet);
  await tick();
  let n = cursor === null ? 1 : indexOf(cursor) + 1;
  while (await tx.isAllocated(subnet, addr(n))) n++;
  await tx.allocate({ subnet_id: subnet, ip_address: addr(n), port_id: portId, network_id: 'net-1' });
  await tick();
  await tx.setIpamCursor(subnet, addr(n));
  return addr(n);
}

for (const { dialect, skip } of DIALECTS) {
  describe(`store contract: ${dialect}`, { skip }, () => {
    it('inserts, gets, lists in insertion order, filters, counts, updates and removes documents', () =>
      withStore(dialect, async ({ store }) => {
        const docs = [net('n1', 'p1', 'a'), net('n2', 'p2', 'b'), net('n3', 'p1', 'b', { description: 'ünïcode ✓' })];
        const value = await store.write(async (tx) => {
          for (const d of docs) await tx.insert('network', d);
          return 'fn value';
        });
        assert.equal(value, 'fn value');

        await store.read(async (tx) => {
          assert.deepEqual(await tx.get('network', 'n3'), docs[2]);
          assert.equal(await tx.get('network', 'missing'), undefined);
          assert.equal(await tx.get('subnet', 'n1'), undefined, 'kinds are separate tables');
          assert.deepEqual(await tx.list('network'), docs);
          assert.deepEqual(await tx.listRaw('network'), docs.map((d) => JSON.stringify(d)));
          // The database-joined listing is the same bodies, in the same order, as one buffer.
          assert.equal(Buffer.concat(await tx.listJoined('network')).toString('utf8'), docs.map((d) => JSON.stringify(d)).join(','));
          assert.deepEqual(await tx.listJoined('network', { name: ['nobody'] }), []);
          assert.equal(Buffer.concat(await tx.listJoined('network', { name: ['b'] })).toString('utf8'), [docs[1], docs[2]].map((d) => JSON.stringify(d)).join(','));
          assert.deepEqual((await tx.list('network', { project_id: ['p1'] })).map((d) => d.id), ['n1', 'n3']);
          assert.deepEqual((await tx.list('network', { project_id: ['p1'], name: ['b'] })).map((d) => d.id), ['n3']);
          assert.deepEqual((await tx.list('network', { name: ['b', 'a'] })).map((d) => d.id), ['n1', 'n2', 'n3']);
          assert.deepEqual((await tx.list('network', { id: ['n3', 'n1'] })).map((d) => d.id), ['n1', 'n3']);
          assert.deepEqual(await tx.list('network', { name: [] }), [], 'an empty value list matches nothing');
          assert.deepEqual((await tx.list('network', { name: undefined })).length, 3, 'an absent filter matches all');
          assert.equal(await tx.count('network'), 3);
          assert.equal(await tx.count('network', { project_id: ['p1'] }), 2);
          assert.equal(await tx.count('network', { project_id: ['nobody'] }), 0);
          await assert.rejects(tx.list('network', { admin_state_up: ['true'] }), /not indexed/);
        });

        await store.write(async (tx) => {
          await tx.update('network', { ...docs[0]!, name: 'renamed', project_id: 'p3' });
        });
        await store.read(async (tx) => {
          assert.equal((await tx.get('network', 'n1'))!.name, 'renamed');
          assert.deepEqual((await tx.list('network', { name: ['renamed'] })).map((d) => d.id), ['n1']);
          assert.deepEqual((await tx.list('network', { project_id: ['p1'] })).map((d) => d.id), ['n3'], 'columns follow the doc');
          assert.deepEqual((await tx.list('network')).map((d) => d.id), ['n1', 'n2', 'n3'], 'an update keeps the order');
        });

        assert.equal(await store.write((tx) => tx.remove('network', 'n2')), true);
        assert.equal(await store.write((tx) => tx.remove('network', 'n2')), false);
        await store.read(async (tx) => {
          assert.deepEqual((await tx.listRaw('network')).map((b) => (JSON.parse(b) as Doc).id), ['n1', 'n3']);
          assert.equal(await tx.count('network'), 2);
        });
      }));

    it('pages in id order by code point, after a marker, either way, with filters', () =>
      withStore(dialect, async ({ store }) => {
        // Ids chosen so that a collation ignoring case or punctuation would order them otherwise.
        const ids = ['B-2', 'a-1', 'a1', 'Z', 'b-1', '_x'];
        await store.write(async (tx) => {
          for (const [i, id] of ids.entries()) await tx.insert('network', { id, name: i % 2 ? 'odd' : 'even', project_id: 'p' });
        });
        const sorted = [...ids].sort();
        await store.read(async (tx) => {
          const page = async (f: Parameters<typeof tx.listPage>[1], p: Parameters<typeof tx.listPage>[2]): Promise<string[]> =>
            (await tx.listPage('network', f, p)).map((b) => (JSON.parse(b) as Doc).id as string);
          assert.deepEqual(await page(undefined, { desc: false, limit: 10 }), sorted);
          assert.deepEqual(await page(undefined, { desc: false, limit: 2 }), sorted.slice(0, 2));
          assert.deepEqual(await page(undefined, { after: sorted[1], desc: false, limit: 3 }), sorted.slice(2, 5));
          assert.deepEqual(await page(undefined, { after: sorted[4], desc: true, limit: 10 }), sorted.slice(0, 4).reverse());
          assert.deepEqual(await page({ name: ['odd'] }, { desc: false, limit: 10 }), ids.filter((_, i) => i % 2).sort());
          assert.deepEqual(await page({ name: ['odd'] }, { after: 'a', desc: false, limit: 1 }), ids.filter((_, i) => i % 2).sort().filter((x) => x > 'a').slice(0, 1));
          assert.deepEqual(await page({ name: [] }, { desc: false, limit: 10 }), []);
        });
      }));

    it("filters on a kind's own columns, with null and absent values", () =>
      withStore(dialect, async ({ store }) => {
        await store.write(async (tx) => {
          await tx.insert('port', port('pa', 'net-1', 'fa:16:3e:00:00:01', { device_id: 'vm-1', device_owner: 'compute:nova' }));
          await tx.insert('port', port('pb', 'net-2', 'fa:16:3e:00:00:02'));
          await tx.insert('port', { id: 'pc', network_id: 'net-1' });
        });
        await store.read(async (tx) => {
          assert.deepEqual((await tx.list('port', { network_id: ['net-1'] })).map((d) => d.id), ['pa', 'pc']);
          assert.deepEqual((await tx.list('port', { device_id: ['vm-1'] })).map((d) => d.id), ['pa']);
          assert.deepEqual((await tx.list('port', { device_owner: ['compute:nova', ''] })).map((d) => d.id), ['pa', 'pb']);
          assert.deepEqual((await tx.list('port', { mac_address: ['fa:16:3e:00:00:02'] })).map((d) => d.id), ['pb']);
          assert.equal(await tx.count('port', { network_id: ['net-1'], device_id: ['vm-1'] }), 1);
          assert.deepEqual(await tx.get('port', 'pc'), { id: 'pc', network_id: 'net-1' });
        });
      }));

    it('maps every uniqueness rule to its UniqueViolation, and the transaction goes on after one is caught', () =>
      withStore(dialect, async ({ store }) => {
        await store.write(async (tx) => {
          await tx.insert('network', net('n1', 'p1', 'a'));
          await tx.insert('port', port('p1', 'net-1', 'fa:16:3e:00:00:01'));
          await tx.insert('port', port('p2', 'net-1', 'fa:16:3e:00:00:02'));
          await tx.allocate({ subnet_id: 's1', ip_address: '2001:db8::1', port_id: 'p1', network_id: 'net-1' });
          await tx.setDefaultSecurityGroup('proj', 'sg-1');
        });
        const seen = await store.write(async (tx) => {
          const out = {
            id: await violation(tx.insert('network', net('n1', 'p9', 'dup'))),
            portId: await violation(tx.insert('port', port('p1', 'net-9', 'fa:16:3e:00:00:09'))),
            mac: await violation(tx.insert('port', port('p3', 'net-1', 'fa:16:3e:00:00:01'))),
            macUpdate: await violation(tx.update('port', port('p2', 'net-1', 'fa:16:3e:00:00:01'))),
            ip: await violation(tx.allocate({ subnet_id: 's1', ip_address: '2001:db8::1', port_id: 'p2', network_id: 'net-1' })),
            sg: await violation(tx.setDefaultSecurityGroup('proj', 'sg-2')),
          };
          // Still one live transaction: these land.
          await tx.insert('port', port('p4', 'net-2', 'fa:16:3e:00:00:01'));
          await tx.update('port', port('p2', 'net-1', 'fa:16:3e:00:00:22'));
          await tx.insert('port', port('p5', 'net-1', null));
          await tx.insert('port', port('p6', 'net-1', null));
          return out;
        });
        assert.deepEqual(seen, {
          id: 'id',
          portId: 'id',
          mac: 'port_mac',
          macUpdate: 'port_mac',
          ip: 'ip_allocation',
          sg: 'default_security_group',
        });
        await store.read(async (tx) => {
          assert.equal((await tx.get('network', 'n1'))!.project_id, 'p1');
          assert.equal((await tx.get('port', 'p1'))!.network_id, 'net-1');
          assert.equal(await tx.get('port', 'p3'), undefined);
          assert.equal((await tx.get('port', 'p2'))!.mac_address, 'fa:16:3e:00:00:22');
          assert.deepEqual((await tx.list('port')).map((d) => d.id), ['p1', 'p2', 'p4', 'p5', 'p6']);
          assert.deepEqual((await tx.allocationsOfSubnet('s1')).map((a) => a.port_id), ['p1']);
          assert.equal(await tx.defaultSecurityGroup('proj'), 'sg-1');
        });
      }));

    it('rejects a write that does not catch its UniqueViolation, keeping none of its changes', () =>
      withStore(dialect, async ({ store }) => {
        await store.write((tx) => tx.insert('network', net('n1', 'p1', 'a')));
        await assert.rejects(
          store.write(async (tx) => {
            await tx.insert('network', net('n2', 'p1', 'b'));
            await tx.recordChange('network', 'n2', 'create');
            await tx.insert('network', net('n1', 'p1', 'again'));
          }),
          isUnique('id'),
        );
        await assert.rejects(
          store.write(async (tx) => {
            await tx.insert('network', net('n3', 'p1', 'c'));
            await tx.setDefaultSecurityGroup('proj', 'sg-1');
            await tx.setDefaultSecurityGroup('proj', 'sg-2');
          }),
          isUnique('default_security_group'),
        );
        await store.read(async (tx) => {
          assert.deepEqual((await tx.list('network')).map((d) => d.id), ['n1']);
          assert.equal(await tx.defaultSecurityGroup('proj'), undefined);
        });
        assert.deepEqual(await store.changesSince(0, 10), []);
      }));

    it('rolls back only the failing write among concurrent ones', () =>
      withStore(dialect, async ({ store }) => {
        const batchesBefore = store instanceof SqliteStore ? store.batches : 0;
        const boom = new Error('boom');
        const results = await Promise.allSettled([
          store.write((tx) => tx.insert('network', net('a', 'p', 'a'))),
          store.write(async (tx) => {
            await tx.insert('network', net('b', 'p', 'b'));
            await tx.allocate({ subnet_id: 's', ip_address: '2001:db8::b', port_id: 'b', network_id: 'n' });
            await tx.setIpamCursor('s', '2001:db8::b');
            await tx.recordChange('network', 'b', 'create');
            throw boom;
          }),
          store.write(async (tx) => {
            await tx.insert('network', net('c', 'p', 'c'));
            await tx.recordChange('network', 'c', 'create');
            return 'c';
          }),
        ]);
        assert.equal(results[0].status, 'fulfilled');
        assert.deepEqual(results[1], { status: 'rejected', reason: boom });
        assert.deepEqual(results[2], { status: 'fulfilled', value: 'c' });
        if (store instanceof SqliteStore) {
          // The three writes arrived in one turn: they must have shared one transaction (one COMMIT), so the
          // rollback above was of the failing write's savepoint, not of a transaction of its own.
          assert.equal(store.batches - batchesBefore, 1, 'one transaction for the three writes');
          assert.ok(store.maxBatch >= 3, `maxBatch ${store.maxBatch}`);
        }
        await store.read(async (tx) => {
          assert.deepEqual((await tx.list('network')).map((d) => d.id), ['a', 'c']);
          assert.equal(await tx.countAllocations('s'), 0);
          assert.equal(await tx.ipamCursor('s'), null);
        });
        assert.deepEqual((await changesShown(store, 0, 10, 1)).map((c) => c.id), ['c']);
      }));

    it('keeps IPAM state: cursor, allocations, the released list, and drops it', () =>
      withStore(dialect, async ({ store }) => {
        await store.write(async (tx) => {
          assert.equal(await tx.ipamCursor('s1'), null);
          for (const n of [1, 2, 3]) {
            await tx.allocate({ subnet_id: 's1', ip_address: addr(n), port_id: `p${n}`, network_id: 'net-1' });
          }
          await tx.allocate({ subnet_id: 's2', ip_address: addr(1), port_id: 'q1', network_id: 'net-1' });
          await tx.setIpamCursor('s1', addr(3));
        });
        await store.write(async (tx) => {
          assert.equal(await tx.ipamCursor('s1'), addr(3));
          assert.equal(await tx.isAllocated('s1', addr(2)), true);
          assert.equal(await tx.isAllocated('s1', addr(4)), false);
          // tryAllocate takes a free address and declines a held one, leaving the transaction usable.
          assert.equal(await tx.tryAllocate({ subnet_id: 's1', ip_address: addr(2), port_id: 'x', network_id: 'net-1' }), false);
          assert.equal(await tx.tryAllocate({ subnet_id: 's1', ip_address: addr(4), port_id: 'p4', network_id: 'net-1' }), true);
          assert.equal(await tx.isAllocated('s1', addr(4)), true);
          await tx.release('s1', addr(4), false);
          await tx.release('s1', addr(2), true);
          await tx.release('s1', addr(2), true); // twice: still one entry
          await tx.release('s1', addr(3), false);
        });
        await store.write(async (tx) => {
          assert.equal(await tx.countAllocations('s1'), 1);
          assert.equal(await tx.countAllocations('s2'), 1);
          assert.deepEqual(await tx.allocationsOfSubnet('s1'), [
            { subnet_id: 's1', ip_address: addr(1), port_id: 'p1', network_id: 'net-1' },
          ]);
          assert.equal(await tx.takeReleased('s2'), undefined);
          assert.equal(await tx.takeReleased('s1'), addr(2));
          assert.equal(await tx.takeReleased('s1'), undefined);
          await tx.release('s1', addr(1), true);
          await tx.setIpamCursor('s1', null);
        });
        await store.write(async (tx) => {
          assert.equal(await tx.ipamCursor('s1'), null);
          await tx.dropIpam('s1');
          assert.equal(await tx.takeReleased('s1'), undefined);
          assert.equal(await tx.ipamCursor('s1'), null);
        });
      }));

    it('serializes 50 concurrent allocators on one subnet: every write succeeds, no address twice', () =>
      withStore(dialect, async ({ store, peer }) => {
        // On PostgreSQL, two stores on one database stand for two API servers.
        const stores: Store[] = dialect === 'postgres' ? [store, await peer()] : [store];
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) => stores[i % stores.length]!.write((tx) => allocateNext(tx, 'subnet-1', `port-${i}`))),
        );
        const failed = results.filter((r) => r.status === 'rejected');
        assert.deepEqual(failed, [], 'no allocator may fail');
        const ips = results.map((r) => (r as PromiseFulfilledResult<string>).value);
        assert.equal(new Set(ips).size, 50, 'no address handed out twice');
        assert.deepEqual(ips.map(indexOf).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1), 'next-fit: 1..50');
        await store.read(async (tx) => {
          assert.equal(await tx.countAllocations('subnet-1'), 50);
          assert.equal(await tx.ipamCursor('subnet-1'), addr(50));
        });
      }));

    it('serves the change feed in order, from any position, in pages', () =>
      withStore(dialect, async ({ store }) => {
        await store.write(async (tx) => {
          await tx.recordChange('network', 'n1', 'create');
          await tx.recordChange('subnet', 's1', 'create');
        });
        await store.write((tx) => tx.recordChange('network', 'n1', 'update'));
        await assert.rejects(
          store.write(async (tx) => {
            await tx.recordChange('port', 'lost', 'create');
            throw new Error('rolled back');
          }),
        );
        await store.write((tx) => tx.recordChange('network', 'n1', 'delete'));

        const all = await changesShown(store, 0, 100, 4);
        assert.deepEqual(
          all.map(({ kind, id, op }) => ({ kind, id, op })),
          [
            { kind: 'network', id: 'n1', op: 'create' },
            { kind: 'subnet', id: 's1', op: 'create' },
            { kind: 'network', id: 'n1', op: 'update' },
            { kind: 'network', id: 'n1', op: 'delete' },
          ],
        );
        for (const c of all) assert.equal(typeof c.seq, 'number');
        for (let i = 1; i < all.length; i++) assert.ok(all[i]!.seq > all[i - 1]!.seq, 'seq increases');
        assert.deepEqual(await store.changesSince(all[0]!.seq, 2), all.slice(1, 3));
        assert.deepEqual(await store.changesSince(all[3]!.seq, 2), []);
        assert.deepEqual(await store.changesSince(0, 100), all, 'reading does not change the feed');
        await store.write((tx) => tx.recordChange('router', 'r1', 'create'));
        const next = await changesShown(store, all[3]!.seq, 10, 1);
        assert.deepEqual(next.map((c) => c.id), ['r1']);
        assert.ok(next[0]!.seq > all[3]!.seq);
      }));
  });
}
