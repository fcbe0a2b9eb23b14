// The resource commands' HTTP client for the Neutron v2.0 API (Node's built-in fetch), with the openstack client's
// error wording: API errors read `BadRequestException: 400: Client Error for url: <url>, <NeutronError message>`,
// and name lookups fail with `No Network found for X` / `More than one Network exists with the name 'X'.`

import type { AddressScope, Network, Port, Router, SecurityGroup, SecurityGroupRule, Subnet, SubnetPool } from '../schema/index.js';

export const DEFAULT_ENDPOINT = 'http://[::1]:9696';

/** An error the CLI prints as it is and exits 1 on (API errors, lookups, usage the API cannot check). */
export class CliError extends Error {}

export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly neutronType: string | undefined,
    readonly detail: string,
  ) {
    super(`${exceptionName(status)}: ${status}: ${status >= 500 ? 'Server' : 'Client'} Error for url: ${url}, ${detail}`);
  }
}

/** openstacksdk's exception class for a status (what the openstack client prints first). */
function exceptionName(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequestException';
    case 403:
      return 'ForbiddenException';
    case 404:
      return 'NotFoundException';
    case 409:
      return 'ConflictException';
    default:
      return 'HttpException';
  }
}

/**
 * A resource family: URL collection, body key, and the SDK class name used in lookup messages. `D` is the document
 * the API shows (the schema's type), which list, get, create and update return.
 */
export interface ResourceType<D extends Shown = Shown> {
  /** Never set: carries the document type, so a call's answer is typed by the resource it names. */
  readonly doc?: D;
  path: string; //     'subnetpools'
  singular: string; // 'subnetpool'
  label: string; //    'SubnetPool'
}

export const NETWORK: ResourceType<Network> = { path: 'networks', singular: 'network', label: 'Network' };
export const SUBNET: ResourceType<Subnet> = { path: 'subnets', singular: 'subnet', label: 'Subnet' };
export const PORT: ResourceType<Port> = { path: 'ports', singular: 'port', label: 'Port' };
export const ROUTER: ResourceType<Router> = { path: 'routers', singular: 'router', label: 'Router' };
export const SUBNET_POOL: ResourceType<SubnetPool> = { path: 'subnetpools', singular: 'subnetpool', label: 'SubnetPool' };
export const ADDRESS_SCOPE: ResourceType<AddressScope> = { path: 'address-scopes', singular: 'address_scope', label: 'AddressScope' };
export const SECURITY_GROUP: ResourceType<SecurityGroup> = { path: 'security-groups', singular: 'security_group', label: 'SecurityGroup' };
export const SECURITY_GROUP_RULE: ResourceType<SecurityGroupRule> = { path: 'security-group-rules', singular: 'security_group_rule', label: 'SecurityGroupRule' };

/** A document as the API shows it: an id and attributes (the schema's types are these). */
export type Shown = { id: string } & Readonly<Record<string, unknown>>;
/** A request body as the CLI builds it from its options: the server converts and checks every attribute. */
export type Body = Record<string, unknown>;
/** A JSON answer of the API (the collection or resource key, or NeutronError). */
type Answer = Record<string, unknown>;
export type Query = Record<string, string | number | boolean | (string | number)[] | undefined>;

/** The endpoint to use: flag, then OS_ENDPOINT, then V6STACK_URL, then [::1]:9696; any trailing /v2.0 dropped. */
export function resolveEndpoint(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = flag || env.OS_ENDPOINT || env.V6STACK_URL || DEFAULT_ENDPOINT;
  return raw.replace(/\/+$/, '').replace(/\/v2\.0$/, '');
}

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) params.append(k, String(x));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export class NeutronClient {
  readonly endpoint: string;

  constructor(
    endpoint: string,
    readonly projectId?: string,
  ) {
    this.endpoint = endpoint.replace(/\/+$/, '');
  }

  async request(method: string, path: string, body?: unknown): Promise<Answer | null> {
    const url = `${this.endpoint}/v2.0/${path}`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.projectId) headers['X-Project-Id'] = this.projectId;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`Unable to establish connection to ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    const text = await res.text();
    let parsed: Answer | null = null;
    if (text) {
      try {
        parsed = JSON.parse(text) as Answer;
      } catch {
        parsed = null;
      }
    }
    if (!res.ok) {
      const ne = parsed?.NeutronError as { type?: string; message?: string } | undefined;
      const detail = ne?.message ?? (typeof parsed?.message === 'string' ? parsed.message : text.trim() || res.statusText);
      throw new ApiError(res.status, url, ne?.type, detail);
    }
    return parsed;
  }

  async list<D extends Shown>(type: ResourceType<D>, query?: Query): Promise<D[]> {
    const r = await this.request('GET', `${type.path}${queryString(query)}`);
    return (r?.[type.path.replace(/-/g, '_')] ?? []) as D[];
  }

  async get<D extends Shown>(type: ResourceType<D>, id: string): Promise<D> {
    const r = await this.request('GET', `${type.path}/${encodeURIComponent(id)}`);
    return r![type.singular] as D;
  }

  /** POST; `project_id` joins the body when --os-project-id was given (noauth servers require it then). */
  async create<D extends Shown>(type: ResourceType<D>, attrs: Body): Promise<D> {
    const body = this.projectId && attrs.project_id === undefined ? { ...attrs, project_id: this.projectId } : attrs;
    const r = await this.request('POST', type.path, { [type.singular]: body });
    return r![type.singular] as D;
  }

  async update<D extends Shown>(type: ResourceType<D>, id: string, attrs: Body): Promise<D> {
    const r = await this.request('PUT', `${type.path}/${encodeURIComponent(id)}`, { [type.singular]: attrs });
    return r![type.singular] as D;
  }

  async remove(type: ResourceType, id: string): Promise<void> {
    await this.request('DELETE', `${type.path}/${encodeURIComponent(id)}`);
  }

  async action(type: ResourceType, id: string, action: string, body: unknown): Promise<Answer | null> {
    return this.request('PUT', `${type.path}/${encodeURIComponent(id)}/${action}`, body);
  }

  async setTags(type: ResourceType, id: string, tags: string[]): Promise<void> {
    await this.request('PUT', `${type.path}/${encodeURIComponent(id)}/tags`, { tags });
  }

  /**
   * A resource by id or name, as openstacksdk's find(): GET by id first, then `?name=`; none or several by that
   * name is an error.
   */
  async find<D extends Shown>(type: ResourceType<D>, nameOrId: string): Promise<D> {
    try {
      return await this.get(type, nameOrId);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
    }
    const found = await this.list(type, { name: nameOrId });
    if (found.length === 1) return found[0]!;
    if (found.length > 1) throw new CliError(`More than one ${type.label} exists with the name '${nameOrId}'.`);
    throw new CliError(`No ${type.label} found for ${nameOrId}`);
  }

  async findId(type: ResourceType, nameOrId: string): Promise<string> {
    return (await this.find(type, nameOrId)).id;
  }
}
