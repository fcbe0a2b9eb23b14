// Ports: a MAC under fa:16:3e, addresses from IPAM (EUI-64 on every SLAAC/DHCPv6-stateless subnet), security
// groups (the project's default one unless told otherwise), allowed address pairs and binding attributes.

import { randomMac } from '../../domain/mac.js';
import { DEVICE_OWNER_FLOATINGIP, DEVICE_OWNER_ROUTER_GW, ROUTER_INTERFACE_OWNERS } from '../../domain/ipv6/index.js';
import { NeutronError, ipam as ipamError, notFound } from '../../domain/errors.js';
import type { Doc, Tx } from '../../store/types.js';
import { UniqueViolation } from '../../store/types.js';
import { port } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, ownerOf, saveDoc, type RequestContext } from '../context.js';
import {
  assignAddresses,
  releaseAddress,
  renumberEui64,
  updatePortAddresses,
  type FixedIp,
  type FixedIpRequest,
  type Subnet,
} from '../ipam.js';
import type { ResourceDef } from '../resource.js';
import { defaultSecurityGroupOf } from './security-groups.js';
import { checkFixedIpsKeepFloatingIp, disassociatePort } from './floatingip-refs.js';
import { deleteProxiesOf } from './ndp-proxies.js';

async function checkSecurityGroups(tx: Tx, ids: string[]): Promise<void> {
  const found = await Promise.all(ids.map((id) => tx.get('security_group', id)));
  const missing = ids.find((_, i) => !found[i]);
  if (missing !== undefined) throw notFound('security_group', missing);
}

async function networkSubnets(tx: Tx, networkId: string): Promise<Subnet[]> {
  return (await tx.list('subnet', { network_id: [networkId] })) as Subnet[];
}

/** Neutron's "network:*" owners (router, DHCP, floating IP ports) carry no security groups. */
function isNetworkOwned(owner: string): boolean {
  return owner.startsWith('network:');
}

/** Makes a port row with its addresses; shared by the port API and router interfaces and gateways. */
export async function createPort(
  tx: Tx,
  ctx: RequestContext,
  input: Record<string, unknown>,
): Promise<Doc> {
  const networkId = input.network_id as string;
  const owner = (input.device_owner as string | undefined) ?? '';
  const requestedMac = input.mac_address as string | undefined;
  let macAddress = requestedMac ?? randomMac();
  const wantsDefaultGroup = input.security_groups === undefined && !isNetworkOwned(owner);
  // The reads that do not depend on each other go out together: one round trip on PostgreSQL's pipeline.
  const [network, macTaken, knownDefaultGroup, subnets] = await Promise.all([
    tx.get('network', networkId),
    tx.count('port', { network_id: [networkId], mac_address: [macAddress] }),
    wantsDefaultGroup ? tx.defaultSecurityGroup((input.project_id ?? input.tenant_id ?? ctx.projectId) as string) : undefined,
    networkSubnets(tx, networkId),
  ]);
  if (!network) throw notFound('network', networkId);
  const project = ownerOf(ctx, input);

  if (macTaken > 0) {
    if (requestedMac !== undefined) throw ipamError.macInUse(networkId, requestedMac);
    // 2^24 MACs per network: a collision is rare, so check rather than let the insert fail the transaction.
    do macAddress = randomMac();
    while ((await tx.count('port', { network_id: [networkId], mac_address: [macAddress] })) > 0);
  }

  const portSecurity = (input.port_security_enabled as boolean | undefined) ?? (network.port_security_enabled as boolean);
  let groups = input.security_groups as string[] | undefined;
  if (groups === undefined) {
    groups = portSecurity && !isNetworkOwned(owner) ? [knownDefaultGroup ?? (await defaultSecurityGroupOf(tx, project))] : [];
  } else {
    await checkSecurityGroups(tx, groups);
  }
  if (!portSecurity && groups.length && input.security_groups !== undefined) {
    // neutron-lib PortSecurityAndIPRequiredForSecurityGroups is an InvalidInput: 400.
    throw new NeutronError(
      400,
      'PortSecurityAndIPRequiredForSecurityGroups',
      'Port security must be enabled and port must have an IP address in order to use security groups.',
    );
  }

  const doc = newDoc(ctx, input, {
    network_id: networkId,
    mac_address: macAddress,
    admin_state_up: input.admin_state_up ?? true,
    // A floating IP's port is never plugged: Neutron shows it N/A.
    status: owner === DEVICE_OWNER_FLOATINGIP ? 'N/A' : 'DOWN',
    device_id: input.device_id ?? '',
    device_owner: owner,
    fixed_ips: [] as FixedIp[],
    port_security_enabled: portSecurity,
    security_groups: groups,
    'binding:vnic_type': input['binding:vnic_type'] ?? 'normal',
    'binding:profile': input['binding:profile'] ?? {},
    'binding:host_id': input['binding:host_id'] ?? '',
    'binding:vif_type': 'unbound',
    'binding:vif_details': {},
    allowed_address_pairs: input.allowed_address_pairs ?? [],
    extra_dhcp_opts: input.extra_dhcp_opts ?? [],
    ip_allocation: 'immediate',
    ...(input['instance:metadata'] !== undefined ? { 'instance:metadata': input['instance:metadata'] } : {}),
    ...(input['instance:user_data'] !== undefined ? { 'instance:user_data': input['instance:user_data'] } : {}),
  });
  doc.fixed_ips = await assignAddresses(
    tx,
    { id: doc.id, network_id: networkId, mac_address: macAddress, device_owner: owner },
    subnets,
    input.fixed_ips as FixedIpRequest[] | undefined,
  );
  try {
    return await insertDoc(tx, 'port', doc);
  } catch (e) {
    if (e instanceof UniqueViolation && e.constraint === 'port_mac') throw ipamError.macInUse(networkId, macAddress);
    throw e;
  }
}

