// `v6stack explain subnet|port|network X [-f json]`: what an instance on it will get, and why. Per subnet: the RA
// flags and what they mean, how addresses are made, DNS servers and search list and who delivers them, the default
// router, which daemon (or which router outside v6stack) answers; per network and port: the guest's configuration as
// the talk shows it (Ubuntu ifupdown, netplan, RHEL ifcfg, NetworkManager) and, for provider subnets whose router is
// outside v6stack, that router's configuration for the mode (Cisco IOS as in the talk, FRR, radvd). The
// explanation is built by pure functions (explainNetwork, renderExplanation) from the API's documents; the rules
// come from domain/ipv6, the documents' network types from domain/network-data.

import type { Command } from 'commander';
import { eui64Address, linkLocalFromMac } from '../../domain/eui64.js';
import { IpPrefix } from '../../domain/ip.js';
import { DEVICE_OWNER_DHCP, ROUTER_INTERFACE_OWNERS, dhcpv6Service, isExternalRouterSubnet, raFlags, rdnssInRa, upstreamRaFlags, type RaFlags } from '../../domain/ipv6/index.js';
import { networkTypeOf, type NdSubnet } from '../../domain/network-data.js';
import { renderRadvdInterface, type RaSubnet } from '../../agent/radvd.js';
import { guestConfig, type GuestSubnet } from '../../lab/guest-os.js';
import { NETWORK, PORT, SUBNET, type NeutronClient } from '../http.js';
import { clientOf } from './common.js';

/** The search list dnsmasq hands out (Neutron's dns_domain default). */
const SEARCH = ['openstacklocal'];

export interface ExSubnet extends NdSubnet {
  name?: string;
}
export interface ExPort {
  id: string;
  name?: string;
  network_id: string;
  mac_address: string;
  device_owner: string;
  device_id: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}
export interface ExNetwork {
  id: string;
  name?: string;
  mtu?: number;
  'router:external'?: boolean;
}

export interface SubnetExplanation {
  id: string;
  name: string;
  cidr: string;
  ip_version: number;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  network_data_type: string;
  router_advertisement: { sender: string; flags: { M: boolean; O: boolean; A: boolean; L: boolean } | null; meaning: string[] } | null;
  addresses: string;
  dns: { servers: string[]; search: string[]; delivered_by: string };
  default_router: string;
  daemons: string[];
}

export interface Explanation {
  network: { id: string; name: string; mtu: number | null };
  port?: { id: string; name: string; mac_address: string; addresses: { address: string; subnet_id: string; derived: string }[] };
  subnets: SubnetExplanation[];
  guest: { ubuntu_ifupdown: string; netplan: string; rhel_ifcfg: string; networkmanager: string };
  upstream_router?: { subnet_id: string; cisco_ios: string; frr: string; radvd: string }[];
}

function flagMeaning(f: RaFlags): string[] {
  return [
    f.managed ? 'M=1: addresses come from DHCPv6 (stateful, IA_NA)' : 'M=0: no DHCPv6 addresses',
    f.other ? 'O=1: DNS and other options come from DHCPv6 (Information-Request)' : 'O=0: no DHCPv6 for other configuration',
    f.autonomous ? 'A=1: hosts form their address from the prefix (SLAAC, EUI-64 from the MAC)' : 'A=0: hosts do not autoconfigure from the prefix',
    f.onLink ? 'L=1: the prefix is on-link' : 'L=0: the prefix is not on-link',
  ];
}

