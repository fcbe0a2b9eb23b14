// Promises kept when things break (issue 9.3, 9.4), with real server processes:
// - kill -9 of a server in the middle of a create storm loses no acknowledged port and leaves nothing half-made;
//   the restarted server serves at once;
// - several API servers on one PostgreSQL, 16 clients spread over them, fill one subnet: no address twice, no 5xx,
//   every acknowledged port present.
// Traffic goes to loopback only; request loops are bounded in count and time.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends, freshStoreUrl, spawnServer, type ServerProcess } from '../helpers/v6stack.js';

let nextPort = 19700 + (process.pid % 200) * 10;
const port = () => nextPort++;

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function statefulNetwork(url: string, pool: { start: string; end: string }): Promise<{ net: string; subnet: string }> {
  const net = (await call(url, 'POST', '/v2.0/networks', { network: { name: 'storm' } })).body.network.id;
  const s = await call(url, 'POST', '/v2.0/subnets', {
    subnet: {
      network_id: net,
      ip_version: 6,
      cidr: '2001:db8:5707::/64',
      ipv6_ra_mode: 'dhcpv6-stateful',
      ipv6_address_mode: 'dhcpv6-stateful',
      allocation_pools: [pool],
    },
  });
  assert.equal(s.status, 201, JSON.stringify(s.body));
  return { net, subnet: s.body.subnet.id };
}

/** Every port's addresses are allocated exactly once and nothing else is. */
async function assertConsistent(url: string, net: string): Promise<any[]> {
  const ports = (await call(url, 'GET', `/v2.0/ports?network_id=${net}`)).body.ports;
  const addresses = ports.flatMap((p: { fixed_ips: { ip_address: string }[] }) => p.fixed_ips.map((f) => f.ip_address));
  assert.equal(new Set(addresses).size, addresses.length, 'no address held by two ports');
  return ports;
}

for (const backend of backends()) {
  describe(`kill -9 during a create storm (${backend})`, () => {
    it('loses no acknowledged write and leaves nothing half-created', async () => {
      const store = await freshStoreUrl(backend);
      const servers: ServerProcess[] = [];
      try {
        const p = port();
        let server = await spawnServer(store.url, p);
        servers.push(server);
        const { net } = await statefulNetwork(server.url, { start: '2001:db8:5707::1', end: '2001:db8:5707::ffff' });
        const acknowledged: string[] = [];
        let killed = false;
        const deadline = Date.now() + 20_000;
        const worker = async (w: number): Promise<void> => {
          for (let i = 0; i < 400 && !killed && Date.now() < deadline; i++) {
            try {
              const r = await call(server.url, 'POST', '/v2.0/ports', { port: { network_id: net, name: `w${w}-${i}` } });
              if (r.status === 201) acknowledged.push(r.body.port.id);
              else assert.fail(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
            } catch (e) {
              if (!killed) throw e; // connection reset by the kill: not acknowledged, may or may not exist
            }
          }
        };
        const killer = (async () => {
          while (acknowledged.length < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
          killed = true;
          await server.stop('SIGKILL');
        })();
        await Promise.all([killer, ...Array.from({ length: 8 }, (_, w) => worker(w))]);
        assert.ok(acknowledged.length >= 150, `storm ran (${acknowledged.length} acknowledged)`);

        server = await spawnServer(store.url, port());
        servers.push(server);
        const ports = await assertConsistent(server.url, net);
        const present = new Set(ports.map((x: { id: string }) => x.id));
        const lost = acknowledged.filter((id) => !present.has(id));
        assert.deepEqual(lost, [], 'every acknowledged port survived');
        for (const x of ports) assert.equal(x.fixed_ips.length, 1, 'no port without its address');
        // Serves at once, and the walk continues without handing out a held address.
        const after = await call(server.url, 'POST', '/v2.0/ports', { port: { network_id: net } });
        assert.equal(after.status, 201);
        await assertConsistent(server.url, net);
      } finally {
        for (const s of servers) await s.stop('SIGKILL');
        await store.dispose();
      }
    });
  });
}

describe('several API servers on one PostgreSQL', { skip: process.env.V6STACK_TEST_PG_URL ? false : 'V6STACK_TEST_PG_URL not set' }, () => {
  it('fill one subnet from 16 clients over 3 servers: no duplicate, no 5xx, nothing lost', async () => {
    const store = await freshStoreUrl('postgres');
    const servers: ServerProcess[] = [];
    try {
      for (let i = 0; i < 3; i++) servers.push(await spawnServer(store.url, port()));
      const poolSize = 300;
      const { net } = await statefulNetwork(servers[0]!.url, { start: '2001:db8:5707::1', end: `2001:db8:5707::${poolSize.toString(16)}` });
      const acknowledged: { id: string; ip: string }[] = [];
      const failures: number[] = [];
      let full = 0;
      const client = async (c: number): Promise<void> => {
        const url = servers[c % servers.length]!.url;
        for (let i = 0; i < 100; i++) {
          const r = await call(url, 'POST', '/v2.0/ports', { port: { network_id: net } });
          if (r.status === 201) acknowledged.push({ id: r.body.port.id, ip: r.body.port.fixed_ips[0].ip_address });
          else if (r.status === 409 && r.body.NeutronError.type === 'IpAddressGenerationFailure') {
            full++;
            return;
          } else failures.push(r.status);
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, c) => client(c)));
      assert.deepEqual(failures, [], 'no error but "subnet full"');
      assert.equal(acknowledged.length, poolSize, 'the subnet filled exactly');
      assert.equal(new Set(acknowledged.map((a) => a.ip)).size, poolSize, 'no address twice');
      assert.ok(full > 0);
      for (const s of servers) {
        const ports = await assertConsistent(s.url, net);
        assert.equal(ports.length, poolSize, 'every server sees every acknowledged port');
      }
    } finally {
      for (const s of servers) await s.stop('SIGKILL');
      await store.dispose();
    }
  });
});
