// `v6stack demo`: the talk's topology (seed/deploying-ipv6-in-openstack.txt), built through the API, with one lab
// instance on each private network, and for each instance what it really got beside what the talk shows.
//
//   public (router:external)   IPv4 192.0.2.0/26, IPv6 2001:db8:cafe:d::/64 (no DHCP), router gateway .5 / ::5
//   private                    IPv4 192.0.2.64/28, IPv6 2001:db8:cafe::/64   slaac
//   private-dhcpv6             IPv4 192.0.2.80/28, IPv6 2001:db8:cafe:1::/64 dhcpv6-stateful
//   private-dhcpv6-stateless   IPv4 192.0.2.96/28, IPv6 2001:db8:cafe:2::/64 dhcpv6-stateless
//   private-router             gateway on public, an interface on each of the six private subnets
//
// The IPv6 prefixes, DNS server and instance MACs are the talk's, so the EUI-64 addresses come out identical. The
// talk's IPv4 networks (172.16.12.0/24, 10.0.x.0/24) are mapped into 192.0.2.0/24, the documentation range,
// because the demo's traffic must stay in addresses reserved for examples.

import { spawnSync } from 'node:child_process';
import { labBoot, labNsName, type LabOptions } from './lab.js';
import { DHCPV6_STATEFUL, DHCPV6_STATELESS, IPV6_SLAAC, raFlags, type Ipv6Mode } from '../domain/ipv6/index.js';
import type { Network, Port, Router, Subnet } from '../schema/index.js';
import { inspectInstance, type InstanceState } from './lab-show.js';

export const DEMO_DNS6 = '2001:db8:cafe:a::e';
export const DEMO_DNS4 = '192.0.2.53';

export interface DemoNetwork {
  mode: Ipv6Mode;
  name: string;
  v4: string;
  v6: string;
  /** The talk's instance: its MAC (so EUI-64 comes out the same), and a fixed IPv6 address where the talk has one. */
  mac: string;
  fixedV6?: string;
  instance: string;
  /** What the talk shows for this instance (and where). */
  seed: { ipv6: string; ipv4: string; ra: string; dns: string[]; search: string; source: string };
}

export const DEMO_NETWORKS: DemoNetwork[] = [
  {
    mode: IPV6_SLAAC,
    name: 'private',
    v4: '192.0.2.64/28',
    v6: '2001:db8:cafe::/64',
    mac: 'fa:16:3e:79:5a:cc',
    instance: 'demo-slaac',
    seed: { ipv6: '2001:db8:cafe:0:f816:3eff:fe79:5acc', ipv4: '10.0.0.9', ra: 'Flags [none]; prefix 2001:db8:cafe::/64 [onlink, auto]', dns: [], search: '', source: 'SLAAC slides: tcpdump of RS/RA, "IPv6: 2001:db8:cafe:0:f816:3eff:fe79:5acc"' },
  },
  {
    mode: DHCPV6_STATELESS,
    name: 'private-dhcpv6-stateless',
    v4: '192.0.2.96/28',
    v6: '2001:db8:cafe:2::/64',
    mac: 'fa:16:3e:fe:d1:57',
    instance: 'demo-stateless',
    seed: { ipv6: '2001:db8:cafe:2:f816:3eff:fefe:d157', ipv4: '10.0.2.4', ra: 'Flags [other stateful]; prefix 2001:db8:cafe:2::/64 [onlink, auto]', dns: ['172.16.10.14', DEMO_DNS6], search: 'openstacklocal', source: 'DHCPv6-stateless slides: resolv.conf and the inf-req/reply capture' },
  },
  {
    mode: DHCPV6_STATEFUL,
    name: 'private-dhcpv6',
    v4: '192.0.2.80/28',
    v6: '2001:db8:cafe:1::/64',
    mac: 'fa:16:3e:22:38:6b',
    fixedV6: '2001:db8:cafe:1::4',
    instance: 'demo-stateful',
    seed: { ipv6: '2001:db8:cafe:1::4', ipv4: '10.0.1.4', ra: 'Flags [managed]; no prefix option', dns: ['172.16.10.14', DEMO_DNS6], search: 'openstacklocal', source: 'DHCPv6-stateful slides: resolv.conf and the solicit/advertise/request/reply capture' },
  },
];