export function explainSubnet(s: ExSubnet, ports: readonly ExPort[]): SubnetExplanation {
  const iface = ports.find((p) => ROUTER_INTERFACE_OWNERS.has(p.device_owner) && p.fixed_ips.some((ip) => ip.subnet_id === s.id));
  const dhcp = ports.find((p) => p.device_owner === DEVICE_OWNER_DHCP && p.fixed_ips.some((ip) => ip.subnet_id === s.id));
  const dns = s.dns_nameservers ?? [];
  const daemons: string[] = [];
  const base = {
    id: s.id,
    name: s.name ?? '',
    cidr: s.cidr,
    ip_version: s.ip_version,
    ipv6_ra_mode: s.ipv6_ra_mode ?? null,
    ipv6_address_mode: s.ipv6_address_mode ?? null,
    network_data_type: networkTypeOf(s),
  };
  const metadata = iface ? `metadata server in qrouter-${iface.device_id} (qm-${s.network_id.slice(0, 11)})` : dhcp ? `metadata server in qdhcp-${s.network_id} (qm-${s.network_id.slice(0, 11)})` : null;
  if (s.ip_version === 4) {
    if (s.enable_dhcp) daemons.push(`dnsmasq in qdhcp-${s.network_id} (DHCPv4)`);
    if (metadata) daemons.push(metadata + ', also at 169.254.169.254' + (iface ? '' : ' (routed networks only)'));
    return {
      ...base,
      router_advertisement: null,
      addresses: s.enable_dhcp ? 'the port\'s fixed IP, leased by DHCPv4 (dnsmasq host entry by MAC)' : 'the port\'s fixed IP, configured statically by the guest (config drive or metadata network_data.json: type ipv4)',
      dns: { servers: dns, search: SEARCH, delivered_by: s.enable_dhcp ? 'DHCPv4 (dnsmasq, option 6)' : 'network_data.json services (config drive, metadata)' },
      default_router: s.gateway_ip ? `${s.gateway_ip}${iface ? ` (router ${iface.device_id})` : ''}` : 'none (no gateway_ip)',
      daemons,
    };
  }
  const external = isExternalRouterSubnet(s);
  const flags = external ? upstreamRaFlags(s) : raFlags(s);
  const routerLla = iface ? linkLocalFromMac(iface.mac_address).toString() : null;
  const sender = external
    ? 'the upstream router outside v6stack (ipv6_ra_mode unset): configure it as shown under upstream_router'
    : flags && iface
      ? `radvd in qrouter-${iface.device_id} on qr-${iface.id.slice(0, 11)}, from ${routerLla}`
      : flags
        ? 'nobody yet: the subnet is on no router (add it to one for RAs)'
        : 'nobody: no ipv6_ra_mode';
  if (flags && iface && !external) daemons.push(`radvd in qrouter-${iface.device_id}`);
  const service = dhcpv6Service({ ...s, enable_dhcp: s.enable_dhcp });
  if (service) daemons.push(`dnsmasq in qdhcp-${s.network_id} (DHCPv6 ${service})`);
  if (metadata) daemons.push(metadata);
  const addresses =
    s.ipv6_address_mode === 'slaac' || s.ipv6_address_mode === 'dhcpv6-stateless'
      ? 'EUI-64: the prefix plus the MAC with ff:fe inserted and the U/L bit flipped (the guest forms it from the RA; the API computed the same)'
      : s.ipv6_address_mode === 'dhcpv6-stateful'
        ? 'the port\'s fixed IP, leased by DHCPv6 IA_NA (dnsmasq host entry); the guest keeps the /64 on-link from the RA'
        : 'the port\'s fixed IP, configured statically (network_data.json type ipv6; no RA, no DHCPv6)';
  const deliveredBy = !dns.length
    ? 'nobody: the subnet has no dns_nameservers'
    : rdnssInRa(s) && !external
      ? 'the RA (RDNSS option, radvd)'
      : service
        ? `DHCPv6 (dnsmasq, ${service === 'stateless' ? 'Information-Request' : 'with the address'})`
        : external && s.ipv6_address_mode === 'slaac'
          ? 'the upstream router\'s RA (RDNSS), if it is configured to send it'
          : 'network_data.json services (config drive, metadata)';
  return {
    ...base,
    router_advertisement: { sender, flags: flags ? { M: flags.managed, O: flags.other, A: flags.autonomous, L: flags.onLink } : null, meaning: flags ? flagMeaning(flags) : [] },
    addresses,
    dns: { servers: dns, search: service ? SEARCH : [], delivered_by: deliveredBy },
    default_router: external ? 'the upstream router\'s link-local address, from its RAs' : routerLla ? `${routerLla} (router ${iface!.device_id}, from its RAs)` : flags ? 'none until the subnet is on a router' : s.gateway_ip ? `${s.gateway_ip} (static, network_data.json)` : 'none',
    daemons,
  };
}

/** netplan (Ubuntu 18.04+) for the network's subnets, as cloud-init renders network_data.json. */
function netplanOf(subnets: readonly ExSubnet[], mtu: number | null): string {
  const v4 = subnets.find((s) => s.ip_version === 4);
  const v6 = subnets.filter((s) => s.ip_version === 6);
  const lines = ['network:', '  version: 2', '  ethernets:', '    eth0:'];
  if (v4?.enable_dhcp) lines.push('      dhcp4: true');
  const service = v6.map((s) => dhcpv6Service(s)).find((x) => x);
  if (v6.length) lines.push(`      dhcp6: ${service ? 'true' : 'false'}`, '      accept-ra: true', '      ipv6-address-generation: eui64  # port security allows the EUI-64 address only');
  if (mtu) lines.push(`      mtu: ${mtu}`);
  return lines.join('\n') + '\n';
}

