// metering_labels: neutron-lib api/definitions/metering.py (the `metering` extension). A label has no standard
// attributes (neutron/db/models/metering.py MeteringLabel: id, project, name, description, shared): no tags,
// timestamps or revision number, and nothing of it may be updated (allow_put False everywhere; Neutron's plugin has
// no update). Admin-only under Neutron's default policy (api/policy.ts ADMIN_ONLY_KINDS).

import { defineResource, type DocOf, type InputOf } from '../define.js';
import { bool, string } from '../types.js';
import { id, project } from './standard.js';

export const meteringLabel = defineResource({
  kind: 'metering_label',
  singular: 'metering_label',
  plural: 'metering_labels',
  path: 'metering/metering-labels',
  doc: "Counts a router's traffic through its external gateway: a label applies to every router of its project, or to every router when `shared`. Its rules (`metering-label-rules`) say which traffic; the agents count it in each router's namespace and report bytes and packets per label and router (`GET /v6stack/v1/metering-labels/{id}/counters`). Admin only; no update.",
  operations: ['list', 'show', 'create', 'bulk', 'delete'],
  attributes: {
    id,
    name: { type: string(255), post: true, default: '' },
    description: { type: string(1024), post: true, default: '' },
    ...project,
    shared: { type: bool, post: true, default: false, doc: 'applies to every router, not only its project\'s' },
  },
});

export type MeteringLabelDoc = DocOf<typeof meteringLabel>;
export type MeteringLabelInput = InputOf<typeof meteringLabel>;