type Api = (method: string, path: string, body?: unknown) => Promise<any>;

export interface DemoTopology {
  publicNet: Network;
  router: Router;
  networks: { spec: DemoNetwork; net: Network; v4: Subnet; v6: Subnet }[];
}

/** The talk's networks, subnets and router, through the API (as `neutron net-create ...` would). */
export async function buildTopology(api: Api, log: (l: string) => void): Promise<DemoTopology> {
  const publicNet = (await api('POST', '/v2.0/networks', { network: { name: 'public', 'router:external': true } })).network;
  await api('POST', '/v2.0/subnets', { subnet: { network_id: publicNet.id, name: 'public-subnet', ip_version: 4, cidr: '192.0.2.0/26', gateway_ip: '192.0.2.1', allocation_pools: [{ start: '192.0.2.5', end: '192.0.2.62' }] } });
  await api('POST', '/v2.0/subnets', {
    subnet: { network_id: publicNet.id, name: 'public-v6-subnet', ip_version: 6, cidr: '2001:db8:cafe:d::/64', gateway_ip: '2001:db8:cafe:d::1', enable_dhcp: false, allocation_pools: [{ start: '2001:db8:cafe:d::5', end: '2001:db8:cafe:d:ffff:ffff:ffff:fffe' }] },
  });
  log('public: 192.0.2.0/26 and 2001:db8:cafe:d::/64 (router:external)');
  const router = (await api('POST', '/v2.0/routers', { router: { name: 'private-router', external_gateway_info: { network_id: publicNet.id } } })).router;
  const networks: DemoTopology['networks'] = [];
  for (const spec of DEMO_NETWORKS) {
    const net = (await api('POST', '/v2.0/networks', { network: { name: spec.name } })).network;
    const v4 = (await api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, name: `${spec.name}-v4-subnet`, ip_version: 4, cidr: spec.v4, dns_nameservers: [DEMO_DNS4] } })).subnet;
    const v6 = (
      await api('POST', '/v2.0/subnets', {
        subnet: { network_id: net.id, name: `${spec.name.replaceAll('-', '_')}_v6_subnet`, ip_version: 6, cidr: spec.v6, ipv6_ra_mode: spec.mode, ipv6_address_mode: spec.mode, dns_nameservers: [DEMO_DNS6] },
      })
    ).subnet;
    for (const s of [v4, v6]) await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });
    log(`${spec.name}: ${spec.v4} and ${spec.v6} (${spec.mode}), on private-router`);
    networks.push({ spec, net, v4, v6 });
  }
  return { publicNet, router, networks };
}

/** One lab instance per private network, with the talk's MAC (and fixed address where the talk has one). */
export async function bootInstances(lab: LabOptions, topo: DemoTopology, log: (l: string) => void): Promise<Port[]> {
  const ports: Port[] = [];
  for (const { spec, net, v4, v6 } of topo.networks) {
    const fixedIps = spec.fixedV6 ? [{ subnet_id: v4.id }, { subnet_id: v6.id, ip_address: spec.fixedV6 }] : undefined;
    const port = await labBoot({ ...lab, log: () => {} }, net.id, spec.instance, { mac: spec.mac, ...(fixedIps ? { fixedIps } : {}) });
    log(`${spec.instance} on ${spec.name}: port ${port.id} ${port.mac_address}`);
    ports.push(port);
  }
  return ports;
}

/** What the demo reports of an instance: what it really has (lab-show.ts), with the API's side beside it. */
export type InstanceView = Pick<InstanceState, 'ipv6' | 'ipv4' | 'router6' | 'router4' | 'ra' | 'dns' | 'search'> & {
  instance: string;
  /** From the API: the router port's link-local address on this network, and the IPv4 subnet's gateway. */
  expect: { router6: string; router4: string };
  mode: string;
  api: string[];
  dnsReachable: boolean | null;
  /** Whether a ping to each other demo instance's IPv6 address (another network, through the router) was answered. */
  peersReachable: Record<string, boolean>;
};