/** A NetworkManager keyfile (RHEL 8+): method=auto follows the RA's M and O flags (DHCPv6 when asked). */
function networkManagerOf(subnets: readonly ExSubnet[]): string {
  const v4 = subnets.find((s) => s.ip_version === 4);
  const v6 = subnets.some((s) => s.ip_version === 6);
  return [
    '[connection]', 'id=eth0', 'type=ethernet', 'interface-name=eth0', '',
    '[ipv4]', `method=${v4?.enable_dhcp ? 'auto' : 'disabled'}`, '',
    '[ipv6]', `method=${v6 ? 'auto' : 'disabled'}`,
    ...(v6 ? ['addr-gen-mode=eui64', 'ip6-privacy=0'] : []),
  ].join('\n') + '\n';
}

/** The upstream router's configuration for a provider subnet (the talk's Cisco IOS, FRR, radvd). */
export function upstreamRouterConfig(s: ExSubnet, mtu: number): { cisco_ios: string; frr: string; radvd: string } {
  const f = upstreamRaFlags(s)!;
  const len = s.cidr.split('/')[1];
  const gw = s.gateway_ip ?? IpPrefix.parse(s.cidr)!.first.add(1n).toString();
  const dns = s.dns_nameservers ?? [];
  const cisco = [
    'interface Vlan22',
    ' description Provider Network',
    ` ipv6 address ${gw.toUpperCase()}/${len}`,
    ...(f.other ? [' ipv6 nd other-config-flag'] : []),
    ...(f.managed ? [' ipv6 nd managed-config-flag', ` ipv6 nd prefix ${s.cidr.toUpperCase()} no-autoconfig`] : []),
  ];
  const frr = [
    'interface eth1',
    ` ipv6 address ${gw}/${len}`,
    ' no ipv6 nd suppress-ra',
    ` ipv6 nd prefix ${s.cidr}${f.autonomous ? '' : ' no-autoconfig'}`,
    ...(f.other ? [' ipv6 nd other-config-flag'] : []),
    ...(f.managed ? [' ipv6 nd managed-config-flag'] : []),
    ...(s.ipv6_address_mode === 'slaac' ? dns.map((d) => ` ipv6 nd rdnss ${d}`) : []),
  ];
  const radvd = renderRadvdInterface({ name: 'eth1', mtu, subnets: [{ ...s, ipv6_ra_mode: s.ipv6_address_mode } as RaSubnet] }, {}, upstreamRaFlags) ?? '';
  return { cisco_ios: cisco.join('\n') + '\n', frr: frr.join('\n') + '\n', radvd: radvd.endsWith('\n') ? radvd : radvd + '\n' };
}

export function explainNetwork(network: ExNetwork, subnets: readonly ExSubnet[], ports: readonly ExPort[], port?: ExPort): Explanation {
  const mine = port ? subnets.filter((s) => port.fixed_ips.some((ip) => ip.subnet_id === s.id)) : subnets;
  const sorted = [...mine].sort((a, b) => a.ip_version - b.ip_version || a.cidr.localeCompare(b.cidr));
  const guestSubnets = sorted as unknown as GuestSubnet[];
  const out: Explanation = {
    network: { id: network.id, name: network.name ?? '', mtu: network.mtu ?? null },
    subnets: sorted.map((s) => explainSubnet(s, ports)),
    guest: {
      ubuntu_ifupdown: guestConfig('ubuntu', guestSubnets).content,
      netplan: netplanOf(sorted, network.mtu ?? null),
      rhel_ifcfg: guestConfig('rhel', guestSubnets).content,
      networkmanager: networkManagerOf(sorted),
    },
  };
  if (port) {
    out.port = {
      id: port.id,
      name: port.name ?? '',
      mac_address: port.mac_address,
      addresses: port.fixed_ips.map((ip) => {
        const s = subnets.find((x) => x.id === ip.subnet_id);
        const prefix = s ? IpPrefix.parse(s.cidr) : null;
        const eui = prefix && prefix.version === 6 && eui64Address(prefix, port.mac_address).toString() === ip.ip_address;
        return { address: ip.ip_address, subnet_id: ip.subnet_id, derived: eui ? `EUI-64 of ${port.mac_address} in ${s!.cidr}` : s?.ip_version === 6 && s.ipv6_address_mode === 'dhcpv6-stateful' ? 'allocated by IPAM, leased by DHCPv6' : 'allocated by IPAM' };
      }),
    };
  }
  const upstream = sorted.filter((s) => s.ip_version === 6 && isExternalRouterSubnet(s));
  if (upstream.length) out.upstream_router = upstream.map((s) => ({ subnet_id: s.id, ...upstreamRouterConfig(s, network.mtu ?? 1500) }));
  return out;
}

