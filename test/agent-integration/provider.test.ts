// The talk's provider network (its "external-net": 2001:db8:cafe:16::/64 in SLAAC, upstream router
// 2001:db8:cafe:16::1, DNS host 2001:db8:cafe:a::e), with the DC built by `lab dc --follow`:
//  - the DC advertises the provider prefix (the talk's upstream router did), so an instance plugged straight into the
//    provider network (the talk's "rhv6-only-drive") configures the EUI-64 address the API reports and routes via
//    the DC; the v6stack router's qg- hears that RA and ignores it (forwarding on): only its static addresses and the
//    default route via the subnet's gateway_ip;
//  - a router with its gateway there and a tenant SLAAC network: the DC learns the route back to the tenant prefix
//    from the API by itself (--follow), and loses it when the interface goes; a tenant instance and the DC, and the
//    tenant and provider instances, reach each other in both directions (routed, no NAT);
//  - `lab delete` of the DC stops its radvd first: the provider instance drops its default route at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dcMac } from '../../src/lab/dc.js';
import { eui64Address, linkLocalFromMac } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { ipJson, parseRdisc6, pingFrom, sh, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'rdisc6', 'dnsmasq', 'dhclient', 'ping', 'tcpdump']);

const EXT6 = '2001:db8:cafe:16::/64';
const UPSTREAM6 = '2001:db8:cafe:16::1';
const DNS6 = '2001:db8:cafe:a::e';

