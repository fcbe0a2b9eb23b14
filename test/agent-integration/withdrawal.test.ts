// Taking things away withdraws them from the wire (issue 3):
//  - a router interface removed while the router keeps another: a goodbye RA on the leaving link (router lifetime 0,
//    prefix deprecated), so the instance there drops its default route at once; the other network is untouched;
//  - a port deleted: dnsmasq no longer gives its MAC an address (a probe on the same bridge with that MAC gets
//    "no addresses available"; the same probe with a live port's MAC gets that port's address);
//  - the last DHCPv6 subnet deleted: the network's dnsmasq, qdhcp namespace and DHCP port go.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dhcpDiagnostics, ipJson, routedNetwork, sh, shAsync, skipReason, startEnv, until, type Env } from './lab-harness.js';

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

    // 2. A stateful network: the instance's port is deleted. The agent unplugs it (its tap goes with the port), so
    //    a probe stands in for the client: a namespace of its own on the same bridge, through a bridge end the agent
    //    does not manage, carrying the deleted port's MAC. Its Solicit must get no address. The same probe with the
    //    MAC of a live port then leases that port's address: the probe reaches dnsmasq, and only the host line decides.
    const s = await routedNetwork(env, { name: `ws-${env.tag}`, cidr: `2001:db8:${third}:c1::/64`, mode: 'dhcpv6-stateful', dns });
    const is = `${env.tag}ws`;
    const boot = await env.lab(['boot', '--network', s.net.id, '--name', is]);
    assert.equal(boot.status, 0, boot.stderr + dhcpDiagnostics(env, s.net.id, is));
    const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${is}`)).ports[0];
    const leased = port.fixed_ips[0].ip_address;
    assert.ok(ipJson(`lab-${is}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.some((x: any) => x.local === leased));
    const mark2 = env.agent.lines.length;
    await env.api('DELETE', `/v2.0/ports/${port.id}`);
    await env.agent.waitLine(new RegExp(`restart dnsmasq-${s.net.id} .*release ${leased.replaceAll('.', '\\.')}`), mark2);
    await env.agent.waitLine(/in sync:/, mark2);
    await until('the instance is unplugged', () => ipJson(`lab-${is}`, ['link', 'show', 'dev', 'eth0']).length === 0);

    const probe = await dhcpProbe(env, s.net.id, `${env.tag}wp`);
    try {
      const denied = await probe.solicit(port.mac_address, 'deleted');
      assert.match(denied.log, /XMT: Solicit on eth0/, `the probe sent Solicits: ${denied.log}`);
      assert.equal(denied.bound, null, `a deleted port's MAC must not be served:\n${denied.log}\n${dhcpDiagnostics(env, s.net.id)}`);
      // dnsmasq saw the Solicits and refused them (Advertise with status NoAddrsAvail, which dhclient ignores).
      assert.ok(env.agent.lines.some((l) => l.includes('DHCPADVERTISE') && l.includes(`:${port.mac_address} no addresses available`)), dhcpDiagnostics(env, s.net.id));
      const live = (await env.api('POST', '/v2.0/ports', { port: { network_id: s.net.id, name: `probe-${env.tag}` } })).port;
      await until('dnsmasq has the live port', () => readFileSync(join(env.stateDir, 'dhcp', s.net.id, 'host'), 'utf8').includes(live.mac_address));
      const served = await probe.solicit(live.mac_address, 'live');
      assert.equal(served.bound, live.fixed_ips[0].ip_address, `control: the probe leases a live port's address:\n${served.log}\n${dhcpDiagnostics(env, s.net.id)}`);
      await env.api('DELETE', `/v2.0/ports/${live.id}`);
    } finally {
      await probe.remove();
    }

    // 3. The last DHCPv6 subnet of the network goes: no dnsmasq, no qdhcp namespace, no DHCP port.
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

/**
 * A DHCPv6 client on a network's bridge that is no port of the API: namespace lab-NAME (removed by the harness's
 * cleanup too), eth0 plugged through a bridge end named `pr<name>`, which the agent never takes for one of its
 * taps. `solicit(mac)` gives eth0 that MAC and runs ISC dhclient (IA_NA) once, with a fresh DUID, for at most 12 s.
 */
async function dhcpProbe(env: Env, networkId: string, name: string): Promise<{ solicit(mac: string, label: string): Promise<{ bound: string | null; log: string }>; remove(): Promise<void> }> {
  const ns = `lab-${name}`;
  const brNs = `v6stack-br-${env.host}`;
  const end = `pr${name}`.slice(0, 15);
  const dir = join(env.dir, `probe-${name}`);
  const must = (argv: string[]): void => {
    const r = sh(argv);
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  };
  must(['mkdir', '-p', dir]);
  must(['ip', 'netns', 'add', ns]);
  must(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.addr_gen_mode=0']);
  must(['ip', '-n', brNs, 'link', 'add', end, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  must(['ip', '-n', brNs, 'link', 'set', end, 'master', `v6b-${networkId.slice(0, 11)}`, 'up']);
  return {
    async solicit(mac, label) {
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'down']);
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', mac]);
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      await until(`probe link-local for ${mac}`, () => ipJson(ns, ['-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])[0]?.addr_info.some((a: any) => !a.tentative));
      const script = join(dir, `script-${label}`);
      const envFile = join(dir, `env-${label}`);
      writeFileSync(script, `#!/bin/sh\nenv | grep -E '^(reason|new_ip6)' >> ${envFile}\n`, { mode: 0o755 });
      const r = await shAsync(['ip', 'netns', 'exec', ns, 'timeout', '12', 'dhclient', '-6', '-1', '-v', '-sf', script, '-pf', join(dir, `pid-${label}`), '-lf', join(dir, `leases-${label}`), 'eth0']);
      let recorded = '';
      try {
        recorded = readFileSync(envFile, 'utf8');
      } catch {
        /* the script never ran */
      }
      const bound = /^reason=BOUND6$/m.test(recorded) ? (/^new_ip6_address=(\S+)$/m.exec(recorded)?.[1] ?? null) : null;
      return { bound, log: `exit ${r.status}\n${r.stdout}${r.stderr}\n${recorded}` };
    },
    async remove() {
      sh(['ip', 'netns', 'del', ns]);
    },
  };
}
