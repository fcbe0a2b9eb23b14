// revision-if-match (neutron/services/revisions/revision_plugin.py): a PUT or DELETE carrying
// `If-Match: revision_number=N` is carried out only while the resource's revision_number is N; otherwise 412, and
// nothing changes (the check runs in the write's transaction, so no other write slips in between). Clients use it
// for optimistic concurrency, as Tempest's test_update_network_constrained_by_revision does.

import { NeutronError, httpBadRequest } from '../domain/errors.js';
import type { Doc } from '../store/types.js';

/** The revision a request is constrained to, by request context (set once per request by the server). */
const CONSTRAINT = new WeakMap<object, number>();

/** Reads the header: entries are comma-separated; only `revision_number=N` constrains (an ETag is ignored). */
export function setRevisionConstraint(ctx: object, header: string | string[] | undefined): void {
  if (header === undefined) return;
  for (const entry of (Array.isArray(header) ? header : [header]).flatMap((h) => h.split(','))) {
    const t = entry.trim();
    if (!t.startsWith('revision_number=')) continue;
    const value = t.slice('revision_number='.length);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw httpBadRequest(`If-Match revision_number must be an integer, not '${value}'`);
    CONSTRAINT.set(ctx, Number(value));
  }
}

/** 412 when the request is constrained to another revision than the document's. */
export function checkRevisionConstraint(ctx: object, doc: Doc): void {
  const expected = CONSTRAINT.get(ctx);
  if (expected === undefined || doc.revision_number === undefined || doc.revision_number === expected) return;
  throw new NeutronError(412, 'RevisionNumberConstraintFailed', `Constrained to ${expected}, but current revision is ${String(doc.revision_number)}`);
}
