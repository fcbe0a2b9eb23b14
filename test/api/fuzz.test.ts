// Hostile requests generated from the resource definitions (src/schema), against a real `v6stack server` over HTTP:
// every resource, every attribute, POST and PUT (allowed or not), bulk bodies, tags, member actions, junk paths and
// query strings, broken JSON, odd and huge strings, nested ids, oversize bodies, and the agent API. Asserts: no 5xx,
// every error in Neutron's shape, no dropped connection, the server alive afterwards, and every stored document of
// every resource type-correct against its definition (read from the store itself, not through the API).
//
// Seeded: V6STACK_FUZZ_SEED=<n> replays a run; the seed and the request count are printed.
// V6STACK_FUZZ_ROUNDS=<n> multiplies the attribute cases (default 1, ~12,000 requests).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { backends, freshStoreUrl, spawnServer, type ServerProcess } from '../helpers/v6stack.js';
import { freePort } from '../integration/util.js';
import { openStore } from '../../src/store/index.js';
import type { Kind } from '../../src/store/types.js';
import { SCHEMAS, typeErrors, type ResourceSchema } from '../../src/schema/index.js';

/** mulberry32: small, fast, good enough to pick cases reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.V6STACK_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = Number(process.env.V6STACK_FUZZ_ROUNDS ?? 1);
const CONCURRENCY = 8;
const LIMIT = 114_688;

interface Req {
  method: string;
  path: string;
  body?: string | Buffer;
  /** Send the body chunked (no Content-Length), as a streaming client would. */
  chunked?: boolean;
  /** The answer must be exactly this status. */
  expect?: number;
  headers?: Record<string, string>;
}

