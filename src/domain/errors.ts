// Neutron's fault catalogue. Clients and Tempest compare `type`, status and often the message text, so the texts
// below are Neutron's own (neutron-lib exceptions, neutron/db/*, neutron/ipam/exceptions.py), quirks included:
// double dots after "Bad ... request: ...." and missing trailing dots are verbatim.
// The wire shape is {"NeutronError": {"type", "message", "detail": ""}}.

export class NeutronError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly detail = '',
  ) {
    super(message);
  }

  toBody(): { NeutronError: { type: string; message: string; detail: string } } {
    return { NeutronError: { type: this.type, message: this.message, detail: this.detail } };
  }
}

/** neutron-lib InvalidInput: "Invalid input for operation: %(error_message)s." */
export const invalidInput = (errorMessage: string): NeutronError =>
  new NeutronError(400, 'InvalidInput', `Invalid input for operation: ${errorMessage}.`);

/** Attribute-level validation failures from the API layer (webob HTTPBadRequest). */
export const badAttribute = (attr: string, reason: string): NeutronError =>
  new NeutronError(400, 'HTTPBadRequest', `Invalid input for ${attr}. Reason: ${reason}.`);

export const httpBadRequest = (message: string): NeutronError => new NeutronError(400, 'HTTPBadRequest', message);

/** neutron-lib BadRequest: "Bad %(resource)s request: %(msg)s." */
export const badRequest = (resource: string, msg: string): NeutronError =>
  new NeutronError(400, 'BadRequest', `Bad ${resource} request: ${msg}.`);

const RESOURCE_TYPE: Record<string, string> = {
  network: 'Network',
  subnet: 'Subnet',
  port: 'Port',
  router: 'Router',
  subnetpool: 'SubnetPool',
  address_scope: 'AddressScope',
  security_group: 'SecurityGroup',
  security_group_rule: 'SecurityGroupRule',
  agent: 'Agent',
  bgp_speaker: 'BgpSpeaker',
  bgp_peer: 'BgpPeer',
  floatingip: 'FloatingIP',
  address_group: 'AddressGroup',
  ndp_proxy: 'NDPProxy',
};

/** "<Type>NotFound": "<Type> <id> could not be found." (neutron-lib NotFound subclasses). */
export function notFound(resource: string, id: string): NeutronError {
  // neutron/extensions/rbac.py RbacPolicyNotFound; an unknown id is looked for in every RBAC table, so its type is
  // 'unknown' (RbacPluginMixin._get_object_type).
  if (resource === 'rbac_policy') return new NeutronError(404, 'RbacPolicyNotFound', `RBAC policy of type unknown with ID ${id} not found`);
  // neutron-lib exceptions/metering.py.
  if (resource === 'metering_label') return new NeutronError(404, 'MeteringLabelNotFound', `Metering label '${id}' does not exist.`);
  if (resource === 'metering_label_rule') return new NeutronError(404, 'MeteringLabelRuleNotFound', `Metering label rule '${id}' does not exist.`);
  const type = RESOURCE_TYPE[resource] ?? resource;
  const label: Record<string, string> = {
    subnetpool: 'Subnet pool',
    address_scope: 'Address scope',
    security_group: 'Security group',
    security_group_rule: 'Security group rule',
    bgp_speaker: 'BGP speaker',
    bgp_peer: 'BGP peer',
    floatingip: 'Floating IP',
    address_group: 'Address group',
    ndp_proxy: 'NDP proxy',
  };
  // neutron/extensions/securitygroup.py: SecurityGroupNotFound / SecurityGroupRuleNotFound say "does not exist".
  if (resource === 'security_group' || resource === 'security_group_rule') {
    return new NeutronError(404, `${type}NotFound`, `${label[resource]} ${id} does not exist`);
  }
  // neutron-lib's FloatingIPNotFound text has no final dot.
  const dot = resource === 'floatingip' ? '' : '.';
  return new NeutronError(404, `${type}NotFound`, `${label[resource] ?? type} ${id} could not be found${dot}`);
}

export const resourceNotFound = (path: string): NeutronError =>
  new NeutronError(404, 'HTTPNotFound', `The resource could not be found.`, path);

export const conflict = (type: string, message: string): NeutronError => new NeutronError(409, type, message);

export const inUse = {
  network: (id: string) =>
    new NeutronError(
      409,
      'NetworkInUse',
      `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`,
    ),
  subnet: (id: string, reason = 'One or more ports have an IP allocation from this subnet.') =>
    new NeutronError(409, 'SubnetInUse', `Unable to complete operation on subnet ${id}: ${reason}`),
};

export const ipam = {
  alreadyAllocated: (ip: string, subnetId: string) =>
    new NeutronError(409, 'IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${subnetId}`),
  generationFailure: (networkId: string) =>
    new NeutronError(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`),
  invalidIpForSubnet: (ip: string) =>
    new NeutronError(400, 'InvalidIpForSubnet', `IP address ${ip} is not a valid IP for the specified subnet.`),
  invalidIpForNetwork: (ip: string) =>
    new NeutronError(400, 'InvalidIpForNetwork', `IP address ${ip} is not a valid IP for any of the subnets on the specified network.`),
  onAutoAddressSubnet: (ip: string, subnetId: string) =>
    new NeutronError(
      400,
      'AllocationOnAutoAddressSubnet',
      `IPv6 address ${ip} cannot be directly assigned to a port on subnet ${subnetId} as the subnet is configured for automatic addresses`,
    ),
  macInUse: (networkId: string, mac: string) =>
    new NeutronError(
      409,
      'MacAddressInUse',
      `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`,
    ),
};
