// The columns the `openstack` client (python3-openstackclient 6.0 on openstacksdk) shows for each resource. Show
// columns are the SDK resource's attributes under OSC's display names, sorted, with the API key each is read from;
// attributes the API does not return print as None, as they do there. Generated from the installed OSC/SDK and kept
// by hand since.
import type { Column, Formatter } from './format.js';

function c(col: { name: string; key?: string; fmt?: Formatter; int?: boolean }): Column {
  return { ...col, key: col.key ?? col.name };
}

export const NETWORK_SHOW: Column[] = [
  c({ name: 'admin_state_up', fmt: 'updown' }),
  c({ name: 'availability_zone_hints', fmt: 'list' }),
  c({ name: 'availability_zones', fmt: 'list' }),
  c({ name: 'created_at' }),
  c({ name: 'description' }),
  c({ name: 'dns_domain' }),
  c({ name: 'id' }),
  c({ name: 'ipv4_address_scope' }),
  c({ name: 'ipv6_address_scope' }),
  c({ name: 'is_default' }),
  c({ name: 'is_vlan_transparent', key: 'vlan_transparent' }),
  c({ name: 'mtu' }),
  c({ name: 'name' }),
  c({ name: 'port_security_enabled' }),
  c({ name: 'project_id' }),
  c({ name: 'provider:network_type' }),
  c({ name: 'provider:physical_network' }),
  c({ name: 'provider:segmentation_id' }),
  c({ name: 'qos_policy_id' }),
  c({ name: 'revision_number' }),
  c({ name: 'router:external', fmt: 'external' }),
  c({ name: 'segments' }),
  c({ name: 'shared' }),
  c({ name: 'status' }),
  c({ name: 'subnets', fmt: 'list' }),
  c({ name: 'tags', fmt: 'list' }),
  c({ name: 'updated_at' }),
];

export const SUBNET_SHOW: Column[] = [
  c({ name: 'allocation_pools', fmt: 'pools' }),
  c({ name: 'cidr' }),
  c({ name: 'created_at' }),
  c({ name: 'description' }),
  c({ name: 'dns_nameservers', fmt: 'list' }),
  c({ name: 'dns_publish_fixed_ip' }),
  c({ name: 'enable_dhcp' }),
  c({ name: 'gateway_ip' }),
  c({ name: 'host_routes', fmt: 'hostroutes' }),
  c({ name: 'id' }),
  c({ name: 'ip_version' }),
  c({ name: 'ipv6_address_mode' }),
  c({ name: 'ipv6_ra_mode' }),
  c({ name: 'name' }),
  c({ name: 'network_id' }),
  c({ name: 'project_id' }),
  c({ name: 'revision_number' }),
  c({ name: 'segment_id' }),
  c({ name: 'service_types', fmt: 'list' }),
  c({ name: 'subnetpool_id' }),
  c({ name: 'tags', fmt: 'list' }),
  c({ name: 'updated_at' }),
];

export const PORT_SHOW: Column[] = [
  c({ name: 'admin_state_up', fmt: 'updown' }),
  c({ name: 'allowed_address_pairs', fmt: 'listdict' }),
  c({ name: 'binding_host_id', key: 'binding:host_id' }),
  c({ name: 'binding_profile', key: 'binding:profile', fmt: 'dict' }),
  c({ name: 'binding_vif_details', key: 'binding:vif_details', fmt: 'dict' }),
  c({ name: 'binding_vif_type', key: 'binding:vif_type' }),
  c({ name: 'binding_vnic_type', key: 'binding:vnic_type' }),
  c({ name: 'created_at' }),
  c({ name: 'data_plane_status' }),
  c({ name: 'description' }),
  c({ name: 'device_id' }),
  c({ name: 'device_owner' }),
  c({ name: 'device_profile' }),
  c({ name: 'dns_assignment', fmt: 'listdict' }),
  c({ name: 'dns_domain' }),
  c({ name: 'dns_name' }),
  c({ name: 'extra_dhcp_opts', fmt: 'listdict' }),
  c({ name: 'fixed_ips', fmt: 'listdict' }),
  c({ name: 'id' }),
  c({ name: 'ip_allocation' }),
  c({ name: 'mac_address' }),
  c({ name: 'name' }),
  c({ name: 'network_id' }),
  c({ name: 'numa_affinity_policy' }),
  c({ name: 'port_security_enabled' }),
  c({ name: 'project_id' }),
  c({ name: 'propagate_uplink_status' }),
  c({ name: 'qos_network_policy_id' }),
  c({ name: 'qos_policy_id' }),
  c({ name: 'resource_request' }),
  c({ name: 'revision_number' }),
  c({ name: 'security_group_ids', key: 'security_groups', fmt: 'list' }),
  c({ name: 'status' }),
  c({ name: 'tags', fmt: 'list' }),
  c({ name: 'trunk_details' }),
  c({ name: 'updated_at' }),
];

