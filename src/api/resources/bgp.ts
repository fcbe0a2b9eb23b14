// BGP dynamic routing (neutron-dynamic-routing's bgp, bgp_4byte_asn and bgp_dragent_scheduler extensions): speakers,
// peers, the speakers' member actions, the advertised routes (derived by domain/bgp.ts from the live topology, never
// stored), v6stack's explanation of why a subnet is not advertised, and the BGP agent scheduler. Texts are
// neutron-dynamic-routing's (extensions/bgp.py, extensions/bgp_dragentscheduler.py, db/bgp_db.py).
//
// BGP resources carry no standard attributes (no description, tags, timestamps or revision number), so they are
// stored with this module's own insert/save rather than context.ts's newDoc/saveDoc.

import { randomUUID } from 'node:crypto';
import { NeutronError, badRequest, notFound } from '../../domain/errors.js';
import { AGENT_DOWN_TIME_MS, agentAlive } from '../../domain/dhcp.js';
import { advertisedRoutes, explainAll, type BgpFloatingIpView, type BgpSpeakerView, type BgpTopology, type HostedBgpSpeaker } from '../../domain/bgp.js';
import { DEVICE_OWNER_ROUTER_GW, ROUTER_INTERFACE_OWNERS } from '../../domain/ipv6/index.js';
import type { Doc, Kind, Tx } from '../../store/types.js';
import { actionId, bgpPeer, bgpSpeaker } from '../../schema/index.js';
import { checkStorable, ownerOf, type ServerSettings } from '../context.js';
import type { ResourceDef, SubCollection } from '../resource.js';

/** neutron_dynamic_routing/services/bgp/common/constants.py AGENT_TYPE_BGP_ROUTING. */
export const AGENT_TYPE_BGP_ROUTING = 'BGP dynamic routing agent';

const speakerNotFound = (id: string) => new NeutronError(404, 'BgpSpeakerNotFound', `BGP speaker ${id} could not be found.`);
const peerNotFound = (id: string) => new NeutronError(404, 'BgpPeerNotFound', `BGP peer ${id} could not be found.`);

async function insert(tx: Tx, kind: Kind, doc: Doc): Promise<Doc> {
  checkStorable(kind, doc);
  await tx.insert(kind, doc, true);
  return doc;
}

async function save(tx: Tx, kind: Kind, doc: Doc): Promise<Doc> {
  checkStorable(kind, doc);
  await tx.update(kind, doc);
  await tx.recordChange(kind, doc.id, 'update');
  return doc;
}

async function remove(tx: Tx, kind: Kind, id: string): Promise<void> {
  await tx.remove(kind, id);
  await tx.recordChange(kind, id, 'delete');
}

const withoutPassword = (doc: Doc): Doc => {
  const { password: _hidden, ...shown } = doc;
  return shown as Doc;
};

/**
 * The floating IPs BGP may advertise as /32 host routes (advertise_floating_ip_host_routes): the associated ones, each
 * with the router that carries it (an unassociated floating IP has no router and no next hop).
 */
export async function floatingIpsForBgp(tx: Tx): Promise<BgpFloatingIpView[]> {
  const fips = await tx.list('floatingip');
  return fips
    .filter((f) => typeof f.router_id === 'string')
    .map((f) => ({ floating_ip_address: f.floating_ip_address as string, floating_network_id: f.floating_network_id as string, router_id: f.router_id as string }));
}

/** What the derivation reads, from the store: subnets, pools, routers, and only routers' ports. */
export async function bgpTopology(tx: Tx): Promise<BgpTopology> {
  const [subnets, subnetpools, routers, ports, floatingips] = await Promise.all([
    tx.list('subnet'),
    tx.list('subnetpool'),
    tx.list('router'),
    tx.list('port', { device_owner: [DEVICE_OWNER_ROUTER_GW, ...ROUTER_INTERFACE_OWNERS] }),
    floatingIpsForBgp(tx),
  ]);
  return { subnets, subnetpools, routers, ports, floatingips } as unknown as BgpTopology;
}

export const speakerView = (doc: Doc): BgpSpeakerView => doc as unknown as BgpSpeakerView;

/** Agents of the BGP type, alive or not, that host the speaker. */
async function bindingsOf(tx: Tx, speakerId: string): Promise<Doc[]> {
  return tx.list('bgp_dragent_binding', { bgp_speaker_id: [speakerId] });
}

