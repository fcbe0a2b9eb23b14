// Dual stack, as in the talk's tenant networks: each network has an IPv4 subnet with DHCP and a SLAAC IPv6 subnet,
// one router has all four as interfaces. An instance gets its port's IPv4 address from dnsmasq (ISC dhclient, with
// the router as default gateway) and its EUI-64 address from the RA, and reaches an instance on the other network
// through the router in both families.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { dhcpDiagnostics, ipJson, pingFrom, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'ping']);

test('dual stack: DHCPv4 address and gateway from dnsmasq, SLAAC from the RA, both families routed between networks', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}` } })).router;
    env.extraNs.push(`qrouter-${router.id}`);
    const sides = [];
    for (const [i, v4] of [[1, '192.0.2.0/26'], [2, '192.0.2.64/26']] as const) {
      const net = (await env.api('POST', '/v2.0/networks', { network: { name: `it-${env.tag}-${i}` } })).network;
      env.extraNs.push(`qdhcp-${net.id}`);
      const s4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: v4, dns_nameservers: ['192.0.2.53'] } })).subnet;
      const cidr6 = `2001:db8:${third}:${i}::/64`;
      const s6 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: cidr6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
      for (const s of [s4, s6]) await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });
      sides.push({ net, s4, s6, cidr6, name: `${env.tag}d${i}` });
    }
    await env.agent.waitLine(new RegExp(`start radvd-${router.id}`));

    const got = [];
    for (const side of sides) {
      const boot = await env.lab(['boot', '--network', side.net.id, '--name', side.name]);
      assert.equal(boot.status, 0, boot.stderr + dhcpDiagnostics(env, side.net.id, side.name));
      const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${side.name}`)).ports[0];
      const v4 = port.fixed_ips.find((f: any) => f.subnet_id === side.s4.id).ip_address;
      const v6 = port.fixed_ips.find((f: any) => f.subnet_id === side.s6.id).ip_address;
      assert.equal(v6, eui64Address(IpPrefix.parse(side.cidr6)!, port.mac_address).toString());
      const ns = `lab-${side.name}`;
      // IPv4: exactly the port's address with the subnet's prefix length, default route via the subnet's gateway.
      const v4addrs = ipJson(ns, ['-4', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.map((a: any) => `${a.local}/${a.prefixlen}`);
      assert.deepEqual(v4addrs, [`${v4}/26`], dhcpDiagnostics(env, side.net.id, side.name));
      assert.deepEqual(ipJson(ns, ['-4', 'route', 'show', 'default']).map((r) => r.gateway), [side.s4.gateway_ip]);
      // The options dhclient received (its script records them): DNS server, domain, router.
      const opts = readFileSync(join(env.labDir, side.name, 'dhclient4.env'), 'utf8');
      assert.match(opts, /^new_domain_name_servers=192\.0\.2\.53$/m);
      assert.match(opts, /^new_domain_name=openstacklocal$/m);
      assert.match(opts, new RegExp(`^new_routers=${side.s4.gateway_ip.replaceAll('.', '\\.')}$`, 'm'));
      // IPv6: the EUI-64 address from the router's RA.
      await until(`${ns} SLAAC address ${v6}`, () => ipJson(ns, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((a: any) => a.local === v6 && !a.tentative));
      got.push({ ns, v4, v6 });
    }
    const [a, b] = got as [(typeof got)[0], (typeof got)[0]];
    const ping4 = await shAsync(['ip', 'netns', 'exec', a.ns, 'ping', '-4', '-n', '-c', '1', '-W', '2', b.v4]);
    assert.equal(ping4.status, 0, `IPv4 through the router: ${ping4.stdout}${ping4.stderr}`);
    await pingFrom(a.ns, b.v6);
    await pingFrom(b.ns, a.v6);
  } finally {
    await env.cleanup();
  }
});
