// The Neutron v2.0 HTTP API on Node's own http server: routing, JSON in and out, the generic create / show /
// list / update / delete / tags flow, and Neutron's fault format. A user's mistake is a NeutronError with a 4xx;
// anything else is logged and answered 500 without detail. Each write is one store transaction.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { NeutronError, httpBadRequest, notFound, resourceNotFound } from '../domain/errors.js';
import type { Doc, Store, Tx } from '../store/types.js';
import { UniqueViolation } from '../store/types.js';
import { COMMON_COLUMNS, tableOf } from '../store/schema.js';
import { checkBody } from '../schema/convert.js';
import { filterNames } from '../schema/define.js';
import { isStorableText, listOf, string } from '../schema/types.js';
import type { Authenticator, RequestContext, ServerSettings } from './context.js';
import { ownerOf, saveDoc } from './context.js';
import { enforceQuota, quotaRoute } from './quotas.js';
import { EXTENSIONS } from './extensions.js';
import { AgentApi } from './agent-api.js';
import { AuthFault } from './auth/errors.js';
import { syncAllDhcpPorts } from './dhcp-ports.js';
import { ADMIN_ONLY_KINDS, OWNER_ONLY_KINDS, Policy, hasRole, policyNotAuthorized, redact } from './policy.js';
import { listNetworkIpAvailabilities, showNetworkIpAvailability } from './network-ip-availability.js';
import { listServiceProviders } from './service-providers.js';
import { listAvailabilityZones } from './availability-zones.js';
import { checkRevisionConstraint, setRevisionConstraint } from './revision-if-match.js';
import { applyList, isPlain, pageLinks, pagesById, parseListQuery, pick, type ListQuery } from './list.js';
import type { ResourceDef, SubCollection } from './resource.js';
import { agents } from './resources/agents.js';
import { floatingIpPools, floatingips } from './resources/floatingips.js';
import { networks } from './resources/networks.js';
import { ports } from './resources/ports.js';
import { routers } from './resources/routers.js';
import { securityGroupRules, securityGroups } from './resources/security-groups.js';
import { addressScopes, subnetpools } from './resources/subnetpools.js';
import { subnets } from './resources/subnets.js';
import { bgpPeers, bgpSpeakers } from './resources/bgp.js';
import { rbacGrants, rbacPolicies } from './resources/rbac-policies.js';
import { addressGroups } from './resources/address-groups.js';
import { ndpProxies } from './resources/ndp-proxies.js';
import { meteringLabelRules, meteringLabels } from './resources/metering.js';

export const RESOURCES: ResourceDef[] = [networks, subnets, ports, routers, subnetpools, addressScopes, securityGroups, securityGroupRules, agents, bgpSpeakers, bgpPeers, floatingips, rbacPolicies, addressGroups, ndpProxies, meteringLabels, meteringLabelRules];
const BY_PATH = new Map(RESOURCES.map((r) => [r.schema.path ?? r.schema.plural, r]));
/** oslo.middleware's max_request_body_size default, which Neutron runs with. */
export const MAX_REQUEST_BODY_SIZE = 114_688;
/**
 * How much of an oversize body is read (and thrown away) so that the 413 reaches the client: a peer that is still
 * sending when the socket closes gets a reset instead of the answer. Past this the connection is cut.
 */
const MAX_DISCARD = 64 * 1024 * 1024;
/** JSON nesting deeper than any Neutron body: refused before any recursive code (messages, conversion) sees it. */
const MAX_JSON_DEPTH = 64;
const tagType = string(255);
const projectIdType = string(255);
const tagsType = listOf(tagType);
const CLOSE_LIST = Buffer.from(']}');
/** webob's text for a 405, which Neutron passes through. */
const METHOD_NOT_ALLOWED = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';

