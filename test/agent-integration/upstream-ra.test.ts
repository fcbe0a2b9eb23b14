// End to end, a router whose external network has no IPv6 subnet (Neutron's "external gateway with no IPv6
// subnet"): IPv6 still flows through it, with only link-local addresses on the external link. The agent sets
// accept_ra 2 on qg- and the kernel takes its default route from the upstream router's RAs (here `lab dc`, which on
// such a network advertises itself as a default router, no prefix, and reaches the tenant prefix through qg-'s
// link-local address). A full resync keeps the RA-learnt route (it is the kernel's). Restarted with
// --ipv6-gateway (Neutron's ipv6_gateway), the agent routes via that address instead and stops accepting RAs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentProcess, ipJson, pingFrom, sh, skipReason, startEnv, until } from './lab-harness.js';
import { dcMac } from '../../src/lab/dc.js';
import { linkLocalFromMac } from '../../src/domain/eui64.js';

const skip = skipReason(['ip', 'radvd', 'ping', 'sysctl']);

test('no IPv6 subnet on the external network: qg- learns the default route from the upstream RA (accept_ra 2); --ipv6-gateway routes via the given address', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  // lab-<tag>...: the harness cleanup removes every namespace of this run by that prefix, even when the test fails.
  const dcName = `${env.tag}d`;
  const name = `${env.tag}u`;
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 13) % 0xffff).toString(16);
    const dns6 = `2001:db8:${third}:a::e`;
    const ext = (await env.api('POST', '/v2.0/networks', { network: { name: `ext-${env.tag}`, 'router:external': true } })).network;
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: ext.id, ip_version: 4, cidr: '192.0.2.128/26', enable_dhcp: false } });
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `in-${env.tag}` } })).network;
    const cidr = `2001:db8:${third}:8::/64`;
    const sub = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}`, external_gateway_info: { network_id: ext.id } } })).router;
    env.extraNs.push(`qrouter-${router.id}`);
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id });
    const gw = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).ports[0];
    const qrouter = `qrouter-${router.id}`;
    const qg = `qg-${gw.id.slice(0, 11)}`;
    const acceptRa = (): string => sh(['ip', 'netns', 'exec', qrouter, 'sysctl', '-n', `net.ipv6.conf.${qg}.accept_ra`]).stdout.trim();
    const default6 = (): any => ipJson(qrouter, ['-6', 'route', 'show', 'default'])[0];

    await until('qg- accepts RAs (accept_ra 2)', () => acceptRa() === '2');
    assert.equal(default6(), undefined, 'no IPv6 default route before the upstream router advertises');

    // The upstream router: default router only, the DNS host behind it, the tenant prefix via qg-'s link-local.
    const dc = await env.lab(['dc', '--network', ext.id, '--name', dcName, '--behind', dns6]);
    assert.equal(dc.status, 0, dc.stderr);
    const plan = JSON.parse(dc.stdout);
    const qgLla = linkLocalFromMac(gw.mac_address).toString();
    assert.deepEqual(plan.routes, [{ family: 6, dst: cidr, via: qgLla }]);
    assert.equal(plan.defaultRouterOnly, true);
    const dcLla = linkLocalFromMac(dcMac(dcName)).toString();
    const learnt = await until('the default route from the upstream RA', () => {
      const r = default6();
      return r?.gateway === dcLla && r?.dev === qg ? r : false;
    });
    assert.equal(learnt.protocol, 'ra');

    // An instance behind the router reaches the DNS host: no global address on the external link at all.
    const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
    assert.equal(boot.status, 0, boot.stderr);
    await pingFrom(`lab-${name}`, dns6);

    // A full resync (agent restart) leaves the kernel's RA route alone.
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir);
    const sync = await env.agent.waitLine(/in sync:/, 0);
    assert.match(sync.line, /in sync: 0 kernel actions/, env.agent.lines.join('\n'));
    assert.equal(default6()?.gateway, dcLla);

    // --ipv6-gateway: a static default route via that address, RAs no longer accepted on qg-.
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir, ['--ipv6-gateway', dcLla]);
    await env.agent.waitLine(/in sync:/, 0);
    await until('accept_ra 0 and a static default route', () => acceptRa() === '0' && default6()?.gateway === dcLla && default6()?.protocol !== 'ra');
    await pingFrom(`lab-${name}`, dns6);
    const bad = await shAgentOption(env.url, ['--ipv6-gateway', '192.0.2.1']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--ipv6-gateway must be an IPv6 address/);
  } finally {
    await env.cleanup();
  }
});

function shAgentOption(server: string, extra: string[]): { status: number; stdout: string; stderr: string } {
  return sh([process.execPath, 'dist/src/cli/main.js', 'agent', '--server', server, '--host', 'never-started', '--state-dir', '/nonexistent', ...extra]);
}
