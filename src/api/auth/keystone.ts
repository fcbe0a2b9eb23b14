// `--auth-strategy keystone`: who is asking, from the X-Auth-Token of each request, as Neutron learns it from
// keystonemiddleware's auth_token (the `[keystone_authtoken]` section; option names below are that section's).
//
// - A user token is validated with Keystone v3: `GET /v3/auth/tokens` with the token in X-Subject-Token, the request
//   itself authenticated (X-Auth-Token) by the service's own token, obtained with the service user's password
//   (auth_url, username, password, project_name, user_domain_name, project_domain_name) and renewed before it expires.
// - The identity is the token's project, user and role names (lower-case: oslo.policy compares roles that way);
//   isAdmin is the `admin` role, as Neutron's `context_is_admin` rule (`role:admin`).
// - Answers are cached for token_cache_time (default 300 s), never past the token's expires_at. Refusals are cached
//   too (keystonemiddleware's "invalid" marker), so a client repeating a bad token does not load Keystone: a revoked
//   token therefore keeps working for at most token_cache_time, as behind keystonemiddleware.
// - No token, an unknown, expired or revoked token: 401 with keystonemiddleware's body and
//   `WWW-Authenticate: Keystone uri="<www_authenticate_uri>"`. Keystone unreachable or failing: 503, logged.
// - Version discovery (`GET /`) is not authenticated: in Neutron's api-paste.ini only `/v2.0` has authtoken.
// - The agents' API (/v6stack/v1/...) and everything an agent reads (it resyncs every project's resources, as
//   Neutron's agents do over RPC) is served to a caller that presents the deployment's agent secret
//   (X-V6stack-Agent-Secret, compared in constant time), or a Keystone token with the admin role.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Authenticator, Identity } from '../context.js';
import { NeutronError } from '../../domain/errors.js';
import { keystoneUnavailable, unauthorized } from './errors.js';

/** keystonemiddleware's token_cache_time default (seconds). */
export const DEFAULT_TOKEN_CACHE_TIME_S = 300;
/** Renew the service token this long before it expires (keystoneauth renews at 120 s before expiry as well). */
const SERVICE_TOKEN_MARGIN_MS = 120_000;
/** How long one call to Keystone may take before the request is answered 503 (keystonemiddleware's http_connect_timeout has no default; a hang must not hold every request). */
const KEYSTONE_TIMEOUT_MS = 10_000;
/** Cached answers kept at most (oldest dropped first): a flood of distinct garbage tokens must not grow memory. */
const MAX_CACHED_TOKENS = 10_000;
export const AGENT_SECRET_HEADER = 'x-v6stack-agent-secret';
/** The user id an agent's requests carry (they are the deployment's own, as Neutron's agents' RPC calls are). */
export const AGENT_USER_ID = 'v6stack-agent';

export interface KeystoneAuthOptions {
  /** Keystone's identity endpoint (auth_url), with or without the trailing /v3. */
  authUrl: string;
  /** What WWW-Authenticate sends clients to (www_authenticate_uri; default: authUrl). */
  wwwAuthenticateUri?: string;
  username: string;
  password: string;
  /** The service user's project (project_name; Neutron's install guide: `service`). */
  projectName: string;
  userDomainName?: string;
  projectDomainName?: string;
  /** token_cache_time in seconds (default 300; 0 disables the cache). */
  tokenCacheTime?: number;
  /** The shared secret agents present; absent: only an admin token reaches the agents' API. */
  agentSecret?: string;
  /** The project of the agents' own requests (the server's default project). */
  agentProjectId?: string;
  /** Where failures to reach Keystone are reported (default: stderr). */
  log?: (line: string) => void;
  /** The clock (ms since the epoch): tests of the cache give their own. */
  now?: () => number;
}

/** The identity-relevant part of Keystone v3's token document (`GET /v3/auth/tokens` answer's `token`). */
export interface KeystoneToken {
  expires_at?: string;
  user?: { id?: string; name?: string };
  project?: { id?: string; name?: string };
  roles?: { id?: string; name?: string }[];
}

/** The request's identity from a validated token, or null when the token is not scoped to a project (v6stack's resources all belong to one). */
export function identityFromToken(token: KeystoneToken): Identity | null {
  const projectId = token.project?.id;
  if (!projectId) return null;
  const roles = [...new Set((token.roles ?? []).map((r) => String(r.name ?? '').toLowerCase()).filter((r) => r !== ''))];
  return { projectId, ...(token.user?.id ? { userId: token.user.id } : {}), roles, isAdmin: roles.includes('admin') };
}

