// Subnets: the rules are in domain/subnet.ts (pure); this module adds what needs the store: the network and its
// other subnets, allocation from subnet pools, the network's subnet list and address scopes, the EUI-64 back-fill
// of existing ports when a SLAAC / DHCPv6-stateless subnet arrives, and the in-use checks on delete.

import { badRequest, inUse, notFound } from '../../domain/errors.js';
import { backfillAddress, isAutoAddressSubnet, subnetDeleteTakesAddress } from '../../domain/ipv6/index.js';
import { applySubnetUpdate, buildSubnet, subnetRequestKind, type SubnetDoc } from '../../domain/subnet.js';
import type { Doc, Tx } from '../../store/types.js';
import { bool, subnet, type SubnetInput } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, saveDoc, type RequestContext } from '../context.js';
import { rbacGrants } from './rbac-policies.js';
import { allocateSpecific, releaseAddress, type FixedIp, type Subnet } from '../ipam.js';
import { syncDhcpPort } from '../dhcp-ports.js';
import { servesDhcp, type DhcpSubnet } from '../../domain/dhcp.js';
import type { ResourceDef } from '../resource.js';
import { allocateSubnetFromPool, networkAddressScopes, releaseSubnetToPool } from './subnetpools.js';
import { isPdRequest, pdSubnetFields, withoutPdPool } from '../prefix-delegation.js';

async function findPool(tx: Tx, input: Record<string, unknown>, kind: 'pool' | 'default-pool'): Promise<Doc> {
  if (kind === 'pool') {
    const pool = await tx.get('subnetpool', input.subnetpool_id as string);
    if (!pool) throw notFound('subnetpool', input.subnetpool_id as string);
    return pool;
  }
  const version = Number(input.ip_version);
  const pool = (await tx.list('subnetpool')).find((p) => p.is_default === true && Number(p.ip_version) === version);
  if (!pool) throw badRequest('subnets', `No default subnetpool found for IPv${version}`);
  return pool;
}

/** Adds the new auto-address subnet's EUI-64 address to every existing port of the network (Neutron A.4). */
async function backfillEui64(tx: Tx, subnet: Subnet): Promise<void> {
  for (const port of await tx.list('port', { network_id: [subnet.network_id] })) {
    const fixedIps = port.fixed_ips as FixedIp[];
    const ip = backfillAddress(subnet, port as Doc & { network_id: string; mac_address: string; device_owner: string; fixed_ips: FixedIp[] });
    if (ip === null || (await tx.isAllocated(subnet.id, ip))) continue;
    await allocateSpecific(tx, subnet, ip, port.id);
    port.fixed_ips = [...fixedIps, { subnet_id: subnet.id, ip_address: ip }];
    await saveDoc(tx, 'port', port);
  }
}

async function refreshNetwork(tx: Tx, networkId: string): Promise<void> {
  const network = await tx.get('network', networkId);
  if (!network) return;
  const subnets = await tx.list('subnet', { network_id: [networkId] });
  network.subnets = subnets.map((s) => s.id);
  Object.assign(network, await networkAddressScopes(tx, subnets));
  await saveDoc(tx, 'network', network);
}

/** Deletes a subnet whose ports are already gone or released, with its IPAM state. */
export async function deleteSubnetCascade(tx: Tx, subnet: Doc, _network?: Doc): Promise<void> {
  // The subnet's prefix goes back to its pool's free blocks (not a prefix-delegation subnet's: no pool holds it).
  if (subnet.subnetpool_id && subnet.subnetpool_id !== 'prefix_delegation') await releaseSubnetToPool(tx, subnet.subnetpool_id as string, subnet.cidr);
  for (const a of await tx.allocationsOfSubnet(subnet.id)) await tx.release(subnet.id, a.ip_address, false);
  await tx.dropIpam(subnet.id);
  await deleteDoc(tx, 'subnet', subnet.id);
}

/**
 * `GET /v2.0/subnets?shared=`: a subnet is shared when its network is (neutron-lib model_query.apply_filters: an
 * access_as_shared entry for '*' or the caller's project on the network). Only the first value counts, as there.
 */
async function sharedFilter(tx: Tx, ctx: RequestContext, docs: Doc[], values: string[]): Promise<Doc[]> {
  const want = bool.convert(values[0], 'shared');
  const shared = new Map<string, boolean>();
  const out: Doc[] = [];
  for (const doc of docs) {
    const networkId = doc.network_id as string;
    if (!shared.has(networkId)) {
      const network = await tx.get('network', networkId);
      shared.set(networkId, network?.shared === true || (await rbacGrants(tx, 'network', networkId, ctx.projectId)).shared);
    }
    if (shared.get(networkId) === want) out.push(doc);
  }
  return out;
}

