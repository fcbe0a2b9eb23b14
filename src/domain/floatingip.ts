// Floating IP association rules that need no store: which fixed IPv4 address of a port a floating IP maps to, with
// Neutron's texts (neutron/db/l3_db.py _internal_fip_assoc_data, _check_and_get_fip_assoc), and which router serves
// it (get_router_for_floatingip). PURE.

import { NeutronError, badRequest } from './errors.js';
import { IpAddress } from './ip.js';
import { DEVICE_OWNER_DHCP } from './ipv6/index.js';

export interface FixedIpRef {
  subnet_id: string;
  ip_address: string;
}

export interface AssocPort {
  id: string;
  device_owner: string;
  fixed_ips: readonly FixedIpRef[];
}

const isV4 = (ip: string): boolean => IpAddress.parse(ip)?.version === 4;

/** "fixed_ip_address cannot be specified without a port_id" (checked on the request body, before anything else). */
export function checkFixedIpNeedsPort(body: { port_id?: string | null; fixed_ip_address?: string | null }): void {
  if (body.fixed_ip_address && !body.port_id) throw badRequest('floatingip', 'fixed_ip_address cannot be specified without a port_id');
}

/**
 * The port's fixed IPv4 address (and its subnet) the floating IP maps to: the one asked for, which must be IPv4 and
 * the port's, else the port's only IPv4 address. A DHCP port takes none (utils.is_fip_serviced).
 */
export function internalAddress(port: AssocPort, fixedIpAddress: string | null | undefined): FixedIpRef {
  if (port.device_owner === DEVICE_OWNER_DHCP) {
    // Verbatim: Neutron raises this message without formatting it, placeholder and all.
    throw badRequest('floatingip', 'Port %(id)s is unable to be assigned a floating IP');
  }
  if (fixedIpAddress) {
    if (!isV4(fixedIpAddress)) {
      throw badRequest('floatingip', `Cannot process floating IP association with ${fixedIpAddress}, since that is not an IPv4 address`);
    }
    const match = port.fixed_ips.find((f) => f.ip_address === fixedIpAddress);
    if (!match) throw badRequest('floatingip', `Port ${port.id} does not have fixed ip ${fixedIpAddress}`);
    return { subnet_id: match.subnet_id, ip_address: match.ip_address };
  }
  const v4 = port.fixed_ips.filter((f) => isV4(f.ip_address));
  if (!v4.length) throw badRequest('floatingip', `Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`);
  if (v4.length > 1) {
    throw badRequest('floatingip', `Port ${port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`);
  }
  return { subnet_id: v4[0]!.subnet_id, ip_address: v4[0]!.ip_address };
}

/** A router with an interface address on the internal subnet and its gateway on the floating network. */
export interface RouterCandidate {
  routerId: string;
  interfaceIp: string;
}

/**
 * get_router_for_floatingip: among the routers joining the internal subnet to the floating network, the one whose
 * interface holds the subnet's gateway_ip, else the first; none is ExternalGatewayForFloatingIPNotFound (404).
 */
export function routerForFloatingIp(candidates: readonly RouterCandidate[], gatewayIp: string | null, subnetId: string, externalNetworkId: string, portId: string): string {
  const byGateway = candidates.find((c) => gatewayIp !== null && c.interfaceIp === gatewayIp);
  if (byGateway) return byGateway.routerId;
  if (candidates.length) return candidates[0]!.routerId;
  throw new NeutronError(
    404,
    'ExternalGatewayForFloatingIPNotFound',
    `External network ${externalNetworkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${portId} with a Floating IP.`,
  );
}

export const floatingIpErrors = {
  portAlreadyAssociated: (fip: { id: string; floating_ip_address: string | null; floating_network_id: string }, portId: string, fixedIp: string) =>
    new NeutronError(
      409,
      'FloatingIPPortAlreadyAssociated',
      `Cannot associate floating IP ${fip.floating_ip_address} (${fip.id}) with port ${portId} using fixed IP ${fixedIp}, as that fixed IP already has a floating IP on external network ${fip.floating_network_id}.`,
    ),
  interfaceInUse: (routerId: string, subnetId: string) =>
    new NeutronError(
      409,
      'RouterInterfaceInUseByFloatingIP',
      `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more floating IPs.`,
    ),
  gatewayInUse: (routerId: string, networkId: string) =>
    new NeutronError(
      409,
      'RouterExternalGatewayInUseByFloatingIp',
      `Gateway cannot be updated for router ${routerId}, since a gateway to external network ${networkId} is required by one or more floating IPs.`,
    ),
  notExternal: (networkId: string) => badRequest('floatingip', `Network ${networkId} is not a valid external network`),
  noIpv4Subnet: (networkId: string) => badRequest('floatingip', `Network ${networkId} does not contain any IPv4 subnet`),
  exhausted: (networkId: string) => new NeutronError(400, 'ExternalIpAddressExhausted', `Unable to find any IP address on external network ${networkId}.`),
  fixedIpsChange: (portId: string) =>
    badRequest('port', `Cannot update the fixed_ips of the port ${portId}, because its original fixed_ip has been associated to a floating ip`),
};
