// Debian's real OpenStack clients against a real v6stack server: the talk's (deploying-ipv6-in-openstack) command
// sequence with the legacy `neutron` CLI (python3-neutronclient 8.1), the same topology with the `openstack` CLI
// (python3-openstackclient 6.0) and with openstacksdk 0.101 (test/integration/sdk_seed.py). Each client gets its own
// v6stack process on a fresh store (the talk's names would clash otherwise), on ::1, and must get the talk's results
// with Neutron Zed's defaults (IPv6 gateway = subnet-router anycast `prefix::`, pool `::1`-`...:ffff`): the public
// network with v4 and v6 subnets and pools, the SLAAC, DHCPv6-stateless and -stateful private networks, the router
// with its gateway and interfaces, EUI-64 ports (2001:db8:cafe:0:f816:3eff:fe79:5acc for fa:16:3e:79:5a:cc), and
// Neutron's error messages through each client (exit status non-zero). Without the clients the suites skip.
// Every client call has a time limit (a hang guard only).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { spawnSync } from 'node:child_process';
import { backends, freshStoreUrl, spawnServer, type Backend, type ServerProcess } from '../helpers/v6stack.js';
import { freePort, python3, run, type RunResult } from './util.js';
import { repoRoot } from './http-cases-compare.js';

const CALL_TIMEOUT_MS = 120_000;
const MAC = 'fa:16:3e:79:5a:cc';
const SLAAC_ADDR = '2001:db8:cafe:0:f816:3eff:fe79:5acc';
const STATELESS_MAC = 'fa:16:3e:fe:d1:57';
const STATELESS_ADDR = '2001:db8:cafe:2:f816:3eff:fefe:d157'; // the talk's dhcpv6-stateless instance
const MODES_MESSAGE =
  "Invalid input for operation: ipv6_ra_mode set to 'slaac' with ipv6_address_mode set to 'dhcpv6-stateful' is not valid. " +
  'If both attributes are set, they must be the same value.';
const DUP_MAC = (net: string) => `Unable to complete operation for network ${net}. The mac address ${MAC} is in use.`;
const ROUTER_IFACE_OWNERS = ['network:router_interface', 'network:ha_router_replicated_interface'];

function which(cmd: string): string | undefined {
  for (const dir of ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter)]) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

const neutronBin = which('neutron');
const openstackBin = which('openstack');
const py = python3();
const sdkOk = py ? spawnSync(py, ['-c', 'import openstack'], { encoding: 'utf8' }).status === 0 : false;
const why = (pkg: string, what: string) => `${what} is not installed (Debian package ${pkg}; scripts/test-all.sh installs it)`;
const skipNeutron = neutronBin ? false : why('python3-neutronclient', 'the legacy `neutron` CLI');
const skipOpenstack = openstackBin ? false : why('python3-openstackclient', 'the `openstack` CLI');
const skipSdk = sdkOk ? false : why('python3-openstacksdk', py ? 'openstacksdk for python3' : 'python3');

/** The environment of a client: no OS_* settings or proxies from the caller's shell, a private HOME. */
function clientEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^OS_/.test(k) && !/_proxy$/i.test(k)) env[k] = v;
  }
  return { ...env, HOME: home, NO_PROXY: '::1,127.0.0.1,localhost', no_proxy: '::1,127.0.0.1,localhost', ...extra };
}

/** A fresh store, a v6stack child process on ::1, a temp HOME for the client; all disposed in `after`. */
function withServer(backend: Backend) {
  const ctx: { server?: ServerProcess; dispose?: () => Promise<void>; home?: string; url: string } = { url: '' };
  before(async () => {
    const fresh = await freshStoreUrl(backend);
    ctx.dispose = fresh.dispose;
    ctx.home = mkdtempSync(join(tmpdir(), 'v6stack-clients-home-'));
    process.chdir(repoRoot); // spawnServer runs dist/src/cli/main.js relative to the repository
    ctx.server = await spawnServer(fresh.url, await freePort('::1'));
    ctx.url = ctx.server.url;
  });
  after(async () => {
    await ctx.server?.stop();
    await ctx.dispose?.();
    if (ctx.home) rmSync(ctx.home, { recursive: true, force: true });
  });
  return ctx;
}

