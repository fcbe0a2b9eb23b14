// Taking things away withdraws them from the wire (issue 3):
//  - a router interface removed while the router keeps another: a goodbye RA on the leaving link (router lifetime 0,
//    prefix deprecated), so the instance there drops its default route at once; the other network is untouched;
//  - a port deleted: dnsmasq no longer answers its client (a fresh Solicit gets no address);
//  - the last DHCPv6 subnet deleted: the network's dnsmasq, qdhcp namespace and DHCP port go.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dhcpDiagnostics, ipJson, routedNetwork, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient']);

test('removing an interface, a port, a subnet withdraws each from the wire', { skip, timeout: 300_000 }, async () => {
  const env = await startEnv();
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const dns = `2001:db8:${third}:53::1`;
    // Two SLAAC networks on one router, an instance on each.
    const a = await routedNetwork(env, { name: `wa-${env.tag}`, cidr: `2001:db8:${third}:a1::/64`, mode: 'slaac', dns });
    const netB = (await env.api('POST', '/v2.0/networks', { network: { name: `wb-${env.tag}` } })).network;
    const subB = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: netB.id, ip_version: 6, cidr: `2001:db8:${third}:b1::/64`, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    await env.api('PUT', `/v2.0/routers/${a.router.id}/add_router_interface`, { subnet_id: subB.id });
    const ia = `${env.tag}wa`;
    const ib = `${env.tag}wb`;
    for (const [name, net] of [[ia, a.net], [ib, netB]] as const) {
      const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
      assert.equal(boot.status, 0, boot.stderr);
    }
    const defaults = (ns: string): any[] => ipJson(ns, ['-6', 'route', 'show', 'default']);
    const global = (ns: string): any | undefined => ipJson(ns, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.find((x: any) => x.scope === 'global');
    for (const name of [ia, ib]) await until(`${name} default route and address`, () => defaults(`lab-${name}`).length === 1 && global(`lab-${name}`));

    // 1. Remove B's interface: B's instance gets the goodbye at once (router lifetime 300 s otherwise), its SLAAC
    //    address is deprecated; A's instance keeps its route.
    const mark = env.agent.lines.length;
    await env.api('PUT', `/v2.0/routers/${a.router.id}/remove_router_interface`, { subnet_id: subB.id });
    await env.agent.waitLine(/goodbye RA on qr-/, mark);
    await until(`lab-${ib} drops its default route`, () => defaults(`lab-${ib}`).length === 0, 10_000);
    await until(`lab-${ib}'s address deprecated`, () => global(`lab-${ib}`)?.preferred_life_time === 0, 10_000);
    assert.equal(defaults(`lab-${ia}`).length, 1, 'the other network keeps its router');
    assert.notEqual(global(`lab-${ia}`).preferred_life_time, 0);

    // 2. A stateful network: the instance's port is deleted behind the running instance; a fresh Solicit from the
    //    same MAC then gets no address (dnsmasq dropped the host line and released the lease).
    const s = await routedNetwork(env, { name: `ws-${env.tag}`, cidr: `2001:db8:${third}:c1::/64`, mode: 'dhcpv6-stateful', dns });
    const is = `${env.tag}ws`;
    const boot = await env.lab(['boot', '--network', s.net.id, '--name', is]);
    assert.equal(boot.status, 0, boot.stderr + dhcpDiagnostics(env, s.net.id, is));
    const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${is}`)).ports[0];
    const leased = port.fixed_ips[0].ip_address;
    assert.ok(ipJson(`lab-${is}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.some((x: any) => x.local === leased));
    const mark2 = env.agent.lines.length;
    await env.api('DELETE', `/v2.0/ports/${port.id}`);
    await env.agent.waitLine(new RegExp(`dnsmasq-${s.net.id}.*(restart|reload)|(restart|reload) dnsmasq-${s.net.id}`), mark2);
    await env.agent.waitLine(/in sync:/, mark2);
    const dir = join(env.dir, 'resolicit');
    await shAsync(['mkdir', '-p', dir]);
    writeFileSync(join(dir, 'script'), `#!/bin/sh\nenv | grep -E '^(reason|new_ip6)' >> ${dir}/env\n`, { mode: 0o755 });
    const again = await shAsync(['ip', 'netns', 'exec', `lab-${is}`, 'timeout', '12', 'dhclient', '-6', '-1', '-v', '-sf', join(dir, 'script'), '-pf', join(dir, 'pid'), '-lf', join(dir, 'leases'), 'eth0']);
    assert.notEqual(again.status, 0, `a deleted port's client must not be served: ${again.stdout}${again.stderr}`);
    assert.ok(!existsSync(join(dir, 'env')) || !/BOUND6/.test(await import('node:fs').then((f) => f.readFileSync(join(dir, 'env'), 'utf8'))), 'no lease bound');

    // 3. The last DHCPv6 subnet of the network goes: no dnsmasq, no qdhcp namespace, no DHCP port.
    await shAsync(['ip', 'netns', 'exec', `lab-${is}`, 'true']);
    await env.lab(['delete', is]);
    const mark3 = env.agent.lines.length;
    await env.api('PUT', `/v2.0/routers/${s.router.id}/remove_router_interface`, { subnet_id: s.subnet.id });
    await env.api('DELETE', `/v2.0/subnets/${s.subnet.id}`);
    await env.agent.waitLine(new RegExp(`stop dnsmasq-${s.net.id}`), mark3);
    await until('qdhcp namespace gone', async () => !(await shAsync(['ip', 'netns', 'list'])).stdout.includes(`qdhcp-${s.net.id}`));
    await until('DHCP port deleted', async () => (await env.api('GET', `/v2.0/ports?network_id=${s.net.id}&device_owner=network:dhcp`)).ports.length === 0);
  } finally {
    await env.cleanup();
  }
});
