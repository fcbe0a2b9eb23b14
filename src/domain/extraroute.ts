// extraroute-atomic (neutron/db/extraroute_db.py _add_extra_routes / _remove_extra_routes): PUT
// /v2.0/routers/{id}/add_extraroutes and remove_extraroutes change a router's routes by a set addition or removal in
// one transaction, so concurrent clients need not read-modify-write the whole list. Pure.

export interface ExtraRoute {
  destination: string;
  nexthop: string;
}

const key = (r: ExtraRoute): string => `${r.destination} ${r.nexthop}`;

/**
 * The routes plus `add`, duplicates (same destination and next hop, canonical text) once; existing routes keep their
 * order and new ones follow. A destination may have several next hops, as in Neutron.
 */
export function addExtraRoutes(old: readonly ExtraRoute[], add: readonly ExtraRoute[]): ExtraRoute[] {
  const seen = new Set<string>();
  const out: ExtraRoute[] = [];
  for (const r of [...old, ...add]) {
    if (seen.has(key(r))) continue;
    seen.add(key(r));
    out.push({ destination: r.destination, nexthop: r.nexthop });
  }
  return out;
}

/** The routes less `remove`; removing a route the router does not have is no error (Neutron: the end state counts). */
export function removeExtraRoutes(old: readonly ExtraRoute[], remove: readonly ExtraRoute[]): ExtraRoute[] {
  const gone = new Set(remove.map(key));
  return addExtraRoutes(old.filter((r) => !gone.has(key(r))), []);
}