export interface ApiOptions {
  store: Store;
  /** Project used when a request names none (Neutron noauth's fake_project_id). */
  defaultProjectId?: string;
  /** Log one line per request to stderr. */
  logRequests?: boolean;
  /** global_physnet_mtu, overlay_ip_version, agent_down_time (Neutron's defaults if absent). */
  settings?: ServerSettings;
  /** Larger request bodies are answered 413 (oslo.middleware's max_request_body_size; default 114,688 bytes). */
  maxRequestBodySize?: number;
  /** Who is asking (default: noauth, every caller the admin of X-Project-Id or the default project). */
  authenticate?: Authenticator;
}

/**
 * Neutron's noauth: every caller is an admin; the project is X-Project-Id's, else the server's default. A project id
 * is stored on what the request creates, so the header must be a string a document may hold.
 */
export function noauth(defaultProjectId: string): Authenticator {
  return (headers) => ({
    projectId: headers['x-project-id'] ? (projectIdType.convert(headers['x-project-id'], 'X-Project-Id') as string) : defaultProjectId,
    roles: ['admin'],
    isAdmin: true,
  });
}

function send(res: ServerResponse, status: number, body: string | Buffer | null, requestId: string, extra: Record<string, string> = {}): void {
  const headers: Record<string, string | number> = { ...extra, 'X-Openstack-Request-Id': requestId };
  if (body !== null) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  res.writeHead(status, headers);
  res.end(body ?? undefined);
}

/** oslo.middleware sizelimit's answer, in Neutron's fault shape. */
function tooLarge(limit: number, declared: boolean): NeutronError {
  const message = declared ? `Request is too large. Larger than max_request_body_size (${limit}).` : 'Request is too large.';
  return new NeutronError(413, 'HTTPRequestEntityTooLarge', message);
}

/**
 * The request body as text, at most `limit` bytes. A larger one (by its Content-Length or as it streams) is read to
 * its end and thrown away, then refused with 413: answering while the client is still sending would reset the
 * connection and lose the answer.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      if (over) {
        if (size > MAX_DISCARD) req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => (over ? reject(tooLarge(limit, Number.isFinite(declared))) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** Whether a parsed JSON value nests deeper than `max` (iterative: the value may be deeper than the stack). */
function tooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
  }
  return false;
}

/** One path segment, percent-decoded; a segment that does not decode is the client's mistake. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw httpBadRequest(`Malformed request url: '${segment}' is not a valid percent-encoded path segment`);
  }
}

/**
 * A query string whose keys and values all percent-decode to text (URLSearchParams would pass a malformed escape
 * through as it stands and a lone surrogate as U+FFFD, so a filter would silently match something else).
 */
function checkQuery(search: string): void {
  if (!search.includes('%')) return;
  for (const pair of search.slice(1).split('&')) {
    for (const piece of pair.split('=')) {
      try {
        decodeURIComponent(piece.replaceAll('+', ' '));
      } catch {
        throw httpBadRequest(`Malformed request url: '${piece}' in the query string is not valid percent-encoding`);
      }
    }
  }
}

/** `{"<singular>": {...}}`'s object. */
function unwrap(body: unknown, singular: string): Record<string, unknown> {
  const inner = (body as Record<string, unknown> | null)?.[singular];
  if (body === null || typeof body !== 'object' || Array.isArray(body) || inner === undefined) {
    throw httpBadRequest(`Unable to find '${singular}' in request body`);
  }
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) throw httpBadRequest('Body contains invalid data');
  return inner as Record<string, unknown>;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw httpBadRequest('Body contains invalid data');
  }
  if (tooDeep(value, MAX_JSON_DEPTH)) throw httpBadRequest('Body contains invalid data');
  return value;
}

/**
 * An error the store raised for a value of the request (a type it cannot bind, text PostgreSQL refuses): the
 * request's fault, so a 400, never a 500. The definitions' converters should have refused the value first, so the
 * gap is logged (the fuzz test fails on this line).
 */
