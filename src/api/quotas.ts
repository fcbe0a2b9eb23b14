// Quotas (neutron/extensions/quotasv2.py, quotasv2_detail.py, quota_check_limit.py; neutron/db/quota/driver_nolock.py):
// per project limits on what it may create, the server's defaults (Neutron's [quotas] quota_<resource>) for the
// projects without their own, and their enforcement on create.
//
// Enforcement is Neutron's quota_enforcement hook: a create request (bulk included) counts, per owning project,
// what it asks for and is refused with 409 OverQuota when the project's current count plus that exceeds the limit;
// -1 is unlimited. Neutron's nolock driver counts without a lock, so two creates can overshoot a limit together;
// here the count runs under a per (project, resource) lock held to the end of the store transaction (PostgreSQL: an
// advisory lock, so several API servers count one after the other; SQLite: its writes are already serial), so a
// limit is never exceeded. Resources the server makes itself (a router's ports, DHCP ports, the default security
// group) are counted but not refused, as in Neutron.

import { NeutronError, badAttribute, httpBadRequest, invalidInput } from '../domain/errors.js';
import { pyInt, pyStr } from '../domain/py.js';
import { UniqueViolation, type Doc, type Kind, type Store, type Tx } from '../store/types.js';
import type { RequestContext, ServerSettings } from './context.js';

