// Agents report themselves here with a heartbeat (the data-plane agent, issue 3); the API lists them read-only
// and lets an operator delete a dead one, as Neutron does.

import { NeutronError } from '../../domain/errors.js';
import { AGENT_DOWN_TIME_MS, agentAlive, V6STACK_AGENT_BINARY } from '../../domain/dhcp.js';
import { agent } from '../../schema/index.js';
import { deleteDoc, saveDoc } from '../context.js';
import type { ResourceDef } from '../resource.js';
import { syncAllDhcpPorts, syncDhcpPort } from '../dhcp-ports.js';
import { DHCP_AGENT_BINARY, dhcpNetworksOfAgent, dropDhcpBindingsOfAgent } from '../dhcp-agent-scheduler.js';
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
    // A v6stack agent's DHCP role is shown as its host's "DHCP agent" row (dhcp-agent-scheduler.ts): it goes too.
    const gone = [doc];
    if (doc.binary === V6STACK_AGENT_BINARY) {
      for (const a of await tx.list('agent', { host: [doc.host as string] })) {
        if (a.binary !== DHCP_AGENT_BINARY) continue;
        await deleteDoc(tx, 'agent', a.id);
        gone.push(a);
      }
    }
    // A DHCP agent's networks go to another live DHCP agent, if there is one (its bindings go with it, as Neutron's
    // foreign key cascades; the networks are scheduled again at once).
    for (const a of gone) for (const networkId of await dropDhcpBindingsOfAgent(tx, a.id)) await syncDhcpPort(tx, ctx.settings, networkId);
    await syncAllDhcpPorts(tx, ctx.settings);
  },
  /**
   * bgp_dragent_scheduler: the BGP speakers an agent hosts; l3_agent_scheduler: the routers an L3 agent hosts;
   * dhcp_agent_scheduler: the networks a DHCP agent hosts.
   */
  subCollections: {
    'bgp-drinstances': bgpDrInstances,
    'l3-routers': { list: (tx, _ctx, doc) => l3RoutersOnAgent(tx, doc) },
    'dhcp-networks': dhcpNetworksOfAgent(syncDhcpPort),
  },
};
