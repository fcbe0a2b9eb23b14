// Prefix delegation when the delegating server goes away and comes back, on the wire, against Kea in the DC:
//  (a) rebind (RFC 8415 §18.2.5): with Kea stopped, the Renews at T1 go unanswered; at T2 the agent's client
//      multicasts a Rebind; Kea, started again with its lease file, answers it, and the lease goes on with the same
//      prefix. A capture on the DC's link shows the Rebind and Kea's Reply with the prefix (tshark decodes them).
//  (b) re-delegation: Kea comes back with another pool and no lease file, so the client's next exchange gets a
//      different prefix; the subnet moves to it and the port is renumbered; a capture in the instance shows an RA
//      carrying the old prefix with preferred lifetime 0 (the agent's one-shot deprecation) and the router's RAs
//      carrying the new one; the instance's old address is deprecated, rdisc6 sees the new prefix, and the instance
//      gains its address in it.
// Short timers (T1 6 s, T2 10 s) keep it within a few minutes; every wait is bounded; the DC, the capture and the
// environment are removed whatever happens.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { stopPdServer } from '../../src/lab/dc-pd.js';
import { labNsName } from '../../src/lab/lab.js';
import { globalAddrs, ipJson, parseRdisc6, sh, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'kea-dhcp6', 'tcpdump', 'tshark', 'rdisc6']);

interface Dhcp6Frame {
  msgtype: number;
  prefixes: string[];
  preferred: number[];
}

/** The DHCPv6 messages of a capture, in order, with the IA_PD prefixes each carries (tshark's decoding). */
function decode(pcap: string): Dhcp6Frame[] {
  const r = spawnSync(
    'tshark',
    ['-r', pcap, '-n', '-Y', 'dhcpv6', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', '-e', 'dhcpv6.msgtype', '-e', 'dhcpv6.iaprefix.pref_addr', '-e', 'dhcpv6.iaprefix.pref_len', '-e', 'dhcpv6.iaprefix.pref_lifetime', '-e', '_ws.malformed'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [type, addrs, lens, pref, malformed] = l.split('|');
      assert.ok(!malformed, `tshark finds a malformed DHCPv6 message: ${l}`);
      const a = addrs ? addrs.split(',') : [];
      const n = lens ? lens.split(',') : [];
      return {
        msgtype: Number(type!.split(',')[0]),
        prefixes: a.map((x, i) => `${IpPrefix.parse(`${x}/${n[i]}`)!.toString()}`),
        preferred: pref ? pref.split(',').map(Number) : [],
      };
    });
}

/** The Router Advertisements of a capture, in order: each one's prefixes with their lifetimes. */
function decodeRas(pcap: string): { prefix: string; preferred: number; valid: number }[][] {
  const r = spawnSync(
    'tshark',
    ['-r', pcap, '-n', '-Y', 'icmpv6.type == 134', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', '-e', 'icmpv6.opt.prefix', '-e', 'icmpv6.opt.prefix.length', '-e', 'icmpv6.opt.prefix.preferred_lifetime', '-e', 'icmpv6.opt.prefix.valid_lifetime'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [addrs, lens, pref, valid] = l.split('|').map((x) => (x ? x.split(',') : []));
      return addrs!.map((a, i) => ({ prefix: IpPrefix.parse(`${a}/${lens![i]}`)!.toString(), preferred: Number(pref![i]), valid: Number(valid![i]) }));
    });
}

const REBIND = 6;
const REPLY = 7;

