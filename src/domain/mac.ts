// MAC addresses as Neutron accepts and prints them. Neutron validates with netaddr.valid_mac (neutron-lib
// validate_mac_address), refuses 00:00:00:00:00:00 and ff:ff:ff:ff:ff:ff (constants.INVALID_MAC_ADDRESSES) and stores
// the mac_unix_expanded form: lowercase, six colon-separated two-digit groups.

// netaddr 0.8 strategy/eui48.py RE_MAC_FORMATS: each group is zero-padded to its width.
const FORMATS: { re: RegExp; width: number }[] = [
  { re: /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i, width: 2 },
  { re: /^([0-9a-f]{1,2})-([0-9a-f]{1,2})-([0-9a-f]{1,2})-([0-9a-f]{1,2})-([0-9a-f]{1,2})-([0-9a-f]{1,2})$/i, width: 2 },
  { re: /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i, width: 4 },
  { re: /^([0-9a-f]{1,4})-([0-9a-f]{1,4})-([0-9a-f]{1,4})$/i, width: 4 },
  { re: /^([0-9a-f]{1,4})\.([0-9a-f]{1,4})\.([0-9a-f]{1,4})$/i, width: 4 },
  { re: /^([0-9a-f]{5,6})-([0-9a-f]{5,6})$/i, width: 6 },
  { re: /^([0-9a-f]{5,6}):([0-9a-f]{5,6})$/i, width: 6 },
  { re: /^([0-9a-f]{11,12})$/i, width: 12 },
];

const INVALID = new Set(['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff']);

/** The 12 lowercase hex digits of a MAC in any netaddr EUI-48 format, or null. */
function macHex(text: string): string | null {
  for (const { re, width } of FORMATS) {
    const m = re.exec(text);
    if (m) return m.slice(1).map((g) => g.padStart(width, '0')).join('').toLowerCase();
  }
  return null;
}

/**
 * Lowercase colon form of a MAC Neutron would accept, or null when Neutron answers
 * "'<mac>' is not a valid MAC address". Whitespace anywhere is refused (validate_no_whitespace).
 */
export function normalizeMac(text: unknown): string | null {
  if (typeof text !== 'string') return null;
  const hex = macHex(text);
  if (hex === null) return null;
  const mac = hex.match(/../g)!.join(':');
  return INVALID.has(mac) ? null : mac;
}

/**
 * A random MAC with Neutron's base_mac semantics (neutron-lib utils/net.get_random_mac): the first three octets
 * come from the base, the other three are random. (Neutron also keeps a non-zero fourth base octet; the default
 * base fa:16:3e:00:00:00 has none, and we keep that rule.)
 */
export function randomMac(base = 'fa:16:3e:00:00:00', rand: () => number = Math.random): string {
  const baseMac = normalizeMac(base) ?? base.toLowerCase();
  const octets = baseMac.split(':').map((o) => parseInt(o, 16));
  const out: number[] = [];
  for (let i = 0; i < 6; i++) {
    if (i < 3) out.push(octets[i] ?? 0);
    else if (i === 3 && (octets[3] ?? 0) !== 0) out.push(octets[3]!);
    else out.push(Math.min(255, Math.floor(rand() * 256)));
  }
  return out.map((o) => o.toString(16).padStart(2, '0')).join(':');
}
