// The talk's command sequence through the `v6stack` resource commands, against the Neutron v2.0 endpoint named by
// V6STACK_TEST_URL (e.g. the real Neutron peer), or else against a v6stack server this suite starts itself. Defaults follow Neutron
// Zed (IPv6 gateway = subnet-router anycast `prefix::`, pool from ::1 to ...:ffff, see the peer's RESULTS.md).
// Every name carries a per-run suffix, and everything created is removed in `after`, even on failure.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { freshStoreUrl, spawnServer, type ServerProcess } from '../helpers/v6stack.js';

let url = process.env.V6STACK_TEST_URL;
let server: ServerProcess | undefined;
let store: { url: string; dispose: () => Promise<void> } | undefined;
const suffix = `cliseed-${process.pid}-${Date.now().toString(36)}`;
const n = (name: string): string => `${name}-${suffix}`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', '--os-endpoint', url!, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]): string {
  const r = cli(...args);
  assert.equal(r.status, 0, `v6stack ${args.join(' ')}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

function json(...args: string[]): Record<string, any> {
  return JSON.parse(ok(...args, '-f', 'json'));
}

const MAC = 'fa:16:3e:79:5a:cc';

describe('CLI seed sequence', () => {
  const made = { networks: [] as string[], ports: [] as string[], routers: [] as string[], interfaces: [] as [string, string][] };
  const ids: Record<string, string> = {};

  before(async () => {
    if (!url) {
      store = await freshStoreUrl('sqlite');
      server = await spawnServer(store.url, 21000 + (process.pid % 500));
      url = server.url;
    }
    // the CLI must be built (npm run build / npx tsc) before this suite runs
    ok('--help');
  });

  after(async () => {
    if (server) {
      await server.stop();
      await store!.dispose();
      return;
    }
    for (const p of made.ports) cli('port', 'delete', p);
    for (const [r, s] of made.interfaces) cli('router', 'remove', 'subnet', r, s);
    for (const r of made.routers) {
      cli('router', 'unset', '--external-gateway', r);
      cli('router', 'delete', r);
    }
    for (const net of made.networks.reverse()) {
      const subnets = cli('subnet', 'list', '--network', net, '-f', 'value', '-c', 'ID');
      for (const s of subnets.stdout.split('\n').filter(Boolean)) cli('subnet', 'delete', s);
      cli('network', 'delete', net);
    }
    const left = cli('network', 'list', '-f', 'value', '-c', 'Name').stdout.split('\n').filter((x) => x.endsWith(suffix));
    assert.deepEqual(left, [], 'networks left behind');
  });

  it('creates the public network with a v4 and a v6 subnet and pools', () => {
    const net = json('network', 'create', n('public'), '--external');
    made.networks.push(net.id);
    assert.equal(net['router:external'], true);
    const v4 = json('subnet', 'create', n('public-subnet'), '--network', n('public'), '--subnet-range', '172.16.12.0/24', '--allocation-pool', 'start=172.16.12.5,end=172.16.12.254');
    assert.equal(v4.ip_version, 4);
    assert.equal(v4.gateway_ip, '172.16.12.1');
    assert.deepEqual(v4.allocation_pools, [{ start: '172.16.12.5', end: '172.16.12.254' }]);
    const v6 = json(
      'subnet', 'create', n('public-v6-subnet'), '--network', n('public'), '--ip-version', '6', '--subnet-range', '2001:db8:cafe:d::/64',
      '--allocation-pool', 'start=2001:db8:cafe:d::5,end=2001:db8:cafe:d:ffff:ffff:ffff:fffe', '--no-dhcp',
    );
    assert.equal(v6.ip_version, 6);
    assert.equal(v6.enable_dhcp, false);
    assert.equal(v6.gateway_ip, '2001:db8:cafe:d::');
    assert.equal(v6.ipv6_ra_mode, null);
    assert.equal(v6.ipv6_address_mode, null);
    assert.deepEqual(v6.allocation_pools, [{ start: '2001:db8:cafe:d::5', end: '2001:db8:cafe:d:ffff:ffff:ffff:fffe' }]);
    // the openstack-style table for the same subnet
    const table = ok('subnet', 'show', n('public-v6-subnet'), '-c', 'allocation_pools', '-c', 'enable_dhcp');
    assert.match(table, /^\| allocation_pools \| 2001:db8:cafe:d::5-2001:db8:cafe:d:ffff:ffff:ffff:fffe \|$/m);
    assert.match(table, /^\| enable_dhcp +\| False +\|$/m);
    const listed = json('network', 'show', n('public'));
    assert.deepEqual(new Set(listed.subnets), new Set([v4.id, v6.id]));
  });

  it('creates the SLAAC private network (v4 + v6)', () => {
    made.networks.push(json('network', 'create', n('private')).id);
    ids.privateV4 = json('subnet', 'create', n('private-v4-subnet'), '--network', n('private'), '--subnet-range', '10.0.0.0/24').id;
    const s = json(
      'subnet', 'create', n('private_v6_subnet'), '--network', n('private'), '--ip-version', '6', '--subnet-range', '2001:db8:cafe::/64',
      '--ipv6-ra-mode', 'slaac', '--ipv6-address-mode', 'slaac',
    );
    ids.privateV6 = s.id;
    assert.equal(s.ipv6_ra_mode, 'slaac');
    assert.equal(s.ipv6_address_mode, 'slaac');
    assert.equal(s.enable_dhcp, true);
    assert.equal(s.cidr, '2001:db8:cafe::/64');
    assert.equal(s.gateway_ip, '2001:db8:cafe::');
    assert.deepEqual(s.allocation_pools, [{ start: '2001:db8:cafe::1', end: '2001:db8:cafe:0:ffff:ffff:ffff:ffff' }]);
    const value = ok('subnet', 'show', n('private_v6_subnet'), '-f', 'value', '-c', 'allocation_pools');
    assert.equal(value, "[{'start': '2001:db8:cafe::1', 'end': '2001:db8:cafe:0:ffff:ffff:ffff:ffff'}]\n");
  });

  it('creates the DHCPv6-stateless and DHCPv6-stateful networks with a DNS server', () => {
    for (const [net, sub, cidr, mode] of [
      ['private-dhcpv6-stateless', 'private_dhcpv6_stateless_subnet', '2001:db8:cafe:2::/64', 'dhcpv6-stateless'],
      ['private-dhcpv6', 'private_dhcpv6_subnet', '2001:db8:cafe:1::/64', 'dhcpv6-stateful'],
    ] as const) {
      made.networks.push(json('network', 'create', n(net)).id);
      const s = json(
        'subnet', 'create', n(sub), '--network', n(net), '--ip-version', '6', '--subnet-range', cidr,
        '--ipv6-ra-mode', mode, '--ipv6-address-mode', mode, '--dns-nameserver', '2001:db8:cafe:a::e',
      );
      ids[mode] = s.id;
      assert.equal(s.ipv6_ra_mode, mode);
      assert.equal(s.ipv6_address_mode, mode);
      assert.deepEqual(s.dns_nameservers, ['2001:db8:cafe:a::e']);
      assert.equal(s.gateway_ip, cidr.replace('/64', ''));
    }
    const list = json('subnet', 'list', '--network', n('private-dhcpv6'), '--ip-version', '6');
    assert.deepEqual(list.map((s: any) => s.Subnet), ['2001:db8:cafe:1::/64']);
  });

  it('builds the router: gateway on public, interfaces on the private subnets', () => {
    const r = json('router', 'create', n('private-router'), '--no-ha');
    made.routers.push(r.id);
    assert.equal(r.ha, false);
    assert.equal(r.external_gateway_info, null);
    ok('router', 'set', n('private-router'), '--external-gateway', n('public'));
    for (const s of [n('private-v4-subnet'), n('private_v6_subnet')]) {
      ok('router', 'add', 'subnet', n('private-router'), s);
      made.interfaces.push([n('private-router'), s]);
    }
    const shown = json('router', 'show', n('private-router'));
    const gw = shown.external_gateway_info;
    assert.equal(gw.network_id, made.networks[0]);
    const gwIps = gw.external_fixed_ips.map((x: any) => x.ip_address as string);
    assert.ok(gwIps.some((ip: string) => /^172\.16\.12\.\d+$/.test(ip)), String(gwIps));
    assert.ok(gwIps.some((ip: string) => ip.startsWith('2001:db8:cafe:d:')), String(gwIps));
    const byIp = new Map(shown.interfaces_info.map((i: any) => [i.ip_address, i.subnet_id]));
    assert.equal(byIp.get('10.0.0.1'), ids.privateV4);
    assert.equal(byIp.get('2001:db8:cafe::'), ids.privateV6); // the router takes the subnet-router anycast gateway
    const ports = json('port', 'list', '--router', n('private-router'), '--long');
    assert.deepEqual(
      ports.map((p: any) => p['Device Owner']).sort(),
      ['network:router_gateway', 'network:router_interface', 'network:router_interface'],
    );
    // a route through the v6 gateway, then removed again
    ok('router', 'set', n('private-router'), '--route', 'destination=2001:db8:cafe:99::/64,gateway=2001:db8:cafe::10');
    assert.deepEqual(json('router', 'show', n('private-router')).routes, [{ destination: '2001:db8:cafe:99::/64', nexthop: '2001:db8:cafe::10' }]);
    ok('router', 'unset', n('private-router'), '--route', 'destination=2001:db8:cafe:99::/64,gateway=2001:db8:cafe::10');
    assert.deepEqual(json('router', 'show', n('private-router')).routes, []);
  });

  it('gives ports the addresses the talk shows: EUI-64 on SLAAC and stateless, a pool address on stateful', () => {
    const cases = [
      ['private', 'slaac', (ip: string) => assert.equal(ip, '2001:db8:cafe:0:f816:3eff:fe79:5acc')],
      ['private-dhcpv6-stateless', 'dhcpv6-stateless', (ip: string) => assert.equal(ip, '2001:db8:cafe:2:f816:3eff:fe79:5acc')],
      ['private-dhcpv6', 'dhcpv6-stateful', (ip: string) => assert.match(ip, /^2001:db8:cafe:1::[0-9a-f]{1,4}$/)],
    ] as const;
    for (const [net, mode, check] of cases) {
      const p = json('port', 'create', n(`port-${mode}`), '--network', n(net), '--mac-address', MAC);
      made.ports.push(p.id);
      assert.equal(p.mac_address, MAC);
      const v6 = p.fixed_ips.filter((f: any) => f.subnet_id === ids[mode === 'slaac' ? 'privateV6' : mode]);
      assert.equal(v6.length, 1, JSON.stringify(p.fixed_ips));
      check(v6[0].ip_address);
    }
    // an explicit address on the stateful subnet, by subnet name
    const fixed = json('port', 'create', n('port-fixed'), '--network', n('private-dhcpv6'), '--fixed-ip', `subnet=${n('private_dhcpv6_subnet')},ip-address=2001:db8:cafe:1::4`);
    made.ports.push(fixed.id);
    assert.deepEqual(fixed.fixed_ips, [{ subnet_id: ids['dhcpv6-stateful'], ip_address: '2001:db8:cafe:1::4' }]);
    const listed = json('port', 'list', '--network', n('private-dhcpv6'));
    assert.equal(listed.length, 2);
  });

  it('reports API and lookup errors like the openstack client, exit status 1', () => {
    const bad = cli('subnet', 'create', n('bad'), '--network', n('private'), '--subnet-range', '2001:db8:cafe:zz::/64');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^BadRequestException: 400: Client Error for url: .*\/v2\.0\/subnets, .*2001:db8:cafe:zz::\/64/m);
    const missing = cli('network', 'show', n('nosuch'));
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr.trim(), `No Network found for ${n('nosuch')}`);
    const auto = cli('port', 'create', n('bad-port'), '--network', n('private'), '--fixed-ip', `subnet=${n('private_v6_subnet')},ip-address=2001:db8:cafe::1234`);
    assert.equal(auto.status, 1);
    assert.match(auto.stderr, /cannot be directly assigned to a port on subnet/);
  });
});
