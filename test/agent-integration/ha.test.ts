// HA routers on two network nodes (issue 20): three host namespaces on an IPv6 underlay (as multihost.test.ts), two
// network nodes (a, b) and a compute node (c) with an instance and the DC (`lab dc`) beyond the external network.
// The server schedules the HA router on a and b; keepalived elects one; the instance pings the DC's DNS host through
// the router. In steady state the standby sends nothing on the tenant or external network. An agent restart is not a
// failover. Then three failures of the active node, each followed by traffic through the other node, the API showing
// the new active node, and the instance keeping its default router (the link-local address) and its neighbour entry:
// its HA link taken down; its agent and keepalived killed; its tunnel (underlay) cut. The longest gap of a 20 ms ping
// stream over each failover is printed (bench/ha-failover.ts measures it over repeated failovers).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProcess, ipJson, pingFrom, sh, shAsync, skipReason, startEnv, until, LAB_HOSTS, must, PingStream, Underlay, type LabHost } from './lab-harness.js';

const skip = skipReason(['ip', 'bridge', 'nsenter', 'radvd', 'keepalived', 'nft', 'ping', 'tcpdump']);

type Host = LabHost;
const HOSTS = LAB_HOSTS;
const ROLE: Record<Host, string> = { a: 'network', b: 'network', c: 'compute' };