/**
 * ChanceScheduler, deterministic: a new speaker goes to a live, enabled BGP agent that hosts none (the binding's key
 * is the agent: one speaker per agent, as os-ken's BgpSpeakerMaxScheduled(1)); none free, it waits for
 * `bgp dragent add speaker`.
 */
async function scheduleSpeaker(tx: Tx, speakerId: string, settings?: ServerSettings): Promise<void> {
  const now = Date.now();
  const agents = (await tx.list('agent')).filter(
    (a) => a.agent_type === AGENT_TYPE_BGP_ROUTING && a.admin_state_up === true && agentAlive(a as unknown as { heartbeat_timestamp: string }, now, settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS),
  );
  const taken = new Set((await tx.list('bgp_dragent_binding')).map((b) => b.id));
  const free = agents.filter((a) => !taken.has(a.id)).sort((a, b) => String(a.host).localeCompare(String(b.host)))[0];
  if (free) await insert(tx, 'bgp_dragent_binding', { id: free.id, project_id: null, name: null, bgp_speaker_id: speakerId });
}

/**
 * A live BGP agent that hosts no speaker takes a speaker no agent hosts (neutron-dynamic-routing's
 * schedule_unscheduled_bgp_speakers, run when a BGP agent syncs): a speaker created before any BGP agent existed, or
 * left by a removed agent, gets advertised as soon as an agent is there.
 */
export async function scheduleUnscheduledSpeakers(tx: Tx, agent: Doc): Promise<void> {
  if (agent.agent_type !== AGENT_TYPE_BGP_ROUTING || agent.admin_state_up !== true) return;
  const bindings = await tx.list('bgp_dragent_binding');
  if (bindings.some((b) => b.id === agent.id)) return;
  const bound = new Set(bindings.map((b) => b.bgp_speaker_id as string));
  // Speakers carry no timestamps (no standard attributes in neutron-dynamic-routing): the order is the id's, stable.
  const waiting = (await tx.list('bgp_speaker')).filter((s) => !bound.has(s.id)).sort((a, b) => a.id.localeCompare(b.id));
  if (waiting[0]) await insert(tx, 'bgp_dragent_binding', { id: agent.id, project_id: null, name: null, bgp_speaker_id: waiting[0].id });
}

