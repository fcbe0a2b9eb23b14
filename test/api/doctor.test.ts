// `v6stack doctor` against a real server: a topology broken on purpose (a DHCPv6-stateless subnet without DNS, an
// agent that stopped its heartbeat, an agent reporting a failing daemon) gives one finding each with its fix and
// exit status 1; fixed, it exits 0. The pure checks (diagnose, labInstanceFindings) for the cases the API refuses
// to create (SLAAC on a /80, an external-router subnet on a router, a PD subnet without gateway, MTU < 1280).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '../helpers/v6stack.js';
import { diagnose, labInstanceFindings, type DrState, type DrSubnet } from '../../src/cli/commands/doctor.js';

const empty = (): DrState => ({ networks: [], subnets: [], ports: [], routers: [], agents: [] });
const sub = (id: string, cidr: string, mode: string | null, addressMode: string | null, extra: Partial<DrSubnet> = {}): DrSubnet => ({ id, network_id: 'n1', ip_version: 6, cidr, enable_dhcp: true, ipv6_ra_mode: mode, ipv6_address_mode: addressMode, dns_nameservers: ['2001:db8::53'], ...extra });

test('diagnose: each broken rule is one finding with its fix; a sound topology has none', () => {
  const agent = { host: 'h1', binary: 'v6stack-agent', alive: true };
  const sound: DrState = { ...empty(), networks: [{ id: 'n1', mtu: 1450 }], subnets: [sub('s1', '2001:db8:1::/64', 'slaac', 'slaac')], agents: [agent] };
  assert.deepEqual(diagnose(sound), []);
  // The same topology with no live agent: built nowhere.
  assert.deepEqual(diagnose({ ...sound, agents: [{ ...agent, alive: false }] }).map((f) => f.code), ['no-agent', 'agent-down']);
  const broken: DrState = {
    networks: [{ id: 'n1', mtu: 1200 }],
    subnets: [
      sub('nodns', '2001:db8:2::/64', 'dhcpv6-stateful', 'dhcpv6-stateful', { dns_nameservers: [] }),
      sub('slaac80', '2001:db8:3::/80', 'slaac', 'slaac'),
      sub('ext', '2001:db8:4::/64', null, 'slaac'),
      sub('pd', '2001:db8:5::/64', 'slaac', 'slaac', { subnetpool_id: 'prefix_delegation' }),
    ],
    ports: [
      { id: 'r1', network_id: 'n1', device_owner: 'network:router_interface', device_id: 'R', fixed_ips: [{ subnet_id: 'ext', ip_address: '2001:db8:4::1' }, { subnet_id: 'pd', ip_address: '2001:db8:5::1' }] },
    ],
    routers: [{ id: 'R', external_gateway_info: null }],
    agents: [],
  };
  assert.deepEqual(diagnose(broken).map((f) => [f.code, f.subject]), [
    ['dhcpv6-without-dns', 'subnet nodns'],
    ['slaac-not-64', 'subnet slaac80'],
    ['external-router-subnet-on-router', 'subnet ext'],
    ['pd-without-gateway', 'subnet pd'],
    ['mtu-below-1280', 'network n1'],
    ['no-agent', 'agents'],
  ]);
  assert.match(diagnose(broken)[3]!.fix, /router set --external-gateway/);
});