const describeCall = (r: RunResult, args: string[]) =>
  `${args.join(' ')} -> exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`;

function ok(r: RunResult, args: string[]): string {
  assert.equal(r.timedOut, false, describeCall(r, args));
  assert.equal(r.code, 0, describeCall(r, args));
  return r.stdout;
}

function fails(r: RunResult, args: string[]): string {
  assert.equal(r.timedOut, false, describeCall(r, args));
  assert.notEqual(r.code, 0, `expected a failure: ${describeCall(r, args)}`);
  return r.stderr;
}

const json = (text: string, what: string): any => {
  try {
    return JSON.parse(text);
  } catch {
    assert.fail(`${what}: not JSON: ${text.slice(0, 500)}`);
  }
};

// ---- address checks (no dependency on how v6stack or Neutron pick inside a pool)

function v6ToBig(ip: string): bigint {
  const [h, t] = ip.split('::') as [string, string | undefined];
  const hs = h ? h.split(':') : [];
  const ts = t === undefined ? [] : t ? t.split(':') : [];
  const groups = t === undefined ? hs : [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  assert.equal(groups.length, 8, `not an IPv6 address: ${ip}`);
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}
const v4ToNum = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
function inRange(ip: string, start: string, end: string): boolean {
  if (ip.includes(':')) return v6ToBig(ip) >= v6ToBig(start) && v6ToBig(ip) <= v6ToBig(end);
  return !start.includes(':') && v4ToNum(ip) >= v4ToNum(start) && v4ToNum(ip) <= v4ToNum(end);
}
const family = (ip: string) => (ip.includes(':') ? 6 : 4);
type FixedIp = { subnet_id: string; ip_address: string };
const ipsOf = (fixed: FixedIp[]) => fixed.map((f) => f.ip_address).sort();

// ---- the expected subnets (Neutron Zed answers, RESULTS.md of the peer)

const EXPECTED_SUBNETS: Record<string, Record<string, unknown>> = {
  'public-subnet': { cidr: '172.16.12.0/24', ip_version: 4, gateway_ip: '172.16.12.1', allocation_pools: [{ start: '172.16.12.5', end: '172.16.12.254' }], enable_dhcp: true },
  'public-v6-subnet': {
    cidr: '2001:db8:cafe:d::/64', ip_version: 6, gateway_ip: '2001:db8:cafe:d::', enable_dhcp: false, ipv6_ra_mode: null, ipv6_address_mode: null,
    allocation_pools: [{ start: '2001:db8:cafe:d::5', end: '2001:db8:cafe:d:ffff:ffff:ffff:fffe' }],
  },
  private_v6_subnet: {
    cidr: '2001:db8:cafe::/64', ip_version: 6, gateway_ip: '2001:db8:cafe::', enable_dhcp: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac',
    allocation_pools: [{ start: '2001:db8:cafe::1', end: '2001:db8:cafe:0:ffff:ffff:ffff:ffff' }],
  },
  'private-v4-subnet': { cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: '10.0.0.1', allocation_pools: [{ start: '10.0.0.2', end: '10.0.0.254' }] },
  private_dhcpv6_stateless_subnet: {
    cidr: '2001:db8:cafe:2::/64', ip_version: 6, gateway_ip: '2001:db8:cafe:2::', ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: 'dhcpv6-stateless',
    dns_nameservers: ['2001:db8:cafe:a::e'], allocation_pools: [{ start: '2001:db8:cafe:2::1', end: '2001:db8:cafe:2:ffff:ffff:ffff:ffff' }],
  },
  private_dhcpv6_subnet: {
    cidr: '2001:db8:cafe:1::/64', ip_version: 6, gateway_ip: '2001:db8:cafe:1::', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful',
    dns_nameservers: ['2001:db8:cafe:a::e'], allocation_pools: [{ start: '2001:db8:cafe:1::1', end: '2001:db8:cafe:1:ffff:ffff:ffff:ffff' }],
  },
};

/** `subnet` (as a client shows it) has the talk's values; `rename` maps attribute names the client renamed. */
function assertSubnet(name: string, subnet: Record<string, unknown>, rename: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(EXPECTED_SUBNETS[name]!)) {
    const key = rename[k] ?? k;
    assert.deepEqual(subnet[key], v, `${name}.${key}: ${JSON.stringify(subnet)}`);
  }
}