const indent = (text: string, by = '    '): string => text.trimEnd().split('\n').map((l) => by + l).join('\n');

export function renderExplanation(e: Explanation): string {
  const out: string[] = [`network ${e.network.name || e.network.id} (${e.network.id}), MTU ${e.network.mtu ?? 'unknown'}`];
  if (e.port) {
    out.push(`port ${e.port.name || e.port.id} (${e.port.id}), MAC ${e.port.mac_address}`);
    for (const a of e.port.addresses) out.push(`  ${a.address}: ${a.derived}`);
  }
  for (const s of e.subnets) {
    out.push('', `subnet ${s.name || s.id} ${s.cidr} (IPv${s.ip_version}${s.ip_version === 6 ? `, ra_mode ${s.ipv6_ra_mode ?? 'unset'}, address_mode ${s.ipv6_address_mode ?? 'unset'}` : ''}; network_data.json type ${s.network_data_type})`);
    if (s.router_advertisement) {
      const f = s.router_advertisement.flags;
      out.push(`  RA:             ${f ? `M=${+f.M} O=${+f.O} A=${+f.A} L=${+f.L}` : 'none'}; sent by ${s.router_advertisement.sender}`);
      for (const m of s.router_advertisement.meaning) out.push(`                  ${m}`);
    }
    out.push(`  addresses:      ${s.addresses}`);
    out.push(`  DNS:            ${s.dns.servers.join(', ') || 'none'}${s.dns.search.length ? `; search ${s.dns.search.join(' ')}` : ''}; delivered by ${s.dns.delivered_by}`);
    out.push(`  default router: ${s.default_router}`);
    out.push(`  answered by:    ${s.daemons.join('; ') || 'nothing in v6stack'}`);
  }
  out.push('', 'guest configuration:', '  Ubuntu, ifupdown (/etc/network/interfaces):', indent(e.guest.ubuntu_ifupdown), '  Ubuntu, netplan (/etc/netplan/50-cloud-init.yaml):', indent(e.guest.netplan));
  out.push('  RHEL, initscripts (/etc/sysconfig/network-scripts/ifcfg-eth0):', indent(e.guest.rhel_ifcfg), '  RHEL, NetworkManager (/etc/NetworkManager/system-connections/eth0.nmconnection):', indent(e.guest.networkmanager));
  for (const u of e.upstream_router ?? []) {
    out.push('', `upstream router for subnet ${u.subnet_id} (outside v6stack):`, '  Cisco IOS (as in the talk):', indent(u.cisco_ios), '  FRR (vtysh):', indent(u.frr), '  radvd:', indent(u.radvd));
  }
  return out.join('\n') + '\n';
}

async function gather(client: NeutronClient, networkId: string): Promise<{ network: ExNetwork; subnets: ExSubnet[]; ports: ExPort[] }> {
  const [network, subnets, ports] = await Promise.all([
    client.get(NETWORK, networkId) as unknown as Promise<ExNetwork>,
    client.list(SUBNET, { network_id: networkId }) as unknown as Promise<ExSubnet[]>,
    client.list(PORT, { network_id: networkId }) as unknown as Promise<ExPort[]>,
  ]);
  return { network, subnets, ports };
}

export function registerExplainCommand(program: Command): void {
  const explain = program.command('explain').description('what an instance will get on a subnet, port or network, and why');
  const print = (e: Explanation, format: string): void => {
    process.stdout.write(format === 'json' ? JSON.stringify(e, null, 2) + '\n' : renderExplanation(e));
  };
  for (const kind of ['subnet', 'port', 'network'] as const) {
    explain
      .command(kind)
      .argument(`<${kind}>`, `${kind} name or id`)
      .option('-f, --format <format>', 'text or json', 'text')
      .action(async (name: string, o: { format: string }, cmd: Command) => {
        const client = clientOf(cmd);
        if (kind === 'network') {
          const g = await gather(client, await client.findId(NETWORK, name));
          return print(explainNetwork(g.network, g.subnets, g.ports), o.format);
        }
        if (kind === 'port') {
          const port = (await client.get(PORT, await client.findId(PORT, name))) as unknown as ExPort;
          const g = await gather(client, port.network_id);
          return print(explainNetwork(g.network, g.subnets, g.ports, port), o.format);
        }
        const subnet = (await client.get(SUBNET, await client.findId(SUBNET, name))) as unknown as ExSubnet;
        const g = await gather(client, subnet.network_id);
        return print(explainNetwork(g.network, g.subnets.filter((s) => s.id === subnet.id), g.ports), o.format);
      });
  }
}
