// `lab boot --os ubuntu|rhel`: the instance carries its OS's network configuration (the talk's files) and runs the
// DHCP clients that file asks for. On a dual-stack DHCPv6-stateless network both OSes must end up with the IPv4
// address, the EUI-64 address and the DNS server and search list from DHCPv6.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dhcpDiagnostics, ipJson, routedNetwork, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient']);

test('lab boot --os ubuntu and --os rhel: the guest file of the talk, and the clients it starts', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const dns = `2001:db8:${third}:53::1`;
    const { net, router } = await routedNetwork(env, { name: `it-${env.tag}`, cidr: `2001:db8:${third}:9::/64`, mode: 'dhcpv6-stateless', dns });
    const s4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.0/24' } })).subnet;
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s4.id });
    for (const os of ['ubuntu', 'rhel']) {
      const name = `${env.tag}${os[0]}`;
      const boot = await env.lab(['boot', '--network', net.id, '--name', name, '--os', os]);
      assert.equal(boot.status, 0, boot.stderr + dhcpDiagnostics(env, net.id, name));
      const file = os === 'ubuntu' ? 'guest/etc/network/interfaces' : 'guest/etc/sysconfig/network-scripts/ifcfg-eth0';
      const text = readFileSync(join(env.labDir, name, file), 'utf8');
      assert.match(text, os === 'ubuntu' ? /iface eth0 inet6 auto\n {4}dhcp 1/ : /DHCPV6C="yes"\nDHCPV6C_OPTIONS="-S"/);
      const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${name}`)).ports[0];
      const v4 = port.fixed_ips.find((f: any) => f.subnet_id === s4.id).ip_address;
      assert.deepEqual(ipJson(`lab-${name}`, ['-4', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.map((a: any) => a.local), [v4]);
      const d6 = readFileSync(join(env.labDir, name, 'dhclient.env'), 'utf8');
      assert.match(d6, new RegExp(`^new_dhcp6_name_servers=${dns}$`, 'm'), `${os}: DNS from DHCPv6`);
      assert.match(d6, /^new_dhcp6_domain_search=openstacklocal\.?$/m);
      const v6 = port.fixed_ips.find((f: any) => f.ip_address.includes(':')).ip_address;
      await until(`${os}: SLAAC ${v6}`, () => ipJson(`lab-${name}`, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((a: any) => a.local === v6));
      // lab show: the port beside what the instance really has.
      const show = await env.lab(['show', name, '-f', 'json']);
      assert.equal(show.status, 0, show.stderr);
      const seen = JSON.parse(show.stdout);
      assert.equal(seen.port.id, port.id);
      assert.equal(seen.mac, port.mac_address);
      assert.deepEqual([...seen.ipv4, ...seen.ipv6].sort(), port.fixed_ips.map((f: any) => f.ip_address).sort());
      // The IPv4 subnet names no DNS server, so dnsmasq offers itself (the DHCP port's IPv4 address), as in Neutron.
      const dhcpPort = (await env.api('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`)).ports[0];
      assert.deepEqual(seen.dns, [dhcpPort.fixed_ips.find((f: any) => f.subnet_id === s4.id).ip_address, dns]);
      assert.equal(seen.search, 'openstacklocal');
      assert.equal(seen.ra, `Flags [other stateful]; prefix 2001:db8:${third}:9::/64 [onlink, auto]`);
      assert.equal(seen.guestFile.path, os === 'ubuntu' ? '/etc/network/interfaces' : '/etc/sysconfig/network-scripts/ifcfg-eth0');
      const table = await env.lab(['show', name]);
      assert.match(table.stdout, /^agree\s+yes$/m);
    }
  } finally {
    await env.cleanup();
  }
});
