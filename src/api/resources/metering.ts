// Metering labels and their rules (the `metering` and `metering_source_and_destination_fields` extensions):
// neutron/db/metering/metering_db.py and neutron/services/metering/metering_plugin.py. Create, list, show and delete;
// nothing is updatable. A rule's prefixes were read as the plugin reads them when the body was converted
// (schema/resources/metering-label-rule.ts); here are the checks across attributes, the overlap check
// (domain/metering.ts) and the label's existence (MeteringLabelNotFound, Neutron's DBReferenceError). Deleting a
// label deletes its rules (the foreign key's ON DELETE CASCADE) and the counters agents reported for it. The agents
// count (agent/features/metering.ts) and report (api/metering-counters.ts).

import { randomUUID } from 'node:crypto';
import { NeutronError, notFound } from '../../domain/errors.js';
import { meteringRuleProblem, overlappingRule, type MeteringRule } from '../../domain/metering.js';
import { isUuid, meteringLabel, meteringLabelRule } from '../../schema/index.js';
import type { Doc, Tx } from '../../store/types.js';
import { deleteDoc, insertDoc, ownerOf } from '../context.js';
import type { ResourceDef } from '../resource.js';

export const METERING_LABEL_KIND = 'metering_label' as const;
export const METERING_RULE_KIND = 'metering_label_rule' as const;
/** The counts agents report, one document per label, router and host (api/metering-counters.ts). */
export const METERING_COUNTER_KIND = 'metering_counter' as const;

export const meteringLabels: ResourceDef = {
  kind: METERING_LABEL_KIND,
  schema: meteringLabel,
  async create(tx, ctx, input) {
    const project = ownerOf(ctx, input);
    // metering_db _make_metering_label_dict's attributes (tenant_id as the project-id extension adds it).
    const doc = {
      id: randomUUID(),
      name: (input.name as string | undefined) ?? '',
      description: (input.description as string | undefined) ?? '',
      tenant_id: project,
      project_id: project,
      shared: (input.shared as boolean | undefined) ?? false,
    };
    return insertDoc(tx, METERING_LABEL_KIND, doc);
  },
  async remove(tx, _ctx, doc) {
    for (const rule of await tx.list(METERING_RULE_KIND, { metering_label_id: [doc.id] })) await deleteDoc(tx, METERING_RULE_KIND, rule.id);
    await removeCounters(tx, doc.id);
    await deleteDoc(tx, METERING_LABEL_KIND, doc.id);
  },
};

/** A deleted label's counters go with it (they are not announced: agents do not follow them). */
async function removeCounters(tx: Tx, labelId: string): Promise<void> {
  for (const c of await tx.list(METERING_COUNTER_KIND, { metering_label_id: [labelId] })) await tx.remove(METERING_COUNTER_KIND, c.id);
}

export const meteringLabelRules: ResourceDef = {
  kind: METERING_RULE_KIND,
  schema: meteringLabelRule,
  async create(tx, ctx, input) {
    const rule: MeteringRule = {
      id: randomUUID(),
      metering_label_id: input.metering_label_id as string,
      direction: input.direction as MeteringRule['direction'],
      excluded: (input.excluded as boolean | undefined) ?? false,
      remote_ip_prefix: (input.remote_ip_prefix as string | null | undefined) ?? null,
      source_ip_prefix: (input.source_ip_prefix as string | null | undefined) ?? null,
      destination_ip_prefix: (input.destination_ip_prefix as string | null | undefined) ?? null,
    };
    ownerOf(ctx, input); // project_id and tenant_id must agree, as everywhere
    const problem = meteringRuleProblem(rule);
    if (problem) throw new NeutronError(400, 'Invalid', problem);
    // check_for_rule_overlaps runs before the insert finds the label missing (it lists the label's rules: none).
    const siblings = (await tx.list(METERING_RULE_KIND, { metering_label_id: [rule.metering_label_id] })) as unknown as MeteringRule[];
    if (overlappingRule(siblings, rule)) {
      throw new NeutronError(409, 'MeteringLabelRuleOverlaps', `Metering label rule with remote_ip_prefix '${rule.remote_ip_prefix}' overlaps another.`);
    }
    if (!(await tx.get(METERING_LABEL_KIND, rule.metering_label_id))) throw notFound(METERING_LABEL_KIND, rule.metering_label_id);
    return insertDoc(tx, METERING_RULE_KIND, { ...rule });
  },
  async remove(tx, _ctx, doc) {
    await deleteDoc(tx, METERING_RULE_KIND, doc.id);
  },
};

// ---- The counts (v6stack's own API, beside Neutron's: Neutron's metering agent sends them as notifications).

/** One counter as an agent read it: absolute since the kernel made it (a new namespace starts again at 0). */
export interface CounterReading {
  metering_label_id: string;
  router_id: string;
  direction: 'ingress' | 'egress';
  packets: number;
  bytes: number;
}

interface Count {
  packets: number;
  bytes: number;
}

