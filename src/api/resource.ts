// What a resource module gives the HTTP layer: its definition (src/schema: attributes, types, conversion) and its
// rules (checks across attributes and store work). The generic part (body conversion, list conventions, show,
// tags, errors) lives in server.ts.

import type { Doc, Kind, Tx } from '../store/types.js';
import type { ResourceSchema } from '../schema/define.js';
import type { RequestContext, ServerSettings } from './context.js';

export interface ResourceDef {
  kind: Kind;
  schema: ResourceSchema;
  /** Attribute names a list may filter and sort on (defaults to the definition's attributes). */
  listable?: readonly string[];
  /** `input` is the converted body: every attribute present has its definition's type. */
  create(tx: Tx, ctx: RequestContext, input: Record<string, unknown>): Promise<Doc>;
  update?(tx: Tx, ctx: RequestContext, doc: Doc, input: Record<string, unknown>): Promise<Doc>;
  remove?(tx: Tx, ctx: RequestContext, doc: Doc): Promise<void>;
  /**
   * Filters on something the stored document does not carry (neutron-lib model_query's extra filters, e.g. a
   * subnet's `shared`, its network's): the documents that match the filter's values, for this caller.
   */
  extraFilters?: Record<string, (tx: Tx, ctx: RequestContext, docs: Doc[], values: string[]) => Promise<Doc[]>>;
  /** Adds what a view shows but the stored document does not carry (e.g. a security group's rules). */
  present?(tx: Tx, doc: Doc, settings?: ServerSettings): Promise<Doc>;
  /** PUT /<plural>/<id>/<action> (router interfaces, subnet pool prefixes); the action converts its own body. */
  actions?: Record<string, (tx: Tx, ctx: RequestContext, doc: Doc, body: Record<string, unknown>) => Promise<unknown>>;
  /** GET /<plural>/<id>/<action>, read-only (a BGP speaker's get_advertised_routes). */
  getActions?: Record<string, (tx: Tx, ctx: RequestContext, doc: Doc, url: URL) => Promise<unknown>>;
  /**
   * /<plural>/<id>/<name>[/<sub id>]: a collection under a member (the BGP agent scheduler's bgp-drinstances; read-only
   * ones: a router's l3-agents, an agent's l3-routers).
   */
  subCollections?: Record<string, SubCollection>;
}

/** A collection under a member, as Neutron's ResourceExtension with a parent: index, create (201), delete (204). */
export interface SubCollection {
  list?(tx: Tx, ctx: RequestContext, parent: Doc, settings?: ServerSettings): Promise<unknown>;
  create?(tx: Tx, ctx: RequestContext, parent: Doc, body: Record<string, unknown>): Promise<unknown>;
  remove?(tx: Tx, ctx: RequestContext, parent: Doc, id: string): Promise<void>;
}