/** Keystone's identity endpoint with its /v3, from an auth_url written either way. */
export function v3Url(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? base : `${base}/v3`;
}

type Answer = { identity: Identity } | { invalid: true };

/**
 * Validated tokens by a hash of the token (the token itself is a bearer credential: not kept in memory longer than
 * its request). An entry lives until `until`: min(now + token_cache_time, the token's expires_at).
 */
export class TokenCache {
  private readonly entries = new Map<string, { answer: Answer; until: number }>();

  constructor(
    private readonly cacheTimeMs: number,
    private readonly now: () => number,
    private readonly maxEntries = MAX_CACHED_TOKENS,
  ) {}

  static key(token: string): string {
    return createHash('sha256').update(token).digest('base64');
  }

  get(token: string): Answer | undefined {
    const k = TokenCache.key(token);
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (this.now() >= e.until) {
      this.entries.delete(k);
      return undefined;
    }
    return e.answer;
  }

  /** Remembers an answer; `expiresAt` (ms) bounds a valid token's entry. */
  set(token: string, answer: Answer, expiresAt?: number): void {
    if (this.cacheTimeMs <= 0) return;
    let until = this.now() + this.cacheTimeMs;
    if (expiresAt !== undefined && Number.isFinite(expiresAt)) until = Math.min(until, expiresAt);
    if (until <= this.now()) return;
    const k = TokenCache.key(token);
    this.entries.delete(k);
    this.entries.set(k, { answer, until });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Keystone could not be asked: answered 503, logged. */
class KeystoneDown extends Error {}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** An Authenticator that validates each request's X-Auth-Token with Keystone v3 (see the file's head). */
export class KeystoneAuth {
  readonly url: string;
  readonly wwwAuthenticateUri: string;
  private readonly cache: TokenCache;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private service?: { token: string; expiresAt: number };
  private serviceFetch?: Promise<string>;

  constructor(private readonly opts: KeystoneAuthOptions) {
    this.url = v3Url(opts.authUrl);
    this.wwwAuthenticateUri = opts.wwwAuthenticateUri ?? opts.authUrl;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? ((line) => console.error(`[v6stack] ${line}`));
    this.cache = new TokenCache((opts.tokenCacheTime ?? DEFAULT_TOKEN_CACHE_TIME_S) * 1000, this.now);
  }

  /** The Authenticator ApiOptions.authenticate takes. */
  authenticator(): Authenticator {
    return (headers, request) => this.authenticate(headers, request);
  }

  async authenticate(headers: Readonly<Record<string, string | string[] | undefined>>, request?: { method: string; path: string }): Promise<Identity> {
    const path = (request?.path ?? '').replace(/\/+$/, '');
    // Version discovery: Neutron serves `/` outside authtoken, so clients can find /v2.0 before they have a token.
    if (path === '' && (request?.method === 'GET' || request?.method === 'HEAD')) return { projectId: '', roles: [], isAdmin: false };
    const secret = header(headers, AGENT_SECRET_HEADER);
    if (secret !== undefined) {
      if (this.opts.agentSecret && sameSecret(secret, this.opts.agentSecret)) {
        return { projectId: this.opts.agentProjectId ?? 'default', userId: AGENT_USER_ID, roles: ['admin'], isAdmin: true };
      }
      throw unauthorized(this.wwwAuthenticateUri);
    }
    const token = header(headers, 'x-auth-token');
    if (!token) throw unauthorized(this.wwwAuthenticateUri);
    const who = await this.validate(token);
    if (!who) throw unauthorized(this.wwwAuthenticateUri);
    if (path === '/v6stack' || path.startsWith('/v6stack/')) {
      if (!who.isAdmin) throw new NeutronError(403, 'HTTPForbidden', 'The agents\' API needs the agent secret or an admin token.');
    }
    return who;
  }

