// Device owners that IPv6 addressing treats apart (neutron-lib constants; neutron/common/_constants.py). PURE.

export const DEVICE_OWNER_ROUTER_INTF = 'network:router_interface';
export const DEVICE_OWNER_HA_REPLICATED_INT = 'network:ha_router_replicated_interface';
export const DEVICE_OWNER_DVR_INTERFACE = 'network:router_interface_distributed';
export const DEVICE_OWNER_ROUTER_SNAT = 'network:router_centralized_snat';
export const DEVICE_OWNER_ROUTER_GW = 'network:router_gateway';
export const DEVICE_OWNER_DHCP = 'network:dhcp';
export const DEVICE_OWNER_DISTRIBUTED = 'network:distributed';
export const DEVICE_OWNER_AGENT_GW = 'network:floatingip_agent_gateway';
/** A floating IP's own port on the external network (device_id: the floating IP's id). */
export const DEVICE_OWNER_FLOATINGIP = 'network:floatingip';

/**
 * constants.ROUTER_INTERFACE_OWNERS: a router's internal ports. They may hold any address on an auto-address subnet
 * (l3_db gives them the subnet's gateway_ip) and keep a subnet in use.
 */
export const ROUTER_INTERFACE_OWNERS: ReadonlySet<string> = new Set([
  DEVICE_OWNER_ROUTER_INTF,
  DEVICE_OWNER_HA_REPLICATED_INT,
  DEVICE_OWNER_DVR_INTERFACE,
]);

/** constants.ROUTER_INTERFACE_OWNERS_SNAT: the owners that get no EUI-64 addresses (_get_auto_address_ips). */
export const ROUTER_INTERFACE_OWNERS_SNAT: ReadonlySet<string> = new Set([...ROUTER_INTERFACE_OWNERS, DEVICE_OWNER_ROUTER_SNAT]);

/** constants.ROUTER_PORT_OWNERS: the owners that may hold the IPv6 subnet-router anycast address (check_subnet_ip). */
export const ROUTER_PORT_OWNERS: ReadonlySet<string> = new Set([...ROUTER_INTERFACE_OWNERS_SNAT, DEVICE_OWNER_ROUTER_GW]);

/** neutron/common/_constants.AUTO_DELETE_PORT_OWNERS: ports that go away with a subnet instead of keeping it in use. */
export const AUTO_DELETE_PORT_OWNERS: ReadonlySet<string> = new Set([DEVICE_OWNER_DHCP, DEVICE_OWNER_DISTRIBUTED, DEVICE_OWNER_AGENT_GW]);

/** Whether a port of this owner gets the automatic (EUI-64) address of every SLAAC / DHCPv6-stateless subnet. */
export function getsAutoAddresses(deviceOwner: string): boolean {
  return !ROUTER_INTERFACE_OWNERS_SNAT.has(deviceOwner);
}
