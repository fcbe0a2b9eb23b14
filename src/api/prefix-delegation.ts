// IPv6 prefix delegation against the store (the rules are domain/prefix-delegation.ts's).
//
// - Subnet create: a PD request (subnetpool_id "prefix_delegation", or use_default_subnetpool for IPv6 on a server
//   started with --ipv6-pd-enabled) gets the provisional ::/64 (subnets.ts asks pdSubnetFields).
// - The agent-facing report, beside the change feed (agent-api.ts routes it here):
//     PUT /v6stack/v1/prefix-delegation/subnets/<subnet id>  {"prefix": "2001:db8:face:1::/64" | null, "router_id"?}
//       -> {"subnet": {...}, "ports": [<id>, ...]}
//   The router's DHCPv6-PD client (agent/pd-client.ts) obtained a prefix for the subnet (or released it: null). In one
//   transaction the subnet takes it (cidr, gateway = first host, allocation pools) and every port's address on the
//   subnet follows (router interfaces the gateway, the others their EUI-64 address), as Neutron's
//   update_subnet(cidr=prefix) did when its L3 agent called process_prefix_update. The change feed carries the
//   subnet and the ports to every agent; radvd then advertises the new prefix. The same prefix again changes nothing.

import { conflict, httpBadRequest, notFound } from '../domain/errors.js';
import { IpPrefix } from '../domain/ip.js';
import {
  buildPdSubnet,
  delegatedSubnetFields,
  isPdRequest,
  isPdSubnet,
  withoutPdPool,
  parseDelegatedPrefix,
  planPdRenumbering,
  type PdPort,
} from '../domain/prefix-delegation.js';
import type { SubnetFields, SubnetRequest } from '../domain/subnet.js';
import { isUuid } from '../schema/types.js';
import type { Doc, Store, Tx } from '../store/types.js';
import { saveDoc } from './context.js';
import { allocateSpecific, releaseAddress, type Subnet } from './ipam.js';

export { isPdRequest, withoutPdPool };

/** The fields of a new PD subnet (subnets.ts create, in its transaction). */
export function pdSubnetFields(request: SubnetRequest, network: Doc, siblings: readonly Doc[]): SubnetFields {
  return buildPdSubnet(request, {
    networkId: network.id,
    networkMtu: network.mtu as number,
    networkScope: (network.ipv6_address_scope as string | null | undefined) ?? null,
    siblings: siblings as unknown as { ip_version: number; subnetpool_id?: string | null }[],
  });
}

/**
 * Gives a PD subnet its delegated prefix (or ::/64 back), in the caller's transaction. Returns the subnet and the ids
 * of the ports whose address changed; `changed` false when the subnet already had that prefix.
 */
export async function setDelegatedPrefix(tx: Tx, subnetId: string, prefixValue: unknown, routerId?: string): Promise<{ subnet: Doc; ports: string[]; changed: boolean }> {
  const prefix = parseDelegatedPrefix(prefixValue);
  const subnet = await tx.get('subnet', subnetId);
  if (!subnet) throw notFound('subnet', subnetId);
  if (!isPdSubnet(subnet)) throw conflict('SubnetNotPrefixDelegated', `Subnet ${subnetId} does not use prefix delegation (its subnetpool_id is not "prefix_delegation")`);
  const networkPorts = (await tx.list('port', { network_id: [subnet.network_id as string] })) as (Doc & PdPort)[];
  if (routerId !== undefined) {
    const onRouter = networkPorts.some((p) => p.device_id === routerId && p.fixed_ips.some((f) => f.subnet_id === subnetId));
    // A late report for an interface removed meanwhile: the removal's release is the one that counts.
    if (!onRouter && prefixValue !== null) throw conflict('RouterInterfaceNotFoundForSubnet', `Router ${routerId} has no interface on subnet ${subnetId}`);
  }
  if (subnet.cidr === prefix.toString()) return { subnet, ports: [], changed: false };
  if (prefixValue !== null) {
    for (const other of await tx.list('subnet', { network_id: [subnet.network_id as string] })) {
      if (other.id === subnetId || Number(other.ip_version) !== 6) continue;
      const p = IpPrefix.parse(other.cidr);
      if (p && p.overlaps(prefix)) throw conflict('SubnetOverlap', `Delegated prefix ${prefix.toString()} overlaps subnet ${other.id} (${other.cidr as string}) on network ${subnet.network_id as string}`);
    }
  }
  const before = { ...subnet } as Subnet;
  Object.assign(subnet, delegatedSubnetFields(prefix));
  const plan = planPdRenumbering(subnet as { id: string; gateway_ip: string | null; cidr: string }, networkPorts);
  // Everything is released first, then taken: two ports never race for one address within the renumbering.
  for (const step of plan) for (const ip of step.release) await releaseAddress(tx, before, subnetId, ip);
  // The pools changed: the next-fit walk starts again over the new ones.
  await tx.dropIpam(subnetId);
  await saveDoc(tx, 'subnet', subnet);
  const byId = new Map(networkPorts.map((p) => [p.id, p]));
  for (const step of plan) {
    for (const ip of step.take) await allocateSpecific(tx, subnet as Subnet, ip, step.port_id);
    const port = byId.get(step.port_id)!;
    (port as Doc).fixed_ips = step.fixed_ips;
    await saveDoc(tx, 'port', port);
  }
  return { subnet, ports: plan.map((s) => s.port_id), changed: true };
}

/** The agent API's PD route; `notify` wakes long-polling agents after a change. */
export async function handlePrefixDelegation(
  store: Store,
  method: string,
  parts: string[],
  body: unknown,
  notify: () => void,
): Promise<{ status: number; body: string } | null> {
  if (!(parts[1] === 'prefix-delegation' && parts[2] === 'subnets' && parts.length === 4 && method === 'PUT')) return null;
  const subnetId = parts[3]!;
  if (!isUuid(subnetId)) throw httpBadRequest(`${JSON.stringify(subnetId)} is not a subnet id (a UUID)`);
  const input = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (!input || !('prefix' in input)) throw httpBadRequest('body must be {"prefix": "<IPv6 /64>" | null[, "router_id": "<uuid>"]}');
  const routerId = input.router_id;
  if (routerId !== undefined && (typeof routerId !== 'string' || !isUuid(routerId))) throw httpBadRequest('router_id must be a router id (a UUID)');
  const out = await store.write((tx) => setDelegatedPrefix(tx, subnetId, input.prefix, routerId as string | undefined));
  if (out.changed) notify();
  return { status: 200, body: JSON.stringify({ subnet: out.subnet, ports: out.ports }) };
}
