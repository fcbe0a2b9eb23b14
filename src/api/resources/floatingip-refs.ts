// What ports and routers ask of floating IPs (each one call from ports.ts and routers.ts). Separate from
// floatingips.ts, which makes ports: ports.ts importing it would be an import circle.

import { IpAddress, IpPrefix } from '../../domain/ip.js';
import { floatingIpErrors } from '../../domain/floatingip.js';
import type { Tx } from '../../store/types.js';
import { saveDoc } from '../context.js';
import type { FixedIp, Subnet } from '../ipam.js';

/** A floating IP that maps to nothing. */
export const NONE = { port_id: null, fixed_ip_address: null, router_id: null } as const;

/** A deleted port's floating IPs are disassociated (l3_db disassociate_floatingips), not deleted. */
export async function disassociatePort(tx: Tx, portId: string): Promise<void> {
  for (const fip of await tx.list('floatingip', { port_id: [portId] })) {
    Object.assign(fip, NONE);
    await saveDoc(tx, 'floatingip', fip);
  }
}

/** prevent_internal_ip_change_for_fip: a port's new fixed_ips must keep the address its floating IP maps to. */
export async function checkFixedIpsKeepFloatingIp(tx: Tx, portId: string, requested: readonly { ip_address?: string }[]): Promise<void> {
  const fip = (await tx.list('floatingip', { port_id: [portId] }))[0];
  if (!fip?.fixed_ip_address) return;
  if (!requested.some((r) => r.ip_address === fip.fixed_ip_address)) throw floatingIpErrors.fixedIpsChange(portId);
}

/** _check_router_interface_not_in_use: no floating IP of the router maps to a port's address in the subnet. */
export async function checkInterfaceNotInUse(tx: Tx, routerId: string, subnet: Subnet): Promise<void> {
  const prefix = IpPrefix.parse(subnet.cidr)!;
  for (const fip of await tx.list('floatingip', { router_id: [routerId] })) {
    const fixed = fip.fixed_ip_address ? IpAddress.parse(fip.fixed_ip_address as string) : null;
    if (!fixed || !prefix.contains(fixed)) continue;
    const port = await tx.get('port', fip.port_id as string);
    if (port && (port.fixed_ips as FixedIp[]).some((f) => f.subnet_id === subnet.id)) throw floatingIpErrors.interfaceInUse(routerId, subnet.id);
  }
}

/** _delete_current_gw_port: a gateway its floating IPs need cannot be removed or moved to another network. */
export async function checkGatewayNotInUse(tx: Tx, routerId: string, networkId: string): Promise<void> {
  if ((await tx.count('floatingip', { router_id: [routerId] })) > 0) throw floatingIpErrors.gatewayInUse(routerId, networkId);
}

