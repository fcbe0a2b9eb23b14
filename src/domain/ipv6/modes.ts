// What the two IPv6 subnet attributes mean, decided once. Sources: neutron-lib constants (IPV6_MODES, IPV6_MIN_MTU),
// neutron/db/db_base_plugin_v2.py (_validate_ipv6_attributes, _validate_ipv6_combination, _validate_eui64_applicable),
// neutron/common/ipv6_utils.py (is_auto_address_subnet), neutron/agent/linux/ra.py (the radvd template),
// neutron/agent/linux/dhcp.py (dnsmasq ranges, hosts and options), neutron/db/l3_db.py (_validate_subnet_address_mode).
// PURE. Nothing outside src/domain/ipv6 compares a mode string: it asks a function here.

export const IPV6_SLAAC = 'slaac';
export const DHCPV6_STATEFUL = 'dhcpv6-stateful';
export const DHCPV6_STATELESS = 'dhcpv6-stateless';

export type Ipv6Mode = typeof IPV6_SLAAC | typeof DHCPV6_STATEFUL | typeof DHCPV6_STATELESS;

/** neutron-lib constants.IPV6_MODES, in its order (also the CLI's choices). */
export const IPV6_MODES: readonly Ipv6Mode[] = [DHCPV6_STATEFUL, DHCPV6_STATELESS, IPV6_SLAAC];

/** neutron-lib constants.IPV6_MIN_MTU: no IPv6 subnet on a smaller network, no AdvLinkMTU below it (RFC 8200 §5). */
export const IPV6_MIN_MTU = 1280;
/** neutron-lib constants.IPV4_MIN_MTU (RFC 791). */
export const IPV4_MIN_MTU = 68;

export function isIpv6Mode(value: unknown): value is Ipv6Mode {
  return typeof value === 'string' && (IPV6_MODES as readonly string[]).includes(value);
}

/** The two attributes as a subnet (or a request) carries them; absent and null both mean "not set". */
export interface Modes {
  ip_version?: number;
  ipv6_ra_mode?: string | null;
  ipv6_address_mode?: string | null;
}

const AUTO: ReadonlySet<string> = new Set([IPV6_SLAAC, DHCPV6_STATELESS]);

/**
 * _validate_ipv6_combination: either attribute may be set alone; when both are set they must be equal. Returns the
 * reason Neutron gives (InvalidInput wraps it: "Invalid input for operation: <reason>.") or null when valid.
 */
export function modeCombinationError(raMode: string | null | undefined, addressMode: string | null | undefined): string | null {
  if (raMode && addressMode && raMode !== addressMode) {
    return (
      `ipv6_ra_mode set to '${raMode}' with ipv6_address_mode set to '${addressMode}' is not valid. ` +
      'If both attributes are set, they must be the same value'
    );
  }
  return null;
}

/**
 * ipv6_utils.is_auto_address_subnet: either mode is SLAAC or DHCPv6-stateless. Every port (router interfaces
 * excepted) gets the EUI-64 address of its MAC on such a subnet, fixed IPs on it are computed, not chosen, and the
 * subnet must be a /64 (_validate_eui64_applicable). IPv4 subnets never are.
 */
export function isAutoAddressSubnet(s: Modes): boolean {
  if (s.ip_version === 4) return false;
  return AUTO.has(s.ipv6_address_mode ?? '') || AUTO.has(s.ipv6_ra_mode ?? '');
}

/** A subnet being created, as _validate_subnet sees its IPv6 attributes. */
export interface Ipv6AttributesInput extends Modes {
  ip_version: number;
  enable_dhcp: boolean;
}

/**
 * The IPv6 part of _validate_subnet on create, in Neutron's order: modes on an IPv4 subnet, then
 * _validate_ipv6_attributes (DHCP, the combination, EUI-64 applicability). Returns the reason InvalidInput carries,
 * or null when the subnet is valid.
 */
export function ipv6AttributesError(s: Ipv6AttributesInput, cidr: string, prefixLength: number): string | null {
  const raSet = s.ipv6_ra_mode !== undefined && s.ipv6_ra_mode !== null;
  const addrSet = s.ipv6_address_mode !== undefined && s.ipv6_address_mode !== null;
  if (s.ip_version === 4) {
    if (raSet) return 'ipv6_ra_mode is not valid when ip_version is 4';
    if (addrSet) return 'ipv6_address_mode is not valid when ip_version is 4';
    return null;
  }
  if ((raSet || addrSet) && !s.enable_dhcp) return 'ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False';
  return modeCombinationError(s.ipv6_ra_mode, s.ipv6_address_mode) ?? eui64PrefixError(s, cidr, prefixLength);
}

/** _validate_ipv6_update_dhcp: a PUT may not turn DHCP off on an IPv6 subnet with modes (they cannot change). */
export function ipv6DhcpUpdateError(current: Modes, enableDhcp: boolean | undefined): string | null {
  if (current.ip_version === 4 || enableDhcp !== false) return null;
  return current.ipv6_ra_mode || current.ipv6_address_mode ? 'Cannot disable enable_dhcp with ipv6 attributes set' : null;
}

/** _validate_eui64_applicable's reason, or null when the prefix length suits the modes. */
export function eui64PrefixError(s: Modes, cidr: string, prefixLength: number): string | null {
  if (!isAutoAddressSubnet(s) || prefixLength === 64) return null;
  return `Invalid CIDR ${cidr} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`;
}

/**
 * An address mode without an RA mode: RAs come from a router outside Neutron, and l3_db._validate_subnet_address_mode
 * refuses such a subnet on a Neutron router.
 */