/** The resources Neutron's registry tracks (the ML2, L3 and RBAC plugins' ones), in its order. */
export const QUOTA_RESOURCES = ['network', 'subnet', 'subnetpool', 'port', 'router', 'floatingip', 'security_group', 'security_group_rule', 'rbac_policy'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type QuotaLimits = Record<QuotaResource, number>;

/** neutron/conf/quota.py (Zed): DEFAULT_QUOTA_* and default_quota (-1) for subnet pools. */
export const NEUTRON_DEFAULT_QUOTAS: Readonly<QuotaLimits> = {
  network: 100,
  subnet: 100,
  subnetpool: -1,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  rbac_policy: 10,
};

/** DB_INTEGER_MAX_VALUE: the largest limit the quota attribute's range validator allows. */
export const QUOTA_MAX = 2 ** 31 - 1;

const isQuotaResource = (k: string): k is QuotaResource => (QUOTA_RESOURCES as readonly string[]).includes(k);

/** The store kind counted for each resource (the same names). */
export function quotaResourceOf(kind: Kind): QuotaResource | undefined {
  return isQuotaResource(kind) ? kind : undefined;
}

export function defaultQuotas(settings: ServerSettings | undefined): QuotaLimits {
  return { ...NEUTRON_DEFAULT_QUOTAS, ...(settings?.quotas ?? {}) };
}

/** A project's limits: the server's defaults, overridden by what was set for it. */
export async function projectQuotas(tx: Tx, settings: ServerSettings | undefined, projectId: string): Promise<QuotaLimits> {
  const own = await tx.get('quota', projectId);
  return own ? { ...defaultQuotas(settings), ...overridesOf(own) } : defaultQuotas(settings);
}

function overridesOf(doc: Doc): Partial<QuotaLimits> {
  const out: Partial<QuotaLimits> = {};
  for (const r of QUOTA_RESOURCES) if (typeof doc[r] === 'number') out[r] = doc[r] as number;
  return out;
}

/** neutron-lib OverQuota: the resources over their limit, as Python prints a sorted list. */
export function overQuota(resources: readonly string[]): NeutronError {
  return new NeutronError(409, 'OverQuota', `Quota exceeded for resources: [${[...resources].sort().map((r) => `'${r}'`).join(', ')}].`);
}

/** Whether `used + requested` fits `limit` (-1: unlimited). Pure. */
export function withinLimit(limit: number, used: number, requested: number): boolean {
  return limit < 0 || used + requested <= limit;
}

/**
 * Refuses a create that would take a project over its limit of `kind`: `requested` counts what the request makes
 * per owning project. Call inside the create's transaction, before the inserts.
 */
export async function enforceQuota(tx: Tx, settings: ServerSettings | undefined, kind: Kind, requested: ReadonlyMap<string, number>): Promise<void> {
  const resource = quotaResourceOf(kind);
  if (!resource) return;
  for (const [projectId, n] of requested) {
    const limit = (await projectQuotas(tx, settings, projectId))[resource];
    if (limit < 0) continue;
    if (n > limit) throw overQuota([resource]);
    // One round trip on PostgreSQL: the count's snapshot is taken once the lock is granted.
    const [, used] = await Promise.all([tx.lockQuota(projectId, resource), tx.count(kind, { project_id: [projectId] })]);
    if (!withinLimit(limit, used, n)) throw overQuota([resource]);
  }
}

/** quota_details: used, limit and reserved (always 0: the nolock driver keeps no reservations) per resource. */
export async function quotaDetails(tx: Tx, settings: ServerSettings | undefined, projectId: string): Promise<Record<QuotaResource, { used: number; limit: number; reserved: number }>> {
  const limits = await projectQuotas(tx, settings, projectId);
  const out = {} as Record<QuotaResource, { used: number; limit: number; reserved: number }>;
  for (const r of QUOTA_RESOURCES) out[r] = { used: await tx.count(r, { project_id: [projectId] }), limit: limits[r], reserved: 0 };
  return out;
}

/** convert_to_int, then validate_range [-1, DB_INTEGER_MAX_VALUE], with neutron-lib's texts. */
export function convertLimit(value: unknown, resource: string): number {
  const n = pyInt(value);
  if (n === null) throw invalidInput(`'${pyStr(value)}' is not an integer`);
  if (n < -1) throw badAttribute(resource, `'${n}' is too small - must be at least '-1'`);
  if (n > QUOTA_MAX) throw badAttribute(resource, `'${n}' is too large - must be no larger than '${QUOTA_MAX}'`);
  return n;
}

/**
 * A PUT body's limits ({"quota": {...}}), converted as prepare_request_body converts it: `force` and `check_limit`
 * taken out first, then unknown names refused, then each value. Pure.
 */
export function convertQuotaBody(body: unknown): { limits: Partial<QuotaLimits>; checkLimit: boolean } {
  const inner = (body as Record<string, unknown> | null | undefined)?.quota;
  if (body === null || typeof body !== 'object' || Array.isArray(body) || inner === undefined) throw httpBadRequest("Unable to find 'quota' in request body");
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) throw httpBadRequest('Body contains invalid data');
  const { force: _force, check_limit: checkLimit, ...rest } = inner as Record<string, unknown>;
  const unknown = Object.keys(rest).filter((k) => !isQuotaResource(k));
  if (unknown.length) throw httpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const limits: Partial<QuotaLimits> = {};
  for (const r of QUOTA_RESOURCES) if (rest[r] !== undefined) limits[r] = convertLimit(rest[r], r);
  // Python truthiness of whatever was sent (`if check_limit:`).
  const truthy = checkLimit !== undefined && checkLimit !== null && checkLimit !== false && checkLimit !== 0 && checkLimit !== '' && !(Array.isArray(checkLimit) && !checkLimit.length);
  return { limits, checkLimit: truthy };
}

const forbidden = (rule: string) => new NeutronError(403, 'PolicyNotAuthorized', `rule:${rule} is disallowed by policy`);

/** quotasv2's validate_policy: reading another project's quota, listing, updating and deleting are admin's. */
function requireAdmin(ctx: RequestContext, rule: string): void {
  if (!ctx.isAdmin) throw forbidden(rule);
}

const METHOD_NOT_ALLOWED = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';

/**
 * /v2.0/quotas[/<project>[/default|/details]] and /v2.0/quotas/tenant|project. `rest` is the path after "quotas";
 * `body` the parsed body of a PUT.
 */
