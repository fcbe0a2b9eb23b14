// The Neutron v2.0 HTTP API on Node's own http server: routing, JSON in and out, the generic create / show /
// list / update / delete / tags flow, and Neutron's fault format. A user's mistake is a NeutronError with a 4xx;
// anything else is logged and answered 500 without detail. Each write is one store transaction.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { NeutronError, httpBadRequest, notFound, resourceNotFound } from '../domain/errors.js';
import type { Doc, Store, Tx } from '../store/types.js';
import { UniqueViolation } from '../store/types.js';
import { COMMON_COLUMNS, tableOf } from '../store/schema.js';
import { checkBody, str, unwrap } from './attributes.js';
import type { RequestContext, ServerSettings } from './context.js';
import { saveDoc } from './context.js';
import { EXTENSIONS } from './extensions.js';
import { AgentApi } from './agent-api.js';
import { applyList, isPlain, pageLinks, pagesById, parseListQuery, pick } from './list.js';
import type { ResourceDef } from './resource.js';
import { agents } from './resources/agents.js';
import { networks } from './resources/networks.js';
import { ports } from './resources/ports.js';
import { routers } from './resources/routers.js';
import { securityGroupRules, securityGroups } from './resources/security-groups.js';
import { addressScopes, subnetpools } from './resources/subnetpools.js';
import { subnets } from './resources/subnets.js';

export const RESOURCES: ResourceDef[] = [networks, subnets, ports, routers, subnetpools, addressScopes, securityGroups, securityGroupRules, agents];
const BY_PATH = new Map(RESOURCES.map((r) => [r.path ?? r.plural, r]));
const MAX_BODY = 8 * 1024 * 1024;
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
}

function send(res: ServerResponse, status: number, body: string | Buffer | null, requestId: string): void {
  const headers: Record<string, string | number> = { 'X-Openstack-Request-Id': requestId };
  if (body !== null) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  res.writeHead(status, headers);
  res.end(body ?? undefined);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new NeutronError(413, 'HTTPRequestEntityTooLarge', 'Request is too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw httpBadRequest('Body contains invalid data');
  }
}

export class ApiServer {
  readonly server: Server;
  private readonly store: Store;
  private readonly defaultProjectId: string;
  private readonly logRequests: boolean;
  private readonly agentApi: AgentApi;
  private readonly settings: ServerSettings;

