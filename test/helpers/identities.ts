// Who the cross-project tests speak as. ONE table: each identity becomes request headers through `headersFor`.
// Today a test authenticator reads them (X-Test-Project / X-Test-Roles stand in for what Keystone puts in a token);
// to run the same tests against real Keystone tokens, replace `headersFor` with one that returns
// {'X-Auth-Token': <token of that user>} and start the API with Keystone authentication instead.

import { NeutronError } from '../../src/domain/errors.js';
import type { Authenticator } from '../../src/api/context.js';

export interface TestIdentity {
  /** Keystone project the token is scoped to. */
  project: string;
  /** Role names as Keystone lists them in a token (implied roles included). */
  roles: string[];
}

/** admin of its own project, a member and a reader of project A, a member of project B. */
export const IDENTITIES = {
  admin: { project: 'project-admin', roles: ['admin', 'member', 'reader'] },
  'member-A': { project: 'project-a', roles: ['member', 'reader'] },
  'reader-A': { project: 'project-a', roles: ['reader'] },
  'member-B': { project: 'project-b', roles: ['member', 'reader'] },
} as const satisfies Record<string, TestIdentity>;

export type IdentityName = keyof typeof IDENTITIES;

/** The request headers that make a request come from `name`. */
export function headersFor(name: IdentityName): Record<string, string> {
  const id: TestIdentity = IDENTITIES[name];
  return { 'X-Test-Project': id.project, 'X-Test-Roles': id.roles.join(',') };
}

/**
 * The stand-in for Keystone authentication in API tests: the project and roles come from X-Test-Project and
 * X-Test-Roles (a request without them is refused 401, as an unauthenticated one is under Keystone).
 */
export function testAuthenticator(): Authenticator {
  return (headers) => {
    const project = headers['x-test-project'];
    const roles = headers['x-test-roles'];
    if (typeof project !== 'string' || typeof roles !== 'string') {
      throw new NeutronError(401, 'HTTPUnauthorized', 'The request you have made requires authentication.');
    }
    const list = roles.split(',').map((r) => r.trim().toLowerCase()).filter(Boolean);
    return { projectId: project, roles: list, isAdmin: list.includes('admin') };
  };
}
