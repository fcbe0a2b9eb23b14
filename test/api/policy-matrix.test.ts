// The cross-project matrix: identities (admin, a member and a reader of project A, a member of project B) × resources
// (networks private / shared / external, a subnet, a port, a router, a security group, subnet pools shared /
// private, an address scope, a floating IP) × verbs (list, show, create, update, delete) → the status Neutron's
// default policy answers (neutron/conf/policies/*.py with the secure-RBAC personas; docs/policy.md).
//
// Here, on both stores, who speaks comes from the test authenticator's headers (test/helpers/identities.ts); the
// same matrix (test/helpers/policy-matrix.ts) runs against real Keystone tokens in
// test/integration/keystone-policy-matrix.test.ts.

import { describe } from 'node:test';
import { backends, startApi } from '../helpers/v6stack.js';
import { IDENTITIES, headersFor, testAuthenticator } from '../helpers/identities.js';
import { policyMatrix } from '../helpers/policy-matrix.js';

describe('policy: the cross-project matrix', () => {
  for (const backend of backends()) {
    describe(backend, () => {
      policyMatrix({
        start: () => startApi(backend, { authenticate: testAuthenticator() }),
        headersFor,
        projectOf: (who) => IDENTITIES[who].project,
      });
    });
  }
});
