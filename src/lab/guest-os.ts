// The guest's own network configuration, as the talk shows it for each address mode, and the DHCP clients that
// configuration starts. PURE: no I/O. A lab instance booted with `--os ubuntu|rhel` gets the file its OS would
// carry (/etc/network/interfaces for Ubuntu's ifupdown; ifcfg-eth0 for CentOS/RHEL/Fedora initscripts), and the lab
// runs exactly the DHCP clients that file asks for, the way ifup would:
//
//   mode               Ubuntu (/etc/network/interfaces)          RHEL (ifcfg-eth0)
//   slaac              iface eth0 inet6 auto                     IPV6INIT="yes"
//   dhcpv6-stateless   iface eth0 inet6 auto + dhcp 1            IPV6INIT="yes" DHCPV6C="yes" DHCPV6C_OPTIONS="-S"
//   dhcpv6-stateful    iface eth0 inet6 dhcp                     IPV6INIT="yes" DHCPV6C="yes"
//   IPv4 with DHCP     iface eth0 inet dhcp                      BOOTPROTO="dhcp"

import { hostIpv6Setup } from '../domain/ipv6/index.js';
import type { Subnet } from '../schema/index.js';

export const GUEST_OSES = ['ubuntu', 'rhel'] as const;
export type GuestOs = (typeof GUEST_OSES)[number];

/** A subnet as the guest's configuration reads it. */
export type GuestSubnet = Pick<Subnet, 'ip_version' | 'enable_dhcp'> & Partial<Pick<Subnet, 'ipv6_address_mode' | 'ipv6_ra_mode'>>;

export interface GuestConfig {
  /** Where the file lives in the guest. */
  path: string;
  content: string;
}

export function guestConfig(os: GuestOs, subnets: GuestSubnet[]): GuestConfig {
  const v4dhcp = subnets.some((s) => s.ip_version === 4 && s.enable_dhcp);
  // Stateful beats stateless beats SLAAC (domain/ipv6 `hostIpv6Setup`).
  const v6 = hostIpv6Setup(subnets);
  if (os === 'ubuntu') {
    const lines = ['auto eth0'];
    if (v4dhcp) lines.push('iface eth0 inet dhcp');
    if (v6?.dhcpv6 === 'stateful') lines.push('iface eth0 inet6 dhcp');
    else if (v6?.dhcpv6 === 'stateless') lines.push('iface eth0 inet6 auto', '    dhcp 1');
    else if (v6) lines.push('iface eth0 inet6 auto');
    return { path: '/etc/network/interfaces', content: lines.join('\n') + '\n' };
  }
  const lines = ['DEVICE="eth0"', 'ONBOOT="yes"', `BOOTPROTO="${v4dhcp ? 'dhcp' : 'none'}"`];
  if (v6) lines.push('IPV6INIT="yes"');
  if (v6?.dhcpv6 === 'stateless') lines.push('DHCPV6C="yes"', 'DHCPV6C_OPTIONS="-S"');
  if (v6?.dhcpv6 === 'stateful') lines.push('DHCPV6C="yes"');
  return { path: '/etc/sysconfig/network-scripts/ifcfg-eth0', content: lines.join('\n') + '\n' };
}

/** A DHCP client ifup would start: dhclient with these family/mode flags. */
export interface DhcpClient {
  family: 4 | 6;
  /** ['-4'], ['-6'] or ['-6', '-S'] */
  flags: string[];
}

/** What ifup would run for this configuration file (parsed, not assumed from the mode). */
export function dhcpClientsFor(os: GuestOs, config: GuestConfig): DhcpClient[] {
  const out: DhcpClient[] = [];
  if (os === 'ubuntu') {
    // ifupdown: `inet dhcp` runs dhclient -4; `inet6 dhcp` runs dhclient -6; `inet6 auto` with `dhcp 1` runs
    // dhclient -6 -S (information only) after SLAAC.
    let stanza: string | null = null;
    for (const raw of config.content.split('\n')) {
      const line = raw.trim();
      const iface = /^iface\s+\S+\s+(inet6?)\s+(\S+)/.exec(line);
      if (iface) {
        stanza = `${iface[1]} ${iface[2]}`;
        if (stanza === 'inet dhcp') out.push({ family: 4, flags: ['-4'] });
        if (stanza === 'inet6 dhcp') out.push({ family: 6, flags: ['-6'] });
        continue;
      }
      if (stanza === 'inet6 auto' && /^dhcp\s+1$/.test(line)) out.push({ family: 6, flags: ['-6', '-S'] });
    }
    return out;
  }
  // initscripts: BOOTPROTO=dhcp runs dhclient; DHCPV6C=yes runs dhclient -6 with DHCPV6C_OPTIONS.
  const vars = new Map<string, string>();
  for (const line of config.content.split('\n')) {
    const m = /^([A-Z0-9_]+)="?([^"]*)"?$/.exec(line.trim());
    if (m) vars.set(m[1]!, m[2]!);
  }
  if (vars.get('BOOTPROTO') === 'dhcp') out.push({ family: 4, flags: ['-4'] });
  if (vars.get('IPV6INIT') === 'yes' && vars.get('DHCPV6C') === 'yes') out.push({ family: 6, flags: ['-6', ...(vars.get('DHCPV6C_OPTIONS') ?? '').split(/\s+/).filter(Boolean)] });
  return out;
}
