// One declarative definition per resource, and the types derived from them. Pure: the API, the agent and the CLI
// may all import this without the HTTP layer or the store.

export * from './define.js';
export * from './types.js';
export { checkBody, convertAttributes, typeErrors, type Operation } from './convert.js';
export { network, type Network, type NetworkInput } from './resources/network.js';
export { subnet, PD_POOL_ID, type Subnet, type SubnetInput } from './resources/subnet.js';
export { port, convertFixedIps, type Port, type PortInput, type FixedIp, type FixedIpRequest, type AddressPair, type ExtraDhcpOpt } from './resources/port.js';
export { router, convertInterfaceBody, type Router, type RouterInput, type ExternalGatewayInfo, type ExternalGatewayRequest, type Route } from './resources/router.js';
export { subnetpool, addressScope, type SubnetPool, type SubnetPoolInput, type AddressScope } from './resources/subnetpool.js';
export { securityGroup, securityGroupRule, PROTOCOLS, type SecurityGroup, type SecurityGroupRule, type SecurityGroupRuleInput } from './resources/security-group.js';
export { agent, type Agent } from './resources/agent.js';
export { bgpSpeaker, actionId, asNumber, type BgpSpeaker, type BgpSpeakerInput } from './resources/bgp-speaker.js';
export { bgpPeer, BGP_AUTH_TYPES, type BgpPeer, type BgpPeerInput } from './resources/bgp-peer.js';
export { addressGroup, type AddressGroup, type AddressGroupInput } from './resources/address-group.js';
export { floatingip, FLOATINGIP_STATUSES, type FloatingIp, type FloatingIpInput, type FloatingIpPool } from './resources/floatingip.js';
export { ndpProxy, type NdpProxy, type NdpProxyInput } from './resources/ndp-proxy.js';
export { meteringLabel, type MeteringLabelDoc, type MeteringLabelInput } from './resources/metering-label.js';
export { meteringLabelRule, type MeteringLabelRuleDoc, type MeteringLabelRuleInput } from './resources/metering-label-rule.js';
export { rbacPolicy, RBAC_OBJECT_TYPES, RBAC_ACTIONS, ACCESS_SHARED, ACCESS_EXTERNAL, type RbacPolicy, type RbacObjectType } from './resources/rbac-policy.js';

import { addressGroup } from './resources/address-group.js';
import { agent } from './resources/agent.js';
import { bgpPeer } from './resources/bgp-peer.js';
import { bgpSpeaker } from './resources/bgp-speaker.js';
import { floatingip } from './resources/floatingip.js';
import { rbacPolicy } from './resources/rbac-policy.js';
import { ndpProxy } from './resources/ndp-proxy.js';
import { meteringLabel } from './resources/metering-label.js';
import { meteringLabelRule } from './resources/metering-label-rule.js';
import { network } from './resources/network.js';
import { port } from './resources/port.js';
import { router } from './resources/router.js';
import { securityGroup, securityGroupRule } from './resources/security-group.js';
import { subnet } from './resources/subnet.js';
import { addressScope, subnetpool } from './resources/subnetpool.js';
import type { ResourceSchema } from './define.js';

/** Every resource of the API, in the order /v2.0 lists them. */
export const SCHEMAS: readonly ResourceSchema[] = [network, subnet, port, router, subnetpool, addressScope, securityGroup, securityGroupRule, agent, bgpSpeaker, bgpPeer, floatingip, rbacPolicy, addressGroup, ndpProxy, meteringLabel, meteringLabelRule];