export const ROUTER_SHOW: Column[] = [
  c({ name: 'admin_state_up', fmt: 'updown' }),
  c({ name: 'availability_zone_hints', fmt: 'list' }),
  c({ name: 'availability_zones', fmt: 'list' }),
  c({ name: 'created_at' }),
  c({ name: 'description' }),
  c({ name: 'distributed' }),
  c({ name: 'enable_ndp_proxy' }),
  c({ name: 'external_gateway_info', fmt: 'json' }),
  c({ name: 'flavor_id' }),
  c({ name: 'ha' }),
  c({ name: 'id' }),
  c({ name: 'interfaces_info', fmt: 'json' }),
  c({ name: 'name' }),
  c({ name: 'project_id' }),
  c({ name: 'revision_number' }),
  c({ name: 'routes', fmt: 'routes' }),
  c({ name: 'status' }),
  c({ name: 'tags', fmt: 'list' }),
  c({ name: 'tenant_id' }),
  c({ name: 'updated_at' }),
];

export const SUBNET_POOL_SHOW: Column[] = [
  c({ name: 'address_scope_id' }),
  c({ name: 'created_at' }),
  c({ name: 'default_prefixlen', int: true }),
  c({ name: 'default_quota', int: true }),
  c({ name: 'description' }),
  c({ name: 'id' }),
  c({ name: 'ip_version' }),
  c({ name: 'is_default' }),
  c({ name: 'max_prefixlen', int: true }),
  c({ name: 'min_prefixlen', int: true }),
  c({ name: 'name' }),
  c({ name: 'prefixes', fmt: 'list' }),
  c({ name: 'project_id' }),
  c({ name: 'revision_number' }),
  c({ name: 'shared' }),
  c({ name: 'tags', fmt: 'list' }),
  c({ name: 'updated_at' }),
];

export const ADDRESS_SCOPE_SHOW: Column[] = [
  c({ name: 'id' }),
  c({ name: 'ip_version' }),
  c({ name: 'name' }),
  c({ name: 'project_id' }),
  c({ name: 'shared' }),
];

export const SECURITY_GROUP_SHOW: Column[] = [
  c({ name: 'created_at' }),
  c({ name: 'description' }),
  c({ name: 'id' }),
  c({ name: 'name' }),
  c({ name: 'project_id', key: 'project_id' }),
  c({ name: 'revision_number' }),
  c({ name: 'rules', key: 'security_group_rules', fmt: 'sgrules' }),
  c({ name: 'stateful' }),
  c({ name: 'tags' }),
  c({ name: 'updated_at' }),
];

export const SECURITY_GROUP_RULE_SHOW: Column[] = [
  c({ name: 'created_at' }),
  c({ name: 'description' }),
  c({ name: 'direction' }),
  c({ name: 'ether_type', key: 'ethertype' }),
  c({ name: 'id' }),
  c({ name: 'name' }),
  c({ name: 'port_range_max' }),
  c({ name: 'port_range_min' }),
  c({ name: 'project_id' }),
  c({ name: 'protocol' }),
  c({ name: 'remote_address_group_id' }),
  c({ name: 'remote_group_id' }),
  c({ name: 'remote_ip_prefix' }),
  c({ name: 'revision_number' }),
  c({ name: 'security_group_id' }),
  c({ name: 'tags' }),
  c({ name: 'updated_at' }),
];

// ------------------------------------------------------------------------------------------------ list columns