export async function quotaRoute(
  store: Store,
  settings: ServerSettings | undefined,
  method: string,
  rest: readonly string[],
  body: unknown,
  ctx: RequestContext,
): Promise<{ status: number; body: string | null }> {
  const json = (status: number, v: unknown) => ({ status, body: JSON.stringify(v) });
  const [id, sub, ...extra] = rest;
  if (extra.length) throw new NeutronError(404, 'HTTPNotFound', 'The resource could not be found.');
  if (id === undefined) {
    if (method === 'GET') {
      requireAdmin(ctx, 'get_quota');
      const all = await store.read((tx) => tx.list('quota'));
      const defaults = defaultQuotas(settings);
      return json(200, { quotas: all.map((q) => ({ ...defaults, ...overridesOf(q), project_id: q.id, tenant_id: q.id })) });
    }
    if (method === 'POST') throw new NeutronError(501, 'HTTPNotImplemented', 'POST requests are not supported on this resource.');
    throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
  }
  if (sub === undefined && method === 'GET' && (id === 'tenant' || id === 'project')) {
    return json(200, { [id]: { [`${id}_id`]: ctx.projectId } });
  }
  if (sub === 'default' && method === 'GET') {
    if (id !== ctx.projectId) requireAdmin(ctx, 'get_quota');
    return json(200, { quota: defaultQuotas(settings) });
  }
  if (sub === 'details' && method === 'GET') {
    if (id !== ctx.projectId && !ctx.isAdmin) {
      throw new NeutronError(403, 'AdminRequired', 'User does not have admin privileges: Only admin is authorized to access quotas for another project.');
    }
    return json(200, { quota: await store.read((tx) => quotaDetails(tx, settings, id)) });
  }
  if (sub !== undefined) throw new NeutronError(404, 'HTTPNotFound', 'The resource could not be found.');
  if (method === 'GET') {
    if (id !== ctx.projectId) requireAdmin(ctx, 'get_quota');
    return json(200, { quota: await store.read((tx) => projectQuotas(tx, settings, id)) });
  }
  if (method === 'PUT') {
    requireAdmin(ctx, 'update_quota');
    const { limits, checkLimit } = convertQuotaBody(body);
    const quota = await store.write(async (tx) => {
      if (checkLimit) {
        for (const [r, limit] of Object.entries(limits) as [QuotaResource, number][]) {
          // quota_check_limit: a limit below what the project already uses is refused. Zed compares -1 as the number
          // it is (quotasv2.update: `if resource_usage > limit`), so -1 with check_limit is always refused; later
          // releases skip UNLIMITED_QUOTA, Zed does not. Without check_limit, -1 is unlimited.
          const used = await tx.count(r, { project_id: [id] });
          if (used > limit) {
            throw httpBadRequest(`Quota limit ${limit} for ${r} must be greater than or equal to already used ${used}`);
          }
        }
      }
      const own = await tx.get('quota', id);
      const doc: Doc = { ...(own ?? {}), ...limits, id, project_id: id };
      if (own) await tx.update('quota', doc);
      else {
        try {
          await tx.insert('quota', doc);
        } catch (e) {
          // Another writer set this project's first limits meanwhile: revise its row instead.
          if (!(e instanceof UniqueViolation)) throw e;
          const theirs = await tx.get('quota', id);
          Object.assign(doc, { ...theirs, ...limits, id, project_id: id });
          await tx.update('quota', doc);
        }
      }
      return { ...defaultQuotas(settings), ...overridesOf(doc) };
    });
    return json(200, { quota });
  }
  if (method === 'DELETE') {
    requireAdmin(ctx, 'delete_quota');
    const gone = await store.write((tx) => tx.remove('quota', id));
    if (!gone) throw new NeutronError(404, 'TenantQuotaNotFound', `Quota for tenant ${id} could not be found.`);
    return { status: 204, body: null };
  }
  throw new NeutronError(405, 'HTTPMethodNotAllowed', METHOD_NOT_ALLOWED);
}