test('prefix delegation from Kea: rebind at T2 keeps the prefix; a re-delegation deprecates the old prefix and renumbers', { skip, timeout: 420_000 }, async () => {
  const env = await startEnv({ serverArgs: ['--ipv6-pd-enabled'] });
  const dcName = `${env.tag}dc`;
  let capture: ChildProcess | null = null;
  let raCapture: ChildProcess | null = null;
  const pcap = join(env.labDir, `${env.tag}-pd.pcap`);
  const raPcap = join(env.labDir, `${env.tag}-ra.pcap`);
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const pool = `fd00:${third}::/48`;
    const pool2 = `fd01:${third}::/48`;
    const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `pub-${env.tag}`, 'router:external': true } })).network;
    await env.api('POST', '/v2.0/subnets', {
      subnet: { network_id: pub.id, ip_version: 6, cidr: `2001:db8:${third}:d::/64`, gateway_ip: `2001:db8:${third}:d::1`, enable_dhcp: false, allocation_pools: [{ start: `2001:db8:${third}:d::5`, end: `2001:db8:${third}:d::ff` }] },
    });
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `priv-${env.tag}` } })).network;
    const subnet = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, use_default_subnetpool: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}`, external_gateway_info: { network_id: pub.id } } })).router;
    env.extraNs.push(`qrouter-${router.id}`, `qdhcp-${net.id}`);

    // T1 6 s, T2 10 s, preferred 40 s, valid 80 s.
    const dcArgs = (from: string) => ['dc', '--network', pub.id, '--name', dcName, '--pd-pool', from, '--pd-length', '64', '--pd-server', 'kea', '--pd-timers', '6,10,40,80'];
    const dc = await env.lab(dcArgs(pool));
    assert.equal(dc.status, 0, dc.stderr);
    const dcDir = join(env.labDir, dcName);
    const dcNs = labNsName(dcName);

    // Everything DHCPv6 on the DC's side of the external network, from before the first Solicit.
    capture = spawn('ip', ['netns', 'exec', dcNs, 'tcpdump', '-i', 'eth0', '-U', '-n', '-w', pcap, 'udp port 546 or udp port 547'], { stdio: 'ignore' });
    await until('tcpdump writes its capture', () => {
      try {
        return readFileSync(pcap).length > 0;
      } catch {
        return false;
      }
    }, 20_000);

    const vm = `${env.tag}g`;
    const boot = await env.lab(['boot', '--network', net.id, '--name', vm]);
    assert.equal(boot.status, 0, boot.stderr);
    const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${vm}`)).ports[0];
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const first = await until('the subnet takes a delegated prefix', async () => {
      const s = (await env.api('GET', `/v2.0/subnets/${subnet.id}`)).subnet;
      return s.cidr !== '::/64' ? (s.cidr as string) : false;
    }, 90_000);
    assert.ok(IpPrefix.parse(pool)!.covers(IpPrefix.parse(first)!), `${first} is from ${pool}`);
    const addr1 = eui64Address(IpPrefix.parse(first)!, port.mac_address).toString();
    await until(`the instance configures ${addr1}/64`, () => globalAddrs(`lab-${vm}`).includes(`${addr1}/64`), 90_000);

    // (a) Kea goes away: the Renews at T1 are not answered, a Rebind goes out at T2.
    assert.ok(await stopPdServer(dcDir, () => {}), 'Kea was running');
    const stoppedAt = Date.now();
    await until('a Rebind on the wire', () => decode(pcap).some((f) => f.msgtype === REBIND && f.prefixes.includes(first)), 60_000);
    const rebindSeen = Date.now() - stoppedAt;
    // Kea comes back with its lease file and answers the Rebind (the client retransmits it until the lease ends).
    const since = env.agent.lines.length;
    const back = await env.lab(dcArgs(pool));
    assert.equal(back.status, 0, back.stderr);
    const rebound = await env.agent.waitLine(/\] rebound: subnet .* prefix /, since, 60_000);
    assert.ok(rebound.line.includes(`prefix ${first} `), rebound.line);
    await until("Kea's Reply to the Rebind on the wire", () => {
      const frames = decode(pcap);
      const i = frames.findIndex((f) => f.msgtype === REBIND);
      return frames.slice(i + 1).some((f) => f.msgtype === REPLY && f.prefixes.includes(first) && f.preferred.every((p) => p > 0));
    }, 20_000);
    assert.equal((await env.api('GET', `/v2.0/subnets/${subnet.id}`)).subnet.cidr, first, 'the subnet keeps its prefix through the rebind');
    console.log(`# kea: Rebind on the wire ${rebindSeen} ms after Kea stopped; the lease went on with ${first}`);

    // (b) Kea comes back with another pool and without its leases: the next exchange gets another prefix. The RAs
    // the instance receives are captured from here on.
    raCapture = spawn('ip', ['netns', 'exec', `lab-${vm}`, 'tcpdump', '-i', 'eth0', '-U', '-n', '-w', raPcap, 'icmp6'], { stdio: 'ignore' });
    await until('tcpdump writes the RA capture', () => {
      try {
        return readFileSync(raPcap).length > 0;
      } catch {
        return false;
      }
    }, 20_000);
    await stopPdServer(dcDir, () => {});
    for (const f of ['leases6.csv', 'leases6.csv.2', 'leases6.csv.1', 'leases6.csv.output', 'leases6.csv.completed']) rmSync(join(dcDir, f), { force: true });
    const moved = await env.lab(dcArgs(pool2));
    assert.equal(moved.status, 0, moved.stderr);
    const second = await until('the subnet moves to a prefix of the new pool', async () => {
      const s = (await env.api('GET', `/v2.0/subnets/${subnet.id}`)).subnet;
      return s.cidr !== first && s.cidr !== '::/64' ? (s.cidr as string) : false;
    }, 120_000);
    assert.ok(IpPrefix.parse(pool2)!.covers(IpPrefix.parse(second)!), `${second} is from ${pool2}`);
    const addr2 = eui64Address(IpPrefix.parse(second)!, port.mac_address).toString();
    assert.equal((await env.api('GET', `/v2.0/ports/${port.id}`)).port.fixed_ips[0].ip_address, addr2, 'the port is renumbered');

    // On the wire: an RA carrying the old prefix with preferred lifetime 0 (the deprecation), and the router's RAs
    // carrying the new one preferred.
    const ras = await until('RAs deprecating the old prefix and advertising the new one', () => {
      const frames = decodeRas(raPcap);
      const deprecated = frames.some((f) => f.some((p) => p.prefix === first && p.preferred === 0 && p.valid > 0));
      const advertised = frames.some((f) => f.some((p) => p.prefix === second && p.preferred > 0));
      return deprecated && advertised ? frames : false;
    }, 90_000);
    assert.ok(!ras.some((f) => f.some((p) => p.prefix === first && p.preferred > 0 && ras.indexOf(f) > ras.findIndex((g) => g.some((q) => q.prefix === first && q.preferred === 0)))), 'the old prefix is not advertised as preferred again');
    // What the instance made of it: its address in the old prefix deprecated (preferred lifetime 0).
    const addr1Old = await until(`the instance's ${addr1} deprecated`, () => {
      const a = (ipJson(`lab-${vm}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info ?? []).find((x: any) => x.local === addr1);
      return a && a.preferred_life_time === 0 ? a : false;
    }, 30_000);
    assert.equal(addr1Old.preferred_life_time, 0);
    // rdisc6 (a Router Solicitation answered by the router's radvd) shows the new prefix, preferred.
    const rd = parseRdisc6(sh(['ip', 'netns', 'exec', `lab-${vm}`, 'rdisc6', '-1', '-w', '3000', 'eth0']).stdout);
    assert.ok((rd.get('Prefix') ?? []).includes(second), `rdisc6: ${JSON.stringify([...rd])}`);
    await until(`the instance gains ${addr2}/64`, () => globalAddrs(`lab-${vm}`).includes(`${addr2}/64`), 90_000);
    console.log(`# kea: re-delegated ${first} -> ${second}; the RA deprecates ${first}; the instance has ${addr2}`);
  } finally {
    for (const c of [capture, raCapture]) if (c && c.exitCode === null) c.kill('SIGTERM');
    await env.lab(['delete', dcName]).catch(() => {});
    await env.cleanup();
  }
});
