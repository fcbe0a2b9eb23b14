// A user's mistake is a 4xx in Neutron's shape, never a 500. This throws deterministic garbage (wrong types, nulls,
// nested junk, unknown ids) at every attribute of every writable resource and every member action, and checks
// each answer: below 500, with a NeutronError body when it is an error.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Api } from '../helpers/v6stack.js';

const JUNK: unknown[] = [
  null, true, 0, -1, 1.5, 2 ** 53, '', 'x', ' ', '::', '2001:db8::/64', '10.0.0.0/33', 'fa:16:3e:zz:00:00',
  [], [null], ['x'], [{}], [{ start: 'a', end: 'b' }], {}, { a: 1 }, { network_id: 5 }, [[1]],
  '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
];

const ATTRS: Record<string, string[]> = {
  networks: ['name', 'admin_state_up', 'shared', 'router:external', 'mtu', 'provider:network_type', 'provider:physical_network', 'provider:segmentation_id', 'port_security_enabled', 'availability_zone_hints', 'description'],
  subnets: ['ip_version', 'cidr', 'gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes', 'enable_dhcp', 'ipv6_ra_mode', 'ipv6_address_mode', 'subnetpool_id', 'prefixlen', 'use_default_subnetpool', 'service_types', 'segment_id'],
  ports: ['mac_address', 'fixed_ips', 'device_id', 'device_owner', 'security_groups', 'allowed_address_pairs', 'binding:host_id', 'binding:profile', 'binding:vnic_type', 'port_security_enabled', 'extra_dhcp_opts', 'admin_state_up'],
  routers: ['external_gateway_info', 'routes', 'ha', 'distributed', 'admin_state_up', 'availability_zone_hints', 'flavor_id'],
  subnetpools: ['prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'default_quota', 'address_scope_id', 'is_default', 'shared'],
  'address-scopes': ['ip_version', 'shared'],
  'security-groups': ['stateful'],
  'security-group-rules': ['security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id'],
};

const SINGULAR: Record<string, string> = {
  networks: 'network', subnets: 'subnet', ports: 'port', routers: 'router', subnetpools: 'subnetpool',
  'address-scopes': 'address_scope', 'security-groups': 'security_group', 'security-group-rules': 'security_group_rule',
};

describe('no 500 for bad input', () => {
  let api: Api;
  const base: Record<string, Record<string, unknown>> = {};
  const existing: Record<string, string> = {};
  const faults: string[] = [];

  before(async () => {
    api = await startApi('sqlite');
    const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'n', 'router:external': true } })).body.network;
    const subnet = (
      await api.request('POST', '/v2.0/subnets', {
        subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:1::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
      })
    ).body.subnet;
    const port = (await api.request('POST', '/v2.0/ports', { port: { network_id: net.id } })).body.port;
    const router = (await api.request('POST', '/v2.0/routers', { router: { name: 'r' } })).body.router;
    const scope = (await api.request('POST', '/v2.0/address-scopes', { address_scope: { name: 's', ip_version: 6 } })).body.address_scope;
    const pool = (await api.request('POST', '/v2.0/subnetpools', { subnetpool: { name: 'p', prefixes: ['2001:db8:f::/48'], default_prefixlen: 64 } })).body.subnetpool;
    const sg = (await api.request('POST', '/v2.0/security-groups', { security_group: { name: 'g' } })).body.security_group;
    Object.assign(existing, { networks: net.id, subnets: subnet.id, ports: port.id, routers: router.id, subnetpools: pool.id, 'address-scopes': scope.id, 'security-groups': sg.id });
    Object.assign(base, {
      networks: { name: 'x' },
      subnets: { network_id: net.id, ip_version: 6, cidr: '2001:db8:2::/64' },
      ports: { network_id: net.id },
      routers: { name: 'x' },
      subnetpools: { name: 'x', prefixes: ['2001:db8:e::/48'] },
      'address-scopes': { name: 'x', ip_version: 6 },
      'security-groups': { name: 'x' },
      'security-group-rules': { security_group_id: sg.id, direction: 'ingress' },
    });
  });
  after(async () => api.close());

  const check = async (method: string, path: string, body: unknown): Promise<void> => {
    const r = await api.request(method, path, body);
    if (r.status >= 500) faults.push(`${method} ${path} ${JSON.stringify(body)} -> ${r.status} ${JSON.stringify(r.body)}`);
    else if (r.status >= 400) assert.ok(r.body?.NeutronError?.type, `${method} ${path} ${JSON.stringify(body)}: no NeutronError`);
  };

  it('survives every junk value in every attribute on create and update', async () => {
    for (const [plural, attrs] of Object.entries(ATTRS)) {
      const singular = SINGULAR[plural]!;
      for (const attr of attrs) {
        for (const junk of JUNK) {
          await check('POST', `/v2.0/${plural}`, { [singular]: { ...base[plural], [attr]: junk } });
          if (existing[plural]) await check('PUT', `/v2.0/${plural}/${existing[plural]}`, { [singular]: { [attr]: junk } });
        }
      }
    }
    assert.deepEqual(faults, []);
  });

  it('survives junk bodies, envelopes and member actions', async () => {
    for (const body of ['', '[]', 'null', '"x"', '{"network": []}', '{"network": null}', '{"networks": [1]}', '{"networks": {}}']) {
      await check('POST', '/v2.0/networks', body);
    }
    for (const action of ['add_router_interface', 'remove_router_interface']) {
      for (const junk of JUNK) {
        await check('PUT', `/v2.0/routers/${existing.routers}/${action}`, { subnet_id: junk });
        await check('PUT', `/v2.0/routers/${existing.routers}/${action}`, { port_id: junk });
      }
      await check('PUT', `/v2.0/routers/${existing.routers}/${action}`, 'junk');
    }
    for (const junk of JUNK) await check('PUT', `/v2.0/subnetpools/${existing.subnetpools}/add_prefixes`, { prefixes: junk });
    for (const junk of JUNK) await check('PUT', `/v2.0/networks/${existing.networks}/tags`, { tags: junk });
    for (const q of ['limit=-1', 'marker=x&limit=1', 'sort_key=name&sort_dir=x', 'page_reverse=maybe', 'fields=', 'fixed_ips=x']) {
      await check('GET', `/v2.0/ports?${q}`, undefined);
    }
    assert.deepEqual(faults, []);
  });
});
