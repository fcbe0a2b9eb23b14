// radvd configuration, rendered as Neutron's L3 agent renders it (neutron/agent/linux/ra.py, the Jinja template
// RADVD_TEMPLATE), with Jinja's blank lines left out. PURE: no I/O. One `interface` stanza per internal router port
// that has an IPv6 subnet with an RA mode; the flags and RDNSS come from domain/ipv6 (`raFlags`, `rdnssInRa`).

import { IPV6_MIN_MTU, raFlags, rdnssInRa, type RaFlags } from '../domain/ipv6/index.js';
import type { Subnet } from '../schema/index.js';
import type { RadvdOptions } from './model.js';

export type { RadvdOptions };
/** Neutron's MAX_RDNSS_ENTRIES (ra.py). */
export const MAX_RDNSS_ENTRIES = 3;

/** A subnet as radvd's stanza reads it. */
export type RaSubnet = Pick<Subnet, 'cidr'> & Partial<Pick<Subnet, 'ipv6_ra_mode' | 'ipv6_address_mode' | 'dns_nameservers'>>;

export interface RaInterface {
  /** qr-<port id[:11]> */
  name: string;
  /** The network's mtu. */
  mtu: number;
  /** The port's IPv6 subnets (others are ignored). */
  subnets: RaSubnet[];
}

const isV6 = (cidr: string): boolean => cidr.includes(':');

/**
 * The stanza for one port, or null when none of its subnets asks for RAs. `flagsOf` says what each subnet's RA
 * carries: a Neutron router's (`raFlags`, the default) or an upstream router's (`upstreamRaFlags`, lab dc).
 */
export function renderRadvdInterface(iface: RaInterface, opts: RadvdOptions = {}, flagsOf: (s: RaSubnet) => RaFlags | null = raFlags): string | null {
  const v6 = iface.subnets.filter((s) => isV6(s.cidr) && flagsOf(s) !== null);
  if (!v6.length) return null;
  const flags = v6.map((s) => ({ s, f: flagsOf(s)! }));
  const lines = stanzaOpening(iface.name, iface.mtu, opts);
  if (flags.some(({ f }) => f.other)) lines.push('   AdvOtherConfigFlag on;');
  if (flags.some(({ f }) => f.managed)) lines.push('   AdvManagedFlag on;');
  // RDNSS only from SLAAC subnets (ra.py: slaac_subnets), at most three.
  const dns = v6.filter(rdnssInRa).flatMap((s) => s.dns_nameservers ?? []).slice(0, MAX_RDNSS_ENTRIES);
  if (dns.length) lines.push(`   RDNSS ${dns.join(' ')} {};`);
  // The template lists the autonomous prefixes first, then the stateful ones.
  const auto = flags.filter(({ f }) => f.autonomous).map(({ s }) => s.cidr);
  const stateful = flags.filter(({ f }) => !f.autonomous).map(({ s }) => s.cidr);
  for (const [cidrs, a] of [[auto, 'on'], [stateful, 'off']] as const) {
    for (const cidr of cidrs) lines.push('', `   prefix ${cidr}`, '   {', '        AdvOnLink on;', `        AdvAutonomous ${a};`, '   };');
  }
  lines.push('};');
  return lines.join('\n') + '\n';
}

/** A stanza's first lines, every stanza alike: the interface, sending on, the RA interval and, when large enough, the MTU. */
function stanzaOpening(name: string, mtu: number, opts: RadvdOptions): string[] {
  const lines = ['interface ' + name, '{', '   AdvSendAdvert on;', `   MinRtrAdvInterval ${opts.minRtrAdvInterval ?? 30};`, `   MaxRtrAdvInterval ${opts.maxRtrAdvInterval ?? 100};`];
  if (mtu >= IPV6_MIN_MTU) lines.push(`   AdvLinkMTU ${mtu};`);
  return lines;
}

/** A stanza that only announces a default router: no flags, no prefix, no RDNSS. */
export function renderDefaultRouterInterface(name: string, mtu: number, opts: RadvdOptions = {}): string {
  return [...stanzaOpening(name, mtu, opts), '};'].join('\n') + '\n';
}

/** The whole radvd.conf of one router; null when no interface needs RAs (then no radvd runs). */
export function renderRadvdConf(ifaces: RaInterface[], opts: RadvdOptions = {}): string | null {
  const stanzas = ifaces.map((i) => renderRadvdInterface(i, opts)).filter((s): s is string => s !== null);
  return stanzas.length ? stanzas.join('') : null;
}

/** The stanzas of a radvd.conf this module rendered, by interface name. */
export function radvdStanzas(conf: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of conf.matchAll(/^interface (\S+)\n\{\n[\s\S]*?\n\};\n/gm)) out.set(m[1]!, m[0]);
  return out;
}

/**
 * The configuration of a one-shot radvd that says goodbye on interfaces leaving a router whose radvd stays: the
 * same stanzas with `DeprecatePrefix on`, so that its shutdown RA carries router lifetime 0 and the prefixes with
 * preferred lifetime 0. (radvd itself, reloaded without an interface, sends nothing more on it, and hosts there
 * would keep the router as their default for the rest of its lifetime.)
 */
export function goodbyeConf(stanzas: string[]): string {
  return stanzas.map((s) => s.replace(/^(\s*)AdvAutonomous (on|off);$/gm, '$1AdvAutonomous $2;\n$1DeprecatePrefix on;')).join('');
}
