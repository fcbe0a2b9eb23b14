// dnsmasq for DHCPv6 and DHCPv4, rendered as Neutron's DHCP agent renders it (neutron/agent/linux/dhcp.py, Dnsmasq
// _build_cmdline_callback, _output_hosts_file, _output_opts_file, _output_addn_hosts_file). PURE: no I/O.
//
// Neutron uses mode `static` for dhcpv6-stateful and dhcpv6-stateless alike; SLAAC subnets get no range. Only
// stateful subnets get host entries (fixed addresses); stateless subnets answer Information-Requests with options.
// IPv4 subnets with enable_dhcp get a static range (network, netmask), a host entry per fixed address, and the
// router, DNS and classless-static-route (121, and 249 for old Windows) options.
// dnsmasq never sends RAs here: radvd in the router namespace does. Which subnets are served and how is decided
// in domain/ipv6 (`dhcpv6Service`, `dnsmasqRangeMode`).

import { dhcpv6Service, dnsmasqRangeMode } from '../domain/ipv6/index.js';
import type { Port, Subnet } from '../schema/index.js';
import { servesDhcp } from '../domain/dhcp.js';

export const DEFAULT_DNS_DOMAIN = 'openstacklocal';
/** Neutron's dnsmasq_lease_max default (2**24). */
export const DNSMASQ_LEASE_MAX = 2 ** 24;
/** Neutron's HOST_DHCPV6_TAG. */
const HOST_DHCPV6_TAG = 'tag:dhcpv6,';

/** A subnet as dnsmasq's configuration reads it. */
export type DhcpSubnet = Pick<Subnet, 'id' | 'cidr' | 'ip_version' | 'enable_dhcp'> & Partial<Pick<Subnet, 'ipv6_ra_mode' | 'ipv6_address_mode' | 'dns_nameservers' | 'gateway_ip' | 'host_routes'>>;

/** A port as dnsmasq's hosts file reads it. */
export type DhcpPort = Pick<Port, 'id' | 'mac_address' | 'fixed_ips'>;

export interface DnsmasqInput {
  networkMtu: number;
  subnets: DhcpSubnet[];
  ports: DhcpPort[];
  /** Interface inside the qdhcp namespace (ns-<port id[:11]>). */
  interfaceName: string;
  /** Directory for the pid, hosts, opts, addn_hosts and leases files. */
  dir: string;
  /** dhcp_lease_duration, seconds; -1 is infinite. */
  leaseSeconds?: number;
  dnsDomain?: string;
  /**
   * Log DHCP transactions (--log-dhcp) to this facility: a file, or '-' for stderr (the agent relays it). Neutron
   * does the same with --log-facility=<dnsmasq_base_log_dir>/<net>/dhcp_dns_log when that option is set.
   */
  logFacility?: string;
}

export interface DnsmasqConfig {
  argv: string[];
  hosts: string;
  opts: string;
  addnHosts: string;
}

/** The DHCPv6 subnets dnsmasq serves (domain/dhcp decides which subnets are served). */
export function dhcpv6Subnets<S extends DhcpSubnet>(subnets: readonly S[]): S[] {
  return subnets.filter((s) => s.ip_version === 6 && servesDhcp(s));
}

/** Every subnet dnsmasq serves: the same rule the server's DHCP port follows (domain/dhcp servesDhcp). */
export function dhcpSubnets<S extends DhcpSubnet>(subnets: readonly S[]): S[] {
  return subnets.filter((s) => servesDhcp(s));
}

