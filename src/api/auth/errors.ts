// The answers of authentication, as a Neutron behind keystonemiddleware's auth_token gives them. auth_token sits in
// front of Neutron's own fault wrapper (api-paste.ini: `authtoken` before `neutronapiapp_v2_0`), so its 401 is not a
// NeutronError: it is keystonemiddleware's own body (auth_token/__init__.py, AuthProtocol.process_request) with a
// WWW-Authenticate header naming where to get a token.

import { NeutronError } from '../../domain/errors.js';

/** A refusal whose body and headers are not Neutron's fault shape (the server sends `body` and `headers` as they are). */
export class AuthFault extends NeutronError {
  constructor(
    status: number,
    type: string,
    message: string,
    readonly wireBody: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, type, message);
  }
}

/** keystonemiddleware's text for every refused token: absent, unknown, expired or revoked alike. */
export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';

/** keystonemiddleware's 401: `{"error": {"code": 401, "title": "Unauthorized", "message": ...}}` and `WWW-Authenticate: Keystone uri="..."`. */
export function unauthorized(wwwAuthenticateUri: string): AuthFault {
  return new AuthFault(
    401,
    'HTTPUnauthorized',
    UNAUTHORIZED_MESSAGE,
    { error: { code: 401, title: 'Unauthorized', message: UNAUTHORIZED_MESSAGE } },
    { 'WWW-Authenticate': `Keystone uri="${wwwAuthenticateUri}"` },
  );
}

/**
 * keystonemiddleware's answer when Keystone cannot be asked (connection refused, timeout, 5xx, the service's own
 * credentials refused): 503 "The Keystone service is temporarily unavailable." Never a 401: a Keystone outage must
 * not look like every user's token being wrong. In Neutron's fault shape, as v6stack's other server-side faults.
 */
export function keystoneUnavailable(): NeutronError {
  return new NeutronError(503, 'HTTPServiceUnavailable', 'The Keystone service is temporarily unavailable.');
}
