// Several agent hosts joined by VXLAN (issue 9.5): three host namespaces on a 1500-byte IPv6 underlay (fd00::/64),
// the API server in the root namespace reached over that underlay and told the underlay is IPv6
// (--overlay-ip-version 6, so VXLAN networks are 1430 bytes: 1500 less 70), a network node (routers, radvd, dnsmasq)
// and two compute nodes (bridges for their own ports only). Instances on the compute nodes get their RA and their
// DHCPv6 lease from the network node through the tunnels, and full-size packets cross between hosts. Each tunnel
// floods only to the hosts that have its network. An agent that dies keeps its host in the others' tunnels (its
// instances still run); killing any agent with SIGKILL and starting it again changes nothing in the kernel, on the
// wire or in the leases: no new DHCPv6 exchange.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { AgentProcess, dhcpDiagnostics, ipJson, pingFrom, routedNetwork, sh, shAsync, skipReason, startEnv, until, LAB_HOSTS, must, Underlay, type LabHost } from './lab-harness.js';

const skip = skipReason(['ip', 'bridge', 'nsenter', 'radvd', 'dnsmasq', 'dhclient', 'ping']);

type Host = LabHost;
const HOSTS = LAB_HOSTS;
const ROLE: Record<Host, string> = { a: 'network', b: 'compute', c: 'compute' };

/** The destinations of a vxlan link's all-zeros FDB entries (where it floods), sorted. */
function floodList(brNs: string, vx: string): string[] {
  return ipJsonBridge(brNs, ['fdb', 'show', 'dev', vx])
    .filter((e) => e.mac === '00:00:00:00:00:00' && e.dst)
    .map((e) => String(e.dst))
    .sort();
}