function nested(depth: number, inner: unknown): unknown {
  let v = inner;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Hostile values for any attribute: wrong types, nested ids, odd and huge strings, near-valid addresses. */
function hostileValues(ids: string[], rand: () => number): unknown[] {
  const id = ids[Math.floor(rand() * ids.length)] ?? randomUUID();
  return [
    null, true, false, 0, -1, 1.5, 2 ** 53 + 2, -(2 ** 63), 1e308, '', ' ', 'x'.repeat(256), 'x'.repeat(300),
    'ünïcødé ☃ 🐍 ℕ', 'nul\u0000byte', 'lone \ud800 surrogate', 'line\nbreak\ttab', '%', '%00', "' OR 1=1 --", '{{7*7}}',
    '__proto__', 'constructor', 'True', 'yes', '1', '64', '-5', '1e3', '0x10',
    id, [id], { id }, [{ id }], [[id]], randomUUID().toUpperCase(), randomUUID().replaceAll('-', ''), `${id}x`,
    [], [null], ['x'], [{}], {}, { a: { b: { c: [1] } } }, nested(40, 'deep'), { __proto__: { polluted: true } },
    '2001:db8::/64', '2001:db8::1', 'fe80::1%eth0', '10.0.0.0/33', '010.0.0.1', '::', '0.0.0.0/0', 'fa:16:3e:00:00:01',
    'FF:FF:FF:FF:FF:FF', { start: '10.0.0.2', end: '10.0.0.1' }, [{ start: '2001:db8::5', end: 'x' }],
    [{ destination: '::/0', nexthop: id }], [{ subnet_id: id }], [{ subnet_id: [id] }], [{ ip_address: { id } }],
    { network_id: [id] }, { network_id: id, external_fixed_ips: [{ subnet_id: {} }] },
    'x'.repeat(70_000),
  ];
}

/** A body that is valid for the resource given the ids made in setup (so one bad attribute is the only fault). */
function baseBody(plural: string, w: World): Record<string, unknown> {
  switch (plural) {
    case 'networks': return { name: 'fz' };
    case 'subnets': return { network_id: w.net, ip_version: 6, cidr: `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}::/64` };
    case 'ports': return { network_id: w.net };
    case 'routers': return { name: 'fz' };
    case 'subnetpools': return { prefixes: ['fd00:fz::/48'.replace('fz', (Math.floor(Math.random() * 0xffff)).toString(16))] };
    case 'address_scopes': return { ip_version: 6 };
    case 'security_groups': return { name: 'fz' };
    case 'security_group_rules': return { security_group_id: w.sg, direction: 'ingress' };
    default: return {};
  }
}

interface World {
  net: string;
  ext: string;
  v4: string;
  v6: string;
  port: string;
  router: string;
  pool: string;
  scope: string;
  sg: string;
  rule: string;
  agent?: string;
  byResource: Record<string, string>;
}

function generate(w: World, rand: () => number): Req[] {
  const out: Req[] = [];
  const ids = [w.net, w.ext, w.v4, w.v6, w.port, w.router, w.pool, w.scope, w.sg];
  const json = (v: unknown): string => JSON.stringify(v);
  for (let round = 0; round < ROUNDS; round++) {
    for (const schema of SCHEMAS) {
      const path = `/v2.0/${schema.path ?? schema.plural}`;
      const id = w.byResource[schema.plural];
      for (const attr of Object.keys(schema.attributes)) {
        for (const value of hostileValues(ids, rand)) {
          const body = { ...baseBody(schema.plural, w), [attr]: value };
          out.push({ method: 'POST', path, body: json({ [schema.singular]: body }) });
          if (id) out.push({ method: 'PUT', path: `${path}/${id}`, body: json({ [schema.singular]: { [attr]: value } }) });
        }
        // Bulk: a good item and a bad one; the bad one must roll the good one back.
        out.push({ method: 'POST', path, body: json({ [schema.plural]: [baseBody(schema.plural, w), { ...baseBody(schema.plural, w), [attr]: [w.net] }] }) });
      }
      // Broken and odd bodies.
      for (const text of ['{', '{"x":', 'nul', '[]', '"s"', '1', 'null', '{}', json({ [schema.singular]: null }), json({ [schema.singular]: [] }),
        json({ [schema.plural]: [1, 2] }), json({ [schema.plural]: {} }), json({ [schema.plural]: [] }), '['.repeat(100_000), '\u00ff\u00fe',
        json({ [schema.singular]: nested(200, 1) }), `{"${schema.singular}": {"name": "a", "name": 5}}`]) {
        out.push({ method: 'POST', path, body: text });
        if (id) out.push({ method: 'PUT', path: `${path}/${id}`, body: text });
      }
      // Oversize: by Content-Length and streamed.
      out.push({ method: 'POST', path, body: json({ [schema.singular]: { name: 'x'.repeat(LIMIT) } }), expect: 413 });
      out.push({ method: 'POST', path, body: Buffer.alloc(LIMIT + 10, 0x20), chunked: true, expect: 413 });
      // Paths and queries.
      const junkIds = ['__proto__', 'constructor', 'toString', '%', '%zz', '%00', '%ED%A0%80', 'x'.repeat(2000), '..', '%2e%2e', randomUUID(), `${w.net}%00`, '"\'<>'];
      for (const j of junkIds) {
        out.push({ method: 'GET', path: `${path}/${j}` });
        out.push({ method: 'PUT', path: `${path}/${j}`, body: json({ [schema.singular]: { name: 'a' } }) });
        out.push({ method: 'DELETE', path: `${path}/${j}` });
        out.push({ method: 'GET', path: `${path}/${j}/tags` });
        out.push({ method: 'PUT', path: `${path}/${j}/tags/${j}` });
        if (id) out.push({ method: 'PUT', path: `${path}/${id}/tags/${j}` });
        if (id) out.push({ method: 'GET', path: `${path}/${id}/${j}` });
        if (id) out.push({ method: 'PUT', path: `${path}/${id}/${j}`, body: '{}' });
      }
      for (const q of ['network_id=junk', 'network_id=%00', 'id=%zz', 'limit=abc', 'limit=-1', 'limit=99999999999999999999', 'limit=1&marker=junk',
        'limit=1&marker=%00', 'sort_key=nope&sort_dir=asc', 'sort_key=name', 'sort_key=name&sort_dir=sideways', 'fields=__proto__', 'fields=constructor&fields=id',
        'page_reverse=maybe&limit=1', '%zz=1', 'name=%00', 'name=%ED%A0%80', 'admin_state_up=junk', 'shared=2', 'tags=a&not-tags-any=b', 'fixed_ips=ip_address%3D1',
        'fixed_ips=junk', 'tenant_id=' + 'x'.repeat(3000), 'name=x&name=y&' + 'id=z&'.repeat(500), 'ip_version=abc', 'limit=2&sort_key=id&sort_dir=desc&page_reverse=True', 'marker=' + w.net]) {
        out.push({ method: 'GET', path: `${path}?${q}` });
      }
      if (id) {
        for (const tags of [['a'], 'a', [1], [null], ['x'.repeat(300)], ['nul\u0000'], [{}], { tags: 1 }]) {
          out.push({ method: 'PUT', path: `${path}/${id}/tags`, body: json(Array.isArray(tags) || typeof tags === 'string' ? { tags } : tags) });
        }
        out.push({ method: 'DELETE', path: `${path}/${id}/tags/nope` });
      }
      for (const m of ['PATCH', 'OPTIONS', 'HEAD', 'TRACE']) out.push({ method: m, path });
      // The project comes from a header when the body names none; it is stored like any attribute.
      for (const project of ['x'.repeat(300), ' ', '%00', 'p\u00e9']) {
        out.push({ method: 'POST', path, body: json({ [schema.singular]: baseBody(schema.plural, w) }), headers: { 'X-Project-Id': project } });
      }
    }
    // Member actions with junk.
    const actionBodies: unknown[] = [null, {}, [], 'x', { subnet_id: null }, { subnet_id: [w.v4] }, { subnet_id: { id: w.v4 } }, { port_id: 5 },
      { subnet_id: w.v4, port_id: w.port }, { subnet_id: 'junk' }, { subnet_id: randomUUID() }, { port_id: randomUUID() }, { prefixes: ['x'] },
      { prefixes: 'fd00::/8' }, { prefixes: [null] }, { prefixes: [['fd00::/8']] }];
    for (const b of actionBodies) {
      for (const a of ['add_router_interface', 'remove_router_interface']) out.push({ method: 'PUT', path: `/v2.0/routers/${w.router}/${a}`, body: JSON.stringify(b) });
      out.push({ method: 'PUT', path: `/v2.0/subnetpools/${w.pool}/add_prefixes`, body: JSON.stringify(b) });
    }
    // The agent API.
    const agentBodies: unknown[] = [null, {}, [], 'x', { agent: null }, { agent: [] }, { agent: { agent_type: 5 } }, { agent: { configurations: 'x' } },
      { agent: { configurations: { a: 'nul\u0000' } } }, { agent: { configurations: nested(30, {}) } }, { agent: { agent_type: 'x'.repeat(300) } }];
    for (const b of agentBodies) {
      out.push({ method: 'PUT', path: '/v6stack/v1/agents/fz-host/fz-binary', body: JSON.stringify(b) });
      out.push({ method: 'PUT', path: '/v6stack/v1/agents/%00/b', body: JSON.stringify(b) });
      out.push({ method: 'PUT', path: '/v6stack/v1/agents/%zz/b', body: JSON.stringify(b) });
    }
    for (const b of [null, {}, [], { ports: null }, { ports: [] }, { ports: { [w.port]: 'UP' } }, { ports: { junk: 'ACTIVE' } }, { ports: { [w.port]: 'ACTIVE' }, host: 5 },
      { ports: { [w.port]: 'ACTIVE' }, host: 'nul\u0000' }, { ports: { '%00': 'DOWN' } }]) {
      out.push({ method: 'PUT', path: '/v6stack/v1/ports/status', body: JSON.stringify(b) });
    }
    for (const q of ['since=abc', 'since=-1', 'since=1e400', 'since=99999999999999999999', 'limit=0', 'limit=abc', 'wait=abc', 'wait=-1', 'since=0&limit=5']) {
      out.push({ method: 'GET', path: `/v6stack/v1/changes?${q}` });
    }
    for (const p of ['/', '//', '/v2.0', '/v2.0/', '/v2.0/%', '/v2.0/%zz/x', '/v2.0/extensions/%', '/v2.0/extensions/nope', '/../../etc/passwd', '/v2.0/networks.json',
      '/v6stack/v1/%', '/v6stack/v1/agents', '/v2.0/networks/a/b/c/d/e/f', `/v2.0/${'x/'.repeat(500)}`]) {
      out.push({ method: 'GET', path: p });
      out.push({ method: 'POST', path: p, body: '{}' });
    }
  }
  // Random combinations: several attributes of one body at once, each a hostile value or a value the definition
  // accepts elsewhere, on a random resource and method (the seed decides).
  const writable = SCHEMAS.filter((sc) => sc.operations.includes('create') || sc.operations.includes('update'));
  for (let i = 0; i < 3000 * ROUNDS; i++) {
    const schema = writable[Math.floor(rand() * writable.length)]!;
    const names = Object.keys(schema.attributes);
    const values = hostileValues(ids, rand);
    const body: Record<string, unknown> = rand() < 0.7 ? baseBody(schema.plural, w) : {};
    for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) body[names[Math.floor(rand() * names.length)]!] = values[Math.floor(rand() * values.length)];
    const path = `/v2.0/${schema.path ?? schema.plural}`;
    const id = w.byResource[schema.plural];
    if (rand() < 0.5 || !id) out.push({ method: 'POST', path, body: json({ [schema.singular]: body }) });
    else out.push({ method: 'PUT', path: `${path}/${id}`, body: json({ [schema.singular]: body }) });
  }
  // Shuffle: faults interleave with writes, as a hostile client's would.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface Answer {
  status: number;
  text: string;
}

