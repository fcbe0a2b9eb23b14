// Two API servers on one PostgreSQL allocating from one subnet pool at once: every prefix is handed out once, no two
// subnets of the pool overlap (whatever lengths are asked), the overflow gets Neutron's SubnetAllocationError, and
// nothing is half-created. Prefix operations racing the allocations never let a subnet escape the pool's prefixes.
// The embedded store is one process (one writer), so this runs where CI provides PostgreSQL.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pgLib from 'pg';
import { ApiServer } from '../../src/api/server.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { prefixesCover } from '../../src/domain/subnetpool.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { backends, freshStoreUrl } from '../helpers/v6stack.js';

type Json = Record<string, any>;

interface Server {
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
}

const pg = backends().includes('postgres');

describe('subnet pool allocation on two API servers sharing PostgreSQL', { skip: pg ? false : 'V6STACK_TEST_PG_URL is not set' }, () => {
  const servers: { api: ApiServer; store: Store }[] = [];
  const clients: Server[] = [];
  let dispose: () => Promise<void> = async () => {};
  let storeUrl = '';
  before(async () => {
    const fresh = await freshStoreUrl('postgres');
    dispose = fresh.dispose;
    storeUrl = fresh.url;
    for (let i = 0; i < 2; i++) {
      const store = await openStore(fresh.url);
      // The two tests together make more subnets in the one project than quota_subnet (100) allows.
      const api = new ApiServer({ store, defaultProjectId: 'race-project', settings: { quotas: { subnet: -1 } } });
      const { port } = await api.listen(0, '::1');
      servers.push({ api, store });
      const url = `http://[::1]:${port}`;
      clients.push({
        async request(method, path, body) {
          const res = await fetch(url + path, {
            method,
            headers: { 'Content-Type': 'application/json' },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          const text = await res.text();
          return { status: res.status, body: text ? JSON.parse(text) : null };
        },
      });
    }
  });
  after(async () => {
    for (const { api, store } of servers) {
      await api.close();
      await store.close();
    }
    await dispose();
  });

  const subnetsOf = async (poolId: string): Promise<Json[]> => (await clients[0]!.request('GET', `/v2.0/subnets?subnetpool_id=${poolId}`)).body.subnets;

  const assertDisjoint = (cidrs: string[]): void => {
    const prefixes = cidrs.map((c) => IpPrefix.parse(c)!).sort((a, b) => (a.first.value < b.first.value ? -1 : 1));
    for (let i = 1; i < prefixes.length; i++) {
      assert.ok(prefixes[i - 1]!.last.value < prefixes[i]!.first.value, `${prefixes[i - 1]} and ${prefixes[i]} overlap`);
    }
  };

  it('hands out each prefix once and refuses the overflow cleanly', async () => {
    const net = (await clients[0]!.request('POST', '/v2.0/networks', { network: { name: 'race' } })).body.network;
    const pool = (await clients[1]!.request('POST', '/v2.0/subnetpools', { subnetpool: { name: 'race', prefixes: ['2001:db8:5a00::/58'], default_prefixlen: 64 } })).body.subnetpool;
    const size = 64;
    const attempts = 100;
    const results = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        clients[i % 2]!.request('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, subnetpool_id: pool.id, enable_dhcp: false, name: `r${i}` } }),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    assert.equal(created.length, size, `created: ${created.length}; a refusal: ${JSON.stringify(results.find((r) => r.status !== 201)?.body)}`);
    for (const r of results.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.NeutronError.type, 'SubnetAllocationError');
      assert.equal(r.body.NeutronError.message, 'Failed to allocate subnet: Insufficient prefix space to allocate subnet size /64.');
    }
    const cidrs = created.map((r) => r.body.subnet.cidr as string);
    assert.equal(new Set(cidrs).size, size, 'no prefix handed out twice');
    assertDisjoint(cidrs);
    assert.equal((await subnetsOf(pool.id)).length, size, 'no half-created subnets');
  });

  it('never overlaps with mixed lengths, explicit prefixes and prefix operations racing the allocations', async () => {
    const net = (await clients[0]!.request('POST', '/v2.0/networks', { network: { name: 'race2' } })).body.network;
    const pool = (
      await clients[0]!.request('POST', '/v2.0/subnetpools', { subnetpool: { name: 'race2', prefixes: ['2001:db8:5b00::/56'], min_prefixlen: 60, default_prefixlen: 64 } })
    ).body.subnetpool;
    const requests: Promise<{ status: number; body: Json }>[] = [];
    for (let i = 0; i < 90; i++) {
      const subnet: Json = { network_id: net.id, ip_version: 6, subnetpool_id: pool.id, enable_dhcp: false };
      if (i % 3 === 1) subnet.prefixlen = 62;
      if (i % 10 === 7) subnet.cidr = `2001:db8:5b00:${(0x80 + i).toString(16)}::/64`;
      if (i % 10 === 7) delete subnet.prefixlen;
      requests.push(clients[i % 2]!.request('POST', '/v2.0/subnets', { subnet }));
      // Grow and shrink the pool while allocations run: a removal is refused when a subnet already uses it.
      if (i === 20) requests.push(clients[1]!.request('PUT', `/v2.0/subnetpools/${pool.id}/add_prefixes`, { prefixes: ['2001:db8:5c00::/56'] }));
      if (i === 60) requests.push(clients[0]!.request('PUT', `/v2.0/subnetpools/${pool.id}/remove_prefixes`, { prefixes: ['2001:db8:5c00::/56'] }));
    }
    const results = await Promise.all(requests);
    for (const r of results) assert.ok(r.status === 200 || r.status === 201 || r.status === 400 || r.status === 409, JSON.stringify(r.body));
    const subnets = await subnetsOf(pool.id);
    assert.equal(subnets.length, results.filter((r) => r.status === 201).length, 'every 201 is a stored subnet');
    assert.ok(subnets.length >= 60, `most requests got a prefix (${subnets.length})`);
    const cidrs = subnets.map((s) => s.cidr as string);
    assertDisjoint(cidrs);
    const prefixes = (await clients[1]!.request('GET', `/v2.0/subnetpools/${pool.id}`)).body.subnetpool.prefixes as string[];
    assert.ok(prefixesCover(prefixes, cidrs), `every subnet inside the pool's prefixes ${prefixes.join(', ')}`);
  });

  // The two tests above cannot tell on their own whether allocators serialize on the pool: with two writers, the
  // free-block rows' own locks and the overlap check against the subnets already keep them disjoint. A third writer
  // rebuilding a pool's list while another allocation is in flight would not be, so the pool's lock is checked
  // directly: while another transaction holds the pool's row, an allocation from the pool waits for it.
  it('an allocation waits while another transaction holds the pool\'s lock', async () => {
    const net = (await clients[0]!.request('POST', '/v2.0/networks', { network: { name: 'lock' } })).body.network;
    const pool = (await clients[0]!.request('POST', '/v2.0/subnetpools', { subnetpool: { name: 'lock', prefixes: ['2001:db8:5d00::/56'], default_prefixlen: 64 } })).body.subnetpool;
    const subnet = { network_id: net.id, ip_version: 6, subnetpool_id: pool.id, enable_dhcp: false };
    assert.equal((await clients[0]!.request('POST', '/v2.0/subnets', { subnet })).status, 201, 'the pool has its row');
    const holder = new pgLib.Client({ connectionString: storeUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      const locked = await holder.query('SELECT pool_id FROM subnetpool_cursors WHERE pool_id = $1 FOR UPDATE', [pool.id]);
      assert.equal(locked.rowCount, 1);
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      let answered = false;
      const pending = clients[1]!.request('POST', '/v2.0/subnets', { subnet }).then((r) => {
        answered = true;
        return r;
      });
      // Until a backend is seen waiting for the holder (or the request is answered, which it must not be).
      let waiting = 0;
      for (const deadline = Date.now() + 60_000; !answered && waiting === 0 && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 50));
        const q = await holder.query<{ n: string }>('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holderPid]);
        waiting = Number(q.rows[0]!.n);
      }
      assert.equal(answered, false, 'a subnet was allocated from the pool while another transaction held its lock');
      assert.ok(waiting > 0, 'the allocation waits for the pool lock');
      await holder.query('ROLLBACK');
      const r = await pending;
      assert.equal(r.status, 201, JSON.stringify(r.body));
    } finally {
      await holder.end();
    }
  });
});
