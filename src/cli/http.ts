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
/** The endpoint the user named (flag, OS_ENDPOINT, V6STACK_URL), or undefined: with Keystone, the catalog's is used then. */
export function explicitEndpoint(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag || env.OS_ENDPOINT || env.V6STACK_URL ? resolveEndpoint(flag, env) : undefined;
}

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

/**
 * Keystone password credentials, as the openstack client takes them (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD,
 * OS_PROJECT_NAME or OS_PROJECT_ID, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, OS_REGION_NAME, or the --os-*
 * flags). With them the CLI gets a token and sends X-Auth-Token (a server with --auth-strategy keystone); without
 * them it sends X-Project-Id (noauth).
 */
export interface KeystoneCredentials {
  authUrl: string;
  username: string;
  password: string;
  projectName?: string;
  projectId?: string;
  userDomainName: string;
  projectDomainName: string;
  regionName?: string;
}

export interface AuthFlags {
  osAuthUrl?: string;
  osUsername?: string;
  osPassword?: string;
  osProjectName?: string;
  osProjectId?: string;
  osUserDomainName?: string;
  osProjectDomainName?: string;
  osRegionName?: string;
}

/** The Keystone credentials the flags and environment give, or undefined (noauth); half of them is a usage error. */
export function credentialsFrom(flags: AuthFlags, env: NodeJS.ProcessEnv = process.env): KeystoneCredentials | undefined {
  const authUrl = flags.osAuthUrl || env.OS_AUTH_URL;
  if (!authUrl) return undefined;
  const username = flags.osUsername || env.OS_USERNAME;
  const password = flags.osPassword || env.OS_PASSWORD;
  const projectName = flags.osProjectName || env.OS_PROJECT_NAME;
  const projectId = flags.osProjectId || env.OS_PROJECT_ID;
  const missing = [!username && 'OS_USERNAME (--os-username)', !password && 'OS_PASSWORD (--os-password)', !projectName && !projectId && 'OS_PROJECT_NAME (--os-project-name) or OS_PROJECT_ID'].filter(Boolean);
  if (missing.length) throw new CliError(`Keystone authentication (OS_AUTH_URL ${authUrl}) also needs ${missing.join(', ')}`);
  const regionName = flags.osRegionName || env.OS_REGION_NAME;
  return {
    authUrl,
    username: username!,
    password: password!,
    ...(projectName ? { projectName } : { projectId: projectId! }),
    userDomainName: flags.osUserDomainName || env.OS_USER_DOMAIN_NAME || env.OS_USER_DOMAIN_ID || 'Default',
    projectDomainName: flags.osProjectDomainName || env.OS_PROJECT_DOMAIN_NAME || env.OS_PROJECT_DOMAIN_ID || 'Default',
    ...(regionName ? { regionName } : {}),
  };
}

interface CatalogEntry {
  type?: string;
  endpoints?: { interface?: string; region?: string; region_id?: string; url?: string }[];
}

/** The network service's public endpoint in a token's catalog (in the region asked for, if any). */
export function networkEndpoint(catalog: CatalogEntry[], region?: string): string | undefined {
  for (const service of catalog) {
    if (service.type !== 'network') continue;
    const e = service.endpoints?.find((x) => x.interface === 'public' && (!region || x.region === region || x.region_id === region));
    if (e?.url) return e.url;
  }
  return undefined;
}

/** A project-scoped token from Keystone v3 (password method) and the token's catalog. */
export async function keystoneToken(c: KeystoneCredentials): Promise<{ token: string; catalog: CatalogEntry[] }> {
  const base = c.authUrl.replace(/\/+$/, '');
  const url = `${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`;
  const project = c.projectName ? { name: c.projectName, domain: { name: c.projectDomainName } } : { id: c.projectId };
  const body = { auth: { identity: { methods: ['password'], password: { user: { name: c.username, domain: { name: c.userDomainName }, password: c.password } } }, scope: { project } } };
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`Unable to establish connection to ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) {
    // keystoneauth's wording: "The request you have made requires authentication. (HTTP 401) (Request-ID: ...)"
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      /* not JSON */
    }
    throw new CliError(`${message} (HTTP ${res.status})`);
  }
  const doc = JSON.parse(text) as { token?: { catalog?: CatalogEntry[] } };
  return { token, catalog: doc.token?.catalog ?? [] };
}

export class NeutronClient {
  endpoint: string;
  private token?: Promise<string>;

  /**
   * `projectId` is noauth's X-Project-Id; `auth` makes the client get a Keystone token first (and, when
   * `endpoint` is undefined, take the network endpoint from the token's catalog, as the openstack client does).
   */
  constructor(
    endpoint: string | undefined,
    readonly projectId?: string,
    private readonly auth?: KeystoneCredentials,
  ) {
    this.endpoint = (endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
    if (auth) {
      this.token = keystoneToken(auth).then(({ token, catalog }) => {
        if (endpoint === undefined) {
          const found = networkEndpoint(catalog, auth.regionName);
          if (!found) throw new CliError(`no public network endpoint in the catalog of ${auth.authUrl}${auth.regionName ? ` for region ${auth.regionName}` : ''}: give --os-endpoint`);
          this.endpoint = found.replace(/\/+$/, '').replace(/\/v2\.0$/, '');
        }
        return token;
      });
      // Not awaited until the first request: keep an early failure from being an unhandled rejection.
      this.token.catch(() => {});
    }
  }

  async request(method: string, path: string, body?: unknown): Promise<Answer | null> {
    const token = this.token ? await this.token : undefined;
    const url = `${this.endpoint}/v2.0/${path}`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers['X-Auth-Token'] = token;
    else if (this.projectId) headers['X-Project-Id'] = this.projectId;
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
      // keystonemiddleware's 401 is {"error": {"message"}}, not a NeutronError.
      const ke = parsed?.error as { message?: string } | undefined;
      const detail = ne?.message ?? ke?.message ?? (typeof parsed?.message === 'string' ? parsed.message : text.trim() || res.statusText);
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
    // Under Keystone the token names the project; project_id in the body would be a request to act for another one.
    const body = this.projectId && !this.auth && attrs.project_id === undefined ? { ...attrs, project_id: this.projectId } : attrs;
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
