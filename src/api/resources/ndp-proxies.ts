// NDP proxies (l3-ndp-proxy) and the router's enable_ndp_proxy (l3-ext-ndp-proxy): neutron/services/ndp_proxy/
// plugin.py. A proxy names a router and a port; the router must have enable_ndp_proxy (so a gateway with an IPv6
// address on a network with an IPv6 address scope), the port an IPv6 address on a subnet attached to the router, in
// the gateway's IPv6 address scope. The rules are domain/ndp-proxy.ts; this module reads the documents, and gives
// routers.ts and ports.ts the checks their removals need (the interface, the gateway, the port's proxies).

import { chooseProxyAddress, gatewaySupportsNdpProxy, GATEWAY_REASONS, ndpProxyErrors, ndpStateOnCreate, ndpStateOnUpdate, networkSupportsNdpProxy, type FixedIpRef } from '../../domain/ndp-proxy.js';
import { notFound } from '../../domain/errors.js';
import { IpAddress } from '../../domain/ip.js';
import { DEVICE_OWNER_ROUTER_GW } from '../../domain/ipv6/index.js';
import type { Doc, Tx } from '../../store/types.js';
import { ndpProxy } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, saveDoc, type ServerSettings } from '../context.js';
import type { ResourceDef } from '../resource.js';
import { networkAddressScopes } from './subnetpools.js';

export const NDP_PROXY_KIND = 'ndp_proxy' as const;

/** The external network's IPv6 address scope (null: none) and whether it supports NDP proxy. */
async function gatewayNetwork(tx: Tx, networkId: string): Promise<{ scope: string | null; supports: boolean }> {
  const subnets = await tx.list('subnet', { network_id: [networkId] });
  const scope = (await networkAddressScopes(tx, subnets)).ipv6_address_scope;
  return { scope, supports: networkSupportsNdpProxy(scope, subnets.map((s) => Number(s.ip_version))) };
}

const gatewayPortOf = async (tx: Tx, routerId: string): Promise<Doc | undefined> =>
  (await tx.list('port', { device_id: [routerId] })).find((p) => p.device_owner === DEVICE_OWNER_ROUTER_GW);

/** enable_ndp_proxy_by_default (Neutron's default: False). */
const byDefault = (settings: ServerSettings | undefined): boolean => settings?.enableNdpProxyByDefault === true;

/** The request's enable_ndp_proxy: null is convert_to_boolean_if_not_none's None, read as "not specified". */
const requestedState = (input: Record<string, unknown>): boolean | undefined =>
  typeof input.enable_ndp_proxy === 'boolean' ? input.enable_ndp_proxy : undefined;

/** _process_ndp_proxy_state_for_create_router, after the router and its gateway are made (same transaction). */
export async function ndpStateForCreatedRouter(tx: Tx, settings: ServerSettings | undefined, router: Doc, input: Record<string, unknown>): Promise<void> {
  const gw = router.external_gateway_info as { network_id: string } | null;
  const net = gw ? await gatewayNetwork(tx, gw.network_id) : { supports: false };
  router.enable_ndp_proxy = ndpStateOnCreate({
    routerId: router.id,
    requested: requestedState(input),
    hasGateway: !!gw,
    gatewaySupports: net.supports,
    byDefault: byDefault(settings),
    ...(gw ? { networkId: gw.network_id } : {}),
  });
}

/**
 * Before a router update touches the gateway: _check_delete_router_gw (no proxies may be left without their
 * gateway; enable_ndp_proxy true with the gateway unset is refused) and _check_update_router_gw (a router with NDP
 * proxy keeps an IPv6 address on its new gateway).
 */
export async function checkGatewayChange(tx: Tx, router: Doc, input: Record<string, unknown>): Promise<void> {
  if (input.external_gateway_info === undefined) return;
  const info = input.external_gateway_info as { network_id: string; external_fixed_ips?: { subnet_id?: string; ip_address?: string }[] } | null;
  const current = router.external_gateway_info as { network_id: string } | null;
  if (!current) return;
  if (!info || info.network_id !== current.network_id) {
    // The gateway port goes (l3_db _delete_current_gw_port fires ROUTER_GATEWAY BEFORE_DELETE).
    if ((await tx.count(NDP_PROXY_KIND, { router_id: [router.id] })) > 0) throw ndpProxyErrors.routerGatewayInUse(router.id);
    if (!info && requestedState(input) === true) throw ndpProxyErrors.routerGatewayNotValid(router.id, GATEWAY_REASONS.gatewayUnset);
    return;
  }
  // The same network with new addresses: a router with NDP proxy keeps an IPv6 one.
  const ips = info.external_fixed_ips;
  if (router.enable_ndp_proxy !== true || !ips?.length) return;
  if (ips.some((f) => f.ip_address && IpAddress.parse(f.ip_address)?.version === 6)) return;
  for (const id of new Set(ips.map((f) => f.subnet_id).filter((x): x is string => !!x))) {
    if (Number((await tx.get('subnet', id))?.ip_version) === 6) return;
  }
  throw ndpProxyErrors.ipv6GatewayInUse(router.id);
}

