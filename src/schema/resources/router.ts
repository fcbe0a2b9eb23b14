// routers: neutron-lib api/definitions/l3.py (+ extraroute, l3-ha, dvr, router availability zones, flavors) and
// the interface actions' bodies.

import { NeutronError, badAttribute, badRequest } from '../../domain/errors.js';
import { IpAddress, IpPrefix } from '../../domain/ip.js';
import { pyStr, pySetRepr } from '../../domain/py.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import { bool, cidrText, ipAddress, isUuid, listOf, nullable, oneOf, record, string, uuid, withConverter, type Type, azHintList } from '../types.js';
import { convertFixedIps, type FixedIp, type FixedIpRequest } from './port.js';
import { id, name, project, standardTail } from './standard.js';

export interface ExternalGatewayInfo {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: FixedIp[];
}

/** What a request may say about the gateway: the network, SNAT, and the addresses wanted on it. */
export interface ExternalGatewayRequest {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: FixedIpRequest[];
}

const gatewayShape = record(
  { network_id: uuid, enable_snat: bool, external_fixed_ips: listOf(record({ subnet_id: uuid, ip_address: ipAddress })) },
  ['enable_snat', 'external_fixed_ips'],
);

/** validate_external_gw_info: null or {} clear the gateway; network_id is required and a UUID. */
const externalGatewayInfo = withConverter(nullable(gatewayShape) as Type<unknown>, (value, attr) => {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw badAttribute(attr, `'${pyStr(value)}' is not a dictionary`);
  const v = value as Record<string, unknown>;
  if (Object.keys(v).length === 0) return null;
  const extra = Object.keys(v).filter((k) => !['network_id', 'enable_snat', 'external_fixed_ips'].includes(k));
  if (extra.length || v.network_id === undefined) {
    throw badAttribute(attr, `Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: ${pySetRepr(Object.keys(v))}`);
  }
  if (!isUuid(v.network_id)) throw badAttribute(attr, `'${pyStr(v.network_id)}' is not a valid UUID`);
  const info: ExternalGatewayRequest = { network_id: v.network_id };
  if (v.enable_snat !== undefined) info.enable_snat = bool.convert(v.enable_snat, attr);
  if (v.external_fixed_ips !== undefined) info.external_fixed_ips = convertFixedIps(v.external_fixed_ips, attr);
  return info;
}) as unknown as Type<ExternalGatewayInfo | null>;

export interface Route {
  destination: string;
  nexthop: string;
}

/**
 * extraroute's routes: each a cidr and a next hop of the same family (InvalidRoutes otherwise). `null` is no routes
 * (extraroute's convert_none_to_empty_list): `{"routes": null}` clears them, as Tempest's extra-route tests do.
 */
const routes = withConverter(listOf(record({ destination: cidrText, nexthop: ipAddress })) as unknown as Type<Route[]>, (value, attr) => {
  if (value === null) return [];
  if (!Array.isArray(value)) throw badAttribute(attr, `'${pyStr(value)}' is not a list`);
  return value.map((r) => {
    const o = r as Record<string, unknown> | null;
    const destination = typeof o?.destination === 'string' ? IpPrefix.parse(o.destination) : null;
    const nexthop = typeof o?.nexthop === 'string' ? IpAddress.parse(o.nexthop) : null;
    if (!o || typeof o !== 'object' || !destination || !nexthop || destination.version !== nexthop.version) {
      throw new NeutronError(
        400,
        'InvalidRoutes',
        `Invalid format for routes: ${JSON.stringify(value)}, the nexthop is not a valid IP address or the destination is not a valid CIDR.`,
      );
    }
    return { destination: destination.toString(), nexthop: nexthop.toString() };
  });
});

/** converters.convert_to_boolean_if_not_none: null passes (the handler reads it as "not specified"). */
const boolOrNone: Type<boolean> = { describe: bool.describe, is: bool.is, convert: (v, attr) => (v === null ? (null as unknown as boolean) : bool.convert(v, attr)) };

export const router = defineResource({
  kind: 'router',
  singular: 'router',
  plural: 'routers',
  doc: '`external_gateway_info` with dual-stack `external_fixed_ips` and `enable_snat`; interfaces by subnet (its gateway address) or by port; one IPv6 port per network; `routes`; `ha`.',
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete', 'tags'],
  actions: ['add_router_interface', 'remove_router_interface', 'add_extraroutes', 'remove_extraroutes'],
  attributes: {
    id,
    name,
    admin_state_up: { type: bool, post: true, put: true, default: true },
    status: { filter: false, type: oneOf(['ACTIVE', 'DOWN', 'BUILD', 'ERROR'] as const) },
    ...project,
    external_gateway_info: { filter: false, type: externalGatewayInfo, post: true, put: true, default: null, doc: '`network_id`, `enable_snat`, `external_fixed_ips` (dual-stack)' },
    routes: { filter: false, type: routes, put: true, default: [], doc: 'each next hop on a connected subnet' },
    ha: { filter: false, type: bool, post: true, put: true, default: false, adminOnly: true },
    distributed: { filter: false, type: bool, post: true, put: true, default: false, adminOnly: true },
    availability_zone_hints: { filter: false, type: azHintList, post: true, default: [], doc: 'create-only; each a zone of some L3 agent (404 `AvailabilityZoneNotFound`); only agents in these zones serve it' },
    availability_zones: { filter: false, type: listOf(string(255)), doc: 'the zones of the agents that run it' },
    flavor_id: { filter: false, type: nullable(uuid), post: true, default: null },
    // l3-ext-ndp-proxy: absent means "as the gateway allows" (ATTR_NOT_SPECIFIED, api/resources/ndp-proxies.ts);
    // always false while the router has no gateway. Not a filter (neutron-lib l3_ext_ndp_proxy has no is_filter).
    enable_ndp_proxy: { filter: false, type: boolOrNone, post: true, put: true, default: false, doc: "publish ndp_proxies' addresses on the gateway; default `enable_ndp_proxy_by_default` when the gateway's network has an IPv6 subnet and address scope" },
    ...standardTail,
  },
});

export type Router = DocOf<typeof router>;
export type RouterInput = InputOf<typeof router>;

/** The body of add_router_interface / remove_router_interface: a subnet or a port, by UUID. */
export function convertInterfaceBody(body: unknown): { subnetId?: string; portId?: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('router', 'Either subnet_id or port_id must be specified');
  const b = body as Record<string, unknown>;
  if (b.subnet_id !== undefined && b.port_id !== undefined) throw badRequest('router', 'Cannot specify both subnet-id and port-id');
  if (b.subnet_id === undefined && b.port_id === undefined) throw badRequest('router', 'Either subnet_id or port_id must be specified');
  return b.subnet_id !== undefined ? { subnetId: uuid.convert(b.subnet_id, 'subnet_id') } : { portId: uuid.convert(b.port_id, 'port_id') };
}