test('diagnose: a subnet that only its address scope keeps from a BGP speaker is found; other reasons are not misconfigurations', () => {
  const agent = { host: 'h1', binary: 'v6stack-agent', alive: true };
  const explanation = (subnet_id: string, reasons: string[]) => ({ subnet_id, cidr: `2001:db8:${subnet_id}::/64`, advertised: reasons.length === 0, reasons });
  const state: DrState = {
    ...empty(),
    agents: [agent],
    bgp: [{
      speaker: { id: 'sp1', name: 'speaker1' },
      explanations: [
        explanation('a', []),
        explanation('b', ["the subnet's address scope S2 differs from the gateway network's (S1)"]),
        explanation('c', ["the subnet's pool P is in no address scope", 'the subnet is on no router interface']),
        explanation('d', ['the subnet is IPv4 and the speaker IPv6: a speaker carries one address family (a dual-stack network needs two speakers)']),
      ],
    }],
  };
  const found = diagnose(state);
  assert.deepEqual(found.map((f) => [f.code, f.subject]), [['bgp-scope-mismatch', 'subnet 2001:db8:b::/64 (b)']]);
  assert.match(found[0]!.problem, /speaker1 \(sp1\) does not advertise it: the subnet's address scope S2 differs/);
});

test('labInstanceFindings: a lab instance missing its port\'s SLAAC address is found; a static IPv6 address is not expected', () => {
  const subnets = new Map([['s', sub('s', '2001:db8:1::/64', 'slaac', 'slaac')], ['st', sub('st', '2001:db8:9::/64', null, null, { enable_dhcp: false })]]);
  const port = { id: 'p', network_id: 'n1', device_owner: 'compute:lab', device_id: 'lab-vm1', fixed_ips: [{ subnet_id: 's', ip_address: '2001:db8:1::f816:3eff:fe79:5acc' }, { subnet_id: 'st', ip_address: '2001:db8:9::5' }] };
  assert.deepEqual(labInstanceFindings('vm1', port, subnets, ['2001:db8:1::f816:3eff:fe79:5acc']), []);
  const f = labInstanceFindings('vm1', port, subnets, []);
  assert.equal(f.length, 1);
  assert.match(f[0]!.problem, /does not hold 2001:db8:1::f816:3eff:fe79:5acc of port p/);
});

test('doctor against a live server: broken on purpose, then fixed', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'v6stack-doctor-'));
  const port = 41000 + Math.floor(Math.random() * 9000);
  const server = await spawnServer(`sqlite:${join(dir, 'v6stack.db')}`, port, ['--agent-down-time', '8']);
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(server.url + path, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const doctor = () => {
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', '--os-endpoint', server.url, 'doctor', '-f', 'json'], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, findings: r.stdout ? (JSON.parse(r.stdout).findings as { code: string; subject: string; fix: string }[]) : [], stderr: r.stderr };
  };
  try {
    assert.deepEqual(doctor(), { status: 0, findings: [], stderr: '' }, 'an empty cloud is sound');
    const net = (await api('POST', '/v2.0/networks', { network: { name: 'private-dhcpv6' } })).network;
    const s = (await api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, name: 'stateless', ip_version: 6, cidr: '2001:db8:cafe:2::/64', ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: 'dhcpv6-stateless' } })).subnet;
    const agentBody = (failing: unknown[]) => ({ agent: { agent_type: 'Linux bridge agent', configurations: { failing_daemons: failing } } });
    await api('PUT', '/v6stack/v1/agents/doctor-down/v6stack-agent', agentBody([]));
    await api('PUT', '/v6stack/v1/agents/doctor-sick/v6stack-agent', agentBody([{ id: `dnsmasq-${net.id}`, kind: 'dnsmasq', namespace: `qdhcp-${net.id}`, exits_in_a_row: 4, last_words: ['dnsmasq: failed to create listening socket'], fix: 'another process holds its port' }]));
    // The first agent stops its heartbeat: down after --agent-down-time (8 s); the second keeps beating.
    const end = Date.now() + 60_000;
    let r = doctor();
    while (!r.findings.some((f) => f.code === 'agent-down') && Date.now() < end) {
      await new Promise((res) => setTimeout(res, 500));
      await api('PUT', '/v6stack/v1/agents/doctor-sick/v6stack-agent', agentBody([{ id: `dnsmasq-${net.id}`, kind: 'dnsmasq', namespace: `qdhcp-${net.id}`, exits_in_a_row: 4, last_words: ['dnsmasq: failed to create listening socket'], fix: 'another process holds its port' }]));
      r = doctor();
    }
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(r.findings.map((f) => [f.code, f.subject]).sort(), [
      ['agent-down', 'agent doctor-down/v6stack-agent'],
      ['daemon-failing', 'agent doctor-sick/v6stack-agent'],
      ['dhcpv6-without-dns', `subnet stateless (${s.id})`],
    ]);
    assert.equal(r.findings.find((f) => f.code === 'dhcpv6-without-dns')!.fix, `v6stack subnet set --dns-nameserver <server> ${s.id}`);

    // Fixed: DNS on the subnet, the failing daemon recovered, the dead agent beating again.
    await api('PUT', `/v2.0/subnets/${s.id}`, { subnet: { dns_nameservers: ['2001:db8:cafe:a::e'] } });
    await api('PUT', '/v6stack/v1/agents/doctor-sick/v6stack-agent', agentBody([]));
    await api('PUT', '/v6stack/v1/agents/doctor-down/v6stack-agent', agentBody([]));
    assert.deepEqual(doctor(), { status: 0, findings: [], stderr: '' });
  } finally {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