/** _process_ndp_proxy_state_for_update_router, once the gateway is as the request wants it. */
export async function ndpStateForUpdatedRouter(
  tx: Tx,
  settings: ServerSettings | undefined,
  router: Doc,
  input: Record<string, unknown>,
  current: boolean,
  gatewayChanged: boolean,
): Promise<void> {
  const gwPort = router.external_gateway_info ? await gatewayPortOf(tx, router.id) : undefined;
  const supports = gwPort
    ? gatewaySupportsNdpProxy((await gatewayNetwork(tx, gwPort.network_id as string)).supports, gwPort.fixed_ips as FixedIpRef[])
    : false;
  router.enable_ndp_proxy = ndpStateOnUpdate({
    routerId: router.id,
    requested: requestedState(input),
    hasGateway: !!gwPort,
    gatewaySupports: supports,
    byDefault: byDefault(settings),
    current,
    gatewayChanged,
  });
}

/** _check_router_remove_subnet_request: a subnet a proxy's address is on stays attached. */
export async function checkInterfaceNotProxied(tx: Tx, routerId: string, subnetId: string): Promise<void> {
  for (const proxy of await tx.list(NDP_PROXY_KIND, { router_id: [routerId] })) {
    const port = await tx.get('port', proxy.port_id as string);
    const fixed = ((port?.fixed_ips ?? []) as FixedIpRef[]).find((f) => IpAddress.parse(f.ip_address)?.toString() === proxy.ip_address);
    if (fixed?.subnet_id === subnetId) throw ndpProxyErrors.routerInterfaceInUse(routerId, subnetId);
  }
}

/** The ndp_proxies foreign keys' ON DELETE CASCADE: a deleted port (or router) takes its proxies with it. */
export async function deleteProxiesOf(tx: Tx, by: 'port_id' | 'router_id', id: string): Promise<void> {
  for (const proxy of await tx.list(NDP_PROXY_KIND, { [by]: [id] })) await deleteDoc(tx, NDP_PROXY_KIND, proxy.id);
}

export const ndpProxies: ResourceDef = {
  kind: NDP_PROXY_KIND,
  schema: ndpProxy,

  async create(tx, ctx, input) {
    const routerId = input.router_id as string;
    const portId = input.port_id as string;
    const port = await tx.get('port', portId);
    if (!port) throw notFound('port', portId);
    const router = await tx.get('router', routerId);
    // create_ndp_proxy: the router's ports on the port's network first (PortUnreachableRouter even before the
    // router is looked up), then the router itself.
    const routerPorts = (await tx.list('port', { device_id: [routerId] })).filter((p) => p.network_id === port.network_id);
    if (!routerPorts.length) throw ndpProxyErrors.portUnreachable(portId, routerId);
    if (!router) throw notFound('router', routerId);
    if (router.enable_ndp_proxy !== true || !router.external_gateway_info) throw ndpProxyErrors.notEnabled(router.id);
    const extScope = (await gatewayNetwork(tx, (router.external_gateway_info as { network_id: string }).network_id)).scope;
    const ip = chooseProxyAddress(
      { id: port.id, fixed_ips: port.fixed_ips as FixedIpRef[] },
      routerId,
      routerPorts.flatMap((p) => p.fixed_ips as FixedIpRef[]),
      (input.ip_address as string | null | undefined) ?? null,
    );
    const intScope = (await networkAddressScopes(tx, await tx.list('subnet', { network_id: [port.network_id as string] }))).ipv6_address_scope;
    // Packets between scopes are not routed (address scopes, RFC-less but Neutron's rule): no proxy across them.
    if (extScope !== intScope) throw ndpProxyErrors.addressScopeConflict(extScope, intScope);
    if ((await tx.list(NDP_PROXY_KIND, { router_id: [routerId] })).some((p) => p.ip_address === ip)) throw ndpProxyErrors.duplicate();
    const doc = newDoc(ctx, input, { router_id: routerId, port_id: portId, ip_address: ip });
    delete doc.tags;
    return insertDoc(tx, NDP_PROXY_KIND, doc);
  },

  async update(tx, _ctx, doc, input) {
    Object.assign(doc, input);
    return saveDoc(tx, NDP_PROXY_KIND, doc);
  },

  async remove(tx, _ctx, doc) {
    await deleteDoc(tx, NDP_PROXY_KIND, doc.id);
  },
};