export const bgpSpeakers: ResourceDef = {
  kind: 'bgp_speaker',
  schema: bgpSpeaker,

  /** A network deleted since it was bound is no longer shown (Neutron's binding goes with it: ON DELETE CASCADE). */
  async present(tx, doc) {
    const networks = doc.networks as string[];
    if (networks.length === 0) return doc;
    const alive = (await tx.list('network', { id: networks })).map((n) => n.id);
    return { ...doc, networks: networks.filter((n) => alive.includes(n)) };
  },

  async create(tx, ctx, input) {
    const project = ownerOf(ctx, input);
    const doc: Doc = {
      id: randomUUID(),
      name: (input.name as string | undefined) ?? '',
      local_as: input.local_as,
      ip_version: input.ip_version,
      tenant_id: project,
      peers: [],
      networks: [],
      advertise_floating_ip_host_routes: (input.advertise_floating_ip_host_routes as boolean | undefined) ?? true,
      advertise_tenant_networks: (input.advertise_tenant_networks as boolean | undefined) ?? true,
      project_id: project,
    };
    await insert(tx, 'bgp_speaker', doc);
    await scheduleSpeaker(tx, doc.id, ctx.settings);
    return doc;
  },

  async update(tx, _ctx, doc, input) {
    Object.assign(doc, input);
    return save(tx, 'bgp_speaker', doc);
  },

  async remove(tx, _ctx, doc) {
    for (const b of await bindingsOf(tx, doc.id)) await remove(tx, 'bgp_dragent_binding', b.id);
    await remove(tx, 'bgp_speaker', doc.id);
  },

  actions: {
    async add_bgp_peer(tx, _ctx, doc, body) {
      const peerId = actionId(body, 'bgp_peer_id');
      const peer = await tx.get('bgp_peer', peerId);
      if (!peer) throw peerNotFound(peerId);
      const current = await tx.list('bgp_peer', { id: doc.peers as string[] });
      if (current.some((p) => p.peer_ip === peer.peer_ip)) {
        throw new NeutronError(
          409,
          'DuplicateBgpPeerIpException',
          `BGP Speaker ${doc.id} is already configured to peer with a BGP Peer at ${String(peer.peer_ip)}, it cannot peer with BGP Peer ${peerId}.`,
        );
      }
      doc.peers = [...(doc.peers as string[]), peerId];
      await save(tx, 'bgp_speaker', doc);
      return { bgp_peer_id: peerId };
    },

    async remove_bgp_peer(tx, _ctx, doc, body) {
      const peerId = actionId(body, 'bgp_peer_id');
      if (!(doc.peers as string[]).includes(peerId)) {
        throw new NeutronError(404, 'BgpSpeakerPeerNotAssociated', `BGP peer ${peerId} is not associated with BGP speaker ${doc.id}.`);
      }
      doc.peers = (doc.peers as string[]).filter((p) => p !== peerId);
      await save(tx, 'bgp_speaker', doc);
      return null; // BgpPlugin.remove_bgp_peer returns nothing: the body is JSON null
    },

    async add_gateway_network(tx, _ctx, doc, body) {
      const networkId = actionId(body, 'network_id');
      if (!(await tx.get('network', networkId))) throw notFound('network', networkId);
      // Neutron binds any network, external or not (RESULTS.md: an internal network is accepted, 200).
      if ((doc.networks as string[]).includes(networkId)) {
        throw new NeutronError(409, 'BgpSpeakerNetworkBindingError', `Network ${networkId} is already bound to BgpSpeaker ${doc.id}.`);
      }
      doc.networks = [...(doc.networks as string[]), networkId];
      await save(tx, 'bgp_speaker', doc);
      return { network_id: networkId };
    },

    async remove_gateway_network(tx, _ctx, doc, body) {
      const networkId = actionId(body, 'network_id');
      if (!(doc.networks as string[]).includes(networkId)) {
        throw new NeutronError(404, 'BgpSpeakerNetworkNotAssociated', `Network ${networkId} is not associated with BGP speaker ${doc.id}.`);
      }
      doc.networks = (doc.networks as string[]).filter((n) => n !== networkId);
      await save(tx, 'bgp_speaker', doc);
      return { network_id: networkId };
    },
  },

  getActions: {
    /** GET …/get_advertised_routes: {"advertised_routes": [{"destination", "next_hop"}]}. */
    async get_advertised_routes(tx, _ctx, doc) {
      return { advertised_routes: advertisedRoutes(speakerView(doc), await bgpTopology(tx)) };
    },
    /**
     * v6stack's own (Neutron stays silent here): for every subnet not on the speaker's gateway networks, whether it
     * is advertised, with which next hops, and if not, every reason. `?subnet_id=` narrows it.
     */
    async route_explanations(tx, _ctx, doc, url) {
      const wanted = url.searchParams.getAll('subnet_id');
      const all = explainAll(speakerView(doc), await bgpTopology(tx));
      return { route_explanations: wanted.length ? all.filter((e) => wanted.includes(e.subnet_id)) : all };
    },
  },

  subCollections: {
    /** GET /v2.0/bgp-speakers/{id}/bgp-dragents: {"agents": [...]}, the agents hosting it. */
    'bgp-dragents': {
      async list(tx, _ctx, doc, settings) {
        const ids = (await bindingsOf(tx, doc.id)).map((b) => b.id);
        const agents = ids.length ? await tx.list('agent', { id: ids }) : [];
        const now = Date.now();
        return {
          agents: agents.map((a) => ({ ...a, alive: agentAlive(a as unknown as { heartbeat_timestamp: string }, now, settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS) })),
        };
      },
    },
  },
};

async function checkDrAgent(tx: Tx, agent: Doc, needUp: boolean): Promise<void> {
  if (agent.agent_type !== AGENT_TYPE_BGP_ROUTING || (needUp && agent.admin_state_up !== true)) {
    throw new NeutronError(404, 'DrAgentInvalid', `BgpDrAgent ${agent.id} is invalid or has been disabled.`);
  }
  void tx;
}

