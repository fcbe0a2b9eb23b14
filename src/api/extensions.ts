// The extensions this server implements, and only those: clients and Tempest decide what to test from this list.

interface Extension {
  name: string;
  alias: string;
  description: string;
  updated: string;
  links: never[];
}

const ext = (alias: string, name: string, description: string): Extension => ({
  name,
  alias,
  description,
  updated: '2026-11-24T00:00:00-00:00',
  links: [],
});

export const EXTENSIONS: Extension[] = [
  ext('address-group', 'Address group', 'Support address group'),
  ext('address-scope', 'Address scope', 'Address scopes extension.'),
  ext('agent', 'agent', 'The agent management extension.'),
  ext('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs'),
  ext('bgp', 'Neutron BGP Dynamic Routing Extension', 'Discover and advertise routes for Neutron prefixes dynamically via BGP'),
  ext('bgp_4byte_asn', 'BGP 4-byte AS numbers', 'Support bgp 4-byte AS number'),
  ext('bgp_dragent_scheduler', 'BGP Dynamic Routing Agent Scheduler', 'Schedules BgpSpeakers on BgpDrAgent'),
  ext('binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'),
  ext('default-subnetpools', 'Default Subnetpools', 'Provides ability to mark and use a subnetpool as the default.'),
  ext('external-net', 'Neutron external network', 'Adds external network attribute to network resource.'),
  ext('ext-gw-mode', 'Neutron L3 Configurable external gateway mode', 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway'),
  ext('extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router'),
  ext('extraroute-atomic', 'Atomically add/remove extra routes', 'Edit extra routes of a router on server side by atomically adding/removing extra routes'),
  ext('extra_dhcp_opt', 'Neutron Extra DHCP options', 'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)'),
  ext('fip-port-details', 'Floating IP Port Details Extension', 'Add port_details attribute to Floating IP resource'),
  ext('filter-validation', 'Filter parameters validation', 'Provides validation on filter parameters.'),
  ext('floatingip-pools', 'Floating IP Pools Extension', 'Provides a floating IP pools API.'),
  ext('instance-metadata', 'v6stack instance metadata', "Adds the instance's metadata and user data to ports, served by the metadata service (fe80::a9fe:a9fe, 169.254.169.254) and config drives."),
  ext('ip_allocation', 'IP Allocation', 'IP allocation extension.'),
  ext('ip-substring-filtering', 'IP address substring filtering', 'Provides IP address substring filtering when listing ports'),
  ext('l3-ha', 'HA Router extension', 'Adds HA capability to routers.'),
  ext('l3_agent_scheduler', 'L3 Agent Scheduler', 'Schedule routers among l3 agents'),
  ext('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'),
  ext('net-mtu-writable', 'Network MTU (writable)', 'Provides a writable MTU attribute for a network resource.'),
  ext('network-ip-availability', 'Network IP Availability', 'Provides IP availability data for each network and subnet.'),
  ext('pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.'),
  ext('port-security', 'Port Security', 'Provides port security'),
  ext('project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.'),
  ext('provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks'),
  ext('revision-if-match', 'If-Match constraints based on revision_number', "Extension indicating that If-Match based on revision_number is supported."),
  ext('quota-check-limit', 'Quota engine limit check', 'Support for checking the resource usage before applying a new quota limit'),
  ext('quota_details', 'Quota details management support', 'Expose functions for quotas usage statistics per project'),
  ext('quotas', 'Quota management support', 'Expose functions for quotas management per project'),
  ext('rbac-address-scope', 'Add address_scope type to RBAC', 'Add address_scope type to RBAC'),
  ext('rbac-policies', 'RBAC Policies', 'Allows creation and modification of policies that control project access to resources.'),
  ext('rbac-security-groups', 'Add security_group type to network RBAC', 'Add security_group type to network RBAC'),
  ext('rbac-subnetpool', 'Add subnetpool type to RBAC', 'Add subnetpool type to RBAC'),
  ext('router', 'Neutron L3 Router', 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.'),
  ext('security-group', 'security-group', 'The security groups extension.'),
  ext('security-groups-normalized-cidr', 'Security group rule normalized CIDR', 'Add new field with normalized remote_ip_prefix cidr in SG rule'),
  ext('security-groups-remote-address-group', 'Remote address group id field for security group rules', 'Add new field of remote address group id in security group rules'),
  ext('service-type', 'Neutron Service Type Management', 'API for retrieving service providers for Neutron advanced services'),
  ext('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.'),
  ext('standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes'),
  ext('standard-attr-revisions', 'Resource revision numbers', 'This extension will display the revision number of neutron resources.'),
  ext('standard-attr-tag', 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip', 'Enables to set tag on resources with standard attribute.'),
  ext('standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.'),
  ext('stateful-security-group', 'Stateful security group', 'Indicates if the security group is stateful or not'),
  ext('subnet_allocation', 'Subnet Allocation', 'Enables allocation of subnets from a subnet pool'),
  ext('subnet_onboard', 'Subnet Onboard', 'Provides support for onboarding subnets into subnet pools'),
  ext('subnetpool-prefix-ops', 'Subnet Pool Prefix Operations', 'Provides support for adjusting the prefix list of subnet pools'),
];