export const NETWORK_LIST: Column[] = [c({ name: 'ID', key: 'id' }), c({ name: 'Name', key: 'name' }), c({ name: 'Subnets', key: 'subnets', fmt: 'list' })];
export const NETWORK_LIST_LONG: Column[] = [
  c({ name: 'ID', key: 'id' }),
  c({ name: 'Name', key: 'name' }),
  c({ name: 'Status', key: 'status' }),
  c({ name: 'Project', key: 'project_id' }),
  c({ name: 'State', key: 'admin_state_up', fmt: 'updown' }),
  c({ name: 'Shared', key: 'shared' }),
  c({ name: 'Subnets', key: 'subnets', fmt: 'list' }),
  c({ name: 'Network Type', key: 'provider:network_type' }),
  c({ name: 'Router Type', key: 'router:external', fmt: 'external' }),
  c({ name: 'Availability Zones', key: 'availability_zones', fmt: 'list' }),
  c({ name: 'Tags', key: 'tags', fmt: 'list' }),
];

export const SUBNET_LIST: Column[] = [
  c({ name: 'ID', key: 'id' }),
  c({ name: 'Name', key: 'name' }),
  c({ name: 'Network', key: 'network_id' }),
  c({ name: 'Subnet', key: 'cidr' }),
];
export const SUBNET_LIST_LONG: Column[] = [
  ...SUBNET_LIST,
  c({ name: 'Project', key: 'project_id' }),
  c({ name: 'DHCP', key: 'enable_dhcp' }),
  c({ name: 'Name Servers', key: 'dns_nameservers', fmt: 'list' }),
  c({ name: 'Allocation Pools', key: 'allocation_pools', fmt: 'pools' }),
  c({ name: 'Host Routes', key: 'host_routes', fmt: 'hostroutes' }),
  c({ name: 'IP Version', key: 'ip_version' }),
  c({ name: 'Gateway', key: 'gateway_ip' }),
  c({ name: 'Service Types', key: 'service_types', fmt: 'list' }),
  c({ name: 'Tags', key: 'tags', fmt: 'list' }),
];

export const PORT_LIST: Column[] = [
  c({ name: 'ID', key: 'id' }),
  c({ name: 'Name', key: 'name' }),
  c({ name: 'MAC Address', key: 'mac_address' }),
  c({ name: 'Fixed IP Addresses', key: 'fixed_ips', fmt: 'listdict' }),
  c({ name: 'Status', key: 'status' }),
];
export const PORT_LIST_LONG: Column[] = [
  ...PORT_LIST,
  c({ name: 'Security Groups', key: 'security_groups', fmt: 'list' }),
  c({ name: 'Device Owner', key: 'device_owner' }),
  c({ name: 'Tags', key: 'tags', fmt: 'list' }),
];

export const ROUTER_LIST: Column[] = [
  c({ name: 'ID', key: 'id' }),
  c({ name: 'Name', key: 'name' }),
  c({ name: 'Status', key: 'status' }),
  c({ name: 'State', key: 'admin_state_up', fmt: 'updown' }),
  c({ name: 'Project', key: 'project_id' }),
];
export const ROUTER_LIST_DISTRIBUTED = c({ name: 'Distributed', key: 'distributed' });
export const ROUTER_LIST_HA = c({ name: 'HA', key: 'ha' });
export const ROUTER_LIST_LONG_EXTRA: Column[] = [
  c({ name: 'Routes', key: 'routes', fmt: 'routes' }),
  c({ name: 'External gateway info', key: 'external_gateway_info', fmt: 'json' }),
];
export const ROUTER_LIST_AZ = c({ name: 'Availability zones', key: 'availability_zones', fmt: 'list' });
export const ROUTER_LIST_TAGS = c({ name: 'Tags', key: 'tags', fmt: 'list' });

export const SUBNET_POOL_LIST: Column[] = [c({ name: 'ID', key: 'id' }), c({ name: 'Name', key: 'name' }), c({ name: 'Prefixes', key: 'prefixes', fmt: 'list' })];
export const SUBNET_POOL_LIST_LONG: Column[] = [
  ...SUBNET_POOL_LIST,
  c({ name: 'Default Prefix Length', key: 'default_prefixlen', int: true }),
  c({ name: 'Address Scope', key: 'address_scope_id' }),
  c({ name: 'Default Subnet Pool', key: 'is_default' }),
  c({ name: 'Shared', key: 'shared' }),
  c({ name: 'Tags', key: 'tags', fmt: 'list' }),
];