test('provider network as in the talk: the DC advertises it, an instance on it and one behind a router reach each other; lab dc --follow keeps the routes in step; lab delete says goodbye', { skip, timeout: 300_000 }, async () => {
  const env = await startEnv();
  const dc = `${env.tag}dc`;
  const dcNs = `lab-${dc}`;
  const prov = `${env.tag}p`;
  const tenant = `${env.tag}t`;
  let follower: ReturnType<typeof spawn> | null = null;
  try {
    await env.agent.waitLine(/in sync:/);
    const ext = (await env.api('POST', '/v2.0/networks', { network: { name: `external-net-${env.tag}`, 'router:external': true } })).network;
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: ext.id, ip_version: 4, cidr: '192.0.2.0/26', gateway_ip: '192.0.2.1', allocation_pools: [{ start: '192.0.2.5', end: '192.0.2.62' }] } });
    const ext6 = (
      await env.api('POST', '/v2.0/subnets', {
        subnet: { network_id: ext.id, name: 'external-subnet-v6', ip_version: 6, cidr: EXT6, gateway_ip: UPSTREAM6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: [DNS6], allocation_pools: [{ start: '2001:db8:cafe:16::5', end: '2001:db8:cafe:16:ffff:ffff:ffff:fffe' }] },
      })
    ).subnet;
    env.extraNs.push(`qdhcp-${ext.id}`);

    // The DC, following the API: one JSON line per refresh.
    const refreshes: any[] = [];
    let followerLog = '';
    follower = spawn(process.execPath, ['dist/src/cli/main.js', 'lab', 'dc', '--network', ext.name, '--name', dc, '--behind', DNS6, '--follow', '--server', env.url, '--host', env.host, '--state-dir', env.labDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    follower.stdout!.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.trim()) refreshes.push(JSON.parse(l));
    });
    follower.stderr!.on('data', (d) => (followerLog += d));
    const first = await until(`the DC's first refresh (${followerLog})`, () => refreshes[0]);
    assert.deepEqual(first.addresses.sort(), ['192.0.2.1/26', `${UPSTREAM6}/64`].sort());
    assert.deepEqual(first.routes, []);
    assert.deepEqual(first.advertised, [EXT6]);
    const dcLla = linkLocalFromMac(dcMac(dc)).toString();

    // An instance straight on the provider network: SLAAC from the DC's RA, the EUI-64 address the API reports.
    const bootP = await env.lab(['boot', '--network', ext.id, '--name', prov]);
    assert.equal(bootP.status, 0, bootP.stderr);
    const portP = (await env.api('GET', `/v2.0/ports?device_id=lab-${prov}`)).ports[0];
    const addrP = portP.fixed_ips.find((f: any) => f.subnet_id === ext6.id).ip_address;
    assert.equal(addrP, eui64Address(IpPrefix.parse(EXT6)!, portP.mac_address).toString());
    const defaults = (ns: string, family: 4 | 6 = 6): any[] => ipJson(ns, [`-${family}`, 'route', 'show', 'default']);
    await until(`lab-${prov}: ${addrP} and a default route via the DC ${dcLla}`, () =>
      ipJson(`lab-${prov}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((a: any) => a.local === addrP && a.prefixlen === 64 && a.dynamic) && defaults(`lab-${prov}`).some((r) => r.gateway === dcLla),
    );
    const rd = sh(['ip', 'netns', 'exec', `lab-${prov}`, 'rdisc6', '-1', 'eth0']);
    assert.equal(rd.status, 0, rd.stdout + rd.stderr);
    const ra = parseRdisc6(rd.stdout);
    assert.deepEqual(ra.get('from'), [dcLla]);
    assert.deepEqual(ra.get('Prefix'), [EXT6]);
    assert.deepEqual(ra.get('Autonomous address conf.'), ['Yes']);
    assert.deepEqual(ra.get('Stateful address conf.'), ['No']);
    assert.deepEqual(ra.get('Stateful other conf.'), ['No']);
    assert.equal(ra.get('Recursive DNS server'), undefined, "the talk's upstream router sent no RDNSS");
    await pingFrom(`lab-${prov}`, DNS6);

    // A tenant SLAAC network behind a router whose gateway is on the provider network.
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `private-${env.tag}` } })).network;
    const cidrT = '2001:db8:cafe::/64';
    const subT = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: cidrT, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: [DNS6] } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `private-router-${env.tag}`, external_gateway_info: { network_id: ext.id } } })).router;
    const qrouter = `qrouter-${router.id}`;
    env.extraNs.push(qrouter);
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subT.id });
    const gw = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).ports[0];
    const gw6 = gw.fixed_ips.find((f: any) => f.subnet_id === ext6.id).ip_address;
    assert.equal(gw6, eui64Address(IpPrefix.parse(EXT6)!, gw.mac_address).toString(), 'the gateway port has its EUI-64 address on the SLAAC provider subnet');

    // The DC learns the route back by itself.
    await until('the DC refreshed with the route to the tenant prefix', () => refreshes.some((r) => r.routes.some((x: any) => x.dst === cidrT && x.via === gw6)));
    await until('the route in the DC kernel', () => ipJson(dcNs, ['-6', 'route', 'show', 'proto', 'static']).some((r) => r.dst === cidrT && r.gateway === gw6));

    // The router: static addresses only on qg-, one default route per family, via the upstream router, even after
    // a multicast RA from the DC reached qg- (radvd sends one on SIGHUP).
    const qg = `qg-${gw.id.slice(0, 11)}`;
    await until('qg- with default routes', () => defaults(qrouter).some((r) => r.gateway === UPSTREAM6 && r.dev === qg) && defaults(qrouter, 4).some((r) => r.gateway === '192.0.2.1'));
    const heard = listenOnce(qrouter, qg, 'icmp6 and ip6[40] == 134');
    await heard.listening;
    process.kill(Number(readFileSync(join(env.labDir, dc, 'radvd.pid'), 'utf8').trim()), 'SIGHUP');
    const cap = await heard.done;
    assert.equal(cap.status, 0, `qg- heard the DC's RA: ${cap.out}`);
    assert.match(cap.out, new RegExp(`${dcLla} > ff02::1: ICMP6, router advertisement`));
    await new Promise((r) => setTimeout(r, 300)); // a grace for the kernel to act on it, were it to
    const qgAddrs = ipJson(qrouter, ['-6', 'addr', 'show', 'dev', qg])[0].addr_info.filter((a: any) => a.scope === 'global');
    assert.deepEqual(qgAddrs.map((a: any) => `${a.local}/${a.prefixlen}`), [`${gw6}/64`]);
    assert.ok(!qgAddrs[0].dynamic, 'the static address, not one made from the RA');
    assert.deepEqual(defaults(qrouter).map((r) => `${r.gateway} ${r.dev}`), [`${UPSTREAM6} ${qg}`], 'no default route learned from the RA');

    // Tenant instance <-> DNS host and DC; tenant instance <-> provider instance, in both directions.
    const bootT = await env.lab(['boot', '--network', net.id, '--name', tenant]);
    assert.equal(bootT.status, 0, bootT.stderr);
    const portT = (await env.api('GET', `/v2.0/ports?device_id=lab-${tenant}`)).ports[0];
    const addrT = portT.fixed_ips[0].ip_address;
    await until(`lab-${tenant}: ${addrT} and a default route`, () => ipJson(`lab-${tenant}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((a: any) => a.local === addrT) && defaults(`lab-${tenant}`).length === 1);
    await pingFrom(`lab-${tenant}`, DNS6);
    // The DC reaches the instance only as the talk's security group allows: ICMPv6 from ::/0 (default admits members).
    await env.api('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: portT.security_groups[0], direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp', remote_ip_prefix: '::/0' } });
    await pingFrom(dcNs, addrT);
    await pingFrom(`lab-${tenant}`, addrP);
    await pingFrom(`lab-${prov}`, addrT);

    // A second tenant network comes and goes: the DC's route to it follows.
    const net2 = (await env.api('POST', '/v2.0/networks', { network: { name: `private2-${env.tag}` } })).network;
    const cidr2 = '2001:db8:cafe:1::/64';
    const sub2 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net2.id, ip_version: 6, cidr: cidr2, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub2.id });
    await until(`the DC routes ${cidr2}`, () => ipJson(dcNs, ['-6', 'route', 'show', 'proto', 'static']).some((r) => r.dst === cidr2 && r.gateway === gw6));
    await env.api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: sub2.id });
    await until(`the DC no longer routes ${cidr2}`, () => ipJson(dcNs, ['-6', 'route', 'show', 'proto', 'static']).map((r) => r.dst).join() === cidrT);

    // Stopping the follower leaves the DC as it is.
    const exited = new Promise<number | null>((r) => follower!.once('exit', (code) => r(code)));
    follower.kill('SIGTERM');
    assert.equal(await exited, 0, followerLog);
    follower = null;
    await pingFrom(`lab-${tenant}`, DNS6);

    // lab delete: radvd's goodbye RA first (router lifetime 0; otherwise the provider instance would keep the dead
    // router for 300 s), then the namespace and its bridge end.
    const radvdPid = Number(readFileSync(join(env.labDir, dc, 'radvd.pid'), 'utf8').trim());
    const del = await env.lab(['delete', dc]);
    assert.equal(del.status, 0, del.stderr);
    assert.match(del.stderr, /stopped radvd/);
    await until(`lab-${prov} drops the DC as its default router`, () => defaults(`lab-${prov}`).length === 0, 10_000);
    assert.equal(ipJson(`v6stack-br-${env.host}`, ['link', 'show']).filter((l) => l.ifname === `up-${dc}`).length, 0);
    assert.equal(sh(['ip', 'netns', 'exec', dcNs, 'true']).status === 0, false, 'the DC namespace is gone');
    assert.equal(running(radvdPid), false, 'radvd is gone');
  } finally {
    follower?.kill('SIGKILL');
    await env.cleanup();
  }
});

/** tcpdump in `ns` on `dev` until one packet matches (at most 15 s); `listening` resolves once it is capturing. */
function listenOnce(ns: string, dev: string, filter: string): { listening: Promise<void>; done: Promise<{ status: number; out: string }> } {
  const c = spawn('ip', ['netns', 'exec', ns, 'timeout', '15', 'tcpdump', '-l', '-c', '1', '-n', '-i', dev, filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let ready: () => void = () => {};
  const listening = new Promise<void>((r) => (ready = r));
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => {
    out += d;
    if (/listening on/.test(out)) ready();
  });
  const done = new Promise<{ status: number; out: string }>((r) => c.once('close', (code) => {
    ready();
    r({ status: code ?? -1, out });
  }));
  return { listening, done };
}

/** A live (not zombie) process. */
function running(pid: number): boolean {
  try {
    return !/\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
