// agents (neutron-lib api/definitions/agent.py): made and refreshed by the agents' heartbeats (v6stack's agent
// API), listed, updated (admin_state_up, description) and deleted through Neutron's API.

import { defineResource, type DocOf } from '../define.js';
import { anyDict, bool, int, listOf, nullable, string, timestamp, uuid } from '../types.js';

export const agent = defineResource({
  kind: 'agent',
  singular: 'agent',
  plural: 'agents',
  doc: "Agents report themselves (the data plane's heartbeat); the API lists, updates and deletes them.",
  operations: ['list', 'show', 'update', 'delete'],
  attributes: {
    id: { type: uuid },
    agent_type: { type: string(255) },
    binary: { type: string(255) },
    topic: { type: string(255) },
    host: { type: string(255) },
    admin_state_up: { type: bool, put: true, default: true },
    alive: { type: bool, doc: "a heartbeat younger than agent_down_time" },
    availability_zone: { type: nullable(string(255)), doc: "the agent's --availability-zone (Neutron's [AGENT] availability_zone, default nova)" },
    configurations: { filter: false, type: anyDict, doc: 'what the agent reports (bridges, daemons)' },
    description: { type: nullable(string(255)), put: true },
    created_at: { filter: false, type: timestamp },
    started_at: { filter: false, type: timestamp },
    heartbeat_timestamp: { filter: false, type: timestamp },
    resources_synced: { filter: false, type: nullable(bool) },
    tags: { type: listOf(string(255)) },
    updated_at: { type: timestamp, optional: true },
    revision_number: { type: int(0) },
  },
});

export type Agent = DocOf<typeof agent>;
