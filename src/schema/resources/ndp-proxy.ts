// ndp_proxies: neutron-lib api/definitions/l3_ndp_proxy.py (the `l3-ndp-proxy` extension). A router publishes one
// IPv6 address of an instance's port on its external network by answering Neighbor Solicitations for it there
// (RFC 4861 proxy, `ip -6 neigh add proxy`), so the upstream router needs no route to the tenant prefix. Only name
// and description change after create; ip_address, when not given, is the port's first IPv6 address on a subnet the
// router is attached to (NDPProxyPlugin._check_port).

import { defineResource, type DocOf, type InputOf } from '../define.js';
import { int, ipAddress, nullable, string, timestamp, uuid } from '../types.js';
import { id, name, project } from './standard.js';

export const ndpProxy = defineResource({
  kind: 'ndp_proxy',
  singular: 'ndp_proxy',
  plural: 'ndp_proxies',
  doc: "An instance port's IPv6 address published on the router's external network by NDP proxy: the router must have `enable_ndp_proxy`, its gateway an IPv6 subnet, and the port's subnet must be attached to it in the gateway's IPv6 address scope; one proxy per router and address.",
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete'],
  attributes: {
    id,
    name,
    ...project,
    router_id: { type: uuid, post: true, required: true },
    port_id: { type: uuid, post: true, required: true },
    ip_address: { type: nullable(ipAddress), post: true, default: null, doc: "the port's IPv6 address on a subnet of the router when absent" },
    description: { type: string(1024), post: true, put: true, default: '' },
    // Standard attributes (timestamps, revision number); not taggable: ndp_proxy is not in standard-attr-tag's list.
    created_at: { type: timestamp },
    updated_at: { type: timestamp },
    revision_number: { type: int(0) },
  },
});

export type NdpProxy = DocOf<typeof ndpProxy>;
export type NdpProxyInput = InputOf<typeof ndpProxy>;
