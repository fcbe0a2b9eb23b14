// The CLI's Keystone credentials (the openstack client's OS_* variables and --os-* flags) and the catalog lookup of
// the network endpoint. The token request itself is tested against Debian's Keystone in
// test/integration/keystone-auth.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CliError, credentialsFrom, explicitEndpoint, networkEndpoint } from '../../../src/cli/http.js';

describe('credentialsFrom', () => {
  it('is undefined without OS_AUTH_URL (noauth: X-Project-Id as before)', () => {
    assert.equal(credentialsFrom({}, { OS_PROJECT_ID: 'p', OS_USERNAME: 'u' }), undefined);
  });
  it('takes the environment, flags first, domains Default', () => {
    const env = { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'alice', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo', OS_REGION_NAME: 'RegionTwo' };
    assert.deepEqual(credentialsFrom({ osUsername: 'bob' }, env), {
      authUrl: 'http://k:5000/v3', username: 'bob', password: 'pw', projectName: 'demo', userDomainName: 'Default', projectDomainName: 'Default', regionName: 'RegionTwo',
    });
    assert.equal(credentialsFrom({}, { ...env, OS_PROJECT_NAME: undefined, OS_PROJECT_ID: 'pid' })?.projectId, 'pid');
  });
  it('names what is missing when only part is given', () => {
    assert.throws(() => credentialsFrom({}, { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'alice' }), (e: unknown) => {
      assert.ok(e instanceof CliError);
      assert.match((e as Error).message, /OS_PASSWORD.*OS_PROJECT_NAME/);
      return true;
    });
  });
});

describe('networkEndpoint', () => {
  const catalog = [
    { type: 'identity', endpoints: [{ interface: 'public', region: 'RegionOne', url: 'http://k:5000/v3' }] },
    {
      type: 'network',
      endpoints: [
        { interface: 'internal', region: 'RegionOne', url: 'http://10.0.0.1:9696' },
        { interface: 'public', region: 'RegionOne', url: 'http://[2001:db8::1]:9696' },
        { interface: 'public', region: 'RegionTwo', url: 'http://[2001:db8::2]:9696' },
      ],
    },
  ];
  it("picks the network service's public endpoint, in the region asked for", () => {
    assert.equal(networkEndpoint(catalog), 'http://[2001:db8::1]:9696');
    assert.equal(networkEndpoint(catalog, 'RegionTwo'), 'http://[2001:db8::2]:9696');
    assert.equal(networkEndpoint(catalog, 'RegionThree'), undefined);
  });
  it('an endpoint the user names wins over the catalog', () => {
    assert.equal(explicitEndpoint(undefined, {}), undefined);
    assert.equal(explicitEndpoint(undefined, { OS_ENDPOINT: 'http://[::1]:9797/v2.0' }), 'http://[::1]:9797');
  });
});