  constructor(opts: ApiOptions) {
    this.settings = opts.settings ?? {};
    this.store = opts.store;
    this.defaultProjectId = opts.defaultProjectId ?? 'default';
    this.logRequests = opts.logRequests ?? false;
    this.agentApi = new AgentApi(this.store);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  /** Listens on every address of both families (`::` with IPv4-mapped addresses) unless told otherwise. */
  listen(port: number, host = '::'): Promise<{ port: number }> {
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
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
      const ctx: RequestContext = {
        projectId: (req.headers['x-project-id'] as string | undefined) || this.defaultProjectId,
        isAdmin: true,
        requestId,
        settings: this.settings,
      };
      const text = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : '';
      const result = await this.route(req.method ?? 'GET', url, text, ctx);
      status = result.status;
      send(res, result.status, result.body, requestId);
    } catch (e) {
      const err = e instanceof NeutronError ? e : null;
      if (!err) console.error(`[v6stack] ${requestId} ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
      const fault = err ?? new NeutronError(500, 'HTTPInternalServerError', 'Request Failed: internal server error while processing your request.');
      status = fault.status;
      send(res, fault.status, JSON.stringify(fault.toBody()), requestId);
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
    const parts = path.split('/').slice(1).map(decodeURIComponent);
    if (parts[0] === 'v6stack' && parts[1] === 'v1') {
      return this.agentApi.handle(method, parts.slice(1), url, parseJson(text));
    }
    if (parts[0] !== 'v2.0') throw resourceNotFound(url.pathname);
    if (parts.length === 1 && method === 'GET') {
      const base = `${url.origin}/v2.0`;
      return {
        status: 200,
        body: JSON.stringify({
          resources: RESOURCES.map((r) => ({ name: r.singular, collection: r.plural, links: [{ rel: 'self', href: `${base}/${r.path ?? r.plural}` }] })),
        }),
      };
    }
    if (parts[1] === 'extensions') return this.extensions(method, parts[2], url);
    const resource = BY_PATH.get(parts[1]!);
    if (!resource) throw resourceNotFound(url.pathname);
    const [, , id, sub, tag] = parts;

    if (id === undefined) {
      if (method === 'GET') return { status: 200, body: await this.list(resource, url) };
      if (method === 'POST') return { status: 201, body: await this.create(resource, text, ctx) };
    } else if (sub === undefined) {
      if (method === 'GET') return { status: 200, body: await this.show(resource, id, url) };
      if (method === 'PUT') return { status: 200, body: await this.update(resource, id, text, ctx) };
      if (method === 'DELETE') {
        await this.remove(resource, id, ctx);
        return { status: 204, body: null };
      }
    } else if (sub === 'tags') {
      return this.tags(resource, method, id, tag, text);
    } else if (resource.actions?.[sub] && method === 'PUT' && tag === undefined) {
      const action = resource.actions[sub]!;
      const body = (parseJson(text) ?? {}) as Record<string, unknown>;
      const out = await this.write(async (tx) => action(tx, ctx, await this.mustGet(tx, resource, id), body));
      return { status: 200, body: JSON.stringify(out) };
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
    const doc = await tx.get(resource.kind, id);
    if (!doc) throw notFound(resource.kind, id);
    return doc;
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

  private async list(resource: ResourceDef, url: URL): Promise<string | Buffer> {
    const attributes = new Set(resource.listable ?? Object.keys(resource.attrs));
    const columns = new Set<string>([...COMMON_COLUMNS, ...tableOf(resource.kind).columns]);
    const q = parseListQuery(url.searchParams, attributes, columns);
    return this.store.read(async (tx) => {
      if (isPlain(q) && !resource.present) {
        // Stored documents are exactly what the API shows: the database joins them, we only frame them.
        // One copy into the response body, from the pieces the store hands over.
        const pieces = [Buffer.from(`{"${resource.plural}":[`), ...(await tx.listJoined(resource.kind, q.columnFilters)), CLOSE_LIST];
        return Buffer.concat(pieces, pieces.reduce((n, b) => n + b.length, 0));
      }
      if (pagesById(q) && !resource.present) {
        // One page in id order from the store: the cost is the page's, not the collection's.
        const limit = q.limit!;
        if (q.marker !== null && (await tx.count(resource.kind, { ...q.columnFilters, id: [q.marker] })) === 0) throw notFound(resource.kind, q.marker);
        const desc = (q.sorts[0]?.desc ?? false) !== q.pageReverse;
        const raw = await tx.listPage(resource.kind, q.columnFilters, { ...(q.marker !== null ? { after: q.marker } : {}), desc, limit: limit + 1 });
        const page = raw.slice(0, limit).map((b) => JSON.parse(b) as Doc);
        if (q.pageReverse) page.reverse();
        const links = pageLinks(page[0]?.id as string | undefined, page[page.length - 1]?.id as string | undefined, raw.length > limit, q, url);
        const body: Record<string, unknown> = { [resource.plural]: q.fields ? page.map((d) => pick(d, q.fields!)) : page };
        if (links.length) body[`${resource.plural}_links`] = links;
        return JSON.stringify(body);
      }
      let docs = await tx.list(resource.kind, q.columnFilters);
      if (resource.present) docs = await Promise.all(docs.map((d) => resource.present!(tx, d, this.settings)));
      const result = applyList(docs, q, url, (m) => notFound(resource.kind, m));
      const body: Record<string, unknown> = { [resource.plural]: result.items };
      if (result.links.length) body[`${resource.plural}_links`] = result.links;
      return JSON.stringify(body);
    });
  }

  private async show(resource: ResourceDef, id: string, url: URL): Promise<string> {
    return this.store.read(async (tx) => {
      let doc = await this.mustGet(tx, resource, id);
      if (resource.present) doc = await resource.present(tx, doc, this.settings);
      const fields = url.searchParams.getAll('fields').flatMap((f) => f.split(',')).filter(Boolean);
      return JSON.stringify({ [resource.singular]: fields.length ? pick(doc, fields) : doc });
    });
  }

  private async create(resource: ResourceDef, text: string, ctx: RequestContext): Promise<string> {
    const body = parseJson(text) as Record<string, unknown> | undefined;
    const bulk = body && typeof body === 'object' && Array.isArray((body as Record<string, unknown>)[resource.plural]);
    const items = bulk
      ? ((body as Record<string, unknown>)[resource.plural] as unknown[]).map((item) => unwrap({ [resource.singular]: item }, resource.singular))
      : [unwrap(body, resource.singular)];
    const inputs = items.map((item) => checkBody(resource.attrs, item, 'create'));
    const docs = await this.write(async (tx) => {
      const out: Doc[] = [];
      for (const input of inputs) {
        const doc = await resource.create(tx, ctx, input);
        out.push(resource.present ? await resource.present(tx, doc, this.settings) : doc);
      }
      return out;
    });
    return JSON.stringify(bulk ? { [resource.plural]: docs } : { [resource.singular]: docs[0] });
  }

  private async update(resource: ResourceDef, id: string, text: string, ctx: RequestContext): Promise<string> {
    if (!resource.update) throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
    const input = checkBody(resource.attrs, unwrap(parseJson(text), resource.singular), 'update');
    const doc = await this.write(async (tx) => {
      const updated = await resource.update!(tx, ctx, await this.mustGet(tx, resource, id), input);
      return resource.present ? resource.present(tx, updated, this.settings) : updated;
    });
    return JSON.stringify({ [resource.singular]: doc });
  }

  private async remove(resource: ResourceDef, id: string, ctx: RequestContext): Promise<void> {
    if (!resource.remove) throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
    await this.write(async (tx) => resource.remove!(tx, ctx, await this.mustGet(tx, resource, id)));
  }

  /** standard-attr-tag: GET/PUT(all)/DELETE(all) on .../tags and GET/PUT/DELETE on .../tags/<tag>. */
  private async tags(
    resource: ResourceDef,
    method: string,
    id: string,
    tag: string | undefined,
    text: string,
  ): Promise<{ status: number; body: string | Buffer | null }> {
    if (method === 'GET') {
      const doc = await this.store.read((tx) => this.mustGet(tx, resource, id));
      const tags = doc.tags as string[];
      if (tag === undefined) return { status: 200, body: JSON.stringify({ tags }) };
      if (!tags.includes(tag)) throw new NeutronError(404, 'TagNotFound', `Tag ${tag} could not be found for ${resource.singular} ${id}.`);
      return { status: 204, body: null };
    }
    let replacement: string[] | null = null;
    if (method === 'PUT' && tag === undefined) {
      const body = parseJson(text) as { tags?: unknown } | undefined;
      if (!body || !Array.isArray(body.tags)) throw httpBadRequest('Invalid input for tags. Reason: tags must be a list.');
      replacement = [...new Set(body.tags.map((t) => str(t, 'tags', 255)))];
    } else if (tag !== undefined) str(tag, 'tags', 255);
    const doc = await this.write(async (tx) => {
      const d = await this.mustGet(tx, resource, id);
      let tags = d.tags as string[];
      if (replacement) tags = replacement;
      else if (method === 'PUT') tags = tags.includes(tag!) ? tags : [...tags, tag!];
      else if (method === 'DELETE' && tag === undefined) tags = [];
      else if (method === 'DELETE') {
        if (!tags.includes(tag!)) throw new NeutronError(404, 'TagNotFound', `Tag ${tag} could not be found for ${resource.singular} ${id}.`);
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