export const ADDRESS_SCOPE_LIST: Column[] = [
  c({ name: 'ID', key: 'id' }),
  c({ name: 'Name', key: 'name' }),
  c({ name: 'IP Version', key: 'ip_version' }),
  c({ name: 'Shared', key: 'shared' }),
  c({ name: 'Project', key: 'project_id' }),
];

export const SECURITY_GROUP_LIST: Column[] = [
  c({ name: 'ID', key: 'id' }),
  c({ name: 'Name', key: 'name' }),
  c({ name: 'Description', key: 'description' }),
  c({ name: 'Project', key: 'project_id' }),
  c({ name: 'Tags', key: 'tags' }),
];

/** Rule rows carry the derived port_range and the ::/0 or 0.0.0.0/0 remote prefix (see securityGroupRuleRow). */
export const SECURITY_GROUP_RULE_LIST: Column[] = [
  c({ name: 'ID', key: 'id' }),
  c({ name: 'IP Protocol', key: 'protocol' }),
  c({ name: 'Ethertype', key: 'ethertype' }),
  c({ name: 'IP Range', key: 'remote_ip_prefix' }),
  c({ name: 'Port Range', key: 'port_range' }),
  c({ name: 'Direction', key: 'direction' }),
  c({ name: 'Remote Security Group', key: 'remote_group_id' }),
  c({ name: 'Remote Address Group', key: 'remote_address_group_id' }),
];
export const SECURITY_GROUP_RULE_LIST_GROUP = c({ name: 'Security Group', key: 'security_group_id' });

export const AGENT_LIST: Column[] = [
  c({ name: 'ID', key: 'id' }),
  c({ name: 'Agent Type', key: 'agent_type' }),
  c({ name: 'Host', key: 'host' }),
  c({ name: 'Availability Zone', key: 'availability_zone' }),
  c({ name: 'Alive', key: 'alive', fmt: 'alive' }),
  c({ name: 'State', key: 'admin_state_up', fmt: 'updown' }),
  c({ name: 'Binary', key: 'binary' }),
];

/** python-openstackclient's `availability zone list` columns (network zones: name, state, resource). */
export const AVAILABILITY_ZONE_LIST: Column[] = [c({ name: 'Zone Name', key: 'name' }), c({ name: 'Zone Status', key: 'state' })];
export const AVAILABILITY_ZONE_LIST_LONG: Column[] = [...AVAILABILITY_ZONE_LIST, c({ name: 'Zone Resource', key: 'resource' })];

export const EXTENSION_LIST: Column[] = [c({ name: 'Name', key: 'name' }), c({ name: 'Alias', key: 'alias' }), c({ name: 'Description', key: 'description' })];
export const EXTENSION_LIST_LONG: Column[] = [
  ...EXTENSION_LIST,
  c({ name: 'Namespace', key: 'namespace' }),
  c({ name: 'Updated', key: 'updated' }),
  c({ name: 'Links', key: 'links' }),
];

/** OSC's port range text: '22:23', '80:80', 'type=3:code=0' for ICMP, '' for none. */
export function portRange(rule: Record<string, unknown>): string {
  const min = rule.port_range_min as number | null | undefined;
  const max = rule.port_range_max as number | null | undefined;
  const proto = rule.protocol == null ? null : String(rule.protocol);
  if (proto !== null && ['icmp', 'icmpv6', 'ipv6-icmp', '1', '58'].includes(proto)) {
    let s = '';
    if (min) s += `type=${min}`;
    if (max) s += `:code=${max}`;
    return s;
  }
  if (!min && !max) return '';
  return `${min ?? max}:${max ?? min}`;
}

/** A rule as `security group rule list` shows it: derived port range, any-address prefix for the ethertype. */
export function securityGroupRuleRow(rule: Record<string, unknown>): Record<string, unknown> {
  let remote = rule.remote_ip_prefix ?? null;
  if (remote === null) remote = rule.ethertype === 'IPv4' ? '0.0.0.0/0' : rule.ethertype === 'IPv6' ? '::/0' : null;
  return { ...rule, port_range: portRange(rule), remote_ip_prefix: remote };
}
