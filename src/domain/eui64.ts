// Modified EUI-64 interface identifiers (RFC 4291 appendix A), as Neutron computes SLAAC / DHCPv6-stateless
// addresses: oslo.utils netutils.get_ipv6_addr_by_EUI64 = IPAddress((prefix.first + int(EUI(mac).eui64())) ^ (1 << 57)).

import { IpAddress, IpPrefix } from './ip.js';
import { normalizeMac } from './mac.js';

const U_L_BIT = 1n << 57n; // the universal/local bit of the interface identifier, flipped by "modified" EUI-64

/** The 64-bit EUI-64 of a MAC: ff:fe inserted between its two halves (before the U/L flip). */
function eui64Of(mac: string): bigint {
  const norm = normalizeMac(mac);
  if (norm === null) throw new TypeError(`Bad prefix or mac format for generating IPv6 address by EUI-64: ${mac}`);
  const hex = norm.replaceAll(':', '');
  return BigInt(`0x${hex.slice(0, 6)}fffe${hex.slice(6)}`);
}

/**
 * oslo's get_ipv6_addr_by_EUI64: fa:16:3e:79:5a:cc on 2001:db8:cafe::/64 -> 2001:db8:cafe:0:f816:3eff:fe79:5acc.
 * Python evaluates `first + eui64 ^ bit` as `(first + eui64) ^ bit`; for a /64 that is the same as OR-ing the halves,
 * and we keep Python's order for longer prefixes too.
 */
export function eui64Address(prefix: IpPrefix, mac: string): IpAddress {
  if (prefix.version !== 6) throw new TypeError('Unable to generate IP address by EUI64 for IPv4 prefix');
  const value = (prefix.first.value + eui64Of(mac)) ^ U_L_BIT;
  return IpAddress.of(6, value & ((1n << 128n) - 1n));
}

/** neutron/common/ipv6_utils.is_eui64_address: an IPv6 address whose identifier has ff:fe in the middle. */
export function isEui64(addr: IpAddress): boolean {
  return addr.version === 6 && (addr.value & 0xffff000000n) === 0xfffe000000n;
}

/** The fe80::/64 link-local address a host derives from its MAC (what radvd/keepalived LLAs are built from). */
export function linkLocalFromMac(mac: string): IpAddress {
  return eui64Address(IpPrefix.parse('fe80::/64')!, mac);
}