export const subnets: ResourceDef = {
  kind: 'subnet',
  schema: subnet,
  extraFilters: { shared: sharedFilter },

  async create(tx, ctx, input) {
    const networkId = input.network_id as string;
    const network = await tx.get('network', networkId);
    if (!network) throw notFound('network', networkId);
    const siblings = (await tx.list('subnet', { network_id: [networkId] })) as SubnetDoc[];
    const request = withoutPdPool(input as SubnetInput);
    const kind = subnetRequestKind(request);
    // Prefix delegation (api/prefix-delegation.ts): ::/64 until the router's PD client obtains a prefix.
    const pd = isPdRequest(request, ctx.settings?.ipv6PdEnabled === true);
    let fromPool: { subnetpoolId: string; cidr: string; addressScopeId: string | null } | undefined;
    if (kind !== 'cidr' && !pd) {
      const pool = await findPool(tx, input, kind);
      fromPool = { subnetpoolId: pool.id, cidr: await allocateSubnetFromPool(tx, ctx, pool, input), addressScopeId: (pool.address_scope_id as string | null) ?? null };
    }
    const fields = pd
      ? pdSubnetFields(request, network, siblings)
      : buildSubnet(request, {
          networkId,
          networkMtu: network.mtu as number,
          siblings,
          networkScopeId: (network[`ipv${Number(input.ip_version)}_address_scope`] as string | null | undefined) ?? null,
          ...(fromPool ? { fromPool } : {}),
        });
    const doc = newDoc(ctx, input, {
      network_id: networkId,
      ip_version: fields.ip_version,
      subnetpool_id: fields.subnetpool_id,
      enable_dhcp: fields.enable_dhcp,
      ipv6_ra_mode: fields.ipv6_ra_mode,
      ipv6_address_mode: fields.ipv6_address_mode,
      gateway_ip: fields.gateway_ip,
      cidr: fields.cidr,
      allocation_pools: fields.allocation_pools,
      host_routes: fields.host_routes,
      dns_nameservers: fields.dns_nameservers,
      service_types: (input.service_types as string[] | undefined) ?? [],
      segment_id: (input.segment_id as string | undefined) ?? null,
    });
    await insertDoc(tx, 'subnet', doc);
    await refreshNetwork(tx, networkId);
    const subnet = doc as Subnet;
    if (isAutoAddressSubnet(subnet)) await backfillEui64(tx, subnet);
    // The network's DHCP port, in this transaction; it is not part of the answer (Neutron's is the subnet alone).
    // A subnet dnsmasq does not serve changes nothing for it (its EUI-64 address came with the back-fill above).
    if (servesDhcp(subnet as unknown as DhcpSubnet)) await syncDhcpPort(tx, ctx.settings, networkId);
    return doc;
  },

  async update(tx, ctx, doc, input) {
    const siblings = (await tx.list('subnet', { network_id: [doc.network_id as string] })).filter((s) => s.id !== doc.id);
    const changes = applySubnetUpdate(doc as SubnetDoc, input as SubnetInput, { siblings: siblings as SubnetDoc[] });
    if (changes.allocation_pools !== undefined) {
      // The walk restarts over the new pools; it skips addresses still held, so nothing is handed out twice.
      await tx.dropIpam(doc.id);
    }
    const plain = Object.fromEntries(
      Object.entries(input).filter(([k]) => ['name', 'description', 'service_types', 'segment_id'].includes(k)),
    );
    Object.assign(doc, plain, changes);
    const saved = await saveDoc(tx, 'subnet', doc);
    // enable_dhcp or the allocation pools change what the DHCP port serves.
    if (input.enable_dhcp !== undefined || input.allocation_pools !== undefined) await syncDhcpPort(tx, ctx.settings, doc.network_id as string);
    return saved;
  },

  async remove(tx, ctx, doc) {
    const subnet = doc as Subnet;
    const edits: { port: Doc; keep: FixedIp[] }[] = [];
    for (const a of await tx.allocationsOfSubnet(subnet.id)) {
      const port = await tx.get('port', a.port_id);
      if (!port) continue;
      const owner = port.device_owner as string;
      const others = (port.fixed_ips as FixedIp[]).filter((f) => f.subnet_id !== subnet.id);
      // A port's automatic address goes with the subnet; any other allocation keeps the subnet in use.
      if (!subnetDeleteTakesAddress(subnet, owner)) throw inUse.subnet(subnet.id);
      edits.push({ port, keep: others });
    }
    for (const { port, keep } of edits) {
      for (const f of (port.fixed_ips as FixedIp[]).filter((x) => x.subnet_id === subnet.id)) {
        await releaseAddress(tx, subnet, subnet.id, f.ip_address);
      }
      port.fixed_ips = keep;
      await saveDoc(tx, 'port', port);
    }
    await deleteSubnetCascade(tx, subnet);
    await refreshNetwork(tx, subnet.network_id);
    // The DHCP port gave its address back above (as every AUTO_DELETE owner does); it goes with the last served subnet.
    if (servesDhcp(subnet as unknown as DhcpSubnet)) await syncDhcpPort(tx, ctx.settings, subnet.network_id);
  },
};
