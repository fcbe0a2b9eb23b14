// What a resource module gives the HTTP layer. The generic part (body checks, list conventions, show, tags,
// errors) lives in server.ts; each module holds only its own rules.

import type { Doc, Kind, Tx } from '../store/types.js';
import type { AttrMap } from './attributes.js';
import type { RequestContext, ServerSettings } from './context.js';

export interface ResourceDef {
  kind: Kind;
  singular: string;
  /** The collection's JSON key (security_groups). */
  plural: string;
  /** The collection's URL path segment when it differs from the JSON key (security-groups). */
  path?: string;
  attrs: AttrMap;
  /** Attribute names a list may filter and sort on (defaults to the attribute map's keys). */
  listable?: readonly string[];
  create(tx: Tx, ctx: RequestContext, input: Record<string, unknown>): Promise<Doc>;
  update?(tx: Tx, ctx: RequestContext, doc: Doc, input: Record<string, unknown>): Promise<Doc>;
  remove?(tx: Tx, ctx: RequestContext, doc: Doc): Promise<void>;
  /** Adds what a view shows but the stored document does not carry (e.g. a security group's rules). */
  present?(tx: Tx, doc: Doc, settings?: ServerSettings): Promise<Doc>;
  /** PUT /<plural>/<id>/<action> (router interfaces, subnet pool prefixes). */
  actions?: Record<string, (tx: Tx, ctx: RequestContext, doc: Doc, body: Record<string, unknown>) => Promise<unknown>>;
}