test('HA router on two network nodes: one active, a silent standby, no failover on agent restart; HA link down, agent+keepalived killed, tunnel cut: traffic resumes through the other node with the same gateway', { skip, timeout: 600_000 }, async () => {
  const env = await startEnv({ listen: '::', serverArgs: ['--overlay-ip-version', '6', '--agent-down-time', '3'] });
  const u = new Underlay(env);
  const { t, hostNs, names } = u;
  const state = { a: join(env.dir, 'agent-a'), b: join(env.dir, 'agent-b'), c: join(env.dir, 'agent-c') };
  const brNs = (k: Host): string => u.brNs(k);
  const suffix = (k: Host): string => `@${k}`;
  let stream: PingStream | undefined;
  let routerId = '';
  try {
    await u.build();
    await env.agent.stop();
    const start = (k: Host): AgentProcess =>
      u.start(k, state[k], ['--role', ROLE[k], '--report-interval', '1', '--resync-interval', '5', ...(ROLE[k] === 'network' ? ['--namespace-suffix', suffix(k)] : [])]);
    const agent: Record<Host, AgentProcess> = { a: start('a'), b: start('b'), c: start('c') };
    for (const k of HOSTS) await agent[k].waitLine(/in sync:/);

    // The external network (its DC on compute c, which bridges it for a port bound there), a SLAAC tenant network,
    // and an HA router between them.
    const dns6 = `2001:db8:${t}:a::e`;
    const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `hpub-${env.tag}`, 'router:external': true } })).network;
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 6, cidr: `2001:db8:${t}:d::/64`, gateway_ip: `2001:db8:${t}:d::1`, enable_dhcp: false, allocation_pools: [{ start: `2001:db8:${t}:d::5`, end: `2001:db8:${t}:d::ff` }] } });
    await env.api('POST', '/v2.0/ports', { port: { network_id: pub.id, name: 'dc anchor', device_id: `dc-${env.tag}`, device_owner: 'compute:lab', 'binding:host_id': names.c } });
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `hten-${env.tag}` } })).network;
    const sub = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: `2001:db8:${t}:51::/64`, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `ha-${env.tag}`, ha: true, external_gateway_info: { network_id: pub.id } } })).router;
    routerId = router.id;
    for (const k of ['a', 'b'] as const) env.extraNs.push(`qrouter-${router.id}${suffix(k)}`);
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id });
    const haPorts = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_ha_interface`)).ports as any[];
    assert.deepEqual(haPorts.map((p) => p['binding:host_id']).sort(), [names.a, names.b], 'scheduled on both network nodes');
    const qr = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:ha_router_replicated_interface`)).ports[0];
    const qg = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).ports[0];
    const haLink = (k: 'a' | 'b'): string => `ha-${haPorts.find((p) => p['binding:host_id'] === names[k]).id.slice(0, 11)}`;
    const rns = (k: 'a' | 'b'): string => `qrouter-${router.id}${suffix(k)}`;

    const active = async (): Promise<'a' | 'b' | undefined> => {
      const list = (await env.api('GET', `/v2.0/routers/${router.id}/l3-agents`)).agents as any[];
      const act = list.filter((x) => x.ha_state === 'active');
      if (act.length !== 1) return undefined;
      return act[0].host === names.a ? 'a' : act[0].host === names.b ? 'b' : undefined;
    };
    const other = (k: 'a' | 'b'): 'a' | 'b' => (k === 'a' ? 'b' : 'a');
    let master = await until('one node active in the API', active, 60_000);
    const stateFile = (k: 'a' | 'b'): string => readFileSync(join(state[k], 'keepalived', router.id, 'state'), 'utf8').trim();
    assert.equal(stateFile(master), 'MASTER');
    await until(`standby ${other(master)} BACKUP`, () => stateFile(other(master)) === 'BACKUP');

    // The DC on c, and an instance on c on the tenant network.
    const labOn = (k: Host, args: string[]) => shAsync([process.execPath, 'dist/src/cli/main.js', 'lab', ...args, '--server', env.url, '--host', names[k], '--state-dir', env.labDir]);
    const dc = await labOn('c', ['dc', '--network', pub.id, '--name', `${env.tag}dc`, '--behind', dns6]);
    assert.equal(dc.status, 0, dc.stderr);
    const inst = `${env.tag}i`;
    const boot = await labOn('c', ['boot', '--network', net.id, '--name', inst]);
    const logs = (): string => (['a', 'b'] as const).map((k) => `--- agent ${k}\n${agent[k].lines.filter((l) => /radvd|keepalived|HA router|ERROR|nft/.test(l)).slice(-25).join('\n')}\n--- ${rns(k)}\n${sh(['ip', '-n', rns(k), 'addr']).stdout}`).join('\n');
    assert.equal(boot.status, 0, `${boot.stderr}\n${logs()}`);
    const ns = `lab-${inst}`;
    await pingFrom(ns, dns6, 60_000);
    const gateway = (): { via: string; lladdr: string } => {
      const via = String(ipJson(ns, ['-6', 'route', 'show', 'default'])[0]?.gateway ?? '');
      const lladdr = String(ipJson(ns, ['-6', 'neigh', 'show', via, 'dev', 'eth0'])[0]?.lladdr ?? '');
      return { via, lladdr };
    };
    const before = gateway();
    assert.match(before.via, /^fe80::f816:3eff:fe/, 'the router port MAC-derived link-local');
    assert.equal(before.lladdr, String(qr.mac_address).toLowerCase());

    // Steady state: the standby's qr- and qg- send nothing (no MLD, DAD, RA or NA with the router's MAC).
    const silent = async (k: 'a' | 'b'): Promise<void> => {
      const taps = [qr, qg].map((p) => `tap${p.id.slice(0, 11)}`);
      const caps = await Promise.all(taps.map((tap) => shAsync(['ip', 'netns', 'exec', brNs(k), 'timeout', '4', 'tcpdump', '-n', '-e', '-Q', 'in', '-i', tap])));
      caps.forEach((c, i) => assert.equal(c.stdout.trim(), '', `standby ${k} (state now ${stateFile(k)}) sent on ${taps[i]}:\n${c.stdout}\n${logs()}`));
      caps.forEach((c) => assert.match(c.stderr, /0 packets captured/));
    };
    await silent(other(master));

    stream = new PingStream(ns, dns6);
    await until('the ping stream flows', () => stream!.replies.length > 10);

    // An agent restart is not a failover: keepalived stays (adopted by the new agent), the state does not change.
    const kpid = (k: 'a' | 'b'): number => Number(readFileSync(join(state[k], 'keepalived', router.id, 'keepalived.pid'), 'utf8').trim());
    const pidBefore = kpid(master);
    await agent[master].stop();
    agent[master] = start(master);
    await agent[master].waitLine(new RegExp(`adopt keepalived-${router.id}`));
    await agent[master].waitLine(/in sync:/);
    assert.equal(kpid(master), pidBefore);
    assert.equal(stateFile(master), 'MASTER');
    // While the agent was away its last report stood; the new one's first heartbeat says the same.
    await until(`the API shows ${master} still active`, async () => (await active()) === master, 15_000);
    assert.equal(stateFile(other(master)), 'BACKUP', 'no failover');

    const failover = async (what: string, fail: (k: 'a' | 'b') => Promise<void>): Promise<'a' | 'b'> => {
      const old = master;
      const at = Date.now();
      await fail(old);
      const next = await until(`${what}: the API shows ${other(old)} active`, async () => ((await active()) === other(old) ? other(old) : undefined), 60_000);
      await until(`${what}: traffic flows again`, () => stream!.lastReply() > Date.now() - 200 && stream!.lastReply() > at, 30_000);
      const after = gateway();
      assert.deepEqual(after, before, `${what}: the instance keeps its default router and neighbour entry`);
      console.log(`# ${what}: ${old} -> ${next}, longest gap of the 20 ms ping stream ${Math.round(stream!.longestGap(at - 1000, Date.now()))} ms`);
      master = next;
      return next;
    };

    // 1. The active node's HA link goes down: keepalived goes FAULT there, the other node takes over.
    const f1 = await failover('HA link down', async (k) => must(['ip', '-n', rns(k), 'link', 'set', haLink(k), 'down']));
    must(['ip', '-n', rns(other(f1)), 'link', 'set', haLink(other(f1)), 'up']);
    await until(`the old master ${other(f1)} back to BACKUP`, () => stateFile(other(f1)) === 'BACKUP');
    await silent(other(f1));

    // 2. The active node's agent and keepalived are killed.
    const f2 = await failover('agent and keepalived killed', async (k) => {
      agent[k].child.kill('SIGKILL');
      const dir = join(state[k], 'keepalived', router.id);
      for (const f of ['keepalived-vrrp.pid', 'keepalived.pid']) {
        try {
          process.kill(Number(readFileSync(join(dir, f), 'utf8').trim()), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
    const revived = other(f2);
    agent[revived] = start(revived);
    await agent[revived].waitLine(new RegExp(`start keepalived-${router.id}`));
    await until(`the restarted ${revived} BACKUP`, () => stateFile(revived) === 'BACKUP', 30_000);
    await until(`${revived} holds none of the router's addresses`, () => ipJson(rns(revived), ['-6', 'addr', 'show', 'scope', 'global']).every((l: any) => !String(l.ifname).startsWith('q') || !(l.addr_info ?? []).length), 30_000);
    await until(`the API shows ${f2} active and ${revived} standby`, async () => (await active()) === f2, 15_000);

    // 3. The active node's tunnel is cut (its underlay link down): the other node no longer hears it.
    const f3 = await failover('tunnel cut', async (k) => must(['ip', '-n', hostNs[k], 'link', 'set', 'eth0', 'down']));
    assert.ok(f3);
    must(['ip', '-n', hostNs[other(f3)], 'link', 'set', 'eth0', 'up']);
  } finally {
    stream?.stop();
    await u.teardown(routerId ? ['a', 'b'].map((k) => `qrouter-${routerId}@${k}`) : []);
    await env.cleanup();
  }
});
