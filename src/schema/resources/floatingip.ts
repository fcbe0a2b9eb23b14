// floatingips: neutron-lib api/definitions/l3.py FLOATINGIPS (the `router` extension), with fip-port-details'
// `port_details` (api/definitions/fip_port_details.py), and the floatingip-pools extension's read-only collection
// (api/definitions/floatingip_pools.py).

import { defineResource, type DocOf, type InputOf } from '../define.js';
import { bool, ipAddress, nullable, oneOf, record, string, uuid } from '../types.js';
import { id, project, standardTail } from './standard.js';

/** Neutron's FLOATINGIP_STATUS_*: ACTIVE once the router serving it has it on the wire, DOWN otherwise. */
export const FLOATINGIP_STATUSES = ['ACTIVE', 'DOWN', 'ERROR'] as const;

/** fip-port-details: the associated port, as neutron/db/l3_fip_port_details.py _make_port_details_dict shows it. */
const portDetails = record({
  name: string(255),
  network_id: uuid,
  mac_address: string(17),
  admin_state_up: bool,
  status: string(16),
  device_id: string(255),
  device_owner: string(255),
});

export const floatingip = defineResource({
  kind: 'floatingip',
  singular: 'floatingip',
  plural: 'floatingips',
  doc: 'IPv4 addresses of an external network (their own `network:floatingip` port there) mapped to a port\'s fixed IPv4 address through the router that joins the port\'s subnet to that network (`router_id`, derived); `port_details` (fip-port-details). On the wire: DNAT/SNAT in the router\'s namespace (docs/dataplane.md).',
  operations: ['list', 'show', 'create', 'update', 'delete', 'tags'],
  attributes: {
    id,
    floating_ip_address: { type: nullable(ipAddress), post: true, default: null, doc: 'an IPv4 address of the external network; the next free one when absent' },
    subnet_id: { filter: false, type: nullable(uuid), post: true, default: null, hidden: true, doc: 'the external subnet to take the address from' },
    floating_network_id: { type: uuid, post: true, required: true, doc: 'a `router:external` network with an IPv4 subnet' },
    router_id: { type: nullable(uuid), default: null, doc: "the router joining the port's subnet to the floating network" },
    port_id: { type: nullable(uuid), post: true, put: true, default: null, doc: 'null disassociates' },
    fixed_ip_address: { type: nullable(ipAddress), post: true, put: true, default: null, doc: "one of the port's IPv4 addresses; required when it has several" },
    ...project,
    status: { type: oneOf(FLOATINGIP_STATUSES), doc: "`ACTIVE` when associated and the port is `ACTIVE` (plugged, its router's agent NATs it), `DOWN` otherwise" },
    port_details: { filter: false, type: nullable(portDetails), optional: true, doc: 'fip-port-details: the associated port (null when none)' },
    ...standardTail,
  },
});

export type FloatingIp = DocOf<typeof floatingip>;
export type FloatingIpInput = InputOf<typeof floatingip>;

/**
 * floatingip-pools (GET /v2.0/floatingip_pools, read-only): one entry per IPv4 subnet of a `router:external`
 * network, as neutron/db/l3_fip_pools_db.py _make_floatingip_pool_dict shows it (project_id is the caller's).
 */
export interface FloatingIpPool {
  subnet_id: string;
  subnet_name: string;
  network_id: string;
  cidr: string;
  project_id: string;
}
