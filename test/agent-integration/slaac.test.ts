// End to end, SLAAC: a real server and a real agent; through the API a network with a SLAAC /64 and a router on
// it; a lab instance booted on the network. The instance must get exactly the EUI-64 address the API reports for
// its port, a default route via the router port's link-local address, and an RA with the right flags, MTU and
// RDNSS. Restarting the agent must change nothing; removing the router interface must withdraw the RA.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eui64Address, linkLocalFromMac } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { ipJson, parseRdisc6, sh, skipReason, startEnv, until, AgentProcess } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'rdisc6']);

/** The kernel state that matters, without counters and lifetimes. */
function snapshot(namespaces: string[]): string {
  const out: Record<string, unknown> = {};
  for (const ns of namespaces) {
    out[ns] = {
      links: ipJson(ns, ['addr', 'show']).map((l) => ({
        name: l.ifname,
        mac: l.address,
        mtu: l.mtu,
        flags: l.flags,
        master: l.master ?? null,
        addrs: (l.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`).sort(),
      })),
      routes: ipJson(ns, ['-6', 'route', 'show']).map((r) => `${r.dst} ${r.gateway ?? ''} ${r.dev}`).sort(),
    };
  }
  return JSON.stringify(out, null, 1);
}

test('SLAAC: EUI-64 address, default route via the router LLA, RA contents; agent restart is a no-op; interface removal withdraws the RA', { skip, timeout: 180_000 }, async () => {
  const env = await startEnv();
  const name = `${env.tag}s`;
  const labNs = `lab-${name}`;
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const cidr = `2001:db8:${third}:1::/64`;
    const dns = `2001:db8:${third}:53::1`;
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `it-${env.tag}` } })).network;
    const subnet = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: [dns] } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}` } })).router;
    const qrouter = `qrouter-${router.id}`;
    env.extraNs.push(qrouter);
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const rport = (await env.api('GET', `/v2.0/ports?device_id=${router.id}`)).ports[0];
    const routerLla = linkLocalFromMac(rport.mac_address).toString();

    // The router namespace, its qr- interface with the port's MAC and address, and radvd.
    await until('qr- interface with its address', () =>
      ipJson(qrouter, ['addr', 'show']).find((l) => l.ifname === `qr-${rport.id.slice(0, 11)}` && l.address === rport.mac_address && l.addr_info.some((a: any) => a.local === rport.fixed_ips[0].ip_address)),
    );
    await env.agent.waitLine(new RegExp(`start radvd-${router.id}`));

    const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
    assert.equal(boot.status, 0, boot.stderr);
    const port = (await env.api('GET', `/v2.0/ports?device_id=${labNs}`)).ports[0];
    const expected = port.fixed_ips[0].ip_address;
    assert.equal(expected, eui64Address(IpPrefix.parse(cidr)!, port.mac_address).toString(), 'the API reports the EUI-64 address');

    // The instance configures exactly that address from the RA, and routes via the router's link-local address.
    await until(`instance address ${expected}`, () =>
      ipJson(labNs, ['-6', 'addr', 'show', 'dev', 'eth0']).some((l) => l.addr_info.some((a: any) => a.scope === 'global' && a.local === expected && a.prefixlen === 64 && !a.tentative)),
    );
    const globals = ipJson(labNs, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.filter((a: any) => a.scope === 'global').map((a: any) => a.local);
    assert.deepEqual(globals, [expected]);
    await until(`default route via ${routerLla}`, () => ipJson(labNs, ['-6', 'route', 'show', 'default']).some((r) => r.gateway === routerLla && r.dev === 'eth0'));

    // The RA itself, as rdisc6 parses it.
    const rd = sh(['ip', 'netns', 'exec', labNs, 'rdisc6', '-1', 'eth0']);
    assert.equal(rd.status, 0, rd.stdout + rd.stderr);
    const ra = parseRdisc6(rd.stdout);
    assert.deepEqual(ra.get('Stateful address conf.'), ['No']);
    assert.deepEqual(ra.get('Stateful other conf.'), ['No']);
    assert.deepEqual(ra.get('Router lifetime'), ['300']);
    assert.deepEqual(ra.get('Prefix'), [cidr]);
    assert.deepEqual(ra.get('On-link'), ['Yes']);
    assert.deepEqual(ra.get('Autonomous address conf.'), ['Yes']);
    assert.deepEqual(ra.get('MTU'), [String(net.mtu)]);
    assert.deepEqual(ra.get('Recursive DNS server'), [dns]);
    assert.deepEqual(ra.get('from'), [routerLla]);

    // Restart: SIGTERM, a new agent on the same state dir; its first pass changes no kernel state.
    const watched = [qrouter, `v6stack-br-${env.host}`, labNs];
    const before = snapshot(watched);
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir);
    const first = await env.agent.waitLine(/in sync:/);
    assert.match(first.line, /in sync: 0 kernel actions/, env.agent.lines.join('\n'));
    await env.agent.waitLine(new RegExp(`start radvd-${router.id}`));
    assert.equal(snapshot(watched), before);
    assert.ok(ipJson(labNs, ['-6', 'route', 'show', 'default']).some((r) => r.gateway === routerLla), 'the instance kept its default route across the restart');

    // Removing the router interface withdraws the RA: radvd says goodbye (router lifetime 0), its config goes,
    // the qr- interface goes, and a solicitation gets no answer. The SLAAC address stays (valid lifetime).
    const mark = env.agent.lines.length;
    await env.api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id });
    await env.agent.waitLine(/in sync:/, mark);
    await until('default route withdrawn', () => ipJson(labNs, ['-6', 'route', 'show', 'default']).length === 0);
    assert.equal(existsSync(join(env.stateDir, 'radvd', router.id, 'radvd.conf')), false);
    assert.deepEqual(ipJson(qrouter, ['link', 'show']).map((l) => l.ifname), ['lo']);
    const silent = sh(['ip', 'netns', 'exec', labNs, 'rdisc6', '-1', '-r', '2', '-w', '500', 'eth0']);
    assert.notEqual(silent.status, 0, `no router answers any more: ${silent.stdout}`);

    const del = await env.lab(['delete', name]);
    assert.equal(del.status, 0, del.stderr);
    assert.equal((await env.api('GET', `/v2.0/ports?device_id=${labNs}`)).ports.length, 0);
  } finally {
    await env.cleanup();
  }
});
