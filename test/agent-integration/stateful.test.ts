// End to end, DHCPv6 stateful: a real server and a real agent; through the API a network with a dhcpv6-stateful
// /64 and a router on it. The server makes the network's DHCP port (device_owner network:dhcp) on the agent's host;
// the agent runs dnsmasq with Neutron's command line in qdhcp-<net>, and radvd sends M=1 with a non-autonomous
// prefix. A lab instance running ISC dhclient (IA_NA) must lease exactly the address IPAM gave its port, with the
// subnet's DNS server and search list, and reach the router's gateway address. The new port is served by a SIGHUP
// to dnsmasq (Neutron's reload_allocations), never by a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dhcpDiagnostics, globalAddrs, ipJson, parseRdisc6, pingFrom, sh, skipReason, startEnv, until, routedNetwork } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'rdisc6', 'dnsmasq', 'dhclient', 'ping']);

test('DHCPv6 stateful: dhclient leases exactly the port address with DNS and search list; RA M=1, prefix not autonomous; ping the gateway; new port served by SIGHUP', { skip, timeout: 180_000 }, async () => {
  const env = await startEnv();
  const name = `${env.tag}f`;
  const labNs = `lab-${name}`;
  const name2 = `${env.tag}g`;
  let netId = '';
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 1) % 0xffff).toString(16);
    const cidr = `2001:db8:${third}:2::/64`;
    const dns = `2001:db8:${third}:53::1`;
    const { net, subnet, router, rport, routerLla } = await routedNetwork(env, { name: `it-${env.tag}`, cidr, mode: 'dhcpv6-stateful', dns });
    netId = net.id;

    // The agent's DHCP port, its namespace and dnsmasq; radvd.
    const dhcpPort = await until('the DHCP port', async () => (await env.api('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`)).ports[0]);
    assert.equal(dhcpPort.device_id, `dhcp-${env.host}-${net.id}`);
    const started = await env.agent.waitLine(new RegExp(`start dnsmasq-${net.id}`));
    await env.agent.waitLine(/in sync:/, started.index);
    await env.agent.waitLine(new RegExp(`start radvd-${router.id}`));
    await until('ns- interface with the DHCP port address', () =>
      ipJson(`qdhcp-${net.id}`, ['addr', 'show']).some((l) => l.ifname === `ns-${dhcpPort.id.slice(0, 11)}` && l.addr_info.some((a: any) => a.local === dhcpPort.fixed_ips[0].ip_address)),
    );
    const pidFile = join(env.stateDir, 'dhcp', net.id, 'pid');
    const dnsmasqPid = await until('dnsmasq pid file', () => readFileSync(pidFile, 'utf8').trim());
    const mark = env.agent.lines.length;

    const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
    assert.equal(boot.status, 0, `${boot.stderr}\n${dhcpDiagnostics(env, net.id, name)}`);
    const port = (await env.api('GET', `/v2.0/ports?device_id=${labNs}`)).ports[0];
    const expected = port.fixed_ips[0].ip_address;

    // dnsmasq took the new port by re-reading its hosts file (SIGHUP), not by a restart.
    const hosts = readFileSync(join(env.stateDir, 'dhcp', net.id, 'host'), 'utf8');
    assert.ok(hosts.includes(`${port.mac_address},tag:dhcpv6,host-${expected.replaceAll(':', '-')}.openstacklocal,[${expected}]\n`), hosts);
    await env.agent.waitLine(new RegExp(`reload dnsmasq-${net.id} \\(SIGHUP`), mark);
    const after = env.agent.lines.slice(mark);
    assert.ok(!after.some((l) => new RegExp(`(start|restart|stop) dnsmasq-${net.id}|dnsmasq-${net.id} exited`).test(l)), after.join('\n'));
    assert.equal(readFileSync(pidFile, 'utf8').trim(), dnsmasqPid, 'the same dnsmasq process');
    assert.deepEqual(env.agent.lines.filter((l) => /ERROR|cannot read|failed to load/.test(l)), [], 'dnsmasq read its hosts, opts and addn_hosts files');

    // Exactly the port's address, from the lease (/128 as DHCPv6 gives it); no SLAAC address (prefix not autonomous).
    await until(`leased address ${expected}`, () => globalAddrs(labNs).length > 0);
    assert.deepEqual(globalAddrs(labNs), [`${expected}/128`], dhcpDiagnostics(env, net.id, name));
    const leaseEnv = readFileSync(join(env.labDir, name, 'dhclient.env'), 'utf8');
    assert.match(leaseEnv, /^reason=BOUND6$/m);
    assert.match(leaseEnv, new RegExp(`^new_ip6_address=${expected}$`, 'm'));
    assert.match(leaseEnv, new RegExp(`^new_dhcp6_name_servers=${dns}$`, 'm'));
    assert.match(leaseEnv, /^new_dhcp6_domain_search=openstacklocal\.$/m);
    const leases = readFileSync(join(env.stateDir, 'dhcp', net.id, 'leases'), 'utf8');
    assert.match(leases, new RegExp(` ${expected} host-${expected.replaceAll(':', '-')} `), leases);

    // The RA: M=1, O=0, the prefix on-link but not autonomous, from the router's link-local address.
    const rd = sh(['ip', 'netns', 'exec', labNs, 'rdisc6', '-1', 'eth0']);
    assert.equal(rd.status, 0, rd.stdout + rd.stderr);
    const ra = parseRdisc6(rd.stdout);
    assert.deepEqual(ra.get('Stateful address conf.'), ['Yes']);
    assert.deepEqual(ra.get('Stateful other conf.'), ['No']);
    assert.deepEqual(ra.get('Prefix'), [cidr]);
    assert.deepEqual(ra.get('On-link'), ['Yes']);
    assert.deepEqual(ra.get('Autonomous address conf.'), ['No']);
    assert.deepEqual(ra.get('from'), [routerLla]);

    // The instance reaches the router's gateway address (on-link from the RA's prefix, default route via the LLA).
    await until(`default route via ${routerLla}`, () => ipJson(labNs, ['-6', 'route', 'show', 'default']).some((r) => r.gateway === routerLla && r.dev === 'eth0'));
    assert.equal(rport.fixed_ips[0].ip_address, subnet.gateway_ip);
    await pingFrom(labNs, subnet.gateway_ip);

    const del = await env.lab(['delete', name]);
    assert.equal(del.status, 0, del.stderr);
    assert.equal((await env.api('GET', `/v2.0/ports?device_id=${labNs}`)).ports.length, 0);

    // The freed address, given to a new port (another MAC, another DUID), is leased to the new instance: the old
    // lease, bound to the old client's DUID+IAID, must not hold it (Neutron sends dhcp_release6; the agent restarts
    // dnsmasq without that lease line).
    await env.agent.waitLine(new RegExp(`restart dnsmasq-${net.id} .*release ${expected.replaceAll('.', '\\.')}`), mark);
    await until('the old lease is gone', () => !readFileSync(join(env.stateDir, 'dhcp', net.id, 'leases'), 'utf8').includes(` ${expected} `));
    const boot2 = await env.lab(['boot', '--network', net.id, '--name', name2, '--ip', expected]);
    assert.equal(boot2.status, 0, `${boot2.stderr}\n${dhcpDiagnostics(env, net.id, name2)}`);
    const port2 = (await env.api('GET', `/v2.0/ports?device_id=lab-${name2}`)).ports[0];
    assert.equal(port2.fixed_ips[0].ip_address, expected);
    assert.notEqual(port2.mac_address, port.mac_address);
    await until(`leased address ${expected} again`, () => globalAddrs(`lab-${name2}`).length > 0);
    assert.deepEqual(globalAddrs(`lab-${name2}`), [`${expected}/128`], dhcpDiagnostics(env, net.id, name2));
    assert.match(readFileSync(join(env.labDir, name2, 'dhclient.env'), 'utf8'), new RegExp(`^new_ip6_address=${expected}$`, 'm'));
    const del2 = await env.lab(['delete', name2]);
    assert.equal(del2.status, 0, del2.stderr);
  } catch (e) {
    if (netId) console.error(dhcpDiagnostics(env, netId, name));
    throw e;
  } finally {
    await env.cleanup();
  }
});
