// The shape of a resource definition, in the spirit of neutron-lib's RESOURCE_ATTRIBUTE_MAP: per attribute its
// type (converter, validator, stored shape), whether a POST / PUT may carry it, whether POST requires it, its
// default, its visibility and whether only an admin may set it. The HTTP layer checks requests with it, the fuzz
// test generates requests from it and checks stored documents against it, docs/api.md is generated from it, and
// the TypeScript document types are derived from it (DocOf). Pure: no I/O, no HTTP.

import type { Type } from './types.js';

export interface Attr<T = unknown> {
  type: Type<T>;
  /** allow_post. */
  post?: boolean;
  /** allow_put. */
  put?: boolean;
  /** POST must carry it (neutron-lib: allow_post without a default). */
  required?: boolean;
  /** What a create without it stores (documentation and the fuzz's expectations; the resource sets it). */
  default?: T | null;
  /** is_visible false: accepted but never shown. */
  hidden?: boolean;
  /** Only an admin may set it (policy; every noauth caller is admin today). */
  adminOnly?: boolean;
  /** May be absent from a stored document (an attribute only some documents carry). */
  optional?: boolean;
  /**
   * neutron-lib's is_filter: a list may be filtered on it. Every attribute is one unless marked `false`, where
   * Neutron's definition has no is_filter (filter validation then answers 400 for it, as Neutron does).
   */
  filter?: boolean;
  /** One line for docs/api.md. */
  doc?: string;
}

export type Attrs = Record<string, Attr<any>>;

export interface ResourceSchema<A extends Attrs = Attrs> {
  /** The store's kind. */
  kind: string;
  singular: string;
  /** The collection's JSON key (security_groups). */
  plural: string;
  /** The collection's URL path segment when it differs from the JSON key (security-groups). */
  path?: string;
  /** Attributes in neutron-lib's order: conversion runs in this order, so several faults give Neutron's first. */
  attributes: A;
  /** Operations the API offers (docs/api.md, the fuzz). */
  operations: readonly ('list' | 'show' | 'create' | 'bulk' | 'update' | 'delete' | 'tags')[];
  /** PUT /<plural>/<id>/<action>. */
  actions?: readonly string[];
  /**
   * Whether lists check their query's filter names (Neutron's filter-validation, on for every plugin that sets
   * __filter_validation_support: ML2, L3 and the in-tree service plugins). False where Neutron's plugin does not
   * (neutron-dynamic-routing's BGP): unknown names are then ignored, as there.
   */
  filterValidation?: boolean;
  doc?: string;
}

/** The list query keys that are not filters and never checked as such (Neutron's skips in get_filters). */
export const LIST_CONTROLS: ReadonlySet<string> = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);

/** neutron/extensions/tagging.py: the tag filters every taggable resource accepts. */
export const TAG_FILTERS: ReadonlySet<string> = new Set(['tags', 'tags-any', 'not-tags', 'not-tags-any']);

/**
 * The names a list of this resource may be filtered on (the is_filter attributes of its map), or null when its
 * plugin does not validate filters. project_id and tenant_id go together (populate_project_info), and a taggable
 * resource takes the tag filters.
 */
export function filterNames(schema: ResourceSchema): ReadonlySet<string> | null {
  if (schema.filterValidation === false) return null;
  const names = new Set(Object.entries(schema.attributes).filter(([, a]) => a.filter !== false).map(([n]) => n));
  if (names.has('project_id') || names.has('tenant_id')) for (const n of ['project_id', 'tenant_id']) names.add(n);
  if (schema.operations.includes('tags')) for (const n of TAG_FILTERS) names.add(n);
  return names;
}

/** A definition, typed by its attributes (so DocOf can read them). */
export function defineResource<const A extends Attrs>(schema: ResourceSchema<A>): ResourceSchema<A> {
  return schema;
}

type AttrType<X> = X extends { type: Type<infer T> } ? T : never;
type OptionalKeys<A extends Attrs> = { [K in keyof A]: A[K] extends { optional: true } ? K : never }[keyof A];

/** The stored and shown document of a resource, derived from its definition. */
export type DocOf<R> =
  R extends ResourceSchema<infer A>
    ? { -readonly [K in Exclude<keyof A, OptionalKeys<A>>]: AttrType<A[K]> } & { -readonly [K in OptionalKeys<A>]?: AttrType<A[K]> }
    : never;

type WritableKeys<A extends Attrs> = { [K in keyof A]: A[K] extends { post: true } | { put: true } ? K : never }[keyof A];

/** A converted request body: the attributes a POST or PUT may carry, each present only when the request had it. */
export type InputOf<R> = R extends ResourceSchema<infer A> ? { [K in WritableKeys<A>]?: AttrType<A[K]> } : never;