/** 24 -> 255.255.255.0 */
export function netmaskOf(prefixLength: number): string {
  const bits = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

/** Neutron's host name for an address: host-2001-db8-cafe-1--4 */
export function hostNameFor(ip: string): string {
  return 'host-' + ip.replaceAll('.', '-').replaceAll(':', '-');
}

function sizeOf(s: DhcpSubnet): bigint {
  return 1n << BigInt((s.ip_version === 4 ? 32 : 128) - Number(s.cidr.split('/')[1]));
}

export function renderDnsmasq(input: DnsmasqInput): DnsmasqConfig {
  const domain = input.dnsDomain ?? DEFAULT_DNS_DOMAIN;
  const lease = (input.leaseSeconds ?? 86400) === -1 ? 'infinite' : `${input.leaseSeconds ?? 86400}s`;
  const subnets = dhcpSubnets(input.subnets);
  const d = input.dir;
  const argv = [
    'dnsmasq',
    '-k',
    '--no-hosts',
    '--no-resolv',
    `--pid-file=${d}/pid`,
    `--dhcp-hostsfile=${d}/host`,
    `--addn-hosts=${d}/addn_hosts`,
    `--dhcp-optsfile=${d}/opts`,
    `--dhcp-leasefile=${d}/leases`,
    '--dhcp-match=set:ipxe,175',
    '--dhcp-userclass=set:ipxe6,iPXE',
    '--local-service',
    '--bind-dynamic',
  ];
  for (const s of subnets) {
    const [network, len] = s.cidr.split('/');
    const size = s.ip_version === 4 ? netmaskOf(Number(len)) : len;
    argv.push(`--dhcp-range=set:subnet-${s.id},${network},${dnsmasqRangeMode(s)},${size},${lease}`);
  }
  if (input.networkMtu > 0) argv.push(`--dhcp-option-force=option:mtu,${input.networkMtu}`);
  const total = subnets.reduce((n, s) => n + sizeOf(s), 0n);
  argv.push(`--dhcp-lease-max=${total < BigInt(DNSMASQ_LEASE_MAX) ? total : DNSMASQ_LEASE_MAX}`);
  argv.push('--conf-file=/dev/null', `--domain=${domain}`, `--interface=${input.interfaceName}`);
  if (input.logFacility !== undefined) argv.push('--log-dhcp', `--log-facility=${input.logFacility}`);

  const stateful = new Set(subnets.filter((s) => dhcpv6Service(s) === 'stateful').map((s) => s.id));
  const v4 = new Set(subnets.filter((s) => s.ip_version === 4).map((s) => s.id));
  const hosts: string[] = [];
  const addn: string[] = [];
  for (const p of input.ports) {
    for (const ip of p.fixed_ips) {
      const name = hostNameFor(ip.ip_address);
      if (stateful.has(ip.subnet_id)) hosts.push(`${p.mac_address},${HOST_DHCPV6_TAG}${name}.${domain},[${ip.ip_address}]`);
      else if (v4.has(ip.subnet_id)) hosts.push(`${p.mac_address},${name}.${domain},${ip.ip_address}`);
      else continue;
      addn.push(`${ip.ip_address}\t${name}.${domain} ${name}`);
    }
  }
  const opts: string[] = [];
  for (const s of subnets) {
    const tag = `tag:subnet-${s.id}`;
    if (s.ip_version === 6) {
      if (s.dns_nameservers?.length) opts.push(`${tag},option6:dns-server,${s.dns_nameservers.map((a) => `[${a}]`).join(',')}`);
      opts.push(`${tag},option6:domain-search,${domain}`);
      continue;
    }
    if (s.dns_nameservers?.length) opts.push(`${tag},option:dns-server,${s.dns_nameservers.join(',')}`);
    // Neutron: the subnet's host routes, then the network's other IPv4 subnets as on-link, then the default route
    // (a client that takes option 121 ignores option 3, so the default must be in the list too).
    const routes = [
      ...(s.host_routes ?? []).filter((r) => !r.destination.includes(':')).map((r) => `${r.destination},${r.nexthop}`),
      ...input.subnets.filter((o) => o.ip_version === 4 && o.id !== s.id && o.cidr !== s.cidr).map((o) => `${o.cidr},0.0.0.0`),
    ];
    if (routes.length) {
      if (s.gateway_ip) routes.push(`0.0.0.0/0,${s.gateway_ip}`);
      opts.push(`${tag},option:classless-static-route,${routes.join(',')}`, `${tag},249,${routes.join(',')}`);
    }
    opts.push(s.gateway_ip ? `${tag},option:router,${s.gateway_ip}` : `${tag},option:router`);
  }
  const text = (lines: string[]): string => (lines.length ? lines.join('\n') + '\n' : '');
  return { argv, hosts: text(hosts), opts: text(opts), addnHosts: text(addn) };
}
