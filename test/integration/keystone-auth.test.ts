// `--auth-strategy keystone` against Debian's real Keystone (22, Zed; scripts/keystone.sh in a temporary directory):
// the identity of a request is its token's (project, user, roles), never X-Project-Id; what Neutron behind
// keystonemiddleware answers without a valid token (401, its body, WWW-Authenticate); a revoked token refused once
// the cache lifetime is over; an admin token admin (the agents' API lets only admins and the agent secret in);
// Keystone down is 503, not 401 or 500; and real clients authenticating against Keystone: Debian's `openstack`
// client finds v6stack in the catalog, v6stack's own CLI with OS_AUTH_URL & co. Every server and Keystone are
// stopped in `after`, whatever happened. Calls have time limits (hang guards, not thresholds).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshStoreUrl, spawnServer, type ServerProcess } from '../helpers/v6stack.js';
import { keystoneUnavailable, newPassword, startKeystone, type Keystone } from '../helpers/keystone.js';
import { freePort, run } from './util.js';

const skip = keystoneUnavailable();
const CLIENT_TIMEOUT_MS = 180_000;
const AUTH_MESSAGE = 'The request you have made requires authentication.';
const AGENT_SECRET = 'agent-secret-for-this-test';

async function call(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(url + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** The environment of a client: none of the caller's OS_* settings or proxies, a private HOME. */
function clientEnv(home: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^OS_/.test(k) && !/_proxy$/i.test(k)) env[k] = v;
  return { ...env, HOME: home, NO_PROXY: '::1,127.0.0.1,localhost', no_proxy: '::1,127.0.0.1,localhost', ...extra };
}

describe('keystone authentication with a real Keystone', { skip, timeout: 1_500_000 }, () => {
  let ks: Keystone;
  const servers: ServerProcess[] = [];
  const disposals: (() => Promise<void>)[] = [];
  let server: ServerProcess; // token cache 300 s
  let shortCache: ServerProcess; // token cache 1 s
  let home: string;
  let projectA: string;
  let projectB: string;
  const alicePassword = newPassword();
  const bobPassword = newPassword();
  const readerPassword = newPassword();

  async function v6stack(cacheTime: number): Promise<ServerProcess> {
    const store = await freshStoreUrl('sqlite');
    disposals.push(store.dispose);
    const port = await freePort();
    const s = await spawnServer(store.url, port, [
      '--auth-strategy', 'keystone', '--auth-url', ks.url, '--keystone-username', 'v6stack', '--keystone-project-name', 'service',
      '--token-cache-time', String(cacheTime), '--project-id', 'agents-project',
    ]);
    servers.push(s);
    return s;
  }

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'v6stack-ks-home-'));
    ks = await startKeystone();
    const servicePassword = newPassword();
    await ks.serviceUser('v6stack', servicePassword);
    projectA = await ks.createProject('project-a');
    projectB = await ks.createProject('project-b');
    await ks.createUser('alice', alicePassword, projectA, 'member');
    await ks.createUser('bob', bobPassword, projectB, 'member');
    await ks.createUser('rita', readerPassword, projectA, 'reader');
    // The password from the environment, as an operator gives it (never on the command line).
    process.env.V6STACK_KEYSTONE_PASSWORD = servicePassword;
    process.env.V6STACK_AGENT_SECRET = AGENT_SECRET;
    try {
      server = await v6stack(300);
      shortCache = await v6stack(1);
    } finally {
      delete process.env.V6STACK_KEYSTONE_PASSWORD;
      delete process.env.V6STACK_AGENT_SECRET;
    }
    await ks.registerNetwork(server.url);
  });

  after(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    for (const d of disposals) await d().catch(() => {});
    await ks?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('serves version discovery without a token, as Neutron does', async () => {
    const r = await call(server.url, 'GET', '/');
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body.versions));
  });

  it("answers no token and a garbage token with keystonemiddleware's 401 and WWW-Authenticate", async () => {
    for (const headers of [{}, { 'X-Auth-Token': 'garbage-token' }, { 'X-Auth-Token': '' }] as Record<string, string>[]) {
      const r = await call(server.url, 'GET', '/v2.0/networks', headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.deepEqual(r.body, { error: { code: 401, title: 'Unauthorized', message: AUTH_MESSAGE } });
      assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
    }
  });

  it("owns what a member creates by the token's project, whatever X-Project-Id says", async () => {
    const alice = await ks.token('alice', alicePassword, 'project-a');
    assert.equal(alice.projectId, projectA);
    const r = await call(server.url, 'POST', '/v2.0/networks', { 'X-Auth-Token': alice.token, 'X-Project-Id': projectB }, { network: { name: 'alice-net' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.network.project_id, projectA);
    assert.equal(r.body.network.tenant_id, projectA);
    const bob = await ks.token('bob', bobPassword, 'project-b');
    const b = await call(server.url, 'POST', '/v2.0/networks', { 'X-Auth-Token': bob.token }, { network: { name: 'bob-net' } });
    assert.equal(b.body.network.project_id, projectB);
  });

  it('takes admin from the admin role: the agents\' API lets an admin token in and refuses a member, a reader, no token', async () => {
    const admin = await ks.token('admin', ks.adminPassword, 'admin');
    const a = await call(server.url, 'GET', '/v6stack/v1/changes?since=0', { 'X-Auth-Token': admin.token });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    for (const [user, password] of [['alice', alicePassword], ['rita', readerPassword]] as const) {
      const t = await ks.token(user, password, 'project-a');
      const r = await call(server.url, 'GET', '/v6stack/v1/changes?since=0', { 'X-Auth-Token': t.token });
      assert.equal(r.status, 403, user);
      assert.equal(r.body.NeutronError.type, 'HTTPForbidden');
    }
    assert.equal((await call(server.url, 'GET', '/v6stack/v1/changes?since=0')).status, 401);
  });

  it("lets agents in with the deployment's agent secret, not with a wrong one", async () => {
    const ok = await call(server.url, 'GET', '/v6stack/v1/changes?since=0', { 'X-V6stack-Agent-Secret': AGENT_SECRET });
    assert.equal(ok.status, 200);
    const all = await call(server.url, 'GET', '/v2.0/networks', { 'X-V6stack-Agent-Secret': AGENT_SECRET });
    assert.deepEqual(all.body.networks.map((n: { name: string }) => n.name).sort(), ['alice-net', 'bob-net']);
    const bad = await call(server.url, 'GET', '/v6stack/v1/changes?since=0', { 'X-V6stack-Agent-Secret': 'wrong' });
    assert.equal(bad.status, 401);
  });

  it('refuses a revoked token once the cache lifetime is over, and not before (token_cache_time)', async () => {
    const t = await ks.token('alice', alicePassword, 'project-a');
    for (const s of [server, shortCache]) assert.equal((await call(s.url, 'GET', '/v2.0/networks', { 'X-Auth-Token': t.token })).status, 200);
    await ks.revoke(t.token);
    // The 300 s cache still trusts it: behind keystonemiddleware a revoked token lives until its cache entry expires.
    assert.equal((await call(server.url, 'GET', '/v2.0/networks', { 'X-Auth-Token': t.token })).status, 200);
    await new Promise((r) => setTimeout(r, 1500));
    const r = await call(shortCache.url, 'GET', '/v2.0/networks', { 'X-Auth-Token': t.token });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.message, AUTH_MESSAGE);
  });

  it("Debian's openstack client authenticates with Keystone and finds v6stack in the catalog", { skip: existsSync('/usr/bin/openstack') ? false : 'python3-openstackclient is not installed' }, async () => {
    const r = await run('/usr/bin/openstack', ['network', 'list', '-f', 'json', '-c', 'Name'], {
      env: clientEnv(home, {
        OS_AUTH_URL: ks.url, OS_USERNAME: 'alice', OS_PASSWORD: alicePassword, OS_PROJECT_NAME: 'project-a',
        OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3', OS_REGION_NAME: 'RegionOne',
      }),
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    assert.equal(r.code, 0, r.stderr);
    const names = (JSON.parse(r.stdout) as { Name: string }[]).map((n) => n.Name);
    // Without the policy work every project still sees every network; alice's own is there either way.
    assert.ok(names.includes('alice-net'), r.stdout);
  });

  it("v6stack's own CLI gets a token from OS_AUTH_URL & co and sends it", async () => {
    const env = clientEnv(home, { OS_AUTH_URL: ks.url, OS_USERNAME: 'bob', OS_PASSWORD: bobPassword, OS_PROJECT_NAME: 'project-b' });
    const created = await run(process.execPath, ['dist/src/cli/main.js', 'network', 'create', 'bob-cli-net', '-f', 'json'], { env, timeoutMs: CLIENT_TIMEOUT_MS });
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).project_id, projectB);
    const wrong = await run(process.execPath, ['dist/src/cli/main.js', 'network', 'list'], { env: { ...env, OS_PASSWORD: 'wrong' }, timeoutMs: CLIENT_TIMEOUT_MS });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /requires authentication.*HTTP 401/);
  });

  it('answers 503, not 401 or 500, when Keystone cannot be reached', async () => {
    await ks.stop();
    // A token the cache has never seen, so Keystone must be asked.
    const r = await call(server.url, 'GET', '/v2.0/networks', { 'X-Auth-Token': `never-seen-${newPassword()}` });
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { NeutronError: { type: 'HTTPServiceUnavailable', message: 'The Keystone service is temporarily unavailable.', detail: '' } });
  });
});