export function isExternalRouterSubnet(s: Modes): boolean {
  return !!s.ipv6_address_mode && !s.ipv6_ra_mode;
}

/** The RFC 4861 §4.2 / §4.6.2 flags an RA carries for a subnet. */
export interface RaFlags {
  /** M: addresses come from DHCPv6. */
  managed: boolean;
  /** O: other configuration (DNS) comes from DHCPv6. */
  other: boolean;
  /** A on the prefix option: hosts autoconfigure addresses from it (SLAAC). */
  autonomous: boolean;
  /** L on the prefix option. */
  onLink: boolean;
}

function flagsOf(mode: string | null | undefined): RaFlags | null {
  switch (mode) {
    case IPV6_SLAAC:
      return { managed: false, other: false, autonomous: true, onLink: true };
    case DHCPV6_STATELESS:
      return { managed: false, other: true, autonomous: true, onLink: true };
    case DHCPV6_STATEFUL:
      // ra.py sets AdvManagedFlag only: "the O flag can be ignored when the M flag is set" (admin guide, RFC 4861).
      return { managed: true, other: false, autonomous: false, onLink: true };
    default:
      return null;
  }
}

/**
 * What a Neutron router's radvd advertises for the subnet, keyed on ipv6_ra_mode only (ra.py): slaac -> A;
 * dhcpv6-stateless -> A + AdvOtherConfigFlag; dhcpv6-stateful -> AdvManagedFlag, prefix not autonomous. null when
 * the subnet has no RA mode (v6stack then sends no RA for it; see routerAdvertises).
 */
export function raFlags(s: Modes): RaFlags | null {
  if (s.ip_version === 4) return null;
  return flagsOf(s.ipv6_ra_mode);
}

/**
 * Whether a Neutron router port runs radvd for the subnet. Neutron's l3 agent writes a stanza (default router and
 * metadata route, no prefix) for every IPv6 subnet of the port, mode or not (router_info._port_has_ipv6_subnet);
 * v6stack advertises only subnets with an RA mode, so a mode-less ("static") subnet gets no RA (docs/dataplane.md).
 */
export function routerAdvertises(s: Modes): boolean {
  return raFlags(s) !== null;
}

/** ra.py: RDNSS carries the dns_nameservers of SLAAC subnets only (stateless hosts ask DHCPv6 for them). */
export function rdnssInRa(s: Modes): boolean {
  return s.ip_version !== 4 && s.ipv6_ra_mode === IPV6_SLAAC;
}

/**
 * What an upstream router outside Neutron should advertise for a provider subnet: the flags its address mode asks of
 * hosts (the RA mode's when it has no address mode), as the talk's router was configured per mode
 * (`ipv6 nd other-config-flag` for stateless, `ipv6 nd managed-config-flag` for stateful). null: nothing to advertise.
 */
export function upstreamRaFlags(s: Modes): RaFlags | null {
  if (s.ip_version === 4) return null;
  return flagsOf(s.ipv6_address_mode || s.ipv6_ra_mode);
}

/** The DHCPv6 service dnsmasq gives a subnet: addresses (stateful, IA_NA) or only options (stateless). */
export type Dhcpv6Service = 'stateful' | 'stateless';

/**
 * What Neutron's dnsmasq gives an IPv6 subnet with enable_dhcp, keyed on ipv6_address_mode (dhcp.py): a `static`
 * range for dhcpv6-stateful and dhcpv6-stateless; host lines (addresses) only for stateful, options for both; SLAAC
 * nothing. Neutron also serves a subnet with neither mode as `static` (legacy); v6stack does not (no DHCP port is
 * made for it), so null there too.
 */
export function dhcpv6Service(s: Modes & { enable_dhcp: boolean }): Dhcpv6Service | null {
  if (s.ip_version === 4 || !s.enable_dhcp) return null;
  if (s.ipv6_address_mode === DHCPV6_STATEFUL) return 'stateful';
  if (s.ipv6_address_mode === DHCPV6_STATELESS) return 'stateless';
  return null;
}

/** dnsmasq's --dhcp-range mode for the subnet ("static": it leases only addresses named in the hosts file). */
export function dnsmasqRangeMode(s: Modes & { enable_dhcp: boolean }): 'static' | null {
  if (s.ip_version === 4) return s.enable_dhcp ? 'static' : null;
  return dhcpv6Service(s) === null ? null : 'static';
}

/** How a host on the link configures IPv6, from what the link's subnets offer (the talk's guest configurations). */
export interface HostIpv6Setup {
  /** Autoconfigure from RAs (ifupdown `inet6 auto`). */
  autoconf: boolean;
  /** Run a DHCPv6 client: for addresses (stateful, IA_NA) or information only (stateless, dhclient -S). */
  dhcpv6: Dhcpv6Service | null;
}

/**
 * A guest's IPv6 configuration for a network: stateful DHCPv6 beats stateless beats SLAAC, keyed on the address modes
 * of the subnets with DHCP; any other IPv6 subnet means plain autoconfiguration. null without an IPv6 subnet.
 */
export function hostIpv6Setup(subnets: readonly (Modes & { enable_dhcp: boolean })[]): HostIpv6Setup | null {
  const v6 = subnets.filter((s) => s.ip_version === 6);
  if (!v6.length) return null;
  const services = new Set(v6.map((s) => dhcpv6Service(s)));
  if (services.has('stateful')) return { autoconf: false, dhcpv6: 'stateful' };
  if (services.has('stateless')) return { autoconf: true, dhcpv6: 'stateless' };
  return { autoconf: true, dhcpv6: null };
}
