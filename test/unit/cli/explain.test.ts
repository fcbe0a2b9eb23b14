// `v6stack explain`: golden text and JSON for the talk's networks (SLAAC, DHCPv6-stateless and -stateful on a
// v6stack router; a provider SLAAC/stateless/stateful subnet whose router is outside v6stack, with the upstream
// router's Cisco IOS / FRR / radvd configuration). UPDATE_GOLDEN=1 rewrites the files in fixtures/explain/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { explainNetwork, renderExplanation, type ExPort, type ExSubnet } from '../../../src/cli/commands/explain.js';

const dir = new URL('../../../../test/unit/cli/fixtures/explain/', import.meta.url);
function golden(name: string, content: string): void {
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL(name, dir), content);
  }
  assert.equal(content, readFileSync(new URL(name, dir), 'utf8'), name);
}

const NET = '7a1c5b2e-0000-4000-8000-0000000000aa';
const ROUTER = '9e0f1d2c-0000-4000-8000-0000000000bb';
const subnet = (mode: string | null, addressMode: string | null, cidr: string, extra: Partial<ExSubnet> = {}): ExSubnet => ({
  id: `sub-${addressMode ?? 'v4'}`, name: `private_${addressMode ?? 'v4'}`, network_id: NET, ip_version: cidr.includes(':') ? 6 : 4, cidr, enable_dhcp: true,
  gateway_ip: cidr.includes(':') ? cidr.replace('/64', '') : '192.0.2.1', ipv6_ra_mode: mode, ipv6_address_mode: addressMode, dns_nameservers: [cidr.includes(':') ? '2001:db8:cafe:a::e' : '192.0.2.53'], ...extra,
});
const routerPort = (s: ExSubnet): ExPort => ({ id: 'ab12cd34-ef56-4a78-9b0c-d1e2f3a4b5c6', network_id: NET, mac_address: 'fa:16:3e:11:22:33', device_owner: 'network:router_interface', device_id: ROUTER, fixed_ips: [{ subnet_id: s.id, ip_address: s.gateway_ip! }] });
const vm = (s: ExSubnet, ip: string): ExPort => ({ id: 'c0ffee00-0000-4000-8000-000000000001', name: 'vm1', network_id: NET, mac_address: 'fa:16:3e:79:5a:cc', device_owner: 'compute:nova', device_id: 'i-1', fixed_ips: [{ subnet_id: s.id, ip_address: ip }] });

for (const mode of ['slaac', 'dhcpv6-stateless', 'dhcpv6-stateful'] as const) {
  test(`explain: ${mode} on a v6stack router (RA flags, addresses, DNS and who delivers it, guest files)`, () => {
    const s = subnet(mode, mode, '2001:db8:cafe::/64');
    const ports: ExPort[] = [routerPort(s), ...(mode !== 'slaac' ? [{ id: 'dd000000-0000-4000-8000-000000000001', network_id: NET, mac_address: 'fa:16:3e:00:00:0d', device_owner: 'network:dhcp', device_id: `dhcp-h-${NET}`, fixed_ips: [{ subnet_id: s.id, ip_address: '2001:db8:cafe::2' }] }] : [])];
    const port = vm(s, mode === 'dhcpv6-stateful' ? '2001:db8:cafe::7' : '2001:db8:cafe:0:f816:3eff:fe79:5acc');
    const e = explainNetwork({ id: NET, name: 'private', mtu: 1450 }, [s], [...ports, port], port);
    golden(`${mode}.txt`, renderExplanation(e));
    golden(`${mode}.json`, JSON.stringify(e, null, 2) + '\n');
    assert.equal(e.upstream_router, undefined);
    assert.match(e.subnets[0]!.router_advertisement!.sender, new RegExp(`radvd in qrouter-${ROUTER}.*fe80::f816:3eff:fe11:2233`));
  });
}

for (const mode of ['slaac', 'dhcpv6-stateless', 'dhcpv6-stateful'] as const) {
  test(`explain: a provider ${mode} subnet whose router is outside v6stack gets the upstream router's configuration`, () => {
    const s = subnet(null, mode, '2001:db8:cafe:16::/64', { gateway_ip: '2001:db8:cafe:16::1' });
    const e = explainNetwork({ id: NET, name: 'external-net', mtu: 1500, 'router:external': true }, [s], []);
    golden(`provider-${mode}.txt`, renderExplanation(e));
    assert.equal(e.upstream_router!.length, 1);
    const cisco = e.upstream_router![0]!.cisco_ios;
    // The talk's Vlan22 per mode: no flag for SLAAC, other-config-flag for stateless, managed-config-flag for stateful.
    assert.equal(cisco.includes('ipv6 nd other-config-flag'), mode === 'dhcpv6-stateless');
    assert.equal(cisco.includes('ipv6 nd managed-config-flag'), mode === 'dhcpv6-stateful');
    assert.match(cisco, /ipv6 address 2001:DB8:CAFE:16::1\/64/);
  });
}

test('explain: IPv4 with DHCP (dual-stack guest files)', () => {
  const s4 = subnet(null, null, '192.0.2.0/24');
  const s6 = subnet('slaac', 'slaac', '2001:db8:cafe::/64');
  const e = explainNetwork({ id: NET, name: 'dual', mtu: 1450 }, [s6, s4], [routerPort(s4)]);
  golden('dualstack.txt', renderExplanation(e));
  assert.deepEqual(e.subnets.map((x) => x.network_data_type), ['ipv4_dhcp', 'ipv6_slaac']);
});
