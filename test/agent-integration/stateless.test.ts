// End to end, DHCPv6 stateless: a real server and a real agent; a network with a dhcpv6-stateless /64 on a router.
// The instance forms its EUI-64 address by kernel SLAAC (RA with A=1, O=1) and gets the DNS server and search list
// from dnsmasq by `dhclient -6 -S` (Information-Request), with no address lease and no host entry. Then a second
// instance, on a SLAAC subnet of another network on the same router, pings the first through the router.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { dhcpDiagnostics, globalAddrs, ipJson, parseRdisc6, pingFrom, sh, skipReason, startEnv, until, routedNetwork } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'rdisc6', 'dnsmasq', 'dhclient', 'ping']);

test('DHCPv6 stateless: SLAAC EUI-64 address plus DNS and search list from dhclient -S; RA A=1 O=1; an instance on another subnet of the router pings it', { skip, timeout: 180_000 }, async () => {
  const env = await startEnv();
  const name = `${env.tag}l`;
  const other = `${env.tag}m`;
  const labNs = `lab-${name}`;
  const otherNs = `lab-${other}`;
  let netId = '';
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 2) % 0xffff).toString(16);
    const cidr = `2001:db8:${third}:3::/64`;
    const cidrB = `2001:db8:${third}:4::/64`;
    const dns = `2001:db8:${third}:53::1`;
    const { net, subnet, router, rport, routerLla } = await routedNetwork(env, { name: `it-${env.tag}-a`, cidr, mode: 'dhcpv6-stateless', dns });
    netId = net.id;

    const dhcpPort = await until('the DHCP port', async () => (await env.api('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`)).ports[0]);
    const started = await env.agent.waitLine(new RegExp(`start dnsmasq-${net.id}`));
    await env.agent.waitLine(/in sync:/, started.index);
    await env.agent.waitLine(new RegExp(`start radvd-${router.id}`));
    await until('ns- interface with the DHCP port address', () =>
      ipJson(`qdhcp-${net.id}`, ['addr', 'show']).some((l) => l.ifname === `ns-${dhcpPort.id.slice(0, 11)}` && l.addr_info.some((a: any) => a.local === dhcpPort.fixed_ips[0].ip_address)),
    );

    const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
    assert.equal(boot.status, 0, `${boot.stderr}\n${dhcpDiagnostics(env, net.id, name)}`);
    assert.match(boot.stderr, /dhclient -6 -S /, 'the lab ran an Information-Request client');
    const port = (await env.api('GET', `/v2.0/ports?device_id=${labNs}`)).ports[0];
    const expected = port.fixed_ips[0].ip_address;
    assert.equal(expected, eui64Address(IpPrefix.parse(cidr)!, port.mac_address).toString(), 'the API reports the EUI-64 address');

    // The address is the kernel's SLAAC address, the only global one; the default route is via the router LLA.
    await until(`SLAAC address ${expected}`, () => globalAddrs(labNs).includes(`${expected}/64`));
    assert.deepEqual(globalAddrs(labNs), [`${expected}/64`]);
    const kernel = ipJson(labNs, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.find((a: any) => a.local === expected);
    assert.equal(kernel.dynamic, true, 'configured from the RA (dynamic), not by dhclient');
    await until(`default route via ${routerLla}`, () => ipJson(labNs, ['-6', 'route', 'show', 'default']).some((r) => r.gateway === routerLla && r.dev === 'eth0'));

    // Information-Request: the options and no address.
    const infoEnv = readFileSync(join(env.labDir, name, 'dhclient.env'), 'utf8');
    assert.match(infoEnv, new RegExp(`^new_dhcp6_name_servers=${dns}$`, 'm'), dhcpDiagnostics(env, net.id, name));
    assert.match(infoEnv, /^new_dhcp6_domain_search=openstacklocal\.$/m);
    assert.doesNotMatch(infoEnv, /^new_ip6_address=/m);
    // dnsmasq has no host entries on a stateless subnet (Neutron writes none) and leased nothing.
    assert.equal(readFileSync(join(env.stateDir, 'dhcp', net.id, 'host'), 'utf8'), '');
    assert.equal(readFileSync(join(env.stateDir, 'dhcp', net.id, 'opts'), 'utf8'), `tag:subnet-${subnet.id},option6:dns-server,[${dns}]\ntag:subnet-${subnet.id},option6:domain-search,openstacklocal\n`);
    assert.deepEqual(env.agent.lines.filter((l) => /ERROR|cannot read|failed to load/.test(l)), []);
    assert.ok(env.agent.lines.some((l) => /DHCPINFORMATION-REQUEST/.test(l)), 'dnsmasq answered an Information-Request');

    // The RA: M=0, O=1, the prefix on-link and autonomous.
    const rd = sh(['ip', 'netns', 'exec', labNs, 'rdisc6', '-1', 'eth0']);
    assert.equal(rd.status, 0, rd.stdout + rd.stderr);
    const ra = parseRdisc6(rd.stdout);
    assert.deepEqual(ra.get('Stateful address conf.'), ['No']);
    assert.deepEqual(ra.get('Stateful other conf.'), ['Yes']);
    assert.deepEqual(ra.get('Prefix'), [cidr]);
    assert.deepEqual(ra.get('On-link'), ['Yes']);
    assert.deepEqual(ra.get('Autonomous address conf.'), ['Yes']);
    assert.deepEqual(ra.get('from'), [routerLla]);
    await pingFrom(labNs, subnet.gateway_ip);

    // A second network with a SLAAC subnet on the same router; its instance reaches the first through the router.
    const netB = (await env.api('POST', '/v2.0/networks', { network: { name: `it-${env.tag}-b` } })).network;
    const subnetB = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: netB.id, ip_version: 6, cidr: cidrB, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnetB.id });
    const bootB = await env.lab(['boot', '--network', netB.id, '--name', other]);
    assert.equal(bootB.status, 0, bootB.stderr);
    const portB = (await env.api('GET', `/v2.0/ports?device_id=${otherNs}`)).ports[0];
    const addrB = portB.fixed_ips[0].ip_address;
    await until(`SLAAC address ${addrB}`, () => globalAddrs(otherNs).includes(`${addrB}/64`));
    await until('default route in the second instance', () => ipJson(otherNs, ['-6', 'route', 'show', 'default']).length > 0);
    await pingFrom(otherNs, expected);
    await pingFrom(labNs, addrB);

    for (const n of [name, other]) {
      const del = await env.lab(['delete', n]);
      assert.equal(del.status, 0, del.stderr);
    }
  } catch (e) {
    if (netId) console.error(dhcpDiagnostics(env, netId, name));
    throw e;
  } finally {
    await env.cleanup();
  }
});
