// dnsmasq for DHCPv6, rendered as Neutron's DHCP agent renders it (neutron/agent/linux/dhcp.py, Dnsmasq
// _build_cmdline_callback, _output_hosts_file, _output_opts_file, _output_addn_hosts_file). PURE: no I/O.
//
// Neutron uses mode `static` for dhcpv6-stateful and dhcpv6-stateless alike; SLAAC subnets get no range. Only
// stateful subnets get host entries (fixed addresses); stateless subnets answer Information-Requests with options.
// dnsmasq never sends RAs here: radvd in the router namespace does.

export const DEFAULT_DNS_DOMAIN = 'openstacklocal';
/** Neutron's dnsmasq_lease_max default (2**24). */
export const DNSMASQ_LEASE_MAX = 2 ** 24;
/** Neutron's HOST_DHCPV6_TAG. */
const HOST_DHCPV6_TAG = 'tag:dhcpv6,';

export interface DhcpSubnet {
  id: string;
  cidr: string;
  ip_version: number;
  enable_dhcp: boolean;
  ipv6_address_mode?: string | null;
  dns_nameservers?: string[];
}

export interface DhcpPort {
  id: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}

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

/** The DHCPv6 subnets dnsmasq serves: enable_dhcp, IPv6, stateful or stateless, prefix length >= 64. */
export function dhcpv6Subnets(subnets: DhcpSubnet[]): DhcpSubnet[] {
  return subnets.filter(
    (s) =>
      s.enable_dhcp &&
      s.ip_version === 6 &&
      (s.ipv6_address_mode === 'dhcpv6-stateful' || s.ipv6_address_mode === 'dhcpv6-stateless') &&
      Number(s.cidr.split('/')[1]) >= 64,
  );
}

/** Neutron's host name for an address: host-2001-db8-cafe-1--4 */
export function hostNameFor(ip: string): string {
  return 'host-' + ip.replaceAll('.', '-').replaceAll(':', '-');
}

function sizeOf(cidr: string): bigint {
  return 1n << BigInt(128 - Number(cidr.split('/')[1]));
}

export function renderDnsmasq(input: DnsmasqInput): DnsmasqConfig {
  const domain = input.dnsDomain ?? DEFAULT_DNS_DOMAIN;
  const lease = (input.leaseSeconds ?? 86400) === -1 ? 'infinite' : `${input.leaseSeconds ?? 86400}s`;
  const subnets = dhcpv6Subnets(input.subnets);
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
    argv.push(`--dhcp-range=set:subnet-${s.id},${network},static,${len},${lease}`);
  }
  if (input.networkMtu > 0) argv.push(`--dhcp-option-force=option:mtu,${input.networkMtu}`);
  const total = subnets.reduce((n, s) => n + sizeOf(s.cidr), 0n);
  argv.push(`--dhcp-lease-max=${total < BigInt(DNSMASQ_LEASE_MAX) ? total : DNSMASQ_LEASE_MAX}`);
  argv.push('--conf-file=/dev/null', `--domain=${domain}`, `--interface=${input.interfaceName}`);
  if (input.logFacility !== undefined) argv.push('--log-dhcp', `--log-facility=${input.logFacility}`);

  const stateful = new Set(subnets.filter((s) => s.ipv6_address_mode === 'dhcpv6-stateful').map((s) => s.id));
  const hosts: string[] = [];
  const addn: string[] = [];
  for (const p of input.ports) {
    for (const ip of p.fixed_ips) {
      if (!stateful.has(ip.subnet_id)) continue;
      const name = hostNameFor(ip.ip_address);
      hosts.push(`${p.mac_address},${HOST_DHCPV6_TAG}${name}.${domain},[${ip.ip_address}]`);
      addn.push(`${ip.ip_address}\t${name}.${domain} ${name}`);
    }
  }
  const opts: string[] = [];
  for (const s of subnets) {
    if (s.dns_nameservers?.length) opts.push(`tag:subnet-${s.id},option6:dns-server,${s.dns_nameservers.map((a) => `[${a}]`).join(',')}`);
    opts.push(`tag:subnet-${s.id},option6:domain-search,${domain}`);
  }
  const text = (lines: string[]): string => (lines.length ? lines.join('\n') + '\n' : '');
  return { argv, hosts: text(hosts), opts: text(opts), addnHosts: text(addn) };
}
