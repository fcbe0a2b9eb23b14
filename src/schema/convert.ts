// The one conversion of a request body, as neutron/api/v2/base.py prepare_request_body does it: unrecognized
// attributes, then (POST) required and not-allowed attributes or (PUT) read-only ones, in the attribute map's
// order, then every attribute's converter and validator in that order. Each body is converted here exactly once;
// the resource modules receive typed, validated input and keep only their cross-attribute rules and store work.

import { httpBadRequest } from '../domain/errors.js';
import type { ResourceSchema } from './define.js';

export type Operation = 'create' | 'update';

/**
 * Converts the attributes a body carries, in the map's order, without the POST/PUT permission checks (the domain's
 * unit tests and the subnet oracle use it to feed the pure rules exactly what the API would).
 */
export function convertAttributes(schema: ResourceSchema, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in schema.attributes) {
    const value = body[name];
    if (value === undefined) continue;
    out[name] = schema.attributes[name]!.type.convert(value, name);
  }
  return out;
}

export function checkBody(schema: ResourceSchema, body: Record<string, unknown>, op: Operation): Record<string, unknown> {
  const attrs = schema.attributes;
  const unknown = Object.keys(body).filter((k) => !Object.hasOwn(attrs, k));
  if (unknown.length) throw httpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  if (op === 'create') {
    for (const name in attrs) {
      const a = attrs[name]!;
      if (a.post) {
        if (a.required && body[name] === undefined) throw httpBadRequest(`Failed to parse request. Required attribute '${name}' not specified`);
      } else if (name in body) throw httpBadRequest(`Attribute '${name}' not allowed in POST`);
    }
  } else {
    for (const name in attrs) {
      if (name in body && !attrs[name]!.put) throw httpBadRequest(`Cannot update read-only attribute ${name}`);
    }
  }
  return convertAttributes(schema, body);
}

/** Every way a stored document differs from its definition's types: empty when it is type-correct. */
export function typeErrors(schema: ResourceSchema, doc: Record<string, unknown>): string[] {
  const errors: string[] = [];
  for (const name in schema.attributes) {
    const a = schema.attributes[name]!;
    if (!(name in doc)) {
      if (!a.optional && !a.hidden) errors.push(`${name}: missing`);
      continue;
    }
    if (!a.type.is(doc[name])) errors.push(`${name}: ${JSON.stringify(doc[name])?.slice(0, 80)} is not ${a.type.describe}`);
  }
  for (const name of Object.keys(doc)) if (!Object.hasOwn(schema.attributes, name)) errors.push(`${name}: not in the definition`);
  return errors;
}