function storeInputError(e: unknown, requestId: string): NeutronError | null {
  const err = e as { message?: unknown; code?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : '';
  const code = typeof err?.code === 'string' ? err.code : '';
  const binding =
    (e instanceof TypeError && /can only bind|bind/i.test(message)) ||
    (e instanceof RangeError && /parameter|bind|too (big|large|many)/i.test(message)) ||
    ['SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_RANGE'].includes(code) ||
    /^22/.test(code); // PostgreSQL's class 22, data exception (invalid text, NUL, out of range)
  if (!binding) return null;
  console.error(`[v6stack] ${requestId} store refused input: ${code} ${message}`);
  return httpBadRequest('Invalid input for operation: a value of the request cannot be stored.');
}

/**
 * The request's URL. The Host header only supplies the origin of the links a listing returns; one that is not a
 * valid host is ignored rather than failing the request.
 */
function requestUrl(req: IncomingMessage): URL {
  const path = req.url ?? '/';
  try {
    return new URL(path, `http://${req.headers.host ?? 'localhost'}`);
  } catch {
    try {
      return new URL(path, 'http://localhost');
    } catch {
      throw httpBadRequest('Malformed request url');
    }
  }
}

export class ApiServer {
  readonly server: Server;
  private readonly store: Store;
  private readonly defaultProjectId: string;
  private readonly logRequests: boolean;
  private readonly agentApi: AgentApi;
  private readonly settings: ServerSettings;
  private readonly maxBody: number;
  private readonly authenticate: Authenticator;

  constructor(opts: ApiOptions) {
    this.maxBody = opts.maxRequestBodySize ?? MAX_REQUEST_BODY_SIZE;
    this.settings = opts.settings ?? {};
    this.store = opts.store;
    this.defaultProjectId = opts.defaultProjectId ?? 'default';
    this.authenticate = opts.authenticate ?? noauth(this.defaultProjectId);
    this.logRequests = opts.logRequests ?? false;
    this.agentApi = new AgentApi(this.store, this.settings);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  /** Listens on every address of both families (`::` with IPv4-mapped addresses) unless told otherwise. */
  async listen(port: number, host = '::'): Promise<{ port: number }> {
    // Before the first request: every network's DHCP port as the rules want it. A store from before the server made
    // DHCP ports keeps the agents' ports (same device_owner, device_id and binding) instead of getting duplicates.
    await this.store.write((tx) => syncAllDhcpPorts(tx, this.settings));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, ipv6Only: false }, () => {
        const a = this.server.address();
        resolve({ port: typeof a === 'object' && a ? a.port : port });
      });
    });
  }

  close(): Promise<void> {
    this.agentApi.close(); // long-polling agents' requests end before the store closes
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = `req-${randomUUID()}`;
    let status = 500;
    try {
      const url = requestUrl(req);
      const who = await this.authenticate(req.headers, { method: req.method ?? 'GET', path: url.pathname });
      const ctx: RequestContext = { ...who, requestId, settings: this.settings };
      setRevisionConstraint(ctx, req.headers['if-match']);
      const text = req.method === 'POST' || req.method === 'PUT' ? await readBody(req, this.maxBody) : '';
      const result = await this.route(req.method ?? 'GET', url, text, ctx);
      status = result.status;
      send(res, result.status, result.body, requestId);
    } catch (e) {
      const err = e instanceof NeutronError ? e : storeInputError(e, requestId);
      if (!err) console.error(`[v6stack] ${requestId} ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
      const fault = err ?? new NeutronError(500, 'HTTPInternalServerError', 'Request Failed: internal server error while processing your request.');
      status = fault.status;
      // An authentication refusal is keystonemiddleware's answer (its body, WWW-Authenticate), not a NeutronError.
      if (!res.headersSent) send(res, fault.status, JSON.stringify(fault instanceof AuthFault ? fault.wireBody : fault.toBody()), requestId, fault instanceof AuthFault ? fault.headers : {});
      else res.destroy();
    } finally {
      if (this.logRequests) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        console.error(`[v6stack] ${requestId} ${req.method} ${req.url} ${status} ${ms.toFixed(1)}ms`);
      }
    }
  }

  private async route(method: string, url: URL, text: string, ctx: RequestContext): Promise<{ status: number; body: string | Buffer | null }> {
    const path = url.pathname.replace(/\/+$/, '').replace(/\.json$/, '');
    if (path === '' && method === 'GET') return { status: 200, body: JSON.stringify(this.versions(url)) };
    const parts = path.split('/').slice(1).map(decodeSegment);
    checkQuery(url.search);
    if (parts[0] === 'v6stack' && parts[1] === 'v1') {
      // The agents' channel (the whole topology, port status, heartbeats) is Neutron's RPC: service credentials only.
      if (!ctx.isAdmin) throw policyNotAuthorized('rule:context_is_admin');
      return this.agentApi.handle(method, parts.slice(1), url, parseJson(text));
    }
    if (parts[0] !== 'v2.0') throw resourceNotFound(url.pathname);
    // The metering extension's collections sit under its path_prefix, /v2.0/metering/.
    if (parts[1] === 'metering' && parts.length >= 3) parts.splice(1, 2, `metering/${parts[2]}`);
    if (parts.length === 1 && method === 'GET') {
      const base = `${url.origin}/v2.0`;
      return {
        status: 200,
        body: JSON.stringify({
          resources: RESOURCES.map((r) => ({ name: r.schema.singular, collection: r.schema.plural, links: [{ rel: 'self', href: `${base}/${r.schema.path ?? r.schema.plural}` }] })),
        }),
      };
    }
    if (parts[1] === 'extensions') return this.extensions(method, parts[2], url);
    if (parts[1] === 'quotas') {
      const out = await quotaRoute(this.store, this.settings, method, parts.slice(2), method === 'PUT' ? parseJson(text) : undefined, ctx);
      if (method !== 'GET') this.agentApi.notify();
      return out;
    }
    if (parts[1] === 'floatingip_pools' && parts.length === 2 && method === 'GET') return { status: 200, body: await this.floatingIpPools(url, ctx) };
    if (parts[1] === 'service-providers' && parts.length === 2) {
      if (method !== 'GET') throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
      return { status: 200, body: listServiceProviders(url) };
    }
    if (parts[1] === 'network-ip-availabilities' && parts.length <= 3) return this.networkIpAvailability(method, parts[2], url, ctx);
    if (parts[1] === 'availability_zones' && parts.length === 2) {
      if (method !== 'GET') throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
      return { status: 200, body: await this.store.read((tx) => listAvailabilityZones(tx, ctx, url)) };
    }
    const resource = BY_PATH.get(parts[1]!);
    if (!resource) throw resourceNotFound(url.pathname);
    const [, , id, sub, tag] = parts;
    if (parts.length > 5) throw resourceNotFound(url.pathname);

    if (id === undefined) {
      if (method === 'GET') return { status: 200, body: await this.list(resource, url, ctx) };
      if (method === 'POST') return { status: 201, body: await this.create(resource, text, ctx) };
    } else if (sub === undefined) {
      if (method === 'GET') return { status: 200, body: await this.show(resource, id, url, ctx) };
      if (method === 'PUT') return { status: 200, body: await this.update(resource, id, text, ctx) };
      if (method === 'DELETE') {
        await this.remove(resource, id, ctx);
        return { status: 204, body: null };
      }
    } else if (sub === 'tags') {
      return this.tags(resource, method, id, tag, text, ctx);
    } else if (resource.actions && Object.hasOwn(resource.actions, sub) && method === 'PUT' && tag === undefined) {
      const action = resource.actions[sub]!;
      const parsed = parseJson(text) ?? {};
      if (typeof parsed !== 'object' || Array.isArray(parsed)) throw httpBadRequest('Body contains invalid data');
      const body = parsed as Record<string, unknown>;
      const out = await this.write(async (tx) => {
        const doc = await this.mustGet(tx, resource, id);
        await new Policy(tx, ctx).authorizeAction(resource.kind, doc, sub, body);
        return action(tx, ctx, doc, body);
      });
      return { status: 200, body: JSON.stringify(out) };
    } else if (resource.getActions && Object.hasOwn(resource.getActions, sub) && method === 'GET' && tag === undefined) {
      const action = resource.getActions[sub]!;
      const out = await this.store.read(async (tx) => {
        const doc = await this.mustGet(tx, resource, id);
        await new Policy(tx, ctx).authorizeAction(resource.kind, doc, sub, {});
        return action(tx, ctx, doc, url);
      });
      return { status: 200, body: JSON.stringify(out) };
    } else if (resource.subCollections && Object.hasOwn(resource.subCollections, sub)) {
      return this.subCollection(resource, resource.subCollections[sub]!, sub, method, id, tag, text, ctx);
    }
    throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
  }

  /** A collection under a member (Neutron's ResourceExtension with a parent): GET, POST (201), DELETE <id> (204). */
  private async subCollection(
    resource: ResourceDef,
    sub: SubCollection,
    name: string,
    method: string,
    parentId: string,
    id: string | undefined,
    text: string,
    ctx: RequestContext,
  ): Promise<{ status: number; body: string | null }> {
    if (method === 'GET' && id === undefined && sub.list) {
      const list = sub.list;
      return { status: 200, body: JSON.stringify(await this.store.read(async (tx) => list(tx, ctx, await this.mustGetFor(tx, ctx, resource, parentId, name, method), this.settings))) };
    }
    if (method === 'POST' && id === undefined && sub.create) {
      const create = sub.create;
      const parsed = parseJson(text) ?? {};
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw httpBadRequest('Body contains invalid data');
      const out = await this.write(async (tx) => create(tx, ctx, await this.mustGetFor(tx, ctx, resource, parentId, name, method), parsed as Record<string, unknown>));
      return { status: 201, body: JSON.stringify(out ?? null) };
    }
    if (method === 'DELETE' && id !== undefined && sub.remove) {
      const remove = sub.remove;
      await this.write(async (tx) => remove(tx, ctx, await this.mustGetFor(tx, ctx, resource, parentId, name, method), id));
      return { status: 204, body: null };
    }
    throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
  }

  /** One store write; a race on a project's first default security group is simply retried once. */
  private async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await this.store.write(fn);
    } catch (e) {
      if (!(e instanceof UniqueViolation && e.constraint === 'default_security_group')) throw e;
      result = await this.store.write(fn);
    }
    this.agentApi.notify();
    return result;
  }

  private async mustGet(tx: Tx, resource: ResourceDef, id: string): Promise<Doc> {
    // An id no store could hold (a NUL, a lone surrogate) names nothing; PostgreSQL would refuse to look it up.
    const doc = isStorableText(id) ? await tx.get(resource.kind, id) : undefined;
    if (!doc) throw notFound(resource.kind, id);
    return doc;
  }

  /** The parent of a sub-collection, once policy lets the caller reach the sub-collection (admin-only today). */
  private async mustGetFor(tx: Tx, ctx: RequestContext, resource: ResourceDef, id: string, name: string, method: string): Promise<Doc> {
    const doc = await this.mustGet(tx, resource, id);
    await new Policy(tx, ctx).authorizeSubCollection(resource.kind, doc, name, method);
    return doc;
  }

  /** A document as the caller may see it: the resource's view, without the attributes policy hides from it. */
  private async view(tx: Tx, resource: ResourceDef, doc: Doc, ctx: RequestContext): Promise<Doc> {
    let shown = resource.present ? await resource.present(tx, doc, this.settings) : doc;
    // Neutron's _is_network_shared: `shared` is true for the projects an access_as_shared entry names, not only '*'.
    if (resource.kind === 'network' && shown.shared !== true && shown.project_id !== ctx.projectId && (await rbacGrants(tx, 'network', shown.id, ctx.projectId)).shared) {
      shown = { ...shown, shared: true };
    }
    return redact(ctx, resource.kind, shown);
  }

  private versions(url: URL): unknown {
    return { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${url.origin}/v2.0/` }] }] };
  }

  private extensions(method: string, alias: string | undefined, url: URL): { status: number; body: string } {
    if (method !== 'GET') throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
    if (alias === undefined) return { status: 200, body: JSON.stringify({ extensions: EXTENSIONS }) };
    const ext = EXTENSIONS.find((e) => e.alias === alias);
    if (!ext) throw resourceNotFound(url.pathname);
    return { status: 200, body: JSON.stringify({ extension: ext }) };
  }

  private async list(resource: ResourceDef, url: URL, ctx: RequestContext): Promise<string | Buffer> {
    const attributes = new Set(resource.listable ?? Object.keys(resource.schema.attributes));
    const columns = new Set<string>([...COMMON_COLUMNS, ...tableOf(resource.kind).columns]);
    const q = parseListQuery(url.searchParams, attributes, columns, filterNames(resource.schema));
    if (!ctx.isAdmin) return this.listFor(resource, url, q, ctx);
    return this.store.read(async (tx) => {
      if (isPlain(q) && !resource.present) {
        // Stored documents are exactly what the API shows: the database joins them, we only frame them.
        // One copy into the response body, from the pieces the store hands over.
        const pieces = [Buffer.from(`{"${resource.schema.plural}":[`), ...(await tx.listJoined(resource.kind, q.columnFilters)), CLOSE_LIST];
        return Buffer.concat(pieces, pieces.reduce((n, b) => n + b.length, 0));
      }
      if (pagesById(q) && !resource.present) {
        // One page in id order from the store: the cost is the page's, not the collection's.
        const limit = q.limit!;
        if (q.marker !== null && (await tx.count(resource.kind, { ...q.columnFilters, id: [q.marker] })) === 0) throw notFound(resource.kind, q.marker);
        const desc = (q.sorts[0]?.desc ?? false) !== q.pageReverse;
        const raw = await tx.listPage(resource.kind, q.columnFilters, { ...(q.marker !== null ? { after: q.marker } : {}), desc, limit });
        const page = raw.map((b) => JSON.parse(b) as Doc);
        if (q.pageReverse) page.reverse();
        const links = pageLinks(page[0]?.id as string | undefined, page[page.length - 1]?.id as string | undefined, page.length, q, url);
        const body: Record<string, unknown> = { [resource.schema.plural]: q.fields ? page.map((d) => pick(d, q.fields!)) : page };
        if (links.length) body[`${resource.schema.plural}_links`] = links;
        return JSON.stringify(body);
      }
      let docs = await tx.list(resource.kind, q.columnFilters);
      if (resource.present) docs = await Promise.all(docs.map((d) => resource.present!(tx, d, this.settings)));
      const extra = await this.extraFiltered(tx, ctx, resource, q, docs);
      const result = applyList(extra.docs, extra.q, url, (m) => notFound(resource.kind, m));
      const body: Record<string, unknown> = { [resource.schema.plural]: result.items };
      if (result.links.length) body[`${resource.schema.plural}_links`] = result.links;
      return JSON.stringify(body);
    });
  }

  /**
   * A non-admin's listing: only what policy lets the caller see, without the attributes it may not read (Neutron
   * filters rows in its query and items in its policy hook). Kinds visible to their project only are narrowed by
   * the store's project_id column; the others are checked document by document against memoised lookups (one read
   * per network or group involved, not per row). Admins (and noauth) keep the store's fast paths above.
   */
  private async listFor(resource: ResourceDef, url: URL, q: ReturnType<typeof parseListQuery>, ctx: RequestContext): Promise<string> {
    const kind = resource.kind;
    return this.store.read(async (tx) => {
      let docs: Doc[] = [];
      if (ADMIN_ONLY_KINDS.has(kind) || !hasRole(ctx, 'reader')) docs = [];
      else if (OWNER_ONLY_KINDS.has(kind)) {
        const asked = q.columnFilters.project_id;
        if (!asked || asked.includes(ctx.projectId)) docs = await tx.list(kind, { ...q.columnFilters, project_id: [ctx.projectId] });
      } else docs = await new Policy(tx, ctx).visible(kind, await tx.list(kind, q.columnFilters));
      docs = await Promise.all(docs.map((d) => this.view(tx, resource, d, ctx)));
      const extra = await this.extraFiltered(tx, ctx, resource, q, docs);
      const result = applyList(extra.docs, extra.q, url, (m) => notFound(kind, m));
      const body: Record<string, unknown> = { [resource.schema.plural]: result.items };
      if (result.links.length) body[`${resource.schema.plural}_links`] = result.links;
      return JSON.stringify(body);
    });
  }

  /** The resource's extra filters (ResourceDef.extraFilters) applied, and left out of the generic matching. */
  private async extraFiltered(tx: Tx, ctx: RequestContext, resource: ResourceDef, q: ListQuery, docs: Doc[]): Promise<{ docs: Doc[]; q: ListQuery }> {
    const extra = resource.extraFilters;
    if (!extra) return { docs, q };
    let out = docs;
    for (const [name, values] of q.memoryFilters) if (Object.hasOwn(extra, name)) out = await extra[name]!(tx, ctx, out, values);
    return { docs: out, q: { ...q, memoryFilters: q.memoryFilters.filter(([name]) => !Object.hasOwn(extra, name)) } };
  }

  /** network-ip-availability: read-only, computed (src/api/network-ip-availability.ts). */
  private async networkIpAvailability(method: string, networkId: string | undefined, url: URL, ctx: RequestContext): Promise<{ status: number; body: string }> {
    if (method !== 'GET') throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
    const body = await this.store.read((tx) => (networkId === undefined ? listNetworkIpAvailabilities(tx, ctx, url) : showNetworkIpAvailability(tx, ctx, networkId, url)));
    return { status: 200, body };
  }

  /** floatingip-pools: a read-only collection computed from the external networks' IPv4 subnets. */
  private async floatingIpPools(url: URL, ctx: RequestContext): Promise<string> {
    const attributes = new Set(['subnet_id', 'subnet_name', 'network_id', 'cidr', 'project_id']);
    // neutron-lib's floatingip_pools map marks no attribute is_filter and the L3 plugin validates filters: Neutron
    // answers 400 for any filter here.
    const q = parseListQuery(url.searchParams, attributes, new Set(), new Set());
    const pools = (await this.store.read((tx) => floatingIpPools(tx, ctx))).map((p) => ({ ...p, id: p.subnet_id }));
    const result = applyList(pools, q, url, (m) => notFound('subnet', m));
    // The id is only the paging marker's key; Neutron's entries have none.
    const items = result.items.map(({ id: _id, ...rest }) => (q.fields && q.fields.includes('id') ? { id: _id, ...rest } : rest));
    const body: Record<string, unknown> = { floatingip_pools: items };
    if (result.links.length) body.floatingip_pools_links = result.links;
    return JSON.stringify(body);
  }

  private async show(resource: ResourceDef, id: string, url: URL, ctx: RequestContext): Promise<string> {
    return this.store.read(async (tx) => {
      let doc = await this.mustGet(tx, resource, id);
      await new Policy(tx, ctx).mustSee(resource.kind, doc);
      doc = await this.view(tx, resource, doc, ctx);
      const fields = url.searchParams.getAll('fields').flatMap((f) => f.split(',')).filter(Boolean);
      return JSON.stringify({ [resource.schema.singular]: fields.length ? pick(doc, fields) : doc });
    });
  }

  private async create(resource: ResourceDef, text: string, ctx: RequestContext): Promise<string> {
    const body = parseJson(text) as Record<string, unknown> | undefined;
    const bulk = body && typeof body === 'object' && Array.isArray((body as Record<string, unknown>)[resource.schema.plural]);
    const items = bulk
      ? ((body as Record<string, unknown>)[resource.schema.plural] as unknown[]).map((item) => unwrap({ [resource.schema.singular]: item }, resource.schema.singular))
      : [unwrap(body, resource.schema.singular)];
    const inputs = items.map((item) => checkBody(resource.schema, item, 'create'));
    // Per owning project, what the request asks for: the quota check sees a bulk request whole, as Neutron's does.
    const requested = new Map<string, number>();
    for (const input of inputs) {
      const project = ownerOf(ctx, input);
      requested.set(project, (requested.get(project) ?? 0) + 1);
    }
    const docs = await this.write(async (tx) => {
      await enforceQuota(tx, this.settings, resource.kind, requested);
      const out: Doc[] = [];
      const policy = new Policy(tx, ctx);
      for (const input of inputs) {
        await policy.authorizeCreate(resource.kind, input);
        const doc = await resource.create(tx, ctx, input);
        out.push(await this.view(tx, resource, doc, ctx));
      }
      return out;
    });
    return JSON.stringify(bulk ? { [resource.schema.plural]: docs } : { [resource.schema.singular]: docs[0] });
  }

  private async update(resource: ResourceDef, id: string, text: string, ctx: RequestContext): Promise<string> {
    if (!resource.update) throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
    const input = checkBody(resource.schema, unwrap(parseJson(text), resource.schema.singular), 'update');
    const doc = await this.write(async (tx) => {
      const current = await this.mustGet(tx, resource, id);
      await new Policy(tx, ctx).authorizeUpdate(resource.kind, current, input);
      checkRevisionConstraint(ctx, current);
      const updated = await resource.update!(tx, ctx, current, input);
      return this.view(tx, resource, updated, ctx);
    });
    return JSON.stringify({ [resource.schema.singular]: doc });
  }

  private async remove(resource: ResourceDef, id: string, ctx: RequestContext): Promise<void> {
    if (!resource.remove) throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
    await this.write(async (tx) => {
      const doc = await this.mustGet(tx, resource, id);
      await new Policy(tx, ctx).authorizeDelete(resource.kind, doc);
      checkRevisionConstraint(ctx, doc);
      await resource.remove!(tx, ctx, doc);
    });
  }

  /** standard-attr-tag: GET/PUT(all)/DELETE(all) on .../tags and GET/PUT/DELETE on .../tags/<tag>. */
  private async tags(
    resource: ResourceDef,
    method: string,
    id: string,
    tag: string | undefined,
    text: string,
    ctx: RequestContext,
  ): Promise<{ status: number; body: string | Buffer | null }> {
    if (method === 'GET') {
      const doc = await this.store.read(async (tx) => {
        const d = await this.mustGet(tx, resource, id);
        await new Policy(tx, ctx).mustSee(resource.kind, d);
        return d;
      });
      const tags = doc.tags as string[];
      if (tag !== undefined) tagType.convert(tag, 'tags');
      if (tag === undefined) return { status: 200, body: JSON.stringify({ tags }) };
      if (!tags.includes(tag)) throw new NeutronError(404, 'TagNotFound', `Tag ${tag} could not be found for ${resource.schema.singular} ${id}.`);
      return { status: 204, body: null };
    }
    let replacement: string[] | null = null;
    if (method === 'PUT' && tag === undefined) {
      const body = parseJson(text) as { tags?: unknown } | undefined;
      if (!body || typeof body !== 'object' || !Array.isArray(body.tags)) throw httpBadRequest('Invalid input for tags. Reason: tags must be a list.');
      replacement = [...new Set(tagsType.convert(body.tags, 'tags'))];
    } else if (tag !== undefined) tagType.convert(tag, 'tags');
    const doc = await this.write(async (tx) => {
      const d = await this.mustGet(tx, resource, id);
      // Tags are written as the resource is updated: by its project's members (or admin).
      await new Policy(tx, ctx).authorizeUpdate(resource.kind, d, {});
      let tags = d.tags as string[];
      if (replacement) tags = replacement;
      else if (method === 'PUT') tags = tags.includes(tag!) ? tags : [...tags, tag!];
      else if (method === 'DELETE' && tag === undefined) tags = [];
      else if (method === 'DELETE') {
        if (!tags.includes(tag!)) throw new NeutronError(404, 'TagNotFound', `Tag ${tag} could not be found for ${resource.schema.singular} ${id}.`);
        tags = tags.filter((t) => t !== tag);
      } else throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
      d.tags = tags;
      return saveDoc(tx, resource.kind, d);
    });
    if (method === 'DELETE') return { status: 204, body: null };
    if (replacement) return { status: 200, body: JSON.stringify({ tags: doc.tags }) };
    return { status: 201, body: null };
  }
}