/** The stored counts of one label on one router as one host counted them. */
interface CounterDoc {
  id: string;
  metering_label_id: string;
  router_id: string;
  host: string;
  ingress: Count;
  egress: Count;
  /** The last readings, to turn the next ones into increments. */
  last: { ingress: Count; egress: Count };
  updated_at: string;
}

const zero = (): Count => ({ packets: 0, bytes: 0 });
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** The readings of a report body, checked (the agents send them; nothing else stands between a body and the store). */
export function readingsOf(body: unknown): { host: string; readings: CounterReading[] } {
  const b = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const host = b.host;
  if (typeof host !== 'string' || !host || host.length > 255) throw new NeutronError(400, 'HTTPBadRequest', 'host must be a non-empty string');
  if (!Array.isArray(b.counters)) throw new NeutronError(400, 'HTTPBadRequest', 'counters must be a list');
  const readings = b.counters.map((c, i) => {
    const r = (c ?? {}) as Record<string, unknown>;
    const ok =
      typeof r.metering_label_id === 'string' &&
      typeof r.router_id === 'string' &&
      r.metering_label_id.length <= 64 &&
      r.router_id.length <= 64 &&
      (r.direction === 'ingress' || r.direction === 'egress') &&
      isCount(r.packets) &&
      isCount(r.bytes);
    if (!ok) throw new NeutronError(400, 'HTTPBadRequest', `counters[${i}] must be {metering_label_id, router_id, direction: ingress|egress, packets, bytes}`);
    return r as unknown as CounterReading;
  });
  return { host, readings };
}

/**
 * Adds a host's readings to the stored counts: each reading's increase since the last one (a reading below the last
 * means the kernel's counter started again, as when a router's namespace is remade: all of it is new). Readings of
 * labels that no longer exist are dropped. Not announced on the change feed (agents do not follow counts).
 */
export async function recordReadings(tx: Tx, host: string, readings: readonly CounterReading[], now: string): Promise<number> {
  let n = 0;
  const labels = new Map<string, boolean>();
  for (const r of readings) {
    if (!labels.has(r.metering_label_id)) labels.set(r.metering_label_id, isUuid(r.metering_label_id) && (await tx.get(METERING_LABEL_KIND, r.metering_label_id)) !== undefined);
    if (!labels.get(r.metering_label_id)) continue;
    const id = `${r.metering_label_id}/${r.router_id}/${host}`;
    const stored = (await tx.get(METERING_COUNTER_KIND, id)) as unknown as CounterDoc | undefined;
    const doc: CounterDoc = stored ?? { id, metering_label_id: r.metering_label_id, router_id: r.router_id, host, ingress: zero(), egress: zero(), last: { ingress: zero(), egress: zero() }, updated_at: now };
    const last = doc.last[r.direction];
    const restarted = r.bytes < last.bytes || r.packets < last.packets;
    doc[r.direction] = {
      packets: doc[r.direction].packets + (restarted ? r.packets : r.packets - last.packets),
      bytes: doc[r.direction].bytes + (restarted ? r.bytes : r.bytes - last.bytes),
    };
    doc.last[r.direction] = { packets: r.packets, bytes: r.bytes };
    doc.updated_at = now;
    if (stored) await tx.update(METERING_COUNTER_KIND, doc as unknown as Doc);
    else await tx.insert(METERING_COUNTER_KIND, doc as unknown as Doc, false);
    n++;
  }
  return n;
}

/** GET /v6stack/v1/metering-labels/<id>/counters: bytes and packets per router (summed over hosts) and in total. */
export async function labelCounters(tx: Tx, labelId: string): Promise<unknown> {
  if (!isUuid(labelId) || !(await tx.get(METERING_LABEL_KIND, labelId))) throw notFound(METERING_LABEL_KIND, labelId);
  const docs = (await tx.list(METERING_COUNTER_KIND, { metering_label_id: [labelId] })) as unknown as CounterDoc[];
  const routers = new Map<string, { router_id: string; hosts: string[]; ingress: Count; egress: Count; updated_at: string }>();
  for (const d of docs.sort((a, b) => a.id.localeCompare(b.id))) {
    const r = routers.get(d.router_id) ?? { router_id: d.router_id, hosts: [], ingress: zero(), egress: zero(), updated_at: d.updated_at };
    r.hosts.push(d.host);
    for (const dir of ['ingress', 'egress'] as const) r[dir] = { packets: r[dir].packets + d[dir].packets, bytes: r[dir].bytes + d[dir].bytes };
    if (d.updated_at > r.updated_at) r.updated_at = d.updated_at;
    routers.set(d.router_id, r);
  }
  const list = [...routers.values()].map((r) => ({ ...r, packets: r.ingress.packets + r.egress.packets, bytes: r.ingress.bytes + r.egress.bytes }));
  const total = { ingress: zero(), egress: zero() };
  for (const r of list) for (const dir of ['ingress', 'egress'] as const) total[dir] = { packets: total[dir].packets + r[dir].packets, bytes: total[dir].bytes + r[dir].bytes };
  return { metering_label_id: labelId, routers: list, total: { ...total, packets: total.ingress.packets + total.egress.packets, bytes: total.ingress.bytes + total.egress.bytes } };
}
