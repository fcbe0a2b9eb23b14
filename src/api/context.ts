// Who is asking, and the helpers every resource uses to make and revise documents with Neutron's standard
// attributes (id, project, description, tags, timestamps, revision number).
//
// Who is asking comes from an `Authenticator` (src/api/server.ts builds the context from its answer). The embedded
// default is Neutron's noauth: every caller is an admin, the project comes from the body's project_id/tenant_id, else
// the X-Project-Id header, else the server's default project. Resources take the context as an argument.

import { randomUUID } from 'node:crypto';
import { httpBadRequest } from '../domain/errors.js';
import type { Doc, Kind, Tx } from '../store/types.js';
import { SCHEMAS } from '../schema/index.js';
import { typeErrors } from '../schema/convert.js';
import type { ResourceSchema } from '../schema/define.js';
import type { MtuConfig } from '../domain/mtu.js';
import type { HaSettings } from '../domain/ha.js';

/** The caller as identity established it (noauth: the default admin; keystone: the token's user, project, roles). */
export interface Identity {
  projectId: string;
  /** Keystone user id (absent under noauth). */
  userId?: string;
  /** Keystone role names of the token, lower-case (noauth: ['admin']). */
  roles: readonly string[];
  /** Neutron's context_is_admin: the `admin` role (noauth: always). */
  isAdmin: boolean;
}

/**
 * Establishes the caller of one request from its headers (and, for what is served without a token, its method and
 * path); throws a NeutronError (401) when it cannot.
 */
export type Authenticator = (
  headers: Readonly<Record<string, string | string[] | undefined>>,
  request?: { method: string; path: string },
) => Promise<Identity> | Identity;

export interface RequestContext {
  projectId: string;
  /** Keystone user id of the caller (absent under noauth and for the server's own work). */
  userId?: string;
  /** Role names of the caller (absent for the server's own work, which is admin). */
  roles?: readonly string[];
  isAdmin: boolean;
  requestId: string;
  /** How this server was configured (Neutron's defaults for what is absent). */
  settings?: ServerSettings;
}

/** Deployment settings that shape answers (Neutron's config options). */
export interface ServerSettings {
  /** global_physnet_mtu and overlay_ip_version: network MTUs derive from them. */
  mtu?: MtuConfig;
  /** agent_down_time: an agent is alive while its last heartbeat is younger than this (default 75 s). */
  agentDownTimeMs?: number;
  /** l3_ha, max_l3_agents_per_router, l3_ha_net_cidr, l3_ha_network_type (domain/ha DEFAULT_HA_SETTINGS if absent). */
  ha?: Partial<HaSettings>;
  /** ipv6_pd_enabled: `use_default_subnetpool` on an IPv6 subnet asks for prefix delegation (api/prefix-delegation.ts). */
  ipv6PdEnabled?: boolean;
  /** [quotas] quota_<resource>: default limits per project (api/quotas.ts NEUTRON_DEFAULT_QUOTAS for what is absent). */
  quotas?: Partial<Record<string, number>>;
  /** enable_ndp_proxy_by_default: a router whose gateway supports NDP proxy gets enable_ndp_proxy true (l3-ext-ndp-proxy). */
  enableNdpProxyByDefault?: boolean;
  /** dhcp_agents_per_network, network_auto_schedule (dhcp-agent-scheduler.ts DEFAULT_DHCP_SCHEDULER if absent). */
  dhcp?: Partial<{ agentsPerNetwork: number; networkAutoSchedule: boolean }>;
}

/** ISO-8601 seconds in UTC with a Z, as Neutron prints timestamps. */
export function timestamp(d = new Date()): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function ownerOf(ctx: RequestContext, input: Record<string, unknown>): string {
  const p = input.project_id as string | undefined;
  const t = input.tenant_id as string | undefined;
  if (p !== undefined && t !== undefined && p !== t) throw httpBadRequest("'project_id' and 'tenant_id' do not match");
  return p ?? t ?? ctx.projectId;
}

/** A new document with the standard attributes, then the resource's own. */
export function newDoc(ctx: RequestContext, input: Record<string, unknown>, own: Record<string, unknown>): Doc {
  const now = timestamp();
  const project = ownerOf(ctx, input);
  return {
    id: randomUUID(),
    name: (input.name as string | undefined) ?? '',
    tenant_id: project,
    ...own,
    description: (input.description as string | undefined) ?? '',
    tags: [],
    created_at: now,
    updated_at: now,
    revision_number: 0,
    project_id: project,
  };
}

const SCHEMA_OF = new Map<string, ResourceSchema>(SCHEMAS.map((s) => [s.kind, s]));

/**
 * The store boundary's guard: a document is written only when every attribute has its definition's type. Requests
 * are converted before they get here, so a failure means a rule let something through; the request is refused (a
 * 400 naming the attribute) and the gap is logged, instead of the store holding, or choking on, a wrong value.
 */
export function checkStorable(kind: Kind, doc: Doc): void {
  const schema = SCHEMA_OF.get(kind);
  if (!schema) return;
  const errors = typeErrors(schema, doc);
  if (!errors.length) return;
  console.error(`[v6stack] refused to store a ${kind} that does not match its definition: ${errors.join('; ')}`);
  const attr = errors[0]!.slice(0, errors[0]!.indexOf(':'));
  throw httpBadRequest(`Invalid input for ${attr}. Reason: the value cannot be stored as ${schema.singular} ${attr}.`);
}

/** Stores a new document and announces it on the change feed. */
export async function insertDoc(tx: Tx, kind: Kind, doc: Doc): Promise<Doc> {
  checkStorable(kind, doc);
  await tx.insert(kind, doc, true);
  return doc;
}

/** Stores a revised document: bumps revision_number and updated_at, announces it. */
export async function saveDoc(tx: Tx, kind: Kind, doc: Doc): Promise<Doc> {
  doc.revision_number = ((doc.revision_number as number) ?? 0) + 1;
  doc.updated_at = timestamp();
  checkStorable(kind, doc);
  await tx.update(kind, doc);
  await tx.recordChange(kind, doc.id, 'update');
  return doc;
}

export async function deleteDoc(tx: Tx, kind: Kind, id: string): Promise<void> {
  await tx.remove(kind, id);
  await tx.recordChange(kind, id, 'delete');
}
