// The two IPv6 subnet attributes and what they mean (neutron-lib constants.IPV6_MODES; neutron/common/ipv6_utils.py;
// the radvd template in neutron/agent/linux/ra.py).

export type Ipv6Mode = 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless';

export const IPV6_MODES: readonly Ipv6Mode[] = ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'];

export function isIpv6Mode(value: unknown): value is Ipv6Mode {
  return typeof value === 'string' && (IPV6_MODES as readonly string[]).includes(value);
}

interface Modes {
  ipv6_ra_mode?: string | null;
  ipv6_address_mode?: string | null;
}

const AUTO = new Set(['slaac', 'dhcpv6-stateless']);

/**
 * ipv6_utils.is_auto_address_subnet: either mode is SLAAC or DHCPv6-stateless, so every port gets an EUI-64
 * address on the subnet and fixed IPs on it are computed, not chosen.
 */
export function isAutoAddressSubnet(s: Modes): boolean {
  return AUTO.has(s.ipv6_address_mode ?? '') || AUTO.has(s.ipv6_ra_mode ?? '');
}

export interface RaFlags {
  /** M: addresses come from DHCPv6. */
  managed: boolean;
  /** O: other configuration (DNS) comes from DHCPv6. */
  other: boolean;
  /** A on the prefix option: hosts autoconfigure addresses from it. */
  autonomous: boolean;
  /** L on the prefix option. */
  onLink: boolean;
}

/**
 * The flags Neutron's radvd sends for a subnet, keyed on ipv6_ra_mode only (ra.py): slaac -> prefix A;
 * dhcpv6-stateless -> A + AdvOtherConfigFlag; dhcpv6-stateful -> AdvManagedFlag, prefix not autonomous (O stays
 * off: "the O flag can be ignored when the M flag is set"). null when Neutron sends no RA for it.
 */
export function raFlags(s: Modes): RaFlags | null {
  switch (s.ipv6_ra_mode) {
    case 'slaac':
      return { managed: false, other: false, autonomous: true, onLink: true };
    case 'dhcpv6-stateless':
      return { managed: false, other: true, autonomous: true, onLink: true };
    case 'dhcpv6-stateful':
      return { managed: true, other: false, autonomous: false, onLink: true };
    default:
      return null;
  }
}

/**
 * An address mode without an RA mode: RAs come from a router outside Neutron (l3_db._validate_subnet_address_mode
 * refuses such subnets on a Neutron router).
 */
export function isExternalRouterSubnet(s: Modes): boolean {
  return !!s.ipv6_address_mode && !s.ipv6_ra_mode;
}
