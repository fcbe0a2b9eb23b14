// A network's MTU as Neutron derives it: the deployment's physical MTU (global_physnet_mtu) less what the segment
// type's encapsulation costs, where a tunnel's cost depends on the IP version of the underlay it runs over
// (ml2 overlay_ip_version). VXLAN over IPv4 costs 50 bytes (outer Ethernet 14 + VXLAN 8 + UDP 8 + IPv4 20), over
// IPv6 70: a 1500-byte IPv6 underlay carries 1430-byte frames, not Neutron's usual 1450. Pure.

export type OverlayIpVersion = 4 | 6;

export interface MtuConfig {
  /** The underlay's MTU (Neutron's [DEFAULT] global_physnet_mtu). */
  globalPhysnetMtu: number;
  /** The IP version of the tunnel endpoints (Neutron's [ml2] overlay_ip_version). */
  overlayIpVersion: OverlayIpVersion;
}

/** Neutron's defaults: a 1500-byte underlay, IPv4 tunnel endpoints (so VXLAN networks are 1450). */
export const DEFAULT_MTU_CONFIG: MtuConfig = { globalPhysnetMtu: 1500, overlayIpVersion: 4 };

export const IP_HEADER_LENGTH: Record<OverlayIpVersion, number> = { 4: 20, 6: 40 };
/** Encapsulation bytes beside the outer IP header: outer Ethernet + UDP + the tunnel header (Geneve: room for options). */
const ENCAP_OVERHEAD: Record<string, number> = { vxlan: 30, geneve: 38 };

/** What a tunnel of this type costs per frame over an underlay of this IP version; 0 for flat, vlan, local. */
export function encapOverhead(networkType: string, overlayIpVersion: OverlayIpVersion): number {
  const encap = ENCAP_OVERHEAD[networkType];
  return encap === undefined ? 0 : encap + IP_HEADER_LENGTH[overlayIpVersion];
}

/** The largest MTU a network of this type can have (and the one it gets when none is asked for). */
export function maxNetworkMtu(networkType: string, cfg: MtuConfig = DEFAULT_MTU_CONFIG): number {
  return cfg.globalPhysnetMtu - encapOverhead(networkType, cfg.overlayIpVersion);
}
