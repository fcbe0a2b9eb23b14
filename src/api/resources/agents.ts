// Agents report themselves here with a heartbeat (the data-plane agent, issue 3); the API lists them read-only
// and lets an operator delete a dead one, as Neutron does.

import { NeutronError } from '../../domain/errors.js';
import { agent } from '../../schema/index.js';
import { deleteDoc, saveDoc } from '../context.js';
import type { ResourceDef } from '../resource.js';

/** Neutron's agent_down_time default. */
export const AGENT_DOWN_TIME_MS = 75_000;

export const agents: ResourceDef = {
  kind: 'agent',
  schema: agent,
  /** Neutron's agent_down_time: an agent is alive while its last heartbeat is younger than this. */
  async present(_tx, doc, settings) {
    const beat = Date.parse(`${String(doc.heartbeat_timestamp).replace(' ', 'T')}Z`);
    return { ...doc, alive: Number.isFinite(beat) && Date.now() - beat < (settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS) };
  },
  async create() {
    throw new NeutronError(405, 'HTTPMethodNotAllowed', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
  },
  async update(tx, _ctx, doc, input) {
    Object.assign(doc, input);
    return saveDoc(tx, 'agent', doc);
  },
  async remove(tx, _ctx, doc) {
    await deleteDoc(tx, 'agent', doc.id);
  },
};