  /** The identity of a user token, null when Keystone does not know it (or it is not project-scoped); throws a 503 fault when Keystone cannot be asked. */
  async validate(token: string): Promise<Identity | null> {
    const cached = this.cache.get(token);
    if (cached) return 'identity' in cached ? cached.identity : null;
    let found: { identity: Identity | null; expiresAt?: number };
    try {
      found = await this.fetchToken(token);
    } catch (e) {
      if (e instanceof KeystoneDown) {
        this.log(`keystone: unable to validate token: ${e.message}`);
        throw keystoneUnavailable();
      }
      throw e;
    }
    this.cache.set(token, found.identity ? { identity: found.identity } : { invalid: true }, found.expiresAt);
    return found.identity;
  }

  private async fetchToken(token: string, renewed = false): Promise<{ identity: Identity | null; expiresAt?: number }> {
    const serviceToken = await this.serviceToken();
    const res = await this.call('GET', '/auth/tokens', { 'X-Auth-Token': serviceToken, 'X-Subject-Token': token });
    if (res.status === 200) {
      const body = (await res.json().catch(() => null)) as { token?: KeystoneToken } | null;
      if (!body?.token) throw new KeystoneDown(`GET ${this.url}/auth/tokens answered 200 without a token document`);
      const expiresAt = body.token.expires_at ? Date.parse(body.token.expires_at) : undefined;
      // Keystone answers 404 for an expired token; one that expires while cached is dropped by the cache's bound.
      if (expiresAt !== undefined && expiresAt <= this.now()) return { identity: null };
      return { identity: identityFromToken(body.token), ...(expiresAt !== undefined ? { expiresAt } : {}) };
    }
    await res.body?.cancel();
    // Unknown, expired or revoked (Keystone: 404 TokenNotFound; a malformed fernet token is 404 as well, some are 401).
    if (res.status === 404 || res.status === 400) return { identity: null };
    if (res.status === 401 && !renewed) {
      // Our own token may have been revoked (or Keystone's keys rotated): get a new one, once.
      this.service = undefined;
      return this.fetchToken(token, true);
    }
    throw new KeystoneDown(`GET ${this.url}/auth/tokens answered ${res.status}${res.status === 401 || res.status === 403 ? ' (the service user cannot validate tokens: check its password and that it has the admin or service role in its project)' : ''}`);
  }

  /** The service's own token, from the cache while it has more than two minutes to live; one fetch at a time. */
  private serviceToken(): Promise<string> {
    if (this.service && this.service.expiresAt - SERVICE_TOKEN_MARGIN_MS > this.now()) return Promise.resolve(this.service.token);
    this.serviceFetch ??= this.fetchServiceToken().finally(() => (this.serviceFetch = undefined));
    return this.serviceFetch;
  }

  private async fetchServiceToken(): Promise<string> {
    const o = this.opts;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: o.username, domain: { name: o.userDomainName ?? 'Default' }, password: o.password } } },
        scope: { project: { name: o.projectName, domain: { name: o.projectDomainName ?? 'Default' } } },
      },
    };
    const res = await this.call('POST', '/auth/tokens?nocatalog', { 'Content-Type': 'application/json' }, JSON.stringify(body));
    if (res.status !== 201) {
      await res.body?.cancel();
      throw new KeystoneDown(`the service user ${o.username} could not get a token (POST ${this.url}/auth/tokens answered ${res.status}${res.status === 401 ? ': wrong --keystone-username, password, project or domain' : ''})`);
    }
    const token = res.headers.get('x-subject-token');
    const doc = (await res.json().catch(() => null)) as { token?: KeystoneToken } | null;
    if (!token) throw new KeystoneDown(`POST ${this.url}/auth/tokens answered 201 without X-Subject-Token`);
    const expiresAt = doc?.token?.expires_at ? Date.parse(doc.token.expires_at) : this.now() + 3_600_000;
    this.service = { token, expiresAt };
    return token;
  }

  /** One call to Keystone with a time limit; a connection reset is retried once (uwsgi resets an occasional idle connection). */
  private async call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fetch(this.url + path, { method, headers: { Accept: 'application/json', ...headers }, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(KEYSTONE_TIMEOUT_MS) });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const why = (e as Error).name === 'TimeoutError' ? `no answer within ${KEYSTONE_TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? (e as Error).message);
        if (attempt === 0 && cause?.code === 'ECONNRESET') continue;
        throw new KeystoneDown(`${method} ${this.url}${path.replace(/\?.*/, '')}: ${why}`);
      }
    }
  }
}

/** `--auth-strategy keystone`'s Authenticator. */
export function keystoneAuth(opts: KeystoneAuthOptions): Authenticator {
  return new KeystoneAuth(opts).authenticator();
}
