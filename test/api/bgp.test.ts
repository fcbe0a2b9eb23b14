// neutron-dynamic-routing's API on v6stack: speakers and peers with Neutron's validation texts, the member actions,
// the advertised routes derived from the live topology (the talk's scenario: a speaker in AS 65001 on `public`, a
// tenant /64 from a pool in public's address scope, next hop the router's gateway address), v6stack's explanation of
// a subnet that is not advertised, and the BGP agent scheduler (bgp-drinstances, bgp-dragents).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`BGP dynamic routing API (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    const ok = async (method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200) => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const fault = async (method: string, path: string, body: unknown, status: number, type: string, message: string) => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.deepEqual(r.body, { NeutronError: { type, message, detail: '' } });
    };

    it('lists the bgp, bgp_4byte_asn and bgp_dragent_scheduler extensions', async () => {
      const aliases = (await ok('GET', '/v2.0/extensions')).extensions.map((e: { alias: string }) => e.alias);
      for (const a of ['bgp', 'bgp_4byte_asn', 'bgp_dragent_scheduler']) assert.ok(aliases.includes(a), a);
    });

    it('creates a speaker with a 4-byte ASN and shows what Neutron shows (no standard attributes)', async () => {
      const s = (await ok('POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: 's4', ip_version: 6, local_as: '4200000000' } })).bgp_speaker;
      assert.deepEqual(Object.keys(s).sort(), ['advertise_floating_ip_host_routes', 'advertise_tenant_networks', 'id', 'ip_version', 'local_as', 'name', 'networks', 'peers', 'project_id', 'tenant_id']);
      assert.equal(s.local_as, 4200000000);
      assert.equal(s.advertise_tenant_networks, true);
      assert.equal(s.advertise_floating_ip_host_routes, true);
      const upd = (await ok('PUT', `/v2.0/bgp-speakers/${s.id}`, { bgp_speaker: { advertise_floating_ip_host_routes: 'false', name: 's4b' } })).bgp_speaker;
      assert.equal(upd.advertise_floating_ip_host_routes, false);
      assert.equal(upd.name, 's4b');
      await fault('PUT', `/v2.0/bgp-speakers/${s.id}`, { bgp_speaker: { local_as: 1 } }, 400, 'HTTPBadRequest', 'Cannot update read-only attribute local_as');
      await ok('DELETE', `/v2.0/bgp-speakers/${s.id}`, undefined, 204);
      await fault('GET', `/v2.0/bgp-speakers/${s.id}`, undefined, 404, 'BgpSpeakerNotFound', `BGP speaker ${s.id} could not be found.`);
    });

    it("refuses bad speakers and peers with neutron-dynamic-routing's texts", async () => {
      await fault('POST', '/v2.0/bgp-speakers', { bgp_speaker: { ip_version: 5, local_as: 65001 } }, 400, 'HTTPBadRequest', 'Invalid input for ip_version. Reason: 5 is not in valid_values.');
      await fault('POST', '/v2.0/bgp-speakers', { bgp_speaker: { ip_version: 6, local_as: 0 } }, 400, 'HTTPBadRequest', "Invalid input for local_as. Reason: '0' is too small - must be at least '1'.");
      await fault('POST', '/v2.0/bgp-speakers', { bgp_speaker: { ip_version: 6, local_as: 4294967296 } }, 400, 'HTTPBadRequest', "Invalid input for local_as. Reason: '4294967296' is too large - must be no larger than '4294967295'.");
      await fault('POST', '/v2.0/bgp-speakers', { bgp_speaker: { ip_version: 6, local_as: 'x' } }, 400, 'HTTPBadRequest', "Invalid input for local_as. Reason: 'x' is not an integer.");
      await fault('POST', '/v2.0/bgp-peers', { bgp_peer: { peer_ip: 'nope', remote_as: 65000, auth_type: 'none' } }, 400, 'HTTPBadRequest', "Invalid input for peer_ip. Reason: 'nope' is not a valid IP address.");
      await fault('POST', '/v2.0/bgp-peers', { bgp_peer: { peer_ip: '2001:db8::2', remote_as: 65000, auth_type: 'md5' } }, 400, 'InvalidBgpPeerMd5Authentication', 'A password must be supplied when using auth_type md5.');
      await fault('POST', '/v2.0/bgp-peers', { bgp_peer: { peer_ip: '2001:db8::2', remote_as: 65000, auth_type: 'sha' } }, 400, 'HTTPBadRequest', 'Invalid input for auth_type. Reason: sha is not in valid_values.');
    });

    it('never shows a peer password; refuses one for auth_type none', async () => {
      const p = (await ok('POST', '/v2.0/bgp-peers', { bgp_peer: { name: 'md5', peer_ip: '2001:db8::7', remote_as: 65000, auth_type: 'md5', password: 's3cret' } })).bgp_peer;
      assert.equal('password' in p, false);
      assert.equal(JSON.stringify(await ok('GET', '/v2.0/bgp-peers')).includes('s3cret'), false);
      assert.equal(JSON.stringify(await ok('GET', `/v2.0/bgp-peers/${p.id}?fields=password`)).includes('s3cret'), false);
      assert.equal('password' in (await ok('PUT', `/v2.0/bgp-peers/${p.id}`, { bgp_peer: { password: 'n3w' } })).bgp_peer, false);
      const none = (await ok('POST', '/v2.0/bgp-peers', { bgp_peer: { peer_ip: '2001:db8::8', remote_as: 65000, auth_type: 'none' } })).bgp_peer;
      await fault('PUT', `/v2.0/bgp-peers/${none.id}`, { bgp_peer: { password: 'x' } }, 404, 'BgpPeerNotAuthenticated', `BGP peer ${none.id} not authenticated.`);
      await ok('DELETE', `/v2.0/bgp-peers/${p.id}`, undefined, 204);
      await ok('DELETE', `/v2.0/bgp-peers/${none.id}`, undefined, 204);
    });

    it("advertises the talk's prefix via the router's gateway address, withdraws it with the interface, and says why not", async () => {
      const scope = (await ok('POST', '/v2.0/address-scopes', { address_scope: { name: 'bgp-v6', ip_version: 6 } })).address_scope;
      const pubPool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'public-v6-pool', prefixes: ['2001:db8:cafe:17::/64'], address_scope_id: scope.id } })).subnetpool;
      const tenantPool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'tenant', prefixes: ['2001:db8:bad::/48'], default_prefixlen: 64, address_scope_id: scope.id } })).subnetpool;
      const otherPool = (await ok('POST', '/v2.0/subnetpools', { subnetpool: { name: 'unscoped', prefixes: ['2001:db8:e000::/48'], default_prefixlen: 64 } })).subnetpool;
      const pub = (await ok('POST', '/v2.0/networks', { network: { name: 'public', 'router:external': true } })).network;
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 6, subnetpool_id: pubPool.id, cidr: '2001:db8:cafe:17::/64', enable_dhcp: false } });
      const priv = (await ok('POST', '/v2.0/networks', { network: { name: 'private' } })).network;
      const face = (await ok('POST', '/v2.0/subnets', { subnet: { network_id: priv.id, ip_version: 6, subnetpool_id: tenantPool.id, cidr: '2001:db8:bad:face::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
      const other = (await ok('POST', '/v2.0/networks', { network: { name: 'other' } })).network;
      const unscoped = (await ok('POST', '/v2.0/subnets', { subnet: { network_id: other.id, ip_version: 6, subnetpool_id: otherPool.id } })).subnet;
      const v4 = (await ok('POST', '/v2.0/subnets', { subnet: { network_id: priv.id, ip_version: 4, cidr: '10.0.0.0/24' } })).subnet;
      const router = (await ok('POST', '/v2.0/routers', { router: { name: 'r1', external_gateway_info: { network_id: pub.id, external_fixed_ips: [{ ip_address: '2001:db8:cafe:17::7' }] } } })).router;
      for (const s of [face, unscoped, v4]) await ok('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });

      const speaker = (await ok('POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: 'speaker1', ip_version: 6, local_as: 65001 } })).bgp_speaker;
      const peer = (await ok('POST', '/v2.0/bgp-peers', { bgp_peer: { name: 'peer1', peer_ip: '2001:db8:cafe:17::1', remote_as: 65000, auth_type: 'none' } })).bgp_peer;
      const routes = `/v2.0/bgp-speakers/${speaker.id}/get_advertised_routes`;
      assert.deepEqual(await ok('GET', routes), { advertised_routes: [] }, 'no gateway network yet');
      assert.deepEqual(await ok('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_bgp_peer`, { bgp_peer_id: peer.id }), { bgp_peer_id: peer.id });
      await fault('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_bgp_peer`, { bgp_peer_id: peer.id }, 409, 'DuplicateBgpPeerIpException',
        `BGP Speaker ${speaker.id} is already configured to peer with a BGP Peer at 2001:db8:cafe:17::1, it cannot peer with BGP Peer ${peer.id}.`);
      assert.deepEqual(await ok('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_gateway_network`, { network_id: pub.id }), { network_id: pub.id });
      await fault('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_gateway_network`, { network_id: pub.id }, 409, 'BgpSpeakerNetworkBindingError', `Network ${pub.id} is already bound to BgpSpeaker ${speaker.id}.`);
      await fault('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_gateway_network`, {}, 400, 'BadRequest', 'Bad bgp-speaker request: network_id must be specified.');
      const shown = (await ok('GET', `/v2.0/bgp-speakers/${speaker.id}`)).bgp_speaker;
      assert.deepEqual([shown.peers, shown.networks], [[peer.id], [pub.id]]);

      assert.deepEqual(await ok('GET', routes), { advertised_routes: [{ destination: '2001:db8:bad:face::/64', next_hop: '2001:db8:cafe:17::7' }] });

      const why = (await ok('GET', `/v2.0/bgp-speakers/${speaker.id}/route_explanations`)).route_explanations;
      const byId = new Map(why.map((e: { subnet_id: string }) => [e.subnet_id, e]));
      assert.deepEqual(byId.get(face.id), { subnet_id: face.id, cidr: '2001:db8:bad:face::/64', advertised: true, next_hops: ['2001:db8:cafe:17::7'], reasons: [] });
      assert.match((byId.get(unscoped.id) as { reasons: string[] }).reasons.join('; '), /pool .* is in no address scope/);
      assert.match((byId.get(v4.id) as { reasons: string[] }).reasons.join('; '), /IPv4 and the speaker IPv6/);

      await ok('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: face.id });
      assert.deepEqual(await ok('GET', routes), { advertised_routes: [] }, 'withdrawn with the interface');
      const after = (await ok('GET', `/v2.0/bgp-speakers/${speaker.id}/route_explanations?subnet_id=${face.id}`)).route_explanations;
      assert.deepEqual(after[0].reasons, ['the subnet is on no router interface']);

      assert.equal(await ok('PUT', `/v2.0/bgp-speakers/${speaker.id}/remove_bgp_peer`, { bgp_peer_id: peer.id }), null);
      await fault('PUT', `/v2.0/bgp-speakers/${speaker.id}/remove_bgp_peer`, { bgp_peer_id: peer.id }, 404, 'BgpSpeakerPeerNotAssociated', `BGP peer ${peer.id} is not associated with BGP speaker ${speaker.id}.`);
      await fault('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_bgp_peer`, { bgp_peer_id: '6f1b7c3e-0000-4000-8000-000000000000' }, 404, 'BgpPeerNotFound', 'BGP peer 6f1b7c3e-0000-4000-8000-000000000000 could not be found.');
      assert.deepEqual(await ok('PUT', `/v2.0/bgp-speakers/${speaker.id}/remove_gateway_network`, { network_id: pub.id }), { network_id: pub.id });
      await fault('PUT', `/v2.0/bgp-speakers/${speaker.id}/remove_gateway_network`, { network_id: pub.id }, 404, 'BgpSpeakerNetworkNotAssociated', `Network ${pub.id} is not associated with BGP speaker ${speaker.id}.`);
    });

    it('advertises an associated floating IP as a /32 host route via its router\'s gateway address (IPv4 speaker)', async () => {
      const ext = (await ok('POST', '/v2.0/networks', { network: { name: 'fip-public', 'router:external': true } })).network;
      await ok('POST', '/v2.0/subnets', { subnet: { network_id: ext.id, ip_version: 4, cidr: '192.0.2.64/27' } });
      const priv = (await ok('POST', '/v2.0/networks', { network: { name: 'fip-private' } })).network;
      const privV4 = (await ok('POST', '/v2.0/subnets', { subnet: { network_id: priv.id, ip_version: 4, cidr: '10.9.0.0/24' } })).subnet;
      const router = (await ok('POST', '/v2.0/routers', { router: { name: 'fip-r', external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ ip_address: '192.0.2.70' }] } } })).router;
      await ok('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: privV4.id });
      const vm = (await ok('POST', '/v2.0/ports', { port: { network_id: priv.id, name: 'vm' } })).port;
      const speaker = (await ok('POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: 'v4-speaker', ip_version: 4, local_as: 65001, advertise_floating_ip_host_routes: true } })).bgp_speaker;
      await ok('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_gateway_network`, { network_id: ext.id });
      const routes = `/v2.0/bgp-speakers/${speaker.id}/get_advertised_routes`;
      const fip = (await ok('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ext.id, floating_ip_address: '192.0.2.80' } })).floatingip;
      assert.deepEqual(await ok('GET', routes), { advertised_routes: [] }, 'an unassociated floating IP has no next hop');
      await ok('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: vm.id } });
      assert.deepEqual(await ok('GET', routes), { advertised_routes: [{ destination: '192.0.2.80/32', next_hop: '192.0.2.70' }] });
      await ok('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } });
      assert.deepEqual(await ok('GET', routes), { advertised_routes: [] }, 'withdrawn with the association');
    });

    it('schedules speakers on BGP agents: one per agent, listed both ways, refused on other agent types', async () => {
      // The speakers of the tests above were made before any BGP agent existed: a new agent would take one of them.
      for (const s of (await ok('GET', '/v2.0/bgp-speakers')).bgp_speakers) await ok('DELETE', `/v2.0/bgp-speakers/${s.id}`, undefined, 204);
      const bgpAgent = (await ok('PUT', '/v6stack/v1/agents/host-bgp/neutron-bgp-dragent', { agent: { agent_type: 'BGP dynamic routing agent' } })).agent;
      const l3 = (await ok('PUT', '/v6stack/v1/agents/host-bgp/v6stack-agent', { agent: { agent_type: 'v6stack agent' } })).agent;
      // Created while a free BGP agent is alive: scheduled at once (ChanceScheduler).
      const s1 = (await ok('POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: 'sched1', ip_version: 6, local_as: 65001 } })).bgp_speaker;
      assert.deepEqual((await ok('GET', `/v2.0/bgp-speakers/${s1.id}/bgp-dragents`)).agents.map((a: { id: string }) => a.id), [bgpAgent.id]);
      assert.deepEqual((await ok('GET', `/v2.0/agents/${bgpAgent.id}/bgp-drinstances`)).bgp_speakers.map((s: { id: string }) => s.id), [s1.id]);
      const s2 = (await ok('POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: 'sched2', ip_version: 6, local_as: 65002 } })).bgp_speaker;
      assert.deepEqual((await ok('GET', `/v2.0/bgp-speakers/${s2.id}/bgp-dragents`)).agents, []);
      await fault('POST', `/v2.0/agents/${bgpAgent.id}/bgp-drinstances`, { bgp_speaker_id: s2.id }, 409, 'DrAgentAssociationError', `BgpDrAgent ${bgpAgent.id} is already associated to a BGP speaker.`);
      await fault('POST', `/v2.0/agents/${l3.id}/bgp-drinstances`, { bgp_speaker_id: s2.id }, 404, 'DrAgentInvalid', `BgpDrAgent ${l3.id} is invalid or has been disabled.`);
      await fault('DELETE', `/v2.0/agents/${bgpAgent.id}/bgp-drinstances/${s2.id}`, undefined, 404, 'DrAgentNotHostingBgpSpeaker', `BGP speaker ${s2.id} is not hosted by the BgpDrAgent ${bgpAgent.id}.`);
      const del = await api.request('DELETE', `/v2.0/agents/${bgpAgent.id}/bgp-drinstances/${s1.id}`);
      assert.equal(del.status, 204);
      const add = await api.request('POST', `/v2.0/agents/${bgpAgent.id}/bgp-drinstances`, { bgp_speaker_id: s2.id });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      assert.deepEqual((await ok('GET', `/v2.0/agents/${bgpAgent.id}/bgp-drinstances`)).bgp_speakers.map((s: { id: string }) => s.id), [s2.id]);
      await ok('DELETE', `/v2.0/bgp-speakers/${s2.id}`, undefined, 204);
      assert.deepEqual((await ok('GET', `/v2.0/agents/${bgpAgent.id}/bgp-drinstances`)).bgp_speakers, [], 'the binding goes with the speaker');
      await fault('GET', '/v2.0/agents/6f1b7c3e-0000-4000-8000-000000000000/bgp-drinstances', undefined, 404, 'AgentNotFound', 'Agent 6f1b7c3e-0000-4000-8000-000000000000 could not be found.');
    });

    it('gives a speaker no agent hosts to the next BGP agent that heartbeats with nothing to do', async () => {
      for (const s of (await ok('GET', '/v2.0/bgp-speakers')).bgp_speakers) await ok('DELETE', `/v2.0/bgp-speakers/${s.id}`, undefined, 204);
      await ok('PUT', '/v6stack/v1/agents/host-bgp-a/neutron-bgp-dragent', { agent: { agent_type: 'BGP dynamic routing agent' } });
      const hostOf = async (id: string): Promise<string[]> => (await ok('GET', `/v2.0/bgp-speakers/${id}/bgp-dragents`)).agents.map((a: { id: string }) => a.id);
      // Speakers until every BGP agent (host-bgp's from the test above, host-bgp-a's) hosts one and one waits.
      const made: { id: string }[] = [];
      for (let i = 0; i < 3; i++) made.push((await ok('POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: `auto${i}`, ip_version: 6, local_as: 65011 + i } })).bgp_speaker);
      const waiting = made[2]!;
      assert.equal((await hostOf(made[0]!.id)).length, 1);
      assert.equal((await hostOf(made[1]!.id)).length, 1);
      assert.deepEqual(await hostOf(waiting.id), [], 'every BGP agent is busy');
      await ok('PUT', '/v6stack/v1/agents/host-bgp-a/neutron-bgp-dragent', { agent: { agent_type: 'BGP dynamic routing agent' } });
      assert.deepEqual(await hostOf(waiting.id), [], 'a busy agent keeps its speaker and takes no other');
      const fresh = (await ok('PUT', '/v6stack/v1/agents/host-bgp-b/neutron-bgp-dragent', { agent: { agent_type: 'BGP dynamic routing agent' } })).agent;
      assert.deepEqual(await hostOf(waiting.id), [fresh.id], 'the new agent took the waiting speaker at its first heartbeat');
      for (const s of made) await ok('DELETE', `/v2.0/bgp-speakers/${s.id}`, undefined, 204);
    });
  });
}