/** What the instance really has: kernel addresses and routes, the RA it hears, what its DHCP clients received. */
export function observeInstance(
  labDir: string,
  spec: DemoNetwork,
  port: Pick<Port, 'fixed_ips'>,
  expect: InstanceView['expect'],
  dnsHost: string | null,
  peers: { instance: string; address: string }[] = [],
): InstanceView {
  const seen = inspectInstance(labDir, spec.instance);
  const pings = (target: string): boolean => spawnSync('ip', ['netns', 'exec', labNsName(spec.instance), 'ping', '-6', '-n', '-c', '1', '-W', '2', target]).status === 0;
  const ping = dnsHost ? pings(dnsHost) : null;
  return {
    instance: spec.instance,
    expect,
    mode: spec.mode,
    api: port.fixed_ips.map((f) => f.ip_address),
    ipv6: seen.ipv6,
    ipv4: seen.ipv4,
    router6: seen.router6,
    router4: seen.router4,
    ra: seen.ra,
    dns: seen.dns,
    search: seen.search,
    dnsReachable: ping,
    peersReachable: Object.fromEntries(peers.filter((p) => p.instance !== spec.instance).map((p) => [p.instance, pings(p.address)])),
  };
}

function peerSummary(reach: Record<string, boolean>): string {
  const names = Object.keys(reach);
  if (!names.length) return '(none tried)';
  return names.map((n) => `${n} ${reach[n] ? 'ok' : 'FAILED'}`).join(', ');
}

/** The report: per instance, what it got and what the talk shows, and whether they agree. */
export function renderReport(views: InstanceView[]): string {
  const out: string[] = [];
  for (const v of views) {
    const spec = DEMO_NETWORKS.find((n) => n.instance === v.instance)!;
    const s = spec.seed;
    const v6 = v.ipv6.join(' ') || '(none)';
    const rows: [string, string, string, string][] = [
      ['IPv6 address', v6, s.ipv6, v.ipv6.includes(s.ipv6) ? 'same' : 'differs'],
      ['IPv4 address', v.ipv4.join(' ') || '(none)', s.ipv4, 'IPv4 mapped into 192.0.2.0/24'],
      ['IPv6 default router', v.router6 ?? '(none)', "the router port's link-local", v.router6 === v.expect.router6 ? 'same (the API port\'s EUI-64 link-local)' : `differs (API: ${v.expect.router6})`],
      ['IPv4 default router', v.router4 ?? '(none)', 'the subnet gateway (.1)', v.router4 === v.expect.router4 ? 'same (the subnet\'s first address)' : `differs (API: ${v.expect.router4})`],
      ['RA', v.ra, s.ra, v.ra === s.ra ? 'same' : raFlags({ ipv6_ra_mode: spec.mode })?.managed && v.ra.startsWith('Flags [managed]; prefix') && !v.ra.includes('auto') ? 'Neutron today adds the prefix, on-link only (A=0)' : 'differs'],
      ['DNS servers', v.dns.join(' ') || '(none)', s.dns.join(' ') || '(not shown)', s.dns.length ? (v.dns.includes(DEMO_DNS6) ? `same IPv6 server; IPv4 ${DEMO_DNS4} for 172.16.10.14` : 'differs') : v.dns.includes(DEMO_DNS6) ? 'RDNSS in the RA (Neutron today)' : 'differs'],
      ['search list', v.search || '(none)', s.search || '(not shown)', v.search === s.search ? 'same' : s.search ? 'differs' : 'only from DHCPv4'],
      ['reaches the others', peerSummary(v.peersReachable), '(not shown)', Object.values(v.peersReachable).every(Boolean) ? 'through the router' : 'differs'],
      ['reaches DC DNS host', v.dnsReachable === null ? '(no DC)' : v.dnsReachable ? `ping ${DEMO_DNS6} ok` : `ping ${DEMO_DNS6} FAILED`, 'yes', v.dnsReachable ? 'same' : v.dnsReachable === null ? 'not tried' : 'differs'],
    ];
    const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['', 'v6stack', 'the talk'][i]!.length));
    out.push(`${v.instance} (${v.mode}; API fixed IPs ${v.api.join(', ')})`);
    out.push(`  ${''.padEnd(w[0]!)}  ${'v6stack'.padEnd(w[1]!)}  ${'the talk'.padEnd(w[2]!)}  note`);
    for (const r of rows) out.push(`  ${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2].padEnd(w[2]!)}  ${r[3]}`);
    out.push('');
  }
  return out.join('\n');
}
