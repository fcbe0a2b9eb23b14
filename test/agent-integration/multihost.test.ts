// Two agent hosts joined by VXLAN (issue 9.5): host namespaces on an IPv6 underlay (fd00::/64, MTU 1600 so a 1450
// network plus 70 bytes of VXLAN-over-IPv6 fits), the API server in the root namespace reached over that underlay,
// a network node (routers, radvd, dnsmasq) and a compute node (bridges for its own ports only). Instances on the
// compute node get their RA and their DHCPv6 lease from the network node through the tunnels, and ping across;
// killing either agent with SIGKILL and starting it again changes nothing on the wire or in the leases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { AgentProcess, dhcpDiagnostics, ipJson, pingFrom, routedNetwork, sh, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'bridge', 'nsenter', 'radvd', 'dnsmasq', 'dhclient', 'ping']);

function must(argv: string[]): void {
  const r = sh(argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

test('two hosts over VXLAN: RA and DHCPv6 from the network node reach the compute node; agents restart without disturbing leases', { skip, timeout: 300_000 }, async () => {
  const env = await startEnv({ listen: '::' });
  const t = (parseInt(env.tag, 36) % 0xffff).toString(16);
  const under = `u${env.tag}`;
  const hostNs = { a: `h${env.tag}a`, b: `h${env.tag}b` };
  const rootEnd = `v6u${env.tag}`.slice(0, 15);
  const names = { a: `${env.tag}a`, b: `${env.tag}b` };
  const stateB = join(env.dir, 'agent-b');
  const agents: AgentProcess[] = [];
  try {
    // The underlay: a bridge in its own namespace; the root namespace (the API) and each host hang off it.
    must(['ip', 'netns', 'add', under]);
    must(['ip', '-n', under, 'link', 'add', 'ubr', 'mtu', '1600', 'type', 'bridge']);
    must(['ip', '-n', under, 'link', 'set', 'ubr', 'up']);
    must(['ip', 'link', 'add', rootEnd, 'mtu', '1600', 'type', 'veth', 'peer', 'name', 'root', 'netns', under, 'mtu', '1600']);
    must(['ip', 'addr', 'add', `fd00:${t}::1/64`, 'dev', rootEnd, 'nodad']);
    must(['ip', 'link', 'set', rootEnd, 'up']);
    must(['ip', '-n', under, 'link', 'set', 'root', 'master', 'ubr', 'up']);
    for (const [k, ns] of Object.entries(hostNs)) {
      must(['ip', 'netns', 'add', ns]);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      must(['ip', '-n', under, 'link', 'add', `h${k}`, 'mtu', '1600', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, 'mtu', '1600']);
      must(['ip', '-n', ns, 'addr', 'add', `fd00:${t}::${k}/64`, 'dev', 'eth0', 'nodad']);
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      must(['ip', '-n', under, 'link', 'set', `h${k}`, 'master', 'ubr', 'up']);
    }
    const server = `http://[fd00:${t}::1]:${new URL(env.url).port}`;
    await until('the API host over the underlay', () => sh(['ip', 'netns', 'exec', hostNs.b, 'ping', '-6', '-c', '1', '-W', '1', `fd00:${t}::1`]).status === 0);

    // The single-host agent of startEnv makes way for a network node (host a) and a compute node (host b).
    await env.agent.stop();
    const startA = (): AgentProcess => new AgentProcess(server, names.a, env.stateDir, ['--role', 'network', '--tunnel-ip', `fd00:${t}::a`], hostNs.a);
    const startB = (): AgentProcess => new AgentProcess(server, names.b, stateB, ['--role', 'compute', '--tunnel-ip', `fd00:${t}::b`], hostNs.b);
    let a = startA();
    let b = startB();
    env.agent = a;
    agents.push(a, b);
    await a.waitLine(/in sync:/);
    await b.waitLine(/in sync:/);
    await until('both agents report their tunnel addresses', async () => {
      const list = (await env.api('GET', '/v2.0/agents?binary=v6stack-agent')).agents as any[];
      const ips = list.filter((x) => [names.a, names.b].includes(x.host)).map((x) => x.configurations?.tunneling_ip).sort();
      return ips.join(' ') === `fd00:${t}::a fd00:${t}::b`;
    });

    // A SLAAC and a DHCPv6-stateful network on one router (on the network node).
    const slaac = await routedNetwork(env, { name: `ms-${env.tag}`, cidr: `2001:db8:${t}:51::/64`, mode: 'slaac', dns: `2001:db8:${t}:53::1` });
    const fnet = (await env.api('POST', '/v2.0/networks', { network: { name: `mf-${env.tag}` } })).network;
    env.extraNs.push(`qdhcp-${fnet.id}`);
    const fsub = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: fnet.id, ip_version: 6, cidr: `2001:db8:${t}:52::/64`, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful', dns_nameservers: [`2001:db8:${t}:53::1`] } })).subnet;
    await env.api('PUT', `/v2.0/routers/${slaac.router.id}/add_router_interface`, { subnet_id: fsub.id });
    await a.waitLine(new RegExp(`start dnsmasq-${fnet.id}`));

    // Instances: on the compute node one per network; on the network node one on the SLAAC network.
    const labOn = (host: string, args: string[]) => shAsync([process.execPath, 'dist/src/cli/main.js', 'lab', ...args, '--server', env.url, '--host', host, '--state-dir', env.labDir]);
    const bs = `${env.tag}bs`;
    const bf = `${env.tag}bf`;
    const as = `${env.tag}as`;
    for (const [host, net, name] of [[names.b, slaac.net.id, bs], [names.b, fnet.id, bf], [names.a, slaac.net.id, as]] as const) {
      const r = await labOn(host, ['boot', '--network', net, '--name', name]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}\n${dhcpDiagnostics(env, fnet.id)}\n--- compute agent\n${b.lines.slice(-30).join('\n')}`);
    }
    const port = async (name: string): Promise<any> => (await env.api('GET', `/v2.0/ports?device_id=lab-${name}`)).ports[0];
    const [pbs, pbf, pas] = [await port(bs), await port(bf), await port(as)];
    assert.equal(pbs['binding:host_id'], names.b);

    // The compute node bridges only its instances' networks, each with a tunnel (VNI = segmentation id) to host a.
    const brB = `v6stack-br-${names.b}`;
    for (const net of [slaac.net, fnet]) {
      const vx = ipJson(brB, ['-details', 'link', 'show', `vx-${net.id.slice(0, 11)}`])[0];
      assert.equal(vx?.linkinfo?.info_data?.id, net['provider:segmentation_id'], `tunnel of ${net.id}`);
      assert.equal(vx.linkinfo.info_data.local6, `fd00:${t}::b`);
      assert.equal(vx.master, `v6b-${net.id.slice(0, 11)}`);
    }
    assert.equal(ipJson(brB, ['link', 'show', 'type', 'bridge']).length, 2, 'no bridge for networks without local ports');
    assert.equal(sh(['ip', 'netns', 'list']).stdout.includes(`qrouter-${slaac.router.id}`), true, 'the router lives on the network node');

    // Over the tunnels: SLAAC from the network node's radvd, the stateful lease from its dnsmasq.
    const v6bs = eui64Address(IpPrefix.parse(slaac.subnet.cidr)!, pbs.mac_address).toString();
    await until(`lab-${bs} SLAAC ${v6bs}`, () => ipJson(`lab-${bs}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((x: any) => x.local === v6bs && !x.tentative));
    const leased = pbf.fixed_ips[0].ip_address;
    assert.ok(ipJson(`lab-${bf}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.some((x: any) => x.local === leased), `lab-${bf} leased ${leased}`);
    await until(`lab-${bf} default route`, () => ipJson(`lab-${bf}`, ['-6', 'route', 'show', 'default']).length === 1);
    const v6as = eui64Address(IpPrefix.parse(slaac.subnet.cidr)!, pas.mac_address).toString();
    await until(`lab-${as} SLAAC`, () => ipJson(`lab-${as}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((x: any) => x.local === v6as && !x.tentative));
    await pingFrom(`lab-${bs}`, v6as); // same network, across hosts (L2 over VXLAN)
    await pingFrom(`lab-${bs}`, leased); // across networks through the router on the other host

    const leaseFile = join(env.labDir, bf, 'dhclient6.leases');
    const leaseBefore = readFileSync(leaseFile, 'utf8');
    const dnsmasqLeases = join(env.stateDir, 'dhcp', fnet.id, 'leases');
    assert.match(readFileSync(dnsmasqLeases, 'utf8'), new RegExp(leased));

    // SIGKILL the compute agent, start it again: nothing to change in the kernel; the instances notice nothing.
    b.child.kill('SIGKILL');
    await new Promise((res) => b.child.once('exit', res));
    b = startB();
    agents.push(b);
    const again = await b.waitLine(/in sync:/);
    assert.match(again.line, /in sync: 0 kernel actions/, b.lines.join('\n'));
    await pingFrom(`lab-${bs}`, leased);

    // SIGKILL the network node's agent: its radvd and dnsmasq are replaced (no goodbye RA), dnsmasq keeps its lease
    // file, and the instance on the compute node keeps its lease and its router.
    a.child.kill('SIGKILL');
    await new Promise((res) => a.child.once('exit', res));
    a = startA();
    env.agent = a;
    agents.push(a);
    const againA = await a.waitLine(/in sync:/);
    assert.match(againA.line, /in sync: 0 kernel actions/, a.lines.join('\n'));
    await a.waitLine(new RegExp(`start dnsmasq-${fnet.id}`));
    assert.match(readFileSync(dnsmasqLeases, 'utf8'), new RegExp(leased), 'dnsmasq kept the lease');
    assert.equal(readFileSync(leaseFile, 'utf8'), leaseBefore, "the instance's lease is untouched");
    assert.ok(ipJson(`lab-${bf}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.some((x: any) => x.local === leased));
    assert.equal(ipJson(`lab-${bs}`, ['-6', 'route', 'show', 'default']).length, 1, 'the SLAAC instance kept its default route');
    await pingFrom(`lab-${bs}`, leased);
    await pingFrom(`lab-${bf}`, v6as);
  } finally {
    for (const x of agents) await x.stop().catch(() => {});
    // The compute agent's namespaces (its bridge namespace; it owns no router or DHCP namespace).
    for (const ns of [`v6stack-br-${names.a}`, `v6stack-br-${names.b}`, under, hostNs.a, hostNs.b]) sh(['ip', 'netns', 'del', ns]);
    sh(['ip', 'link', 'del', rootEnd]);
    env.host = names.a; // cleanup removes the network node's ledger namespaces and lab instances
    await env.cleanup();
  }
});
