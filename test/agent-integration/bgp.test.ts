// BGP dynamic routing on the wire, the talk's scenario literally: a speaker in AS 65001 on `public`, a GoBGP peer in
// AS 65000 in the data centre beyond it (the `lab dc` namespace, 2001:db8:cafe:17::1), an MD5 password, and the
// tenant prefix 2001:db8:bad:face::/64 learned via the router's gateway address 2001:db8:cafe:17::7. Removing the
// router interface withdraws the prefix without resetting the session; restarting the agent neither withdraws nor
// re-announces it (BIRD is killed without a Cease, the peer keeps the routes under graceful restart, RFC 4724).
// Everything it makes (the agent's namespaces, the DC namespace, gobgpd) is removed in `finally`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProcess, ipJson, pingFrom, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'bird', 'gobgpd', 'gobgp']);
const PREFIX = '2001:db8:bad:face::/64';
const NEXT_HOP = '2001:db8:cafe:17::7';
const PEER_IP = '2001:db8:cafe:17::1';
const PASSWORD = 'talk-secret';

interface RibPath { nexthop: string; stale: boolean; age: number }

/** The peer's IPv6 RIB: prefix -> its paths' next hops, stale flags and ages (gobgp global rib -j). */
function rib(ns: string): Map<string, RibPath[]> {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'gobgp', '-u', '127.0.0.1', '-p', '50051', 'global', 'rib', '-a', 'ipv6', '-j'], { encoding: 'utf8' });
  const out = new Map<string, RibPath[]>();
  if (r.status !== 0 || !r.stdout.trim()) return out;
  const json = JSON.parse(r.stdout) as Record<string, { attrs: { type: number; nexthop?: string }[]; stale?: boolean; age: number }[]>;
  for (const [prefix, paths] of Object.entries(json)) {
    out.set(prefix, paths.map((p) => ({ nexthop: p.attrs.find((a) => a.type === 14)?.nexthop ?? '', stale: p.stale === true, age: p.age })));
  }
  return out;
}

/** The session's state as the peer sees it ("Establ" once established). */
function neighborState(ns: string): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'gobgp', '-u', '127.0.0.1', '-p', '50051', 'neighbor'], { encoding: 'utf8' });
  return r.stdout.split('\n').find((l) => l.startsWith(NEXT_HOP)) ?? '';
}

type Env = Awaited<ReturnType<typeof startEnv>>;

/** The talk's topology: one address scope for public's 2001:db8:cafe:17::/64 and the tenant pool, the tenant /64, a
 * router with its gateway at 2001:db8:cafe:17::7 (no interface yet). */
async function talkTopology(env: Env) {
  const scope = (await env.api('POST', '/v2.0/address-scopes', { address_scope: { name: `bgp-${env.tag}`, ip_version: 6 } })).address_scope;
  const pubPool = (await env.api('POST', '/v2.0/subnetpools', { subnetpool: { name: `pub-${env.tag}`, prefixes: ['2001:db8:cafe:17::/64'], address_scope_id: scope.id } })).subnetpool;
  const tenantPool = (await env.api('POST', '/v2.0/subnetpools', { subnetpool: { name: `ten-${env.tag}`, prefixes: ['2001:db8:bad::/48'], default_prefixlen: 64, address_scope_id: scope.id } })).subnetpool;
  const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `pub-${env.tag}`, 'router:external': true } })).network;
  const pub6 = (await env.api('POST', '/v2.0/subnets', {
    subnet: { network_id: pub.id, ip_version: 6, subnetpool_id: pubPool.id, cidr: '2001:db8:cafe:17::/64', gateway_ip: PEER_IP, enable_dhcp: false },
  })).subnet;
  const net = (await env.api('POST', '/v2.0/networks', { network: { name: `priv-${env.tag}` } })).network;
  const face = (await env.api('POST', '/v2.0/subnets', {
    subnet: { network_id: net.id, ip_version: 6, subnetpool_id: tenantPool.id, cidr: PREFIX, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
  })).subnet;
  const router = (await env.api('POST', '/v2.0/routers', {
    router: { name: `r-${env.tag}`, external_gateway_info: { network_id: pub.id, external_fixed_ips: [{ subnet_id: pub6.id, ip_address: NEXT_HOP }] } },
  })).router;
  env.extraNs.push(`qrouter-${router.id}`, `qdhcp-${net.id}`);
  return { pub, pub6, net, face, router };
}

