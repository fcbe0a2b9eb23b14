// Agents report themselves here with a heartbeat (the data-plane agent, issue 3); the API lists them read-only
// and lets an operator delete a dead one, as Neutron does.

import { NeutronError } from '../../domain/errors.js';
import { AGENT_DOWN_TIME_MS, agentAlive } from '../../domain/dhcp.js';
import { agent } from '../../schema/index.js';
import { deleteDoc, saveDoc } from '../context.js';
import type { ResourceDef } from '../resource.js';
import { syncAllDhcpPorts } from '../dhcp-ports.js';
import { bgpDrInstances } from './bgp.js';
import { l3RoutersOnAgent } from '../ha-routers.js';

export { AGENT_DOWN_TIME_MS };

export const agents: ResourceDef = {
  kind: 'agent',
  schema: agent,
  /** Neutron's agent_down_time: an agent is alive while its last heartbeat is younger than this. */
  async present(_tx, doc, settings) {
    return { ...doc, alive: agentAlive(doc as unknown as { heartbeat_timestamp: string }, Date.now(), settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS) };
  },
  async create() {
    throw new NeutronError(405, 'HTTPMethodNotAllowed', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
  },
  async update(tx, _ctx, doc, input) {
    Object.assign(doc, input);
    return saveDoc(tx, 'agent', doc);
  },
  async remove(tx, ctx, doc) {
    await deleteDoc(tx, 'agent', doc.id);
    // Its networks go to another live DHCP host, if there is one (Neutron reschedules a removed agent's networks).
    await syncAllDhcpPorts(tx, ctx.settings);
  },
  /** bgp_dragent_scheduler: the BGP speakers an agent hosts; l3_agent_scheduler: the routers an L3 agent hosts. */
  subCollections: { 'bgp-drinstances': bgpDrInstances, 'l3-routers': { list: (tx, _ctx, doc) => l3RoutersOnAgent(tx, doc) } },
};