/** The router's gateway got one IPv4 and one IPv6 address from public's pools. */
function assertGateway(gw: { network_id: string; external_fixed_ips: FixedIp[] }, publicId: string): void {
  assert.equal(gw.network_id, publicId);
  const ips = ipsOf(gw.external_fixed_ips);
  assert.deepEqual(ips.map(family).sort(), [4, 6], JSON.stringify(gw));
  const v4 = ips.find((ip) => family(ip) === 4)!;
  const v6 = ips.find((ip) => family(ip) === 6)!;
  assert.ok(inRange(v4, '172.16.12.5', '172.16.12.254'), `gateway IPv4 ${v4} outside public's pool`);
  assert.ok(inRange(v6, '2001:db8:cafe:d::5', '2001:db8:cafe:d:ffff:ffff:ffff:fffe'), `gateway IPv6 ${v6} outside public-v6's pool`);
}

/** The router's interface ports on `private` took the subnets' gateway addresses, one port per family. */
function assertInterfaces(ports: { device_owner: string; fixed_ips: FixedIp[] }[]): void {
  const ifaces = ports.filter((p) => ROUTER_IFACE_OWNERS.includes(p.device_owner));
  assert.deepEqual(ifaces.map((p) => ipsOf(p.fixed_ips)).sort(), [['10.0.0.1'], ['2001:db8:cafe::']], JSON.stringify(ports));
}

function assertSlaacPort(fixed: FixedIp[]): void {
  const ips = ipsOf(fixed);
  assert.equal(ips.length, 2, JSON.stringify(fixed));
  assert.ok(ips.includes(SLAAC_ADDR), `no EUI-64 address ${SLAAC_ADDR} in ${JSON.stringify(fixed)}`);
  const v4 = ips.find((ip) => family(ip) === 4)!;
  assert.ok(inRange(v4, '10.0.0.2', '10.0.0.254'), `IPv4 ${v4} outside private-v4-subnet's pool`);
}

function assertStatefulPort(fixed: FixedIp[]): void {
  assert.equal(fixed.length, 1, JSON.stringify(fixed));
  const ip = fixed[0]!.ip_address;
  assert.ok(inRange(ip, '2001:db8:cafe:1::1', '2001:db8:cafe:1:ffff:ffff:ffff:ffff'), `stateful address ${ip} outside the pool`);
}

