// dhcp_agent_scheduler on the wire: two network nodes (host namespaces joined by VXLAN on an IPv6 underlay, each
// agent with its own namespace suffix, as two hosts on one machine must be) and a network bound to one of them. An
// instance's dhclient gets its lease from the bound agent's dnsmasq (its qdhcp-<net>@<host> namespace, its lease
// file); after the network is removed from that agent and added to the other (POST/DELETE
// /v2.0/agents/{id}/dhcp-networks), the namespace has moved and a new instance's lease comes from the other agent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProcess, dhcpDiagnostics, sh, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'bridge', 'nsenter', 'dnsmasq', 'dhclient']);

type Host = 'a' | 'b';
const HOSTS: Host[] = ['a', 'b'];

function must(argv: string[]): void {
  const r = sh(argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

const netnsList = (): string[] => sh(['ip', 'netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);

test('a network moved between two DHCP agents: the lease comes from the bound agent, the qdhcp namespace follows', { skip, timeout: 300_000 }, async () => {
  const env = await startEnv({ listen: '::' });
  const t = (parseInt(env.tag, 36) % 0xffff).toString(16);
  const under = `u${env.tag}`;
  const hostNs = { a: `h${env.tag}a`, b: `h${env.tag}b` };
  const rootEnd = `v6u${env.tag}`.slice(0, 15);
  const names = { a: `${env.tag}a`, b: `${env.tag}b` };
  const suffix = (k: Host): string => `@${names[k]}`;
  const state = { a: env.stateDir, b: join(env.dir, 'agent-b') };
  const tunnel = (k: Host): string => `fd00:${t}::${k}`;
  const agents: AgentProcess[] = [];
  let networkId = '';
  try {
    must(['ip', 'netns', 'add', under]);
    must(['ip', '-n', under, 'link', 'add', 'ubr', 'type', 'bridge']);
    must(['ip', '-n', under, 'link', 'set', 'ubr', 'up']);
    must(['ip', 'link', 'add', rootEnd, 'type', 'veth', 'peer', 'name', 'root', 'netns', under]);
    must(['ip', 'addr', 'add', `fd00:${t}::1/64`, 'dev', rootEnd, 'nodad']);
    must(['ip', 'link', 'set', rootEnd, 'up']);
    must(['ip', '-n', under, 'link', 'set', 'root', 'master', 'ubr', 'up']);
    for (const k of HOSTS) {
      const ns = hostNs[k];
      must(['ip', 'netns', 'add', ns]);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      must(['ip', '-n', under, 'link', 'add', `h${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      must(['ip', '-n', ns, 'addr', 'add', `${tunnel(k)}/64`, 'dev', 'eth0', 'nodad']);
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      must(['ip', '-n', under, 'link', 'set', `h${k}`, 'master', 'ubr', 'up']);
    }
    const server = `http://[fd00:${t}::1]:${new URL(env.url).port}`;
    for (const k of HOSTS) await until(`the API host over the underlay from ${k}`, () => sh(['ip', 'netns', 'exec', hostNs[k], 'ping', '-6', '-c', '1', '-W', '1', `fd00:${t}::1`]).status === 0);

    // Two network nodes in their host namespaces, in place of startEnv's single-host agent.
    await env.agent.stop();
    const agent = {} as Record<Host, AgentProcess>;
    for (const k of HOSTS) {
      agent[k] = new AgentProcess(server, names[k], state[k], ['--role', 'network', '--tunnel-ip', tunnel(k), '--namespace-suffix', suffix(k), '--report-interval', '1', '--resync-interval', '5'], hostNs[k]);
      agents.push(agent[k]);
    }
    env.agent = agent.a;
    for (const k of HOSTS) await agent[k].waitLine(/in sync:/);
    const dhcpAgent = async (k: Host): Promise<any> => {
      const list = (await env.api('GET', `/v2.0/agents?agent_type=DHCP%20agent&host=${names[k]}`)).agents as any[];
      return list[0];
    };
    await until('both DHCP agents alive', async () => (await dhcpAgent('a'))?.alive === true && (await dhcpAgent('b'))?.alive === true);
    const A = await dhcpAgent('a');
    const B = await dhcpAgent('b');

    // A network hosted by a only: b is taken out of automatic scheduling (admin_state_up false) while it is made.
    await env.api('PUT', `/v2.0/agents/${B.id}`, { agent: { admin_state_up: false } });
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `mv-${env.tag}` } })).network;
    networkId = net.id;
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.0/26' } });
    await env.api('PUT', `/v2.0/agents/${B.id}`, { agent: { admin_state_up: true } });
    assert.deepEqual((await env.api('GET', `/v2.0/networks/${net.id}/dhcp-agents`)).agents.map((x: any) => x.host), [names.a]);
    const nsOf = (k: Host): string => `qdhcp-${net.id}${suffix(k)}`;
    await until(`${nsOf('a')} with its dnsmasq`, () => netnsList().includes(nsOf('a')) && existsSync(join(state.a, 'dhcp', net.id, 'leases')), 60_000);
    assert.ok(!netnsList().includes(nsOf('b')), 'b serves nothing');
    assert.ok(!netnsList().includes(`qdhcp-${net.id}`), 'no unsuffixed namespace');

    // An instance on host a takes its lease: from a's dnsmasq.
    const labOn = (name: string) => shAsync([process.execPath, 'dist/src/cli/main.js', 'lab', 'boot', '--network', net.id, '--name', name, '--server', env.url, '--host', names.a, '--state-dir', env.labDir]);
    const leaseIn = (k: Host, mac: string): boolean => {
      try {
        return readFileSync(join(state[k], 'dhcp', net.id, 'leases'), 'utf8').toLowerCase().includes(mac.toLowerCase());
      } catch {
        return false;
      }
    };
    const boot = async (name: string): Promise<any> => {
      const r = await labOn(name);
      assert.equal(r.status, 0, `${name}: ${r.stderr}\n${dhcpDiagnostics(env, net.id)}\n--- agent a\n${agent.a.lines.slice(-20).join('\n')}\n--- agent b\n${agent.b.lines.slice(-20).join('\n')}`);
      return (await env.api('GET', `/v2.0/ports?device_id=lab-${name}`)).ports[0];
    };
    const first = await boot(`${env.tag}1`);
    await until(`lease of ${first.mac_address} in a's dnsmasq`, () => leaseIn('a', first.mac_address), 60_000);
    assert.ok(!leaseIn('b', first.mac_address));

    // Moved: removed from a (its namespace goes), added to b (its namespace comes).
    const removed = await fetch(`${env.url}/v2.0/agents/${A.id}/dhcp-networks/${net.id}`, { method: 'DELETE' });
    assert.equal(removed.status, 204);
    const added = await fetch(`${env.url}/v2.0/agents/${B.id}/dhcp-networks`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ network_id: net.id }) });
    assert.equal(added.status, 201, await added.text());
    await until(`${nsOf('a')} gone and ${nsOf('b')} there`, () => !netnsList().includes(nsOf('a')) && netnsList().includes(nsOf('b')), 60_000);
    const dhcpPort = (await env.api('GET', `/v2.0/ports?device_owner=network:dhcp&network_id=${net.id}`)).ports as any[];
    assert.deepEqual(dhcpPort.map((p) => p['binding:host_id']), [names.b]);
    await until('the DHCP port ACTIVE on b', async () => (await env.api('GET', `/v2.0/ports/${dhcpPort[0].id}`)).port.status === 'ACTIVE', 60_000);

    // A new instance on host a: its lease crosses the tunnel from b's dnsmasq.
    const second = await boot(`${env.tag}2`);
    await until(`lease of ${second.mac_address} in b's dnsmasq`, () => leaseIn('b', second.mac_address), 60_000);
    assert.ok(!leaseIn('a', second.mac_address), 'not from a');
  } finally {
    for (const x of agents) await x.stop().catch(() => {});
    // b's ledger namespaces (a's are env.cleanup's, env.agent being a), the bridge namespaces, the underlay.
    let ownedB: string[] = [];
    try {
      ownedB = JSON.parse(readFileSync(join(state.b, 'owned.json'), 'utf8')).namespaces;
    } catch {
      /* none */
    }
    for (const ns of [...ownedB, ...HOSTS.map((k) => `v6stack-br-${names[k]}`), under, ...Object.values(hostNs)]) sh(['ip', 'netns', 'del', ns]);
    if (networkId) for (const k of HOSTS) sh(['ip', 'netns', 'del', `qdhcp-${networkId}${suffix(k)}`]);
    sh(['ip', 'link', 'del', rootEnd]);
    env.host = names.a;
    await env.cleanup();
  }
});
