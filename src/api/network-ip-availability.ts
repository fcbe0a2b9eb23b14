// GET /v2.0/network-ip-availabilities[/{network_id}] (Neutron's network-ip-availability extension): a read-only view
// computed in the request's transaction from the networks, their subnets' allocation pools and the IPAM allocation
// rows (one indexed count per subnet). Admin only, as Neutron's policy ("get_network_ip_availability":
// "rule:admin_only"): another caller lists nothing and is told the network does not exist.

import { notFound } from '../domain/errors.js';
import { exactJson, networkIpAvailability, type AvailabilityNetwork, type AvailabilitySubnet } from '../domain/ip-availability.js';
import { isStorableText } from '../schema/types.js';
import type { Doc, Tx } from '../store/types.js';
import type { RequestContext } from './context.js';
import { applyList, parseListQuery } from './list.js';

/** The filters Neutron's extension accepts (network_ip_availability.py RESOURCE_ATTRIBUTE_MAP plus ip_version); its plugin validates them. */
const ATTRIBUTES = new Set(['network_id', 'network_name', 'project_id', 'tenant_id']);

async function availabilityOf(tx: Tx, network: Doc, ipVersions: readonly string[] | null): Promise<ReturnType<typeof networkIpAvailability> | null> {
  let subnets = (await tx.list('subnet', { network_id: [network.id] })) as unknown as AvailabilitySubnet[];
  if (ipVersions) {
    subnets = subnets.filter((s) => ipVersions.includes(String(s.ip_version)));
    // Neutron filters the joined subnet rows: a network with no subnet of that version is not listed.
    if (!subnets.length) return null;
  }
  subnets = [...subnets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const used = new Map<string, number>();
  for (const s of subnets) used.set(s.id, await tx.countAllocations(s.id));
  return networkIpAvailability(network as unknown as AvailabilityNetwork, subnets, used);
}

/** The list, filtered, sorted and paged by Neutron's conventions; the JSON carries the totals exactly. */
export async function listNetworkIpAvailabilities(tx: Tx, ctx: RequestContext, url: URL): Promise<string> {
  const params = new URLSearchParams(url.searchParams);
  const ipVersions = params.has('ip_version') ? params.getAll('ip_version') : null;
  params.delete('ip_version');
  const q = parseListQuery(params, ATTRIBUTES, new Set(), ATTRIBUTES);
  const rows: Doc[] = [];
  if (ctx.isAdmin) {
    for (const network of await tx.list('network')) {
      const row = await availabilityOf(tx, network, ipVersions);
      if (row) rows.push({ id: row.network_id, ...row });
    }
  }
  const result = applyList(rows, q, url, (m) => notFound('network', m));
  // The id is only the paging marker's key: Neutron's entries have none.
  const items = result.items.map(({ id: _id, ...rest }) => rest);
  const body: Record<string, unknown> = { network_ip_availabilities: items };
  if (result.links.length) body.network_ip_availabilities_links = result.links;
  return exactJson(body);
}

/** One network's availability; an unknown network (or a caller who may not see it) is NetworkNotFound. */
export async function showNetworkIpAvailability(tx: Tx, ctx: RequestContext, networkId: string, url: URL): Promise<string> {
  const network = ctx.isAdmin && isStorableText(networkId) ? await tx.get('network', networkId) : undefined;
  if (!network) throw notFound('network', networkId);
  const row = (await availabilityOf(tx, network, null))!;
  const fields = url.searchParams.getAll('fields').flatMap((f) => f.split(',')).filter(Boolean);
  const shown = fields.length ? Object.fromEntries(Object.entries(row).filter(([k]) => fields.includes(k))) : row;
  return exactJson({ network_ip_availability: shown });
}
