// Metering on the wire (features/metering.ts, domain/metering.ts): a router with its gateway on an external network
// whose upstream router is a `lab dc` with two hosts behind it, a dual-stack tenant network with a lab instance, and
// a metering label of the router's project. Known traffic from the instance to the DC host moves the label's egress
// counter by at least its size and the replies its ingress counter: ping6 -s and a TCP transfer over IPv6 first,
// then IPv4 (through SNAT). Traffic to the excluded prefix is not counted. The agent reads the counters every second
// and reports them; `GET /v6stack/v1/metering-labels/{id}/counters` shows them. A restart changes nothing; the
// label's delete takes its table and its counts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { AgentProcess, sh, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'ping', 'nft']);

interface Count {
  packets: number;
  bytes: number;
}
interface Counters {
  routers: { router_id: string; ingress: Count; egress: Count }[];
}

const ping = (ns: string, target: string, family: 4 | 6, size: number, count: number) =>
  shAsync(['ip', 'netns', 'exec', ns, 'ping', `-${family}`, '-n', '-q', '-s', String(size), '-c', String(count), '-i', '0.2', '-W', '2', target]);

/** Pings until one is answered (a neighbour or a freshly applied route may take a moment), bounded. */
async function pingUntil(ns: string, target: string, family: 4 | 6): Promise<void> {
  await until(`ping -${family} from ${ns} to ${target}`, async () => (await ping(ns, target, family, 56, 1)).status === 0, 60_000);
}

/**
 * Sends `bytes` bytes over TCP from `fromNs` to `to`:`port`, where a server in `toNs` reads them all; resolves with
 * what the server counted. Both ends are Node in the namespaces (no extra tool), bounded by 60 s.
 */