for (const backend of backends()) {
  // ------------------------------------------------------------------------------------------------ neutron CLI
  describe(`legacy neutron CLI runs the talk's commands against v6stack (${backend})`, { skip: skipNeutron }, () => {
    const ctx = withServer(backend);
    const ids: Record<string, string> = {};
    const neutron = async (...args: string[]) => {
      const r = await run(neutronBin!, args, { env: clientEnv(ctx.home!, { OS_AUTH_TYPE: 'none', OS_ENDPOINT: ctx.url }), timeoutMs: CALL_TIMEOUT_MS });
      r.stderr = r.stderr.split('\n').filter((l) => !l.includes('neutron CLI is deprecated')).join('\n');
      return r;
    };
    const nj = async (...args: string[]) => json(ok(await neutron(...args, '-f', 'json'), args), args.join(' '));

    it('creates the public network and its dual-stack subnets (net-create --router:external, subnet-create)', async () => {
      const net = await nj('net-create', 'public', '--router:external');
      assert.equal(net.name, 'public');
      assert.equal(net['router:external'], true);
      ids.public = net.id;
      assertSubnet('public-subnet', await nj('subnet-create', '--name', 'public-subnet', '--allocation-pool', 'start=172.16.12.5,end=172.16.12.254', 'public', '172.16.12.0/24'));
      const v6 = await nj('subnet-create', '--ip-version=6', '--name=public-v6-subnet',
        '--allocation-pool', 'start=2001:db8:cafe:d::5,end=2001:db8:cafe:d:ffff:ffff:ffff:fffe', '--disable-dhcp', 'public', '2001:db8:cafe:d::/64');
      assertSubnet('public-v6-subnet', v6);
      const shown = await nj('net-show', 'public');
      assert.equal(shown.subnets.length, 2);
    });

    it('creates the SLAAC private network (subnet-create --ipv6-address-mode=slaac --ipv6-ra-mode=slaac) and its IPv4 subnet', async () => {
      ids.private = (await nj('net-create', 'private')).id;
      assertSubnet('private_v6_subnet', await nj('subnet-create', '--ip-version=6', '--name=private_v6_subnet', '--ipv6-address-mode=slaac', '--ipv6-ra-mode=slaac', 'private', '2001:db8:cafe::/64'));
      assertSubnet('private-v4-subnet', await nj('subnet-create', 'private', '10.0.0.0/24', '--name', 'private-v4-subnet'));
    });

    it('creates the DHCPv6-stateless and -stateful networks with the talk\'s DNS server', async () => {
      await nj('net-create', 'private-dhcpv6-stateless');
      assertSubnet('private_dhcpv6_stateless_subnet', await nj('subnet-create', '--ip-version=6', '--name=private_dhcpv6_stateless_subnet',
        '--ipv6-address-mode=dhcpv6-stateless', '--ipv6-ra-mode=dhcpv6-stateless', 'private-dhcpv6-stateless', '2001:db8:cafe:2::/64', '--dns-nameserver', '2001:db8:cafe:a::e'));
      await nj('net-create', 'private-dhcpv6');
      assertSubnet('private_dhcpv6_subnet', await nj('subnet-create', '--ip-version=6', '--name=private_dhcpv6_subnet',
        '--ipv6-address-mode=dhcpv6-stateful', '--ipv6-ra-mode=dhcpv6-stateful', 'private-dhcpv6', '2001:db8:cafe:1::/64', '--dns-nameserver', '2001:db8:cafe:a::e'));
      const listed = json(ok(await neutron('subnet-list', '-f', 'json', '-c', 'name', '-c', 'cidr'), ['subnet-list']), 'subnet-list');
      assert.deepEqual(
        listed.map((s: { name: string }) => s.name).sort(),
        ['private-v4-subnet', 'private_dhcpv6_stateless_subnet', 'private_dhcpv6_subnet', 'private_v6_subnet', 'public-subnet', 'public-v6-subnet'],
      );
    });

    it('shows Neutron\'s messages for refused subnets (mismatched modes; v6 cidr with the CLI\'s default ip_version 4)', async () => {
      const bad = ['subnet-create', '--ip-version=6', '--name=bad', '--ipv6-ra-mode=slaac', '--ipv6-address-mode=dhcpv6-stateful', 'private', '2001:db8:cafe:5::/64'];
      assert.ok(fails(await neutron(...bad), bad).includes(MODES_MESSAGE));
      const v4default = ['subnet-create', 'private', '2001:db8:cafe:40::/64'];
      assert.ok(fails(await neutron(...v4default), v4default).includes("Invalid input for operation: cidr '2001:db8:cafe:40::/64' does not match the ip_version '4'."));
    });

    it('connects private-router: router-gateway-set public, router-interface-add for the v4 and v6 subnets', async () => {
      ids.router = (await nj('router-create', 'private-router')).id;
      assert.match(ok(await neutron('router-gateway-set', 'private-router', 'public'), ['router-gateway-set']), /Set gateway for router private-router/);
      assert.match(ok(await neutron('router-interface-add', 'private-router', 'private-v4-subnet'), ['router-interface-add v4']), /Added interface .* to router private-router/);
      assert.match(ok(await neutron('router-interface-add', 'private-router', 'private_v6_subnet'), ['router-interface-add v6']), /Added interface .* to router private-router/);
      const router = await nj('router-show', 'private-router');
      assertGateway(router.external_gateway_info, ids.public!);
      const ports = (await Promise.all(
        json(ok(await neutron('router-port-list', 'private-router', '-f', 'json', '-c', 'id'), ['router-port-list']), 'router-port-list')
          .map((p: { id: string }) => nj('port-show', p.id)),
      )) as { device_owner: string; fixed_ips: FixedIp[] }[];
      assertInterfaces(ports);
      const again = ['router-interface-add', 'private-router', 'private_v6_subnet'];
      assert.match(fails(await neutron(...again), again), /Bad router request: Router already has a port on subnet [0-9a-f-]{36}\./);
    });

    it('creates ports with the talk\'s addresses (EUI-64 on SLAAC and stateless, a pool address on stateful)', async () => {
      const slaac = await nj('port-create', 'private', '--mac-address', MAC, '--name', 'vm-slaac');
      assert.equal(slaac.mac_address, MAC);
      assertSlaacPort(slaac.fixed_ips);
      const stateless = await nj('port-create', 'private-dhcpv6-stateless', '--mac-address', STATELESS_MAC);
      assert.deepEqual(ipsOf(stateless.fixed_ips), [STATELESS_ADDR]);
      assertStatefulPort((await nj('port-create', 'private-dhcpv6')).fixed_ips);
      const dup = ['port-create', 'private', '--mac-address', MAC];
      assert.ok(fails(await neutron(...dup), dup).includes(DUP_MAC(ids.private!)));
    });
  });

  // ------------------------------------------------------------------------------------------------ openstack CLI
  describe(`openstack CLI builds the talk's topology on v6stack (${backend})`, { skip: skipOpenstack }, () => {
    const ctx = withServer(backend);
    const ids: Record<string, string> = {};
    const os = (...args: string[]) =>
      run(openstackBin!, ['--os-auth-type', 'none', '--os-endpoint', ctx.url, ...args], { env: clientEnv(ctx.home!), timeoutMs: CALL_TIMEOUT_MS });
    const oj = async (...args: string[]) => json(ok(await os(...args, '-f', 'json'), args), args.join(' '));

    it('network create --external public, subnet create (v4 pool, v6 pool with --no-dhcp)', async () => {
      const net = await oj('network', 'create', '--external', 'public');
      assert.equal(net['router:external'], true);
      ids.public = net.id;
      assertSubnet('public-subnet', await oj('subnet', 'create', '--network', 'public', '--subnet-range', '172.16.12.0/24', '--allocation-pool', 'start=172.16.12.5,end=172.16.12.254', 'public-subnet'));
      assertSubnet('public-v6-subnet', await oj('subnet', 'create', '--network', 'public', '--ip-version', '6', '--subnet-range', '2001:db8:cafe:d::/64',
        '--allocation-pool', 'start=2001:db8:cafe:d::5,end=2001:db8:cafe:d:ffff:ffff:ffff:fffe', '--no-dhcp', 'public-v6-subnet'));
    });

    it('creates the SLAAC, DHCPv6-stateless and -stateful networks', async () => {
      ids.private = (await oj('network', 'create', 'private')).id;
      assertSubnet('private_v6_subnet', await oj('subnet', 'create', '--network', 'private', '--ip-version', '6', '--ipv6-ra-mode', 'slaac', '--ipv6-address-mode', 'slaac',
        '--subnet-range', '2001:db8:cafe::/64', 'private_v6_subnet'));
      assertSubnet('private-v4-subnet', await oj('subnet', 'create', '--network', 'private', '--subnet-range', '10.0.0.0/24', 'private-v4-subnet'));
      for (const [net, sub, mode, cidr] of [
        ['private-dhcpv6-stateless', 'private_dhcpv6_stateless_subnet', 'dhcpv6-stateless', '2001:db8:cafe:2::/64'],
        ['private-dhcpv6', 'private_dhcpv6_subnet', 'dhcpv6-stateful', '2001:db8:cafe:1::/64'],
      ] as const) {
        await oj('network', 'create', net);
        assertSubnet(sub, await oj('subnet', 'create', '--network', net, '--ip-version', '6', '--ipv6-ra-mode', mode, '--ipv6-address-mode', mode,
          '--subnet-range', cidr, '--dns-nameserver', '2001:db8:cafe:a::e', sub));
      }
      const v6 = await oj('subnet', 'list', '--ip-version', '6');
      assert.deepEqual(v6.map((s: { Name: string }) => s.Name).sort(), ['private_dhcpv6_stateless_subnet', 'private_dhcpv6_subnet', 'private_v6_subnet', 'public-v6-subnet']);
      const shown = await oj('subnet', 'show', 'private_v6_subnet');
      assertSubnet('private_v6_subnet', shown);
    });

    it('shows Neutron\'s message for a mismatched ra/address mode pair (BadRequestException, exit status 1)', async () => {
      const bad = ['subnet', 'create', '--network', 'private', '--ip-version', '6', '--ipv6-ra-mode', 'slaac', '--ipv6-address-mode', 'dhcpv6-stateful',
        '--subnet-range', '2001:db8:cafe:5::/64', 'bad'];
      const err = fails(await os(...bad), bad);
      assert.ok(err.includes(`BadRequestException: 400: Client Error for url: ${ctx.url}/v2.0/subnets, ${MODES_MESSAGE}`), err);
    });

    it('router create, router set --external-gateway public, router add subnet (v4 and v6)', async () => {
      ids.router = (await oj('router', 'create', 'private-router')).id;
      ok(await os('router', 'set', '--external-gateway', 'public', 'private-router'), ['router set --external-gateway']);
      ok(await os('router', 'add', 'subnet', 'private-router', 'private-v4-subnet'), ['router add subnet v4']);
      ok(await os('router', 'add', 'subnet', 'private-router', 'private_v6_subnet'), ['router add subnet v6']);
      const router = await oj('router', 'show', 'private-router');
      assertGateway(router.external_gateway_info, ids.public!);
      // the client builds interfaces_info from GET /v2.0/ports?device_id=<router>
      assert.deepEqual(router.interfaces_info.map((i: { ip_address: string }) => i.ip_address).sort(), ['10.0.0.1', '2001:db8:cafe::']);
      const ports = await oj('port', 'list', '--router', 'private-router', '--long');
      const ifaces = ports.filter((p: { 'Device Owner': string }) => ROUTER_IFACE_OWNERS.includes(p['Device Owner']));
      assert.equal(ifaces.length, 2, JSON.stringify(ports));
    });

    it('port create with the talk\'s MACs: EUI-64 addresses, then the duplicate MAC conflict', async () => {
      const slaac = await oj('port', 'create', '--network', 'private', '--mac-address', MAC, 'vm-slaac');
      assert.equal(slaac.mac_address, MAC);
      assertSlaacPort(slaac.fixed_ips);
      const stateless = await oj('port', 'create', '--network', 'private-dhcpv6-stateless', '--mac-address', STATELESS_MAC, 'vm-stateless');
      assert.deepEqual(ipsOf(stateless.fixed_ips), [STATELESS_ADDR]);
      assertStatefulPort((await oj('port', 'create', '--network', 'private-dhcpv6', 'vm-stateful')).fixed_ips);
      const dup = ['port', 'create', '--network', 'private', '--mac-address', MAC, 'vm-dup'];
      const err = fails(await os(...dup), dup);
      assert.ok(err.includes(`ConflictException: 409: Client Error for url: ${ctx.url}/v2.0/ports, ${DUP_MAC(ids.private!)}`), err);
      const notFound = ['network', 'show', '6f1b7c3e-0000-4000-8000-000000000000'];
      assert.match(fails(await os(...notFound), notFound), /No Network found for 6f1b7c3e-0000-4000-8000-000000000000/);
    });
  });

  // ------------------------------------------------------------------------------------------------ openstacksdk
  describe(`openstacksdk builds the talk's topology on v6stack (${backend})`, { skip: skipSdk }, () => {
    const ctx = withServer(backend);
    let steps: Record<string, { ok: boolean; value?: any; status?: number | null; message?: string }> = {};
    const value = (name: string) => {
      const s = steps[name];
      assert.ok(s, `step ${name} did not run`);
      assert.ok(s.ok, `${name}: ${s.status} ${s.message}`);
      return s.value;
    };

    before(async () => {
      const args = [join(repoRoot, 'test/integration/sdk_seed.py'), ctx.url, '--cleanup'];
      const r = await run(py!, args, { env: clientEnv(ctx.home!), timeoutMs: 5 * CALL_TIMEOUT_MS });
      steps = json(ok(r, ['sdk_seed.py', ...args.slice(1)]), 'sdk_seed.py').steps;
    });

    it('creates the public network and its v4 and v6 subnets with pools', () => {
      assert.equal(value('network public')['router:external'], true);
      assertSubnet('public-subnet', value('subnet public-subnet'));
      assertSubnet('public-v6-subnet', value('subnet public-v6-subnet'));
    });

    it('creates the SLAAC, DHCPv6-stateless and -stateful subnets', () => {
      for (const s of ['private_v6_subnet', 'private-v4-subnet', 'private_dhcpv6_stateless_subnet', 'private_dhcpv6_subnet']) assertSubnet(s, value(`subnet ${s}`));
      const listed = value('subnets') as { name: string }[];
      assert.equal(listed.length, 6);
      for (const s of listed) assertSubnet(s.name, s);
    });

    it('gets Neutron\'s BadRequest for the mismatched mode pair and 404 for a missing network', () => {
      assert.deepEqual(steps['subnet mismatched modes'], { ok: false, status: 400, message: MODES_MESSAGE, exception: 'BadRequestException' });
      assert.deepEqual(steps['show missing network'], {
        ok: false, status: 404, message: 'Network 6f1b7c3e-0000-4000-8000-000000000000 could not be found.', exception: 'ResourceNotFound',
      });
    });

    it('sets the router gateway and adds the interfaces at the subnets\' gateway addresses', () => {
      const router = value('router private-router with gateway public');
      assertGateway(router.external_gateway_info, value('network public').id);
      assert.equal(value('router interface private-v4-subnet').subnet_id, value('subnet private-v4-subnet').id);
      assert.equal(value('router interface private_v6_subnet').subnet_id, value('subnet private_v6_subnet').id);
      assert.deepEqual(steps['router interface private_v6_subnet again'], {
        ok: false, status: 400, exception: 'BadRequestException',
        message: `Bad router request: Router already has a port on subnet ${value('subnet private_v6_subnet').id}.`,
      });
      const ports = value('router ports') as { device_owner: string; fixed_ips: FixedIp[] }[];
      assertInterfaces(ports);
      assert.equal(ports.filter((p) => p.device_owner === 'network:router_gateway').length, 1);
    });

    it('creates ports with the talk\'s addresses and refuses a duplicate MAC', () => {
      assertSlaacPort(value('port vm-slaac').fixed_ips);
      assert.deepEqual(ipsOf(value('port vm-stateless').fixed_ips), [STATELESS_ADDR]);
      assertStatefulPort(value('port vm-stateful').fixed_ips);
      assert.deepEqual(steps['port vm-slaac duplicate mac'], {
        ok: false, status: 409, message: DUP_MAC(value('network private').id), exception: 'ConflictException',
      });
      assert.equal(value('find network private'), value('network private').id);
    });

    it('tears it all down again (ports, interfaces, gateway, router, networks)', () => {
      assert.deepEqual(value('cleanup'), ['vm-slaac', 'vm-stateless', 'vm-stateful', 'router', 'public', 'private', 'stateless', 'stateful']);
    });
  });

  // ------------------------------------------------------------------------------------------------ RBAC and quotas
  // `openstack network rbac` with --target-all-projects (a named --target-project is looked up in Keystone, which a
  // noauth endpoint has not), and the quota commands of the legacy CLI (the `openstack quota` commands resolve the
  // project in Keystone too).
  describe(`Debian's clients share networks with RBAC and set quotas on v6stack (${backend})`, { skip: skipOpenstack || skipNeutron }, () => {
    const ctx = withServer(backend);
    const project = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
    const os = (...args: string[]) =>
      run(openstackBin!, ['--os-auth-type', 'none', '--os-endpoint', ctx.url, ...args], { env: clientEnv(ctx.home!), timeoutMs: CALL_TIMEOUT_MS });
    const oj = async (...args: string[]) => json(ok(await os(...args, '-f', 'json'), args), args.join(' '));
    const neutron = async (...args: string[]) => {
      const r = await run(neutronBin!, args, { env: clientEnv(ctx.home!, { OS_AUTH_TYPE: 'none', OS_ENDPOINT: ctx.url }), timeoutMs: CALL_TIMEOUT_MS });
      r.stderr = r.stderr.split('\n').filter((l) => !l.includes('neutron CLI is deprecated')).join('\n');
      return r;
    };
    const nj = async (...args: string[]) => json(ok(await neutron(...args, '-f', 'json'), args), args.join(' '));

    it('openstack network rbac create / show / list / delete, and the network becomes shared and unshared', async () => {
      const net = await oj('network', 'create', 'rbac-net');
      assert.equal(net.shared, false);
      const pol = await oj('network', 'rbac', 'create', '--target-all-projects', '--action', 'access_as_shared', '--type', 'network', 'rbac-net');
      assert.equal(pol.object_id, net.id);
      assert.equal(pol.target_project_id, '*');
      assert.equal((await oj('network', 'show', 'rbac-net')).shared, true);
      assert.equal((await oj('network', 'rbac', 'show', pol.id)).action, 'access_as_shared');
      assert.deepEqual((await oj('network', 'rbac', 'list', '--type', 'network')).map((p: { ID: string }) => p.ID), [pol.id]);
      const dup = ['network', 'rbac', 'create', '--target-all-projects', '--action', 'access_as_shared', '--type', 'network', 'rbac-net'];
      assert.ok(fails(await os(...dup), dup).includes('An RBAC policy already exists with those values.'));
      ok(await os('network', 'rbac', 'delete', pol.id), ['network rbac delete']);
      assert.equal((await oj('network', 'show', 'rbac-net')).shared, false);
      const viaNeutron = await nj('rbac-create', '--target-tenant', project, '--action', 'access_as_shared', '--type', 'network', 'rbac-net');
      assert.equal(viaNeutron.target_tenant, project);
    });

    it('neutron quota-update / quota-show / quota-list / quota-delete, and the limit holds', async () => {
      const set = await nj('quota-update', '--tenant-id', project, '--network', '1');
      assert.equal(set.network, 1);
      assert.equal(set.port, 500);
      assert.equal((await nj('quota-show', '--tenant-id', project)).network, 1);
      assert.ok((await nj('quota-list')).some((q: { tenant_id: string }) => q.tenant_id === project));
      ok(await neutron('net-create', '--tenant-id', project, 'q1'), ['net-create q1']);
      const over = ['net-create', '--tenant-id', project, 'q2'];
      assert.ok(fails(await neutron(...over), over).includes("Quota exceeded for resources: ['network']."));
      ok(await neutron('quota-delete', '--tenant-id', project), ['quota-delete']);
      assert.equal((await nj('quota-show', '--tenant-id', project)).network, 100);
    });
  });
}