/** One request on a keep-alive agent; a connection closed without an answer rejects. */
function send(base: URL, agent: import('node:http').Agent, r: Req): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json', ...r.headers };
    if (body && !r.chunked) headers['Content-Length'] = body.length;
    const req = httpRequest({ host: base.hostname.replace(/^\[|\]$/g, ''), port: base.port, method: r.method, path: r.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body && r.chunked) {
      // In pieces, so the server sees a stream with no declared length.
      for (let i = 0; i < body.length; i += 16_384) req.write(body.subarray(i, i + 16_384));
      req.end();
    } else req.end(body);
  });
}

for (const backend of backends()) {
  describe(`fuzz: hostile requests from the resource definitions (${backend})`, () => {
    let server: ServerProcess;
    let dbUrl: string;
    let dispose: () => Promise<void>;
    let base: URL;
    let serverLog = '';

    before(async () => {
      const fresh = await freshStoreUrl(backend);
      dbUrl = fresh.url;
      dispose = fresh.dispose;
      server = await spawnServer(dbUrl, await freePort('::1'));
      // The server logs what it refused at the store boundary (a converter let something through) and every 500.
      server.child.stderr!.on('data', (d) => (serverLog += String(d)));
      base = new URL(server.url);
    });

    after(async () => {
      await server?.stop();
      await dispose?.();
    });

    it('answers every request below 500, in Neutron shape, on a live connection; stores only type-correct documents', { timeout: 300_000 }, async () => {
      const { Agent } = await import('node:http');
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const call = async (method: string, path: string, body?: unknown): Promise<any> => {
        const a = await send(base, agent, { method, path, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        assert.ok(a.status < 300, `${method} ${path}: ${a.status} ${a.text}`);
        return a.text ? JSON.parse(a.text) : null;
      };
      // A small world the hostile requests can point at.
      const net = (await call('POST', '/v2.0/networks', { network: { name: 'fz-net' } })).network.id;
      const ext = (await call('POST', '/v2.0/networks', { network: { name: 'fz-ext', 'router:external': true } })).network.id;
      const v4 = (await call('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.9.0.0/24' } })).subnet.id;
      const v6 = (await call('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 6, cidr: '2001:db8:f::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet.id;
      await call('POST', '/v2.0/subnets', { subnet: { network_id: ext, ip_version: 6, cidr: '2001:db8:e::/64' } });
      const port = (await call('POST', '/v2.0/ports', { port: { network_id: net, name: 'fz-port' } })).port.id;
      const router = (await call('POST', '/v2.0/routers', { router: { name: 'fz-router', external_gateway_info: { network_id: ext } } })).router.id;
      const scope = (await call('POST', '/v2.0/address-scopes', { address_scope: { name: 'fz-scope', ip_version: 6 } })).address_scope.id;
      const pool = (await call('POST', '/v2.0/subnetpools', { subnetpool: { name: 'fz-pool', prefixes: ['fd00:1::/48'], address_scope_id: scope } })).subnetpool.id;
      const sg = (await call('POST', '/v2.0/security-groups', { security_group: { name: 'fz-sg' } })).security_group.id;
      const rule = (await call('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 } })).security_group_rule.id;
      const agentDoc = (await call('PUT', '/v6stack/v1/agents/fz-host/fz-binary', { agent: { agent_type: 'v6stack agent', configurations: {} } })).agent;
      const world: World = {
        net, ext, v4, v6, port, router, pool, scope, sg, rule,
        byResource: { networks: net, subnets: v4, ports: port, routers: router, subnetpools: pool, address_scopes: scope, security_groups: sg, security_group_rules: rule, agents: agentDoc.id },
      };

      const rand = prng(SEED);
      const requests = generate(world, rand);
      const started = Date.now();
      const failures: string[] = [];
      const counts = new Map<number, number>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < requests.length) {
          const r = requests[next++]!;
          const label = `${r.method} ${r.path.slice(0, 120)} ${typeof r.body === 'string' ? r.body.slice(0, 160) : r.body ? `<${r.body.length} bytes>` : ''}`;
          let a: Answer;
          try {
            a = await send(base, agent, r);
          } catch (e) {
            failures.push(`dropped connection: ${label}: ${(e as Error).message}`);
            continue;
          }
          counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
          if (a.status >= 500) failures.push(`${a.status}: ${label} -> ${a.text.slice(0, 300)}`);
          else if (r.expect !== undefined && a.status !== r.expect) failures.push(`expected ${r.expect}, got ${a.status}: ${label}`);
          if (a.status >= 400 && r.method !== 'HEAD') {
            let shape = false;
            try {
              const e = JSON.parse(a.text).NeutronError;
              shape = typeof e.type === 'string' && typeof e.message === 'string' && typeof e.detail === 'string';
            } catch {
              /* not JSON */
            }
            if (!shape) failures.push(`${a.status} without a NeutronError body: ${label} -> ${a.text.slice(0, 200)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `fuzz (${backend}): seed ${SEED}, ${requests.length} requests in ${seconds.toFixed(1)} s ` +
          `(${Math.round(requests.length / seconds)}/s); statuses ${JSON.stringify(Object.fromEntries([...counts].sort((x, y) => x[0] - y[0])))}`,
      );
      assert.ok(requests.length >= 10_000, `only ${requests.length} requests generated`);
      assert.deepEqual(failures.slice(0, 40), [], `seed ${SEED}: ${failures.length} failures`);

      // The store boundary's guard is the last line, not the rule: nothing may have reached it.
      const guarded = serverLog.match(/(refused to store|store refused input)[^\n]*/g) ?? [];
      assert.equal(guarded.slice(0, 5).join('\n'), '', `seed ${SEED}: a converter let ${guarded.length} wrong values through to the store's guards`);

      // Still alive, and still answering normally.
      const alive = await send(base, agent, { method: 'GET', path: '/v2.0/networks?limit=1' });
      assert.equal(alive.status, 200);
      agent.destroy();

      // Every stored document of every resource has its definition's types.
      const store = await openStore(dbUrl);
      try {
        const corrupt: string[] = [];
        let checked = 0;
        await store.read(async (tx) => {
          for (const schema of SCHEMAS as readonly ResourceSchema[]) {
            for (const doc of await tx.list(schema.kind as Kind)) {
              checked++;
              const errors = typeErrors(schema, doc);
              if (errors.length) corrupt.push(`${schema.kind} ${doc.id}: ${errors.join('; ')}`);
            }
          }
        });
        console.log(`fuzz (${backend}): ${checked} stored documents checked against their definitions`);
        assert.deepEqual(corrupt.slice(0, 20), [], `seed ${SEED}: ${corrupt.length} stored documents do not match their definitions`);
      } finally {
        await store.close();
      }
    });
  });
}
