// IPv4 NAT on the wire (features/nat.ts): a router with its gateway on an external network whose upstream router is
// a `lab dc` (which routes tenant IPv4 back only for routers with enable_snat false), a dual-stack tenant network
// with two lab instances. Captures on the DC's eth0 show what the data centre sees: the instance's IPv4 as the
// gateway address (SNAT), then as its floating IP; the floating IP reaches the instance from the DC and follows a
// re-association; enable_snat false leaves the instance's own address; IPv6 always arrives untranslated. An agent
// restart finds the table as planned and changes nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { AgentProcess, capturePackets, ipJson, pingOnce, pingUntil, pingFrom, sh, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'ping', 'tcpdump', 'nft', 'conntrack', 'arping']);

const capture = capturePackets;
const ping = pingOnce;

test('NAT: SNAT to the gateway address, floating IPs in and out (and re-associated), enable_snat false, IPv6 untranslated, restart', { skip, timeout: 420_000 }, async () => {
  const env = await startEnv();
  const dcName = `${env.tag}dc`;
  const dcNs = `lab-${dcName}`;
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const dns6 = `2001:db8:${third}:a::e`;
    const dns4 = '192.0.2.253';
    const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `pub-${env.tag}`, 'router:external': true } })).network;
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 4, cidr: '192.0.2.0/26', gateway_ip: '192.0.2.1', allocation_pools: [{ start: '192.0.2.5', end: '192.0.2.62' }] } });
    await env.api('POST', '/v2.0/subnets', {
      subnet: { network_id: pub.id, ip_version: 6, cidr: `2001:db8:${third}:d::/64`, gateway_ip: `2001:db8:${third}:d::1`, enable_dhcp: false },
    });
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `priv-${env.tag}` } })).network;
    env.extraNs.push(`qdhcp-${net.id}`);
    const t4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.64/26' } })).subnet;
    const cidr6 = `2001:db8:${third}:1::/64`;
    const t6 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: cidr6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `nat-${env.tag}`, external_gateway_info: { network_id: pub.id } } })).router;
    const qrouter = `qrouter-${router.id}`;
    env.extraNs.push(qrouter);
    for (const s of [t4, t6]) await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });
    const gw = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).ports[0];
    const gw4 = gw.fixed_ips.find((f: any) => !f.ip_address.includes(':')).ip_address;
    const qg = `qg-${gw.id.slice(0, 11)}`;

    // The DC: with SNAT on (the default) it has no route back to the tenant's IPv4 prefix, only to the IPv6 one.
    const dc = await env.lab(['dc', '--network', pub.id, '--name', dcName, '--behind', dns6, dns4]);
    assert.equal(dc.status, 0, dc.stderr);
    assert.deepEqual(JSON.parse(dc.stdout).routes.map((r: any) => r.dst), [cidr6]);

    const vms = [`${env.tag}a`, `${env.tag}b`];
    for (const name of vms) {
      const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
      assert.equal(boot.status, 0, boot.stderr);
    }
    const [p1, p2] = await Promise.all(vms.map(async (n) => (await env.api('GET', `/v2.0/ports?device_id=lab-${n}`)).ports[0]));
    const v4 = (p: any): string => p.fixed_ips.find((f: any) => f.subnet_id === t4.id).ip_address;
    const [ns1, ns2] = vms.map((n) => `lab-${n}`) as [string, string];
    await until('router NAT table with SNAT', () => sh(['ip', 'netns', 'exec', qrouter, 'nft', 'list', 'map', 'ip', 'v6stack_nat', 'snat_to']).stdout.includes(`192.0.2.64/26 : ${gw4}`));

    // 1. SNAT: the DC sees the instance's IPv4 as the router's gateway address.
    await pingUntil(ns1, dns4, 4);
    let seen = await capture(dcNs, 'eth0', `icmp and icmp[icmptype] == icmp-echo and dst host ${dns4}`, () => ping(ns1, dns4, 4));
    assert.match(seen[0]!, new RegExp(`IP ${gw4.replaceAll('.', '\\.')} > ${dns4.replaceAll('.', '\\.')}: ICMP echo request`), seen.join('\n'));

    // 2. A floating IP: on qg- (ARP-answered), the DC reaches the instance through it, and the instance's replies
    // and its own traffic come from it.
    // Reached from outside only as the security group allows (the default group admits only its members): ICMP from
    // anywhere, as the talk's template opens ICMPv6.
    await env.api('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: p1.security_groups[0], direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remote_ip_prefix: '0.0.0.0/0' } });
    const fip = (await env.api('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: pub.id, port_id: p1.id } })).floatingip;
    const F = fip.floating_ip_address as string;
    await until(`${F}/32 on ${qg}`, () => ipJson(qrouter, ['addr', 'show', 'dev', qg])[0]?.addr_info.some((a: any) => a.local === F && a.prefixlen === 32));
    await env.agent.waitLine(new RegExp(`gratuitous ARP for ${F.replaceAll('.', '\\.')}`));
    await pingUntil(dcNs, F, 4);
    seen = await capture(dcNs, 'eth0', `icmp and host ${F}`, () => ping(dcNs, F, 4), 2);
    assert.match(seen.join('\n'), new RegExp(`IP ${F.replaceAll('.', '\\.')} > 192\\.0\\.2\\.1: ICMP echo reply`), seen.join('\n'));
    // The DC learnt the floating address's MAC by ARP: the router's gateway port.
    const neigh = ipJson(dcNs, ['-4', 'neigh', 'show', F])[0];
    assert.equal(neigh?.lladdr, gw.mac_address);
    // Inside, the request arrives at the instance's own address (DNAT).
    seen = await capture(ns1, 'eth0', 'icmp and icmp[icmptype] == icmp-echo', () => ping(dcNs, F, 4));
    assert.match(seen[0]!, new RegExp(`> ${v4(p1).replaceAll('.', '\\.')}: ICMP echo request`), seen.join('\n'));
    seen = await capture(dcNs, 'eth0', `icmp and icmp[icmptype] == icmp-echo and dst host ${dns4}`, () => ping(ns1, dns4, 4));
    assert.match(seen[0]!, new RegExp(`IP ${F.replaceAll('.', '\\.')} > `), seen.join('\n'));
    // The API shows it ACTIVE: associated, its port plugged.
    await until('floating IP ACTIVE', async () => (await env.api('GET', `/v2.0/floatingips/${fip.id}`)).floatingip.status === 'ACTIVE');

    // 3. Re-associated to the second instance: the same floating address now reaches it; the first instance is
    // back to the router's SNAT address.
    const mark = env.agent.lines.length;
    await env.api('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: p2.id } });
    await env.agent.waitLine(new RegExp(`${qrouter}: update NAT table`), mark);
    seen = await capture(ns2, 'eth0', 'icmp and icmp[icmptype] == icmp-echo', async () => pingUntil(dcNs, F, 4));
    assert.match(seen[0]!, new RegExp(`> ${v4(p2).replaceAll('.', '\\.')}: ICMP echo request`), seen.join('\n'));
    seen = await capture(dcNs, 'eth0', `icmp and icmp[icmptype] == icmp-echo and dst host ${dns4}`, () => ping(ns1, dns4, 4));
    assert.match(seen[0]!, new RegExp(`IP ${gw4.replaceAll('.', '\\.')} > `), seen.join('\n'));
    // Only map elements changed: no table was remade.
    assert.ok(!env.agent.lines.slice(mark).some((l) => /make NAT table|remove NAT table/.test(l)), env.agent.lines.slice(mark).join('\n'));

    // 4. IPv6 from the same instance arrives untranslated: its own EUI-64 address.
    const v6 = eui64Address(IpPrefix.parse(cidr6)!, p1.mac_address).toString();
    await until(`instance SLAAC ${v6}`, () => ipJson(ns1, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((a: any) => a.local === v6));
    await pingFrom(ns1, dns6);
    seen = await capture(dcNs, 'eth0', `icmp6 and ip6[40] == 128 and dst host ${dns6}`, () => ping(ns1, dns6, 6));
    assert.match(seen[0]!, new RegExp(`IP6 ${v6} > ${dns6}: ICMP6, echo request`), seen.join('\n'));

    // 5. An agent restart reads the table back and finds nothing to do for NAT.
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir);
    await env.agent.waitLine(/in sync:/);
    assert.ok(!env.agent.lines.some((l) => /NAT table|gratuitous ARP/.test(l)), env.agent.lines.join('\n'));

    // 6. enable_snat false: no source NAT; the DC (refreshed: it now routes the tenant prefix back) sees the
    // instance's own address. The floating IP still translates.
    const mark2 = env.agent.lines.length;
    await env.api('PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: { network_id: pub.id, enable_snat: false } } });
    await env.agent.waitLine(new RegExp(`${qrouter}: update NAT table \\(1 floating IP\\(s\\), SNAT off\\)`), mark2);
    const dc2 = await env.lab(['dc', '--network', pub.id, '--name', dcName, '--behind', dns6, dns4]);
    assert.equal(dc2.status, 0, dc2.stderr);
    assert.deepEqual(JSON.parse(dc2.stdout).routes.map((r: any) => r.dst).sort(), [cidr6, '192.0.2.64/26'].sort());
    await pingUntil(ns1, dns4, 4);
    seen = await capture(dcNs, 'eth0', `icmp and icmp[icmptype] == icmp-echo and dst host ${dns4}`, () => ping(ns1, dns4, 4));
    assert.match(seen[0]!, new RegExp(`IP ${v4(p1).replaceAll('.', '\\.')} > `), seen.join('\n'));
    await pingUntil(dcNs, F, 4);
  } finally {
    await shAsync(['ip', 'netns', 'del', dcNs]);
    await env.cleanup();
  }
});