function ipJsonBridge(ns: string, args: string[]): any[] {
  const r = sh(['bridge', '-n', ns, '-json', ...args]);
  return r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

/** ping -6 with a payload of `size` bytes and fragmentation forbidden, until one echo is answered (bounded). */
async function pingSize(ns: string, target: string, size: number): Promise<void> {
  let last = '';
  await until(`ping -s ${size} from ${ns} to ${target} (${last})`, async () => {
    const r = await shAsync(['ip', 'netns', 'exec', ns, 'ping', '-6', '-n', '-c', '1', '-W', '1', '-M', 'do', '-s', String(size), target]);
    last = r.stdout + r.stderr;
    return r.status === 0;
  }, 20_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${last}`);
  });
}

test('three hosts over VXLAN on an IPv6 underlay: RA and DHCPv6 from the network node, full-size frames across, per-network flooding; dead and restarted agents disturb nothing', { skip, timeout: 300_000 }, async () => {
  // agent_down_time 3 s with heartbeats every second, so an agent's death shows in the agents list quickly.
  const env = await startEnv({ listen: '::', serverArgs: ['--overlay-ip-version', '6', '--agent-down-time', '3'] });
  const u = new Underlay(env);
  const { t, hostNs, names } = u;
  const state = { a: env.stateDir, b: join(env.dir, 'agent-b'), c: join(env.dir, 'agent-c') };
  const tunnel = (k: Host): string => u.tunnel(k);
  const brNs = (k: Host): string => u.brNs(k);
  try {
    // The underlay: a bridge in its own namespace, MTU 1500 everywhere; the root namespace (the API) and each host.
    await u.build();

    // The single-host agent of startEnv makes way for a network node (a) and two compute nodes (b, c), each in its
    // host namespace. Full resyncs every 2 s, so the agents re-read the agents list often while one is dead.
    await env.agent.stop();
    const start = (k: Host): AgentProcess => u.start(k, state[k], ['--role', ROLE[k], '--report-interval', '1', '--resync-interval', '2']);
    const agent: Record<Host, AgentProcess> = { a: start('a'), b: start('b'), c: start('c') };
    env.agent = agent.a;
    for (const k of HOSTS) await agent[k].waitLine(/in sync:/);
    await until('the three agents report their tunnel addresses', async () => {
      const list = (await env.api('GET', '/v2.0/agents?binary=v6stack-agent')).agents as any[];
      const ips = list.filter((x) => Object.values(names).includes(x.host)).map((x) => x.configurations?.tunneling_ip).sort();
      return ips.join(' ') === HOSTS.map(tunnel).join(' ');
    });

    // A SLAAC and a DHCPv6-stateful network on one router (on the network node). The underlay is IPv6: 1430 bytes.
    const slaac = await routedNetwork(env, { name: `ms-${env.tag}`, cidr: `2001:db8:${t}:51::/64`, mode: 'slaac', dns: `2001:db8:${t}:53::1` });
    const fnet = (await env.api('POST', '/v2.0/networks', { network: { name: `mf-${env.tag}` } })).network;
    env.extraNs.push(`qdhcp-${fnet.id}`);
    assert.equal(slaac.net.mtu, 1430, 'VXLAN over a 1500-byte IPv6 underlay');
    assert.equal(fnet.mtu, 1430);
    const fsub = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: fnet.id, ip_version: 6, cidr: `2001:db8:${t}:52::/64`, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful', dns_nameservers: [`2001:db8:${t}:53::1`] } })).subnet;
    await env.api('PUT', `/v2.0/routers/${slaac.router.id}/add_router_interface`, { subnet_id: fsub.id });
    await agent.a.waitLine(new RegExp(`start dnsmasq-${fnet.id}`));

    // Instances: on compute b one per network; on compute c and on the network node one on the SLAAC network.
    const labOn = (k: Host, args: string[]) => shAsync([process.execPath, 'dist/src/cli/main.js', 'lab', ...args, '--server', env.url, '--host', names[k], '--state-dir', env.labDir]);
    const bs = `${env.tag}bs`;
    const bf = `${env.tag}bf`;
    const as = `${env.tag}as`;
    const cs = `${env.tag}cs`;
    for (const [k, net, name] of [['b', slaac.net.id, bs], ['b', fnet.id, bf], ['a', slaac.net.id, as], ['c', slaac.net.id, cs]] as const) {
      const r = await labOn(k, ['boot', '--network', net, '--name', name]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}\n${dhcpDiagnostics(env, fnet.id)}\n--- agent ${k}\n${agent[k].lines.slice(-30).join('\n')}`);
    }
    const port = async (name: string): Promise<any> => (await env.api('GET', `/v2.0/ports?device_id=lab-${name}`)).ports[0];
    const [pbs, pbf, pas, pcs] = [await port(bs), await port(bf), await port(as), await port(cs)];
    assert.equal(pbs['binding:host_id'], names.b);
    assert.equal(pcs['binding:host_id'], names.c);
    // Each port is reported ACTIVE by the host that wires it: instances by their compute host's agent (tap on its
    // bridge), the router's and the DHCP port by the network node's.
    const routerPorts = (await env.api('GET', `/v2.0/ports?device_id=${slaac.router.id}`)).ports as any[];
    const dhcpPorts = (await env.api('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${fnet.id}`)).ports as any[];
    for (const p of [pbs, pbf, pas, pcs, ...routerPorts, ...dhcpPorts]) {
      await until(`port ${p.id} (${p.device_owner} on ${p['binding:host_id'] || 'the network node'}) ACTIVE`, async () => (await env.api('GET', `/v2.0/ports/${p.id}`)).port.status === 'ACTIVE');
    }
    for (const k of HOSTS) {
      const reported = agent[k].lines.filter((l) => /port status: ACTIVE/.test(l)).join(' ');
      const own = { a: [pas, ...routerPorts, ...dhcpPorts], b: [pbs, pbf], c: [pcs] }[k];
      for (const p of own) assert.ok(reported.includes(p.id), `agent ${k} reported ${p.id}: ${reported}`);
    }

    // Each host bridges its networks, each with a tunnel (VNI = segmentation id, source = its tunnel address, MTU of
    // the network) that floods only to the other hosts that have the network: c has no port on the stateful
    // network, so nobody floods its frames to c, and c has no bridge for it.
    const vx = (net: any): string => `vx-${net.id.slice(0, 11)}`;
    const expected: Record<Host, [any, Host[]][]> = { a: [[slaac.net, ['b', 'c']], [fnet, ['b']]], b: [[slaac.net, ['a', 'c']], [fnet, ['a']]], c: [[slaac.net, ['a', 'b']]] };
    for (const k of HOSTS) {
      for (const [net, peers] of expected[k]) {
        const link = ipJson(brNs(k), ['-details', 'link', 'show', vx(net)])[0];
        assert.equal(link?.linkinfo?.info_data?.id, net['provider:segmentation_id'], `tunnel of ${net.id} on ${k}`);
        assert.equal(link.linkinfo.info_data.local6, tunnel(k));
        assert.equal(link.master, `v6b-${net.id.slice(0, 11)}`);
        assert.equal(link.mtu, 1430);
        await until(`${k} floods ${net.name} to ${peers.join(' ')} (has ${floodList(brNs(k), vx(net)).join(' ')})`, () => floodList(brNs(k), vx(net)).join(' ') === peers.map(tunnel).sort().join(' '));
      }
    }
    assert.equal(ipJson(brNs('c'), ['link', 'show', 'type', 'bridge']).length, 1, 'c bridges only the network of its instance');
    assert.ok(sh(['ip', 'netns', 'list']).stdout.includes(`qrouter-${slaac.router.id}`), 'the router lives on the network node');
    for (const k of HOSTS) assert.deepEqual(agent[k].lines.filter((l) => /ERROR/.test(l)), [], `agent ${k} saw no underlay problem`);

    // Over the tunnels: SLAAC from the network node's radvd, the stateful lease from its dnsmasq.
    const slaacOf = (p: any): string => eui64Address(IpPrefix.parse(slaac.subnet.cidr)!, p.mac_address).toString();
    const hasAddr = (ns: string, addr: string): boolean => ipJson(ns, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((x: any) => x.local === addr && !x.tentative);
    for (const [name, p] of [[bs, pbs], [as, pas], [cs, pcs]] as const) await until(`lab-${name} SLAAC ${slaacOf(p)}`, () => hasAddr(`lab-${name}`, slaacOf(p)));
    const leased = pbf.fixed_ips[0].ip_address;
    assert.ok(hasAddr(`lab-${bf}`, leased), `lab-${bf} leased ${leased}`);
    await until(`lab-${bf} default route`, () => ipJson(`lab-${bf}`, ['-6', 'route', 'show', 'default']).length === 1);

    // Full-size frames cross: 1430-byte IPv6 packets (1382 bytes of ICMP payload), fragmentation forbidden, between
    // compute and network node and between the two compute nodes; and across networks through the router.
    const full = 1430 - 40 - 8;
    await pingSize(`lab-${bs}`, slaacOf(pas), full);
    await pingSize(`lab-${cs}`, slaacOf(pbs), full);
    await pingSize(`lab-${bs}`, leased, full);
    await pingFrom(`lab-${bf}`, slaacOf(pcs));

    const leaseFile = join(env.labDir, bf, 'dhclient6.leases');
    const leaseBefore = readFileSync(leaseFile, 'utf8');
    const dhclientPid = Number(readFileSync(join(env.labDir, bf, 'dhclient.pid'), 'utf8').trim());
    const dnsmasqLeases = join(env.stateDir, 'dhcp', fnet.id, 'leases');
    assert.match(readFileSync(dnsmasqLeases, 'utf8'), new RegExp(leased));
    // dnsmasq (--log-dhcp, relayed into the network agent's log) names the client by its MAC: the exchange is there.
    const mac = String(pbf.mac_address).toLowerCase();
    const dhcpLines = (from: number): string[] => agent.a.lines.slice(from).filter((l) => l.includes(`dnsmasq-${fnet.id}`) && l.toLowerCase().includes(mac));
    assert.ok(dhcpLines(0).length > 0, 'the lease exchange is in the log');

    // Compute agent b dies. Once the agents list shows it dead, the others keep flooding to its host (its instances
    // run on), and the network node's instance still reaches b's instance. A heartbeat alone costs no reconcile pass.
    agent.b.child.kill('SIGKILL');
    await new Promise((res) => agent.b.child.once('exit', res));
    await until('agent b shown dead', async () => (await env.api('GET', `/v2.0/agents?host=${names.b}`)).agents[0]?.alive === false, 20_000);
    const mark = { a: agent.a.lines.length, c: agent.c.lines.length };
    for (const k of ['a', 'c'] as const) {
      const first = await agent[k].waitLine(/in sync:.*full resync/, mark[k]);
      await agent[k].waitLine(/in sync:.*full resync/, first.index + 1); // a whole pass that began after b was dead
    }
    assert.deepEqual(floodList(brNs('a'), vx(slaac.net)), [tunnel('b'), tunnel('c')].sort(), 'a still floods to b');
    assert.deepEqual(floodList(brNs('a'), vx(fnet)), [tunnel('b')]);
    assert.deepEqual(floodList(brNs('c'), vx(slaac.net)), [tunnel('a'), tunnel('b')].sort(), 'c still floods to b');
    for (const k of ['a', 'c'] as const) {
      const passes = agent[k].lines.slice(mark[k]).filter((l) => /in sync:/.test(l));
      assert.ok(passes.every((l) => /full resync/.test(l)), `only the periodic full passes ran on ${k}, no pass per heartbeat:\n${passes.join('\n')}`);
    }
    await pingSize(`lab-${as}`, slaacOf(pbs), full);

    // b starts again: nothing to change in the kernel; the instances notice nothing.
    agent.b = start('b');
    const again = await agent.b.waitLine(/in sync:/);
    assert.match(again.line, /in sync: 0 kernel actions/, agent.b.lines.join('\n'));
    await pingFrom(`lab-${bs}`, leased);
    await until('agent b alive again', async () => (await env.api('GET', `/v2.0/agents?host=${names.b}`)).agents[0]?.alive === true);

    // SIGKILL the network node's agent: its radvd and dnsmasq are replaced (no goodbye RA), dnsmasq keeps its lease
    // file, and the instances on the compute nodes keep their lease, addresses and router, with no DHCPv6 exchange.
    agent.a.child.kill('SIGKILL');
    await new Promise((res) => agent.a.child.once('exit', res));
    agent.a = start('a');
    env.agent = agent.a;
    const againA = await agent.a.waitLine(/in sync:/);
    assert.match(againA.line, /in sync: 0 kernel actions/, agent.a.lines.join('\n'));
    await agent.a.waitLine(new RegExp(`start dnsmasq-${fnet.id}`));
    await agent.a.waitLine(new RegExp(`start radvd-${slaac.router.id}`));
    assert.match(readFileSync(dnsmasqLeases, 'utf8'), new RegExp(leased), 'dnsmasq kept the lease');
    await pingFrom(`lab-${bs}`, leased);
    await pingSize(`lab-${bf}`, slaacOf(pcs), full);
    assert.equal(readFileSync(leaseFile, 'utf8'), leaseBefore, "the instance's lease is untouched");
    assert.ok(hasAddr(`lab-${bf}`, leased));
    assert.equal(process.kill(dhclientPid, 0), true, 'the same dhclient still holds the lease');
    assert.deepEqual(dhcpLines(0), [], 'the restarted dnsmasq exchanged nothing with the instance');
    for (const [name, p] of [[bs, pbs], [cs, pcs]] as const) {
      assert.ok(hasAddr(`lab-${name}`, slaacOf(p)), `lab-${name} keeps its SLAAC address`);
      assert.equal(ipJson(`lab-${name}`, ['-6', 'route', 'show', 'default']).length, 1, `lab-${name} keeps its default route`);
    }
    for (const k of HOSTS) assert.deepEqual(agent[k].lines.filter((l) => /ERROR/.test(l)), [], `agent ${k}: no errors`);

    // An underlay that shrinks under a network (c's link to 1480 bytes: 1430 + 70 no longer fits) is named in the
    // agent's log at its next full pass, with the fix.
    must(['ip', '-n', hostNs.c, 'link', 'set', 'eth0', 'mtu', '1480']);
    const problem = await agent.c.waitLine(/ERROR tunnel: /);
    assert.match(problem.line, new RegExp(`network ${slaac.net.id} has MTU 1430, but VXLAN over IPv6 adds 70 bytes and the underlay eth0 carries 1480: frames over 1410 bytes`));
    must(['ip', '-n', hostNs.c, 'link', 'set', 'eth0', 'mtu', '1500']);
  } finally {
    // The compute agents' namespaces (their bridge namespaces; they own no router or DHCP namespace).
    await u.teardown();
    env.host = names.a; // cleanup removes the network node's ledger namespaces and lab instances
    await env.cleanup();
  }
});