async function tcpTransfer(fromNs: string, toNs: string, to: string, port: number, bytes: number): Promise<number> {
  const server = spawn('ip', ['netns', 'exec', toNs, process.execPath, '-e', `
    const s = require('net').createServer((c) => { let n = 0; c.on('data', (d) => (n += d.length)); c.on('end', () => { console.log('got ' + n); process.exit(0); }); });
    s.listen(${port}, '::', () => console.log('listening'));`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  server.stdout!.on('data', (d) => (out += d));
  const killer = setTimeout(() => server.kill('SIGKILL'), 60_000);
  try {
    await until('TCP server listening', () => out.includes('listening'), 20_000);
    const client = await shAsync(['ip', 'netns', 'exec', fromNs, process.execPath, '-e', `
      const c = require('net').connect(${port}, '${to}', () => { c.end(Buffer.alloc(${bytes}, 7)); });
      c.on('error', (e) => { console.error(e.message); process.exit(1); });`]);
    assert.equal(client.status, 0, client.stderr);
    await until('TCP server got everything', () => /got \d+/.test(out), 30_000);
    return Number(/got (\d+)/.exec(out)![1]);
  } finally {
    clearTimeout(killer);
    server.kill('SIGKILL');
  }
}

test('metering: egress and ingress counts of known traffic over IPv6 and IPv4, excluded prefixes uncounted, restart, delete', { skip, timeout: 480_000 }, async () => {
  const env = await startEnv();
  const dcName = `${env.tag}dc`;
  const dcNs = `lab-${dcName}`;
  try {
    await env.agent.waitLine(/in sync:/);
    // Counters read every second, so the test waits seconds, not Neutron's 30.
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir, ['--metering-interval', '1']);
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const dns6 = `2001:db8:${third}:a::e`;
    const other6 = `2001:db8:${third}:b::e`;
    const dns4 = '192.0.2.253';
    const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `pub-${env.tag}`, 'router:external': true } })).network;
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 4, cidr: '192.0.2.0/26', gateway_ip: '192.0.2.1', allocation_pools: [{ start: '192.0.2.5', end: '192.0.2.62' }] } });
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 6, cidr: `2001:db8:${third}:d::/64`, gateway_ip: `2001:db8:${third}:d::1`, enable_dhcp: false } });
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `priv-${env.tag}` } })).network;
    env.extraNs.push(`qdhcp-${net.id}`);
    const t4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.64/26' } })).subnet;
    const cidr6 = `2001:db8:${third}:1::/64`;
    const t6 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: cidr6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `meter-${env.tag}`, external_gateway_info: { network_id: pub.id } } })).router;
    const qrouter = `qrouter-${router.id}`;
    env.extraNs.push(qrouter);
    for (const s of [t4, t6]) await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });
    const dc = await env.lab(['dc', '--network', pub.id, '--name', dcName, '--behind', dns6, other6, dns4]);
    assert.equal(dc.status, 0, dc.stderr);
    const vm = `${env.tag}m`;
    const boot = await env.lab(['boot', '--network', net.id, '--name', vm]);
    assert.equal(boot.status, 0, boot.stderr);
    const vmNs = `lab-${vm}`;
    await pingUntil(vmNs, dns6, 6);
    await pingUntil(vmNs, dns4, 4);

    // The label (the router's project: the agent meters every router of it) and its rules: the DC's /48 both ways,
    // its :b:: /64 excluded outbound; the DC's IPv4 /26 both ways.
    const label = (await env.api('POST', '/v2.0/metering/metering-labels', { metering_label: { name: `m-${env.tag}` } })).metering_label;
    const rule = (body: Record<string, unknown>) => env.api('POST', '/v2.0/metering/metering-label-rules', { metering_label_rule: { metering_label_id: label.id, ...body } });
    await rule({ direction: 'egress', remote_ip_prefix: `2001:db8:${third}::/48` });
    await rule({ direction: 'egress', remote_ip_prefix: `2001:db8:${third}:b::/64`, excluded: true });
    await rule({ direction: 'ingress', remote_ip_prefix: `2001:db8:${third}::/48` });
    await rule({ direction: 'egress', remote_ip_prefix: '192.0.2.192/26' });
    await rule({ direction: 'ingress', destination_ip_prefix: '192.0.2.64/26', source_ip_prefix: '192.0.2.192/26' });
    // Every rule in place (the agent may take them in more than one pass): 2 IPv6 and 1 IPv4 outbound, 1 + 1 inbound.
    await until('the metering table in the router, every rule in it', () => {
      const t = sh(['ip', 'netns', 'exec', qrouter, 'nft', 'list', 'table', 'inet', 'v6stack_metering']).stdout;
      return (t.match(/counter name/g) ?? []).length === 4 && t.includes(' return\n');
    }, 60_000);

    const counters = async (): Promise<{ ingress: Count; egress: Count }> => {
      const c = (await env.api('GET', `/v6stack/v1/metering-labels/${label.id}/counters`)) as Counters;
      const r = c.routers.find((x) => x.router_id === router.id);
      return r ? { ingress: r.ingress, egress: r.egress } : { ingress: { packets: 0, bytes: 0 }, egress: { packets: 0, bytes: 0 } };
    };
    /** Waits until the reported counts grew by at least `egress` / `ingress` bytes since `base`; returns them. */
    const grown = async (what: string, base: { ingress: Count; egress: Count }, egress: number, ingress: number) => {
      try {
        return await until(what, async () => {
          const c = await counters();
          return c.egress.bytes - base.egress.bytes >= egress && c.ingress.bytes - base.ingress.bytes >= ingress ? c : false;
        }, 60_000);
      } catch (e) {
        const table = sh(['ip', 'netns', 'exec', qrouter, 'nft', 'list', 'ruleset']).stdout + sh(['ip', '-s', '-n', qrouter, 'link']).stdout + sh(['ip', '-n', qrouter, '-6', 'route']).stdout;
        const log = env.agent.lines.filter((l) => /metering/.test(l)).slice(-10).join('\n');
        throw new Error(`${(e as Error).message}\nbase ${JSON.stringify(base)} now ${JSON.stringify(await counters())}\n${table}\n${log}`);
      }
    };

    // 1. IPv6 ping: 5 echo requests of 1000 bytes of data are at least 5 x (1000 + 8 + 40) bytes out, the replies as much in.
    let base = await counters();
    const p6 = await ping(vmNs, dns6, 6, 1000, 5);
    assert.equal(p6.status, 0, p6.stdout + p6.stderr);
    let now = await grown('IPv6 ping counted both ways', base, 5 * 1048, 5 * 1048);
    assert.ok(now.egress.packets - base.egress.packets >= 5 && now.ingress.packets - base.ingress.packets >= 5, JSON.stringify({ base, now }));

    // 2. A TCP transfer of 200,000 bytes over IPv6: at least that many bytes out (headers come on top).
    base = now;
    assert.equal(await tcpTransfer(vmNs, dcNs, dns6, 18_731, 200_000), 200_000);
    now = await grown('IPv6 TCP transfer counted', base, 200_000, 1);

    // 3. The excluded prefix: 5 pings of 1000 bytes to the :b:: host leave the egress count as it was (its replies
    // are ingress from the /48 and counted). A counted ping after them marks when the reading has moved past them.
    base = now;
    const excluded = await ping(vmNs, other6, 6, 1000, 5);
    assert.equal(excluded.status, 0, excluded.stdout + excluded.stderr);
    await ping(vmNs, dns6, 6, 100, 1);
    now = await grown('the counted ping after the excluded ones', base, 148, 5 * 1048);
    assert.ok(now.egress.bytes - base.egress.bytes < 5 * 1048, `excluded traffic was counted: ${JSON.stringify({ base, now })}`);
    // The kernel agrees: the label's egress counter holds what the API shows once reported.
    const kernel = sh(['ip', 'netns', 'exec', qrouter, 'nft', '-j', 'list', 'counter', 'inet', 'v6stack_metering', `out-${label.id}`]).stdout;
    assert.ok(Number(JSON.parse(kernel).nftables.find((i: any) => i.counter).counter.bytes) >= now.egress.bytes);

    // 4. IPv4 through SNAT: the forward hook sees the instance's own address out and the DC's in.
    base = now;
    const p4 = await ping(vmNs, dns4, 4, 1000, 5);
    assert.equal(p4.status, 0, p4.stdout + p4.stderr);
    now = await grown('IPv4 ping counted both ways', base, 5 * 1028, 5 * 1028);
    base = now;
    assert.equal(await tcpTransfer(vmNs, dcNs, dns4, 18_732, 100_000), 100_000);
    await grown('IPv4 TCP transfer counted', base, 100_000, 1);

    // 5. Re-applying changes nothing: a restarted agent finds the table as planned (no metering action) and the
    // kernel's counts are kept.
    const before = sh(['ip', 'netns', 'exec', qrouter, 'nft', '-j', 'list', 'counter', 'inet', 'v6stack_metering', `out-${label.id}`]).stdout;
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir, ['--metering-interval', '1']);
    await env.agent.waitLine(/in sync:/);
    assert.ok(!env.agent.lines.some((l) => /metering table/.test(l)), env.agent.lines.join('\n'));
    const after = sh(['ip', 'netns', 'exec', qrouter, 'nft', '-j', 'list', 'counter', 'inet', 'v6stack_metering', `out-${label.id}`]).stdout;
    assert.ok(JSON.parse(after).nftables.find((i: any) => i.counter).counter.bytes >= JSON.parse(before).nftables.find((i: any) => i.counter).counter.bytes);

    // 6. The label's delete: its counts are gone from the API, and with no label left the router's table goes.
    const mark = env.agent.lines.length;
    await env.api('DELETE', `/v2.0/metering/metering-labels/${label.id}`);
    await env.agent.waitLine(new RegExp(`${qrouter}: metering table \\(no label: table removed\\)`), mark);
    // The line names the action as it is taken: the table is gone once the pass has run it.
    await until('the metering table gone', () => sh(['ip', 'netns', 'exec', qrouter, 'nft', 'list', 'table', 'inet', 'v6stack_metering']).status !== 0, 30_000);
    const gone = await fetch(`${env.url}/v6stack/v1/metering-labels/${label.id}/counters`);
    assert.equal(gone.status, 404);
  } finally {
    await shAsync(['ip', 'netns', 'del', dcNs]);
    await env.cleanup();
  }
});
