// The cross-project policy matrix (test/helpers/policy-matrix.ts) with real identities: Debian's Keystone
// (scripts/keystone.sh in a temporary directory) issues the tokens of an admin, a member and a reader of project A
// and a member of project B, and the API validates them with `--auth-strategy keystone`'s authenticator. What the
// API test proves with the test authenticator's headers is proven here for what Keystone really puts in a token
// (project ids, implied roles: admin ⇒ member ⇒ reader). Keystone is stopped in `after`, whatever happened.

import { describe, before, after } from 'node:test';
import { keystoneAuth } from '../../src/api/auth/keystone.js';
import { keystoneUnavailable, newPassword, startKeystone, type Keystone } from '../helpers/keystone.js';
import type { IdentityName } from '../helpers/identities.js';
import { policyMatrix } from '../helpers/policy-matrix.js';
import { startApi } from '../helpers/v6stack.js';

const skip = keystoneUnavailable();

describe('policy: the cross-project matrix with real Keystone tokens', { skip, timeout: 900_000 }, () => {
  let ks: Keystone | undefined;
  const tokens = new Map<IdentityName, { token: string; projectId: string }>();
  let servicePassword = '';

  before(async () => {
    ks = await startKeystone();
    servicePassword = newPassword();
    await ks.serviceUser('v6stack', servicePassword);
    const a = await ks.createProject('matrix-a');
    const b = await ks.createProject('matrix-b');
    const users: [IdentityName, string, string, string, 'member' | 'reader'][] = [
      ['member-A', 'matrix-alice', 'matrix-a', a, 'member'],
      ['reader-A', 'matrix-rita', 'matrix-a', a, 'reader'],
      ['member-B', 'matrix-bob', 'matrix-b', b, 'member'],
    ];
    for (const [who, user, projectName, projectId, role] of users) {
      const password = newPassword();
      await ks.createUser(user, password, projectId, role);
      tokens.set(who, await ks.token(user, password, projectName));
    }
    // Keystone's bootstrap admin, scoped to its `admin` project.
    tokens.set('admin', await ks.token('admin', ks.adminPassword, 'admin'));
  });
  after(async () => ks?.close());

  policyMatrix({
    start: () =>
      startApi('sqlite', {
        authenticate: keystoneAuth({ authUrl: ks!.url, username: 'v6stack', password: servicePassword, projectName: 'service', log: () => {} }),
      }),
    headersFor: (who) => ({ 'X-Auth-Token': tokens.get(who)!.token }),
    projectOf: (who) => tokens.get(who)!.projectId,
  });
});
