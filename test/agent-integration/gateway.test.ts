// The external side, as in the talk: an external network whose upstream router (a `lab dc` namespace) owns the
// subnets' gateway addresses and has a DNS host behind it; a router with its gateway on that network and an
// interface on a dual-stack tenant network. The router's qg- link carries the gateway port's addresses with default
// routes via the external gateways; an instance reaches the DNS host through the router in both families, and the
// DC reaches the instance's EUI-64 address back (routed, no NAT, for IPv6 as in Neutron).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { ipJson, pingFrom, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'ping']);

test('external gateway: qg- with default routes via the external gateways; instance <-> DC DNS host through the router; extra routes', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  const dcName = `${env.tag}dc`;
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const dns6 = `2001:db8:${third}:a::e`;
    const dns4 = '192.0.2.253';
    const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `pub-${env.tag}`, 'router:external': true } })).network;
    const p4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 4, cidr: '192.0.2.0/26', gateway_ip: '192.0.2.1', allocation_pools: [{ start: '192.0.2.5', end: '192.0.2.62' }] } })).subnet;
    const p6 = (
      await env.api('POST', '/v2.0/subnets', {
        subnet: { network_id: pub.id, ip_version: 6, cidr: `2001:db8:${third}:d::/64`, gateway_ip: `2001:db8:${third}:d::1`, enable_dhcp: false, allocation_pools: [{ start: `2001:db8:${third}:d::5`, end: `2001:db8:${third}:d::ff` }] },
      })
    ).subnet;
    // A DC before any router: it refuses a tenant network, and holds the gateways with no tenant routes yet.
    const bad = await env.lab(['dc', '--network', `pub-${env.tag}-nope`, '--name', dcName]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /no network/);

    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `priv-${env.tag}` } })).network;
    const t4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.64/26' } })).subnet;
    const cidr6 = `2001:db8:${third}:1::/64`;
    const t6 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: cidr6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: [dns6] } })).subnet;
    const tenantOnly = await env.lab(['dc', '--network', net.id, '--name', dcName]);
    assert.notEqual(tenantOnly.status, 0);
    assert.match(tenantOnly.stderr, /not external/);

    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}`, external_gateway_info: { network_id: pub.id } } })).router;
    env.extraNs.push(`qrouter-${router.id}`, `qdhcp-${net.id}`);
    for (const s of [t4, t6]) await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });
    const gw = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).ports[0];
    const gw6 = gw.fixed_ips.find((f: any) => f.subnet_id === p6.id).ip_address;
    const gw4 = gw.fixed_ips.find((f: any) => f.subnet_id === p4.id).ip_address;
    // The DHCP port of the public network serves its IPv4 subnet only: the no-DHCP IPv6 subnet is the router's.
    assert.equal(gw6, `2001:db8:${third}:d::5`);

    // The router: qg- with the gateway port's MAC and addresses, default routes via the external subnets' gateways.
    const qrouter = `qrouter-${router.id}`;
    const qg = `qg-${gw.id.slice(0, 11)}`;
    await until('qg- link and default routes', () => {
      const link = ipJson(qrouter, ['addr', 'show', 'dev', qg])[0];
      const r6 = ipJson(qrouter, ['-6', 'route', 'show', 'default'])[0];
      const r4 = ipJson(qrouter, ['-4', 'route', 'show', 'default'])[0];
      return link?.address === gw.mac_address && r6?.gateway === p6.gateway_ip && r6?.dev === qg && r4?.gateway === '192.0.2.1' && r4?.dev === qg;
    });
    const qgAddrs = ipJson(qrouter, ['addr', 'show', 'dev', qg])[0].addr_info.filter((a: any) => a.scope === 'global').map((a: any) => `${a.local}/${a.prefixlen}`);
    assert.deepEqual(qgAddrs.sort(), [`${gw4}/26`, `${gw6}/64`].sort());

    // The DC: the upstream router (gateway addresses), the DNS host behind it, routes back via the router's qg-.
    const dc = await env.lab(['dc', '--network', pub.id, '--name', dcName, '--behind', dns6, dns4]);
    assert.equal(dc.status, 0, dc.stderr);
    const plan = JSON.parse(dc.stdout);
    assert.deepEqual(plan.addresses.sort(), ['192.0.2.1/26', `2001:db8:${third}:d::1/64`].sort());
    // The router translates its tenants' IPv4 (enable_snat defaults to true): only the IPv6 prefix is routed back.
    assert.deepEqual(plan.routes.map((r: any) => `${r.dst} via ${r.via}`), [`${cidr6} via ${gw6}`]);
    // Re-running it changes nothing.
    const again = await env.lab(['dc', '--network', pub.id, '--name', dcName, '--behind', dns6, dns4]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), plan);
    assert.deepEqual(ipJson(`lab-${dcName}`, ['-6', 'route', 'show', 'proto', 'static']).map((r) => r.dst), [cidr6]);

    // An instance on the tenant network reaches the DNS host through the router, and is reached back.
    const name = `${env.tag}g`;
    const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
    assert.equal(boot.status, 0, boot.stderr);
    const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${name}`)).ports[0];
    const v6 = eui64Address(IpPrefix.parse(cidr6)!, port.mac_address).toString();
    await until(`instance SLAAC ${v6}`, () => ipJson(`lab-${name}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((a: any) => a.local === v6));
    await pingFrom(`lab-${name}`, dns6);
    // Reached back only as the talk's security group allows: ICMPv6 from ::/0 (the default group admits only members).
    await env.api('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: port.security_groups[0], direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp', remote_ip_prefix: '::/0' } });
    await pingFrom(`lab-${dcName}`, v6);
    const ping4 = await shAsync(['ip', 'netns', 'exec', `lab-${name}`, 'ping', '-4', '-n', '-c', '1', '-W', '2', dns4]);
    assert.equal(ping4.status, 0, ping4.stdout + ping4.stderr);
    // The path really is through the router: the instance's first hop for the DNS host is the router's link-local.
    const hop = ipJson(`lab-${name}`, ['-6', 'route', 'get', dns6])[0];
    assert.match(hop.gateway, /^fe80::/);

    // Extra routes (extraroute) on this legacy router: in its namespace as `proto static`, via the DC; gone when cleared.
    const viaDc = `2001:db8:${third}:d::1`;
    const extra = [`2001:db8:${third}:99::/64`, `2001:db8:${third}:98::7/128`];
    await env.api('PUT', `/v2.0/routers/${router.id}`, { router: { routes: extra.map((destination) => ({ destination, nexthop: viaDc })) } });
    const statics = (): string[] => ipJson(qrouter, ['-6', 'route', 'show', 'proto', 'static']).map((r: any) => `${r.dst} via ${r.gateway}`).sort();
    await until('extra routes in the router', () => JSON.stringify(statics()) === JSON.stringify([`2001:db8:${third}:98::7 via ${viaDc}`, `2001:db8:${third}:99::/64 via ${viaDc}`]));
    // Traffic takes them: the router's route to the extra destination goes via the DC's address on qg-.
    const got = ipJson(qrouter, ['-6', 'route', 'get', `2001:db8:${third}:99::5`])[0];
    assert.equal(got.gateway, viaDc);
    assert.equal(got.dev, qg);
    await env.api('PUT', `/v2.0/routers/${router.id}`, { router: { routes: [] } });
    await until('extra routes removed', () => statics().length === 0);
  } finally {
    await shAsync(['ip', 'netns', 'del', `lab-${dcName}`]);
    await env.cleanup();
  }
});
