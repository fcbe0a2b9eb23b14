// Address parsing with netaddr's leniency where Neutron relies on it (neutron-lib validators validate_ip_address,
// validate_route_cidr, and netaddr.IPNetwork as convert_cidr_to_canonical_format uses it). Pure.

import { IpAddress, IpPrefix } from './ip.js';
import { pyStr } from './py.js';

/** neutron-lib validate_ip_address: null when valid, else the reason text. */
export function validateIpAddress(data: unknown): string | null {
  const invalid = `'${pyStr(data)}' is not a valid IP address`;
  if (typeof data !== 'string' || /\s/.test(data)) return invalid;
  if (data.includes(':')) return IpAddress.parse(data) ? null : invalid;
  // IPv4 needs exactly three dots; netaddr's ZEROFILL then reads "010" as 10 and Neutron refuses the ambiguity.
  const parts = data.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p) && Number(p) <= 255)) return invalid;
  const canonical = parts.map((p) => String(Number(p))).join('.');
  return canonical === data ? null : `'${data}' is not an accepted IP address, '${canonical}' is recommended`;
}

/** An IPv4 address as netaddr's IPNetwork reads it: partial ("10", "1.2.3") and zero-padded octets allowed. */
function parseV4Loose(text: string): IpAddress | null {
  const parts = text.split('.');
  if (parts.length > 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  while (parts.length < 4) parts.push('0');
  return IpAddress.parse(parts.map((p) => String(Number(p))).join('.'));
}

/**
 * The prefix length after an address's slash: digits, or for IPv4 a dotted netmask of contiguous ones
 * ("10.0.0.0/255.255.0.0", as netaddr and Python's ipaddress both accept); the address's width without a slash.
 * null when it is neither or longer than the address.
 */
export function prefixLengthOf(address: IpAddress, lenText: string | null): number | null {
  if (lenText === null) return address.bits;
  let length: number;
  if (/^\d{1,3}$/.test(lenText)) length = Number(lenText);
  else if (address.version === 4 && IpAddress.parse(lenText)?.version === 4) {
    const mask = IpAddress.parse(lenText)!.value;
    const ones = mask.toString(2).replace(/^(1*).*$/, '$1').length;
    if (mask !== IpPrefix.maskOf(4, ones)) return null;
    length = ones;
  } else return null;
  return length > address.bits ? null : length;
}

/**
 * netaddr.IPNetwork(text) as convert_cidr_to_canonical_format uses it: "10/8", "1.2.3/24", "010.0.0.0/8",
 * a bare address (a /32 or /128) and host bits are all accepted; host bits are cleared here, as
 * _create_subnet_precommit does ('%s/%s' % (net.network, net.prefixlen)). null when netaddr raises.
 */
export function parseCidrLoose(value: unknown): IpPrefix | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const lenText = slash === -1 ? null : text.slice(slash + 1);
  const address = addrText.includes(':') ? IpAddress.parse(addrText) : slash === -1 ? IpAddress.parse(addrText) : parseV4Loose(addrText);
  if (!address) return null;
  const length = prefixLengthOf(address, lenText);
  return length === null ? null : IpPrefix.of(address, length);
}

/** validators.validate_route_cidr: null when valid, else the reason. */
export function validateRouteCidr(data: unknown): string | null {
  if (typeof data !== 'string' || /\s/.test(data)) return `'${pyStr(data)}' is not a valid CIDR`;
  const net = parseCidrLoose(data);
  if (!net) return `'${data}' is not a valid CIDR`;
  const slash = data.indexOf('/');
  const ip = slash === -1 ? null : parseCidrLoose(`${data.slice(0, slash)}/${net.network.bits}`);
  if (slash === -1 || !ip || ip.network.value !== net.network.value) {
    return `'${data}' is not a recognized CIDR, '${net.toString()}' is recommended`;
  }
  // netaddr's IPNetwork.is_loopback: inside 127.0.0.0/8 (an IPv6 ::1/128 network is not caught by it).
  if (net.version === 4 && IpPrefix.parse('127.0.0.0/8')!.covers(net)) return `'${data}' is not a routable CIDR`;
  return null;
}

/** Canonical text of an address that validateIpAddress accepted (netaddr prints IPv6 compact, IPv4 as given). */
export function canonicalIp(text: string): string {
  return IpAddress.parse(text)!.toString();
}
