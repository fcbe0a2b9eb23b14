// networks: neutron-lib api/definitions/network.py, provider net (providernet.py), external-net, mtu-writable,
// port-security, network-availability-zone, default-subnetpools' is_default, l2_adjacency, address scopes.

import { defineResource, type DocOf, type InputOf } from '../define.js';
import { bool, int, listOf, nullable, string, uuid, oneOf, azHintList } from '../types.js';
import { id, name, project, standardTail } from './standard.js';

export const NETWORK_STATUSES = ['ACTIVE', 'DOWN', 'BUILD', 'ERROR'] as const;

export const network = defineResource({
  kind: 'network',
  singular: 'network',
  plural: 'networks',
  doc: 'A free VXLAN VNI or VLAN id is allocated next-fit when none is asked for; a segment is held by one network at most (409 `TunnelIdInUse` / `VlanIdInUse` / `FlatNetworkInUse`, 503 `NoNetworkAvailable` when the range is full). `mtu` is the physical MTU less the encapsulation (1450 on VXLAN by default, 1430 with `--overlay-ip-version 6`); a larger one is refused as Neutron refuses it.',
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete', 'tags'],
  attributes: {
    id,
    name,
    subnets: { filter: false, type: listOf(uuid), default: [], doc: "the network's subnets" },
    admin_state_up: { type: bool, post: true, put: true, default: true },
    status: { type: oneOf(NETWORK_STATUSES) },
    ...project,
    shared: { type: bool, post: true, put: true, default: false, adminOnly: true },
    mtu: { type: int(68), post: true, put: true, doc: 'default: the physical MTU less the encapsulation (1450 on VXLAN)' },
    'router:external': { type: bool, post: true, put: true, default: false, adminOnly: true },
    is_default: { type: bool, post: true, put: true, default: false, adminOnly: true },
    port_security_enabled: { filter: false, type: bool, post: true, put: true, default: true },
    'provider:network_type': { type: string(255), post: true, adminOnly: true, default: 'vxlan', doc: '`vxlan`, `geneve`, `vlan`, `flat` or `local`' },
    'provider:physical_network': { type: nullable(string(64)), post: true, adminOnly: true, default: null },
    'provider:segmentation_id': { type: nullable(int(0)), post: true, adminOnly: true, doc: 'a free one is allocated when none is given' },
    availability_zone_hints: { filter: false, type: azHintList, post: true, default: [], doc: 'create-only; each a zone of some DHCP agent (404 `AvailabilityZoneNotFound`); only agents in these zones serve it' },
    availability_zones: { filter: false, type: listOf(string(255)), doc: 'the zones of the agents that serve its DHCP' },
    ipv4_address_scope: { filter: false, type: nullable(uuid), doc: "from the subnets' pools" },
    ipv6_address_scope: { filter: false, type: nullable(uuid), doc: "from the subnets' pools" },
    l2_adjacency: { filter: false, type: bool },
    ...standardTail,
  },
});

export type Network = DocOf<typeof network>;
export type NetworkInput = InputOf<typeof network>;