test("the talk's BGP scenario: GoBGP in the DC learns the tenant prefix via the router's gateway, with MD5; withdrawn with the interface; kept across an agent restart", { skip, timeout: 300_000 }, async () => {
  const env = await startEnv();
  const dcName = `${env.tag}dc`;
  const dcNs = `lab-${dcName}`;
  let gobgpd: ReturnType<typeof spawn> | undefined;
  try {
    // This host's agent, as a BGP dynamic routing agent too.
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir, ['--bgp']);
    await env.agent.waitLine(/in sync:/);
    await until('the BGP agent in the agents list', async () =>
      (await env.api('GET', `/v2.0/agents?agent_type=${encodeURIComponent('BGP dynamic routing agent')}&host=${env.host}`)).agents[0],
    );

    const { pub, net, face, router } = await talkTopology(env);

    // The DC (the upstream router, holding 2001:db8:cafe:17::1) with a GoBGP peer in AS 65000, MD5 and graceful restart.
    const dc = await env.lab(['dc', '--network', pub.id, '--name', dcName]);
    assert.equal(dc.status, 0, dc.stderr);
    const conf = join(env.dir, 'gobgp-peer.toml');
    writeFileSync(conf, [
      '[global.config]', '  as = 65000', '  router-id = "192.0.2.1"', `  local-address-list = ["${PEER_IP}"]`,
      '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${NEXT_HOP}"`, '    peer-as = 65001', `    auth-password = "${PASSWORD}"`,
      '  [neighbors.graceful-restart.config]', '    enabled = true',
      '  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv6-unicast"',
      '    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true', '',
    ].join('\n'));
    gobgpd = spawn('ip', ['netns', 'exec', dcNs, 'gobgpd', '-f', conf, '-p', '--api-hosts=127.0.0.1:50051', '--pprof-disable'], { stdio: 'ignore' });

    // The speaker: created while this host's BGP agent is free, so scheduled to it at once.
    const speaker = (await env.api('POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: `speaker-${env.tag}`, ip_version: 6, local_as: 65001 } })).bgp_speaker;
    const hosting = (await env.api('GET', `/v2.0/bgp-speakers/${speaker.id}/bgp-dragents`)).agents;
    assert.deepEqual(hosting.map((a: { host: string }) => a.host), [env.host]);
    const peer = (await env.api('POST', '/v2.0/bgp-peers', { bgp_peer: { name: `dc-${env.tag}`, peer_ip: PEER_IP, remote_as: 65000, auth_type: 'md5', password: PASSWORD } })).bgp_peer;
    await env.api('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_gateway_network`, { network_id: pub.id });
    await env.api('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_bgp_peer`, { bgp_peer_id: peer.id });
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: face.id });
    assert.deepEqual((await env.api('GET', `/v2.0/bgp-speakers/${speaker.id}/get_advertised_routes`)).advertised_routes, [{ destination: PREFIX, next_hop: NEXT_HOP }]);

    // The peer learns exactly the advertised prefix, with the router's gateway address as next hop.
    const learned = await until('GoBGP learns the tenant prefix', () => {
      const r = rib(dcNs);
      return r.get(PREFIX)?.[0]?.nexthop === NEXT_HOP ? r : false;
    }, 90_000);
    assert.deepEqual([...learned.keys()], [PREFIX]);
    assert.deepEqual(learned.get(PREFIX)!.map((p) => p.nexthop), [NEXT_HOP]);

    // An agent restart: BIRD dies without a Cease; the peer keeps the route (stale at most), then the new BIRD
    // refreshes it; it is never withdrawn and re-learned (its age keeps counting from the first announcement).
    const before = learned.get(PREFIX)![0]!.age;
    await env.agent.stop();
    const during = rib(dcNs).get(PREFIX);
    assert.ok(during && during[0]!.nexthop === NEXT_HOP, 'kept while the agent is down');
    env.agent = new AgentProcess(env.url, env.host, env.stateDir, ['--bgp']);
    await env.agent.waitLine(/in sync:/);
    await until('the session re-established and the route no longer stale', () => {
      const p = rib(dcNs).get(PREFIX)?.[0];
      return neighborState(dcNs).includes('Establ') && p && !p.stale && p.nexthop === NEXT_HOP;
    }, 90_000);
    assert.equal(rib(dcNs).get(PREFIX)![0]!.age, before, 'the same path, not a new announcement');

    // Removing the router interface withdraws the prefix.
    await env.api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: face.id });
    await until('GoBGP withdraws the tenant prefix', () => !rib(dcNs).has(PREFIX), 60_000);
  } finally {
    if (gobgpd?.pid) {
      gobgpd.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
    }
    await shAsync(['ip', 'netns', 'del', dcNs]);
    await env.cleanup();
  }
});

const frrSkip = skipReason(['ip', 'radvd', 'dnsmasq', 'bird', 'vtysh', 'ping']) || (existsSync('/usr/lib/frr/bgpd') ? false : 'FRR is not installed (Debian frr)');