/** Frees a port's addresses and deletes it. */
export async function deletePort(tx: Tx, port: Doc): Promise<void> {
  const subnets = new Map<string, Subnet | undefined>();
  for (const f of port.fixed_ips as FixedIp[]) {
    if (!subnets.has(f.subnet_id)) subnets.set(f.subnet_id, (await tx.get('subnet', f.subnet_id)) as Subnet | undefined);
    await releaseAddress(tx, subnets.get(f.subnet_id), f.subnet_id, f.ip_address);
  }
  await deleteDoc(tx, 'port', port.id);
}

/** A new fixed_ips list for an existing port (the plan is domain/ipv6's planPortAddressUpdate). */
async function updateFixedIps(tx: Tx, port: Doc, requested: FixedIpRequest[], macAddress: string): Promise<FixedIp[]> {
  const subnets = await networkSubnets(tx, port.network_id as string);
  const ref = { id: port.id, network_id: port.network_id as string, mac_address: macAddress, device_owner: port.device_owner as string };
  return updatePortAddresses(tx, ref, subnets, port.fixed_ips as FixedIp[], requested);
}

export const ports: ResourceDef = {
  kind: 'port',
  schema: port,


  create: createPort,

  async update(tx, _ctx, doc, input) {
    const newMac = input.mac_address as string | undefined;
    if (newMac !== undefined && newMac !== doc.mac_address) {
      if ((await tx.count('port', { network_id: [doc.network_id as string], mac_address: [newMac] })) > 0) {
        throw ipamError.macInUse(doc.network_id as string, newMac);
      }
    }
    const macAddress = newMac ?? (doc.mac_address as string);
    let fixedIps = doc.fixed_ips as FixedIp[];
    if (input.fixed_ips !== undefined) await checkFixedIpsKeepFloatingIp(tx, doc.id, input.fixed_ips as FixedIpRequest[]);
    if (input.fixed_ips !== undefined) fixedIps = await updateFixedIps(tx, doc, input.fixed_ips as FixedIpRequest[], macAddress);
    if (macAddress !== doc.mac_address) {
      fixedIps = await renumberEui64(tx, doc as { id: string; device_owner: string }, await networkSubnets(tx, doc.network_id as string), fixedIps, macAddress);
    }
    if (input.security_groups !== undefined) await checkSecurityGroups(tx, input.security_groups as string[]);
    const portSecurity = (input.port_security_enabled as boolean | undefined) ?? (doc.port_security_enabled as boolean);
    const groups = (input.security_groups as string[] | undefined) ?? (doc.security_groups as string[]);
    if (!portSecurity && input.security_groups !== undefined && groups.length) {
      // Groups given while port security is (or becomes) off: ml2 update_port's InvalidInput (400).
      throw new NeutronError(
        400,
        'PortSecurityAndIPRequiredForSecurityGroups',
        'Port security must be enabled and port must have an IP address in order to use security groups.',
      );
    }
    if (!portSecurity && groups.length) {
      throw new NeutronError(
        409,
        'PortSecurityPortHasSecurityGroup',
        'Port has security group associated. Cannot disable port security or ip address until security group is removed',
      );
    }
    Object.assign(doc, input, { fixed_ips: fixedIps, mac_address: macAddress });
    try {
      return await saveDoc(tx, 'port', doc);
    } catch (e) {
      if (e instanceof UniqueViolation && e.constraint === 'port_mac') throw ipamError.macInUse(doc.network_id as string, macAddress);
      throw e;
    }
  },

  async remove(tx, _ctx, doc) {
    const owner = doc.device_owner as string;
    if (ROUTER_INTERFACE_OWNERS.has(owner) || owner === DEVICE_OWNER_ROUTER_GW || owner === DEVICE_OWNER_FLOATINGIP) {
      throw new NeutronError(
        409,
        'L3PortInUse',
        `Port ${doc.id} has owner ${owner} and therefore cannot be deleted directly via the port API.`,
      );
    }
    await disassociatePort(tx, doc.id);
    await deleteProxiesOf(tx, 'port_id', doc.id);
    await deletePort(tx, doc);
  },
};
