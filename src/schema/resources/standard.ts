// The attributes every Neutron resource with standard attributes has (neutron-lib api/definitions/base.py and the
// standard-attr-* extensions): identity, project, name, description, tags, timestamps, revision number.

import type { Attr } from '../define.js';
import { int, listOf, string, timestamp, uuid } from '../types.js';

export const id = { type: uuid, doc: 'set by the server' } satisfies Attr<string>;
export const name = { type: string(255), post: true, put: true, default: '' } satisfies Attr<string>;

/** project_id / tenant_id: either may name the owner on POST (they must agree); the caller's project otherwise. */
export const project = {
  tenant_id: { type: string(255), post: true, adminOnly: true, doc: 'the same as project_id' },
  project_id: { type: string(255), post: true, adminOnly: true, doc: "defaults to the caller's project" },
} satisfies Record<string, Attr<string>>;

/** Appended after a resource's own attributes, as the standard-attr extensions append them to its map. */
export const standardTail = {
  description: { type: string(255), post: true, put: true, default: '' },
  tags: { type: listOf(string(255)), doc: 'set with PUT …/tags' },
  created_at: { filter: false, type: timestamp },
  updated_at: { filter: false, type: timestamp },
  revision_number: { type: int(0) },
} satisfies Record<string, Attr<unknown>>;