test("FRR in the DC learns the talk's prefix via the router's gateway, installs it, and a lab instance's traffic comes back by it", { skip: frrSkip, timeout: 300_000 }, async () => {
  const env = await startEnv();
  const dcName = `${env.tag}dc`;
  const dcNs = `lab-${dcName}`;
  const frr = join(env.dir, 'frr');
  const daemons: ReturnType<typeof spawn>[] = [];
  try {
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir, ['--bgp']);
    await env.agent.waitLine(/in sync:/);
    await until('the BGP agent in the agents list', async () =>
      (await env.api('GET', `/v2.0/agents?agent_type=${encodeURIComponent('BGP dynamic routing agent')}&host=${env.host}`)).agents[0],
    );
    const { pub, net, face, router } = await talkTopology(env);
    // The DC before the tenant network is routed: it holds no static route back to it, only what BGP teaches it.
    const dc = await env.lab(['dc', '--network', pub.id, '--name', dcName]);
    assert.equal(dc.status, 0, dc.stderr);
    mkdirSync(frr, { recursive: true });
    writeFileSync(join(frr, 'zebra.conf'), 'hostname dc\n');
    writeFileSync(join(frr, 'bgpd.conf'), [
      'hostname dc', 'router bgp 65000', ' bgp router-id 192.0.2.1', ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast',
      ` neighbor ${NEXT_HOP} remote-as 65001`, ` neighbor ${NEXT_HOP} password ${PASSWORD}`,
      ' address-family ipv6 unicast', `  neighbor ${NEXT_HOP} activate`, ' exit-address-family', '',
    ].join('\n'));
    // FRR's daemons drop to user frr: their directory must be theirs (lab facts §5).
    spawnSync('chown', ['-R', 'frr:frr', frr]);
    const common = ['-z', join(frr, 'zserv.api'), '--vty_socket', frr, '-P', '0'];
    daemons.push(spawn('ip', ['netns', 'exec', dcNs, '/usr/lib/frr/zebra', '-f', join(frr, 'zebra.conf'), '-i', join(frr, 'zebra.pid'), ...common, '--log', `file:${join(frr, 'zebra.log')}`], { stdio: 'ignore' }));
    await until('zebra socket', () => existsSync(join(frr, 'zserv.api')));
    daemons.push(spawn('ip', ['netns', 'exec', dcNs, '/usr/lib/frr/bgpd', '-f', join(frr, 'bgpd.conf'), '-i', join(frr, 'bgpd.pid'), ...common, '--log', `file:${join(frr, 'bgpd.log')}`], { stdio: 'ignore' }));

    const speaker = (await env.api('POST', '/v2.0/bgp-speakers', { bgp_speaker: { name: `speaker-${env.tag}`, ip_version: 6, local_as: 65001 } })).bgp_speaker;
    const peer = (await env.api('POST', '/v2.0/bgp-peers', { bgp_peer: { name: `dc-${env.tag}`, peer_ip: PEER_IP, remote_as: 65000, auth_type: 'md5', password: PASSWORD } })).bgp_peer;
    await env.api('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_gateway_network`, { network_id: pub.id });
    await env.api('PUT', `/v2.0/bgp-speakers/${speaker.id}/add_bgp_peer`, { bgp_peer_id: peer.id });
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: face.id });

    // FRR learns exactly the prefix, next hop the router's gateway, and zebra installs it in the DC's kernel.
    await until('FRR learns the tenant prefix', () => {
      const r = spawnSync('vtysh', ['--vty_socket', frr, '-c', 'show bgp ipv6 unicast json'], { encoding: 'utf8' });
      try {
        const routes = (JSON.parse(r.stdout) as { routes?: Record<string, { nexthops: { ip: string }[] }[]> }).routes ?? {};
        return Object.keys(routes).join() === PREFIX && routes[PREFIX]![0]!.nexthops.some((h) => h.ip === NEXT_HOP);
      } catch {
        return false;
      }
    }, 90_000);
    const installed = await until('the learned route in the DC kernel', () => ipJson(dcNs, ['-6', 'route', 'show', PREFIX])[0]);
    assert.equal(installed.gateway, NEXT_HOP);
    assert.equal(installed.protocol, 'bgp');

    // A lab instance on the tenant network pings the DC: the reply finds its way back only by the learned route.
    const name = `${env.tag}g`;
    const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
    assert.equal(boot.status, 0, boot.stderr);
    await until('the instance has a SLAAC address', () => ipJson(`lab-${name}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((a: any) => a.scope === 'global'), 60_000);
    await pingFrom(`lab-${name}`, PEER_IP, 60_000);
  } finally {
    for (const d of daemons) d.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const f of ['bgpd.pid', 'zebra.pid']) {
      try {
        process.kill(Number(readFileSync(join(frr, f), 'utf8').trim()), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await shAsync(['ip', 'netns', 'del', dcNs]);
    await env.cleanup();
  }
});
