// GET /v2.0/service-providers (Neutron's service-type extension): the drivers behind each service type. v6stack has
// one service, the L3 router, with two real implementations: the single-node router (one namespace on one agent's
// host) and the HA router (keepalived VRRP across L3 agents, l3-ha). Neutron's L3 plugin lists its router flavor
// drivers the same way (neutron/services/l3_router/service_providers/driver_controller.py,
// _LegacyPlusProviderConfiguration: every one with default false); dvr and dvrha are not listed because v6stack has
// no distributed routers.

import { notFound } from '../domain/errors.js';
import type { Doc } from '../store/types.js';
import { applyList, parseListQuery } from './list.js';

export const SERVICE_PROVIDERS: readonly { service_type: string; name: string; default: boolean }[] = [
  { service_type: 'L3_ROUTER_NAT', name: 'ha', default: false },
  { service_type: 'L3_ROUTER_NAT', name: 'single_node', default: false },
];

/** The list with Neutron's filters (service_type, name, default), fields, sorting and paging. */
export function listServiceProviders(url: URL): string {
  const q = parseListQuery(url.searchParams, new Set(['service_type', 'name', 'default']), new Set());
  // Paging needs a key; a provider is named uniquely within its type.
  const docs: Doc[] = SERVICE_PROVIDERS.map((p) => ({ id: `${p.service_type}:${p.name}`, ...p }));
  const result = applyList(docs, q, url, (m) => notFound('service_provider', m));
  const items = result.items.map(({ id: _id, ...rest }) => rest);
  const body: Record<string, unknown> = { service_providers: items };
  if (result.links.length) body.service_providers_links = result.links;
  return JSON.stringify(body);
}
