// metering_label_rules: neutron-lib api/definitions/metering.py with metering_source_and_destination_filters.py.
// The second extension replaces remote_ip_prefix's definition (extensions are merged attribute by attribute), so
// none of the three prefixes has an API validator: each is checked by the plugin with ipaddress.ip_interface
// (metering_plugin.py validate_metering_rule_ip_address; host bits allowed, a bare address is a /32 or /128) and
// stored as netaddr.IPNetwork prints it. Neutron raises its generic `Invalid` there, which its fault map does not
// know (a 500); v6stack answers the same type and text with 400. The checks across attributes and the overlap check
// are domain/metering.ts's. A rule shows no project (metering_db _make_metering_label_rule_dict).

import { NeutronError } from '../../domain/errors.js';
import { METERING_DIRECTIONS, meteringPrefixError, parseMeteringPrefix } from '../../domain/metering.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import { bool, cidrText, nullable, oneOf, string, uuid, withConverter, type Type } from '../types.js';
import { id } from './standard.js';

/** A prefix as ip_interface reads it, stored as netaddr.IPNetwork prints it; null and '' are "not given". */
const meteringPrefix: Type<string | null> = withConverter(nullable(cidrText), (v, attr) => {
  if (v === null || v === '') return null;
  const p = parseMeteringPrefix(v);
  if (!p) throw new NeutronError(400, 'Invalid', meteringPrefixError(attr, v));
  return p.stored;
});

export const meteringLabelRule = defineResource({
  kind: 'metering_label_rule',
  singular: 'metering_label_rule',
  plural: 'metering_label_rules',
  path: 'metering/metering-label-rules',
  doc: "Which traffic of its label's routers is counted: `remote_ip_prefix` (the far end: the source of ingress, the destination of egress traffic) or `source_ip_prefix` and/or `destination_ip_prefix`, of either family; `excluded` rules take their traffic out of the label's count. A remote_ip_prefix may not overlap another of the label's rules of the same direction and `excluded` (409 `MeteringLabelRuleOverlaps`). Admin only; no update.",
  operations: ['list', 'show', 'create', 'bulk', 'delete'],
  attributes: {
    id,
    metering_label_id: { type: uuid, post: true, required: true },
    direction: { type: oneOf(METERING_DIRECTIONS), post: true, required: true, doc: '`ingress` (into the router from outside) or `egress`' },
    excluded: { type: bool, post: true, default: false },
    remote_ip_prefix: { type: meteringPrefix, post: true, default: null, doc: 'deprecated by Neutron; not with source/destination' },
    source_ip_prefix: { type: meteringPrefix, post: true, default: null },
    destination_ip_prefix: { type: meteringPrefix, post: true, default: null },
    tenant_id: { type: string(255), post: true, adminOnly: true, hidden: true, optional: true, doc: 'accepted, not shown' },
    project_id: { type: string(255), post: true, adminOnly: true, hidden: true, optional: true, doc: 'accepted, not shown' },
  },
});

export type MeteringLabelRuleDoc = DocOf<typeof meteringLabelRule>;
export type MeteringLabelRuleInput = InputOf<typeof meteringLabelRule>;
