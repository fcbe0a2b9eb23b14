// The pure parts of `--auth-strategy keystone`: the identity a Keystone v3 token document gives, the auth_url
// forms, the token cache's lifetime bound (token_cache_time, never past expires_at) and its size bound, and the
// answers that need no Keystone (version discovery, no token, a wrong agent secret). The calls to Keystone itself
// are tested against Debian's real Keystone in test/integration/keystone-auth.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromToken, KeystoneAuth, TokenCache, v3Url } from '../../../src/api/auth/keystone.js';
import { AuthFault } from '../../../src/api/auth/errors.js';

describe('identityFromToken', () => {
  it('takes the project, the user and the role names, lower-case; admin is the admin role', () => {
    const who = identityFromToken({
      project: { id: 'p1', name: 'demo' },
      user: { id: 'u1', name: 'alice' },
      roles: [{ id: 'r1', name: 'Member' }, { id: 'r2', name: 'reader' }, { id: 'r3', name: 'member' }],
    });
    assert.deepEqual(who, { projectId: 'p1', userId: 'u1', roles: ['member', 'reader'], isAdmin: false });
    assert.equal(identityFromToken({ project: { id: 'p' }, roles: [{ name: 'ADMIN' }] })?.isAdmin, true);
  });
  it('refuses a token without a project scope (unscoped, domain or system scope)', () => {
    assert.equal(identityFromToken({ user: { id: 'u' }, roles: [] }), null);
  });
});

describe('v3Url', () => {
  it('accepts auth_url with or without /v3 and trailing slashes', () => {
    assert.equal(v3Url('http://[::1]:5000'), 'http://[::1]:5000/v3');
    assert.equal(v3Url('http://[::1]:5000/'), 'http://[::1]:5000/v3');
    assert.equal(v3Url('http://k:5000/v3/'), 'http://k:5000/v3');
    assert.equal(v3Url('https://k/identity/v3'), 'https://k/identity/v3');
  });
});

describe('TokenCache', () => {
  const who = { identity: { projectId: 'p', roles: ['member'], isAdmin: false } };
  it('keeps an answer for token_cache_time, then forgets it', () => {
    let now = 1_000_000;
    const c = new TokenCache(300_000, () => now);
    c.set('tok', who);
    now += 299_999;
    assert.deepEqual(c.get('tok'), who);
    now += 1;
    assert.equal(c.get('tok'), undefined);
  });
  it("never keeps a token past its expires_at", () => {
    let now = 1_000_000;
    const c = new TokenCache(300_000, () => now);
    c.set('tok', who, now + 10_000);
    now += 10_000;
    assert.equal(c.get('tok'), undefined);
    c.set('old', who, now - 1);
    assert.equal(c.get('old'), undefined);
  });
  it('caches refusals too, and nothing when the cache time is 0', () => {
    const c = new TokenCache(1000, () => 0);
    c.set('bad', { invalid: true });
    assert.deepEqual(c.get('bad'), { invalid: true });
    const off = new TokenCache(0, () => 0);
    off.set('tok', who);
    assert.equal(off.get('tok'), undefined);
  });
  it('holds at most its bound, dropping the oldest first', () => {
    const c = new TokenCache(1000, () => 0, 3);
    for (const t of ['a', 'b', 'c', 'd']) c.set(t, who);
    assert.equal(c.size, 3);
    assert.equal(c.get('a'), undefined);
    assert.deepEqual(c.get('d'), who);
  });
  it('does not keep the token itself', () => {
    assert.notEqual(TokenCache.key('secret-token'), 'secret-token');
    assert.equal(TokenCache.key('secret-token').includes('secret'), false);
  });
});

describe('KeystoneAuth without asking Keystone', () => {
  // These answers come from the rules alone: no call to Keystone is made (its URL is never asked).
  const auth = new KeystoneAuth({ authUrl: 'http://[::1]:9/v3', wwwAuthenticateUri: 'http://keystone.example:5000', username: 'neutron', password: 'x', projectName: 'service', agentSecret: 's3cret', agentProjectId: 'dflt' });
  it('lets version discovery through without a token', async () => {
    const who = await auth.authenticate({}, { method: 'GET', path: '/' });
    assert.equal(who.isAdmin, false);
  });
  it("answers a request without a token with keystonemiddleware's 401", async () => {
    await assert.rejects(auth.authenticate({}, { method: 'GET', path: '/v2.0/networks' }), (e: unknown) => {
      assert.ok(e instanceof AuthFault);
      assert.equal(e.status, 401);
      assert.deepEqual(e.wireBody, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      assert.deepEqual(e.headers, { 'WWW-Authenticate': 'Keystone uri="http://keystone.example:5000"' });
      return true;
    });
  });
  it('serves the agent secret as the deployment admin, and refuses a wrong one', async () => {
    assert.deepEqual(await auth.authenticate({ 'x-v6stack-agent-secret': 's3cret' }, { method: 'GET', path: '/v6stack/v1/changes' }), {
      projectId: 'dflt',
      userId: 'v6stack-agent',
      roles: ['admin'],
      isAdmin: true,
    });
    await assert.rejects(auth.authenticate({ 'x-v6stack-agent-secret': 's3cre' }, { method: 'GET', path: '/v6stack/v1/changes' }), (e: unknown) => (e as AuthFault).status === 401);
  });
});