/** /v2.0/agents/{id}/bgp-drinstances (bgp_dragent_scheduler): the speakers an agent hosts. */
export const bgpDrInstances: SubCollection = {
  async list(tx, _ctx, agent) {
    const ids = (await tx.list('bgp_dragent_binding', { id: [agent.id] })).map((b) => b.bgp_speaker_id as string);
    return { bgp_speakers: ids.length ? await tx.list('bgp_speaker', { id: ids }) : [] };
  },
  async create(tx, _ctx, agent, body) {
    const speakerId = body.bgp_speaker_id;
    if (typeof speakerId !== 'string') throw badRequest('bgp-drinstance', 'bgp_speaker_id must be specified');
    await checkDrAgent(tx, agent, true);
    if (!(await tx.get('bgp_speaker', speakerId))) throw speakerNotFound(speakerId);
    if (await tx.get('bgp_dragent_binding', agent.id)) {
      throw new NeutronError(409, 'DrAgentAssociationError', `BgpDrAgent ${agent.id} is already associated to a BGP speaker.`);
    }
    await insert(tx, 'bgp_dragent_binding', { id: agent.id, project_id: null, name: null, bgp_speaker_id: speakerId });
    return null;
  },
  async remove(tx, _ctx, agent, speakerId) {
    await checkDrAgent(tx, agent, false);
    const binding = await tx.get('bgp_dragent_binding', agent.id);
    if (!binding || binding.bgp_speaker_id !== speakerId) {
      throw new NeutronError(404, 'DrAgentNotHostingBgpSpeaker', `BGP speaker ${speakerId} is not hosted by the BgpDrAgent ${agent.id}.`);
    }
    await remove(tx, 'bgp_dragent_binding', agent.id);
  },
};

export const bgpPeers: ResourceDef = {
  kind: 'bgp_peer',
  schema: bgpPeer,

  /** The password is is_visible False: stored for the agent, never shown. */
  async present(_tx, doc) {
    return withoutPassword(doc);
  },

  async create(tx, ctx, input) {
    const password = (input.password as string | null | undefined) ?? null;
    if (input.auth_type === 'md5' && !password) {
      throw new NeutronError(400, 'InvalidBgpPeerMd5Authentication', 'A password must be supplied when using auth_type md5.');
    }
    const project = ownerOf(ctx, input);
    const doc: Doc = {
      id: randomUUID(),
      name: (input.name as string | undefined) ?? '',
      peer_ip: input.peer_ip,
      remote_as: input.remote_as,
      auth_type: input.auth_type,
      password,
      tenant_id: project,
      project_id: project,
    };
    return insert(tx, 'bgp_peer', doc);
  },

  async update(tx, _ctx, doc, input) {
    if (input.password !== undefined && input.password !== null && doc.auth_type === 'none') {
      throw new NeutronError(404, 'BgpPeerNotAuthenticated', `BGP peer ${doc.id} not authenticated.`);
    }
    Object.assign(doc, input);
    return save(tx, 'bgp_peer', doc);
  },

  /** The peer leaves every speaker it was added to (bgp_speaker_peer_bindings: ON DELETE CASCADE). */
  async remove(tx, _ctx, doc) {
    for (const s of await tx.list('bgp_speaker')) {
      if (!(s.peers as string[]).includes(doc.id)) continue;
      s.peers = (s.peers as string[]).filter((p) => p !== doc.id);
      await save(tx, 'bgp_speaker', s);
    }
    await remove(tx, 'bgp_peer', doc.id);
  },
};

export { speakerNotFound, peerNotFound };

/**
 * What a BGP agent host runs (Neutron's BgpDrAgent RPC get_bgp_speakers: get_bgp_speaker_with_advertised_routes):
 * each speaker scheduled to this host's enabled BGP agent, with its peers (passwords included: the agent needs them
 * for TCP MD5) and its advertised routes. Served on v6stack's agent API only, never on /v2.0.
 */
export async function hostedBgpSpeakers(tx: Tx, host: string): Promise<HostedBgpSpeaker[]> {
  const agents = (await tx.list('agent', { host: [host] })).filter((a) => a.agent_type === AGENT_TYPE_BGP_ROUTING && a.admin_state_up === true);
  if (!agents.length) return [];
  const bindings = await tx.list('bgp_dragent_binding', { id: agents.map((a) => a.id) });
  if (!bindings.length) return [];
  const topo = await bgpTopology(tx);
  const out: HostedBgpSpeaker[] = [];
  for (const b of bindings) {
    const s = await tx.get('bgp_speaker', b.bgp_speaker_id as string);
    if (!s) continue;
    const peers = (s.peers as string[]).length ? await tx.list('bgp_peer', { id: s.peers as string[] }) : [];
    out.push({
      id: s.id,
      local_as: s.local_as as number,
      ip_version: s.ip_version as 4 | 6,
      networks: s.networks as string[],
      peers: peers.map((p) => ({ id: p.id, peer_ip: p.peer_ip as string, remote_as: p.remote_as as number, auth_type: p.auth_type as 'none' | 'md5', password: (p.password as string | null) ?? null })),
      advertised_routes: advertisedRoutes(speakerView(s), topo),
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
