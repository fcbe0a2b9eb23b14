// `subnet create|list|show|set|unset|delete`, as `openstack subnet ...`.
import { Option, type Command } from 'commander';
import { collect, integer, isCleared, keyValueList, toRoutes, valuesOf, type ListOption } from '../args.js';
import type { OutputOptions } from '../format.js';
import { CliError, NETWORK, SUBNET, SUBNET_POOL, type Body } from '../http.js';
import { SUBNET_LIST, SUBNET_LIST_LONG, SUBNET_SHOW } from '../views.js';
import { applyTags, clientOf, deleteMany, printList, printOne, removeTags, updateTags, withOutput, withTags } from './common.js';
import { IPV6_MODES } from '../../domain/ipv6/index.js';

type KV = Record<string, string>;

interface SubnetOpts extends OutputOptions {
  name?: string;
  network?: string;
  ipVersion?: string;
  subnetRange?: string;
  ipv6RaMode?: string;
  ipv6AddressMode?: string;
  allocationPool?: ListOption<KV> | false;
  dnsNameserver?: ListOption<string>;
  dnsNameservers?: boolean; // --no-dns-nameservers
  hostRoute?: ListOption<KV> | false;
  gateway?: string;
  dhcp?: boolean;
  subnetPool?: string;
  useDefaultSubnetPool?: boolean;
  usePrefixDelegation?: boolean;
  prefixLength?: number;
  description?: string;
  serviceType?: ListOption<string>;
  tag?: ListOption<string> | false;
}

function pools(entries: KV[]): { start: string; end: string }[] {
  return entries.map((e) => ({ start: e.start!, end: e.end! }));
}

/** Attributes both create and set send; `gateway auto` means "leave it to the server" and is create-only. */
function commonAttrs(o: SubnetOpts, isCreate: boolean): Body {
  const attrs: Body = {};
  if (o.gateway !== undefined) {
    const gw = o.gateway.toLowerCase();
    if (gw === 'auto' && !isCreate) throw new CliError('Auto option is not available for Subnet Set. Valid options are <ip-address> or none');
    if (gw === 'none') attrs.gateway_ip = null;
    else if (gw !== 'auto') attrs.gateway_ip = gw;
  }
  if (o.dhcp !== undefined) attrs.enable_dhcp = o.dhcp;
  if (o.description !== undefined) attrs.description = o.description;
  return attrs;
}

function sharedOptions(cmd: Command): Command {
  return cmd
    .option('--allocation-pool <start=ip-address,end=ip-address>', 'allocation pool IP addresses for this subnet (repeat option to add multiple IP addresses)', keyValueList(['start', 'end']))
    .option('--dns-nameserver <dns-nameserver>', 'DNS server for this subnet (repeat option to set multiple DNS servers)', collect)
    .option('--host-route <destination=subnet,gateway=ip-address>', 'additional route for this subnet (repeat option to set multiple host routes)', keyValueList(['destination', 'gateway']))
    .option('--gateway <gateway>', "gateway: <ip-address> for a specific address, 'auto' (create only) for the server's choice, 'none' for no gateway")
    .option('--dhcp', 'enable DHCP (default)')
    .option('--no-dhcp', 'disable DHCP')
    .option('--service-type <service-type>', 'service type for this subnet (repeat option to set multiple service types)', collect)
    .option('--description <description>', 'set subnet description');
}

export function registerSubnetCommands(subnet: Command): void {
  withTags(
    withOutput(
      sharedOptions(
        subnet
          .command('create')
          .description('create a subnet')
          .argument('<name>', 'new subnet name')
          .requiredOption('--network <network>', 'network this subnet belongs to (name or ID)')
          .option('--subnet-range <subnet-range>', 'subnet range in CIDR notation (required if --subnet-pool is not specified)')
          .addOption(new Option('--ip-version <ip-version>', 'IP version (default is 4, or 6 when --subnet-range is an IPv6 prefix)').choices(['4', '6']))
          .addOption(new Option('--ipv6-ra-mode <ipv6-ra-mode>', 'IPv6 RA (Router Advertisement) mode').choices(IPV6_MODES))
          .addOption(new Option('--ipv6-address-mode <ipv6-address-mode>', 'IPv6 address mode').choices(IPV6_MODES))
          .option('--subnet-pool <subnet-pool>', 'subnet pool from which this subnet will obtain a CIDR (name or ID)')
          .option('--use-default-subnet-pool', 'use default subnet pool for --ip-version')
          .option('--use-prefix-delegation', 'use prefix delegation (IPv6): the prefix is delegated externally')
          .option('--prefix-length <prefix-length>', 'prefix length for subnet allocation from subnet pool', integer('--prefix-length')),
      ),
    ),
  ).action(async (name: string, o: SubnetOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const attrs: Body = { name, network_id: await client.findId(NETWORK, o.network!) };
    let ipVersion = o.ipVersion ? Number(o.ipVersion) : undefined;
    if (o.subnetPool !== undefined) {
      const pool = await client.find(SUBNET_POOL, o.subnetPool);
      attrs.subnetpool_id = pool.id;
      ipVersion ??= Number(pool.ip_version);
    }
    if (o.usePrefixDelegation) attrs.subnetpool_id = 'prefix_delegation';
    if (o.useDefaultSubnetPool) attrs.use_default_subnetpool = true;
    if (o.prefixLength !== undefined) attrs.prefixlen = o.prefixLength;
    if (o.subnetRange !== undefined) {
      attrs.cidr = o.subnetRange;
      ipVersion ??= o.subnetRange.includes(':') ? 6 : 4;
    }
    if (o.usePrefixDelegation || o.ipv6RaMode || o.ipv6AddressMode) ipVersion ??= 6;
    // the openstack client always sends an ip_version (default 4); the range or pool decides it here when not given
    attrs.ip_version = ipVersion ?? 4;
    if (o.ipv6RaMode) attrs.ipv6_ra_mode = o.ipv6RaMode;
    if (o.ipv6AddressMode) attrs.ipv6_address_mode = o.ipv6AddressMode;
    Object.assign(attrs, commonAttrs(o, true));
    if (o.allocationPool) attrs.allocation_pools = pools(valuesOf(o.allocationPool));
    if (o.dnsNameserver) attrs.dns_nameservers = valuesOf(o.dnsNameserver);
    if (o.hostRoute) attrs.host_routes = toRoutes(valuesOf(o.hostRoute));
    if (o.serviceType) attrs.service_types = valuesOf(o.serviceType);
    const created = await client.create(SUBNET, attrs);
    printOne(SUBNET_SHOW, await applyTags(client, SUBNET, created, valuesOf(o.tag || undefined)), o);
  });

  withOutput(
    subnet
      .command('list')
      .description('list subnets')
      .option('--long', 'list additional fields in output')
      .addOption(new Option('--ip-version <ip-version>', 'list only subnets of given IP version in output').choices(['4', '6']))
      .option('--dhcp', 'list subnets which have DHCP enabled')
      .option('--no-dhcp', 'list subnets which have DHCP disabled')
      .option('--network <network>', 'list only subnets which belong to a given network (name or ID)')
      .option('--gateway <gateway>', 'list only subnets of a given gateway IP')
      .option('--name <name>', 'list only subnets of a given name')
      .option('--subnet-range <subnet-range>', 'list only subnets of a given subnet range (in CIDR notation)')
      .option('--subnet-pool <subnet-pool>', 'list only subnets which belong to a given subnet pool (name or ID)')
      .addOption(new Option('--ipv6-ra-mode <ipv6-ra-mode>', 'list only subnets of a given IPv6 RA mode').choices(IPV6_MODES))
      .addOption(new Option('--ipv6-address-mode <ipv6-address-mode>', 'list only subnets of a given IPv6 address mode').choices(IPV6_MODES)),
  ).action(async (o: SubnetOpts & { long?: boolean }, cmd: Command) => {
    const client = clientOf(cmd);
    const q: Record<string, string | boolean | undefined> = {
      ip_version: o.ipVersion,
      enable_dhcp: o.dhcp,
      gateway_ip: o.gateway,
      name: o.name,
      cidr: o.subnetRange,
      ipv6_ra_mode: o.ipv6RaMode,
      ipv6_address_mode: o.ipv6AddressMode,
    };
    if (o.network) q.network_id = await client.findId(NETWORK, o.network);
    if (o.subnetPool) q.subnetpool_id = await client.findId(SUBNET_POOL, o.subnetPool);
    printList(o.long ? SUBNET_LIST_LONG : SUBNET_LIST, await client.list(SUBNET, q), o);
  });

  withOutput(subnet.command('show').description('display subnet details').argument('<subnet>', 'subnet to display (name or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      printOne(SUBNET_SHOW, await clientOf(cmd).find(SUBNET, name), o);
    },
  );

  withTags(
    sharedOptions(subnet.command('set').description('set subnet properties').argument('<subnet>', 'subnet to modify (name or ID)'))
      .option('--name <name>', 'updated name of the subnet')
      .option('--no-allocation-pool', 'clear associated allocation-pools from the subnet; specify both --allocation-pool and --no-allocation-pool to overwrite')
      .option('--no-dns-nameservers', 'clear existing information of DNS nameservers; specify both --dns-nameserver and --no-dns-nameservers to overwrite')
      .option('--no-host-route', 'clear associated host-routes from the subnet; specify both --host-route and --no-host-route to overwrite'),
    true,
  ).action(async (name: string, o: SubnetOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const sub = await client.find(SUBNET, name);
    const attrs = commonAttrs(o, false);
    if (o.name !== undefined) attrs.name = o.name;
    // set adds to what the subnet has; the --no-X twin starts from empty (as the openstack client does)
    if (o.allocationPool !== undefined) {
      attrs.allocation_pools = [...(isCleared(o.allocationPool) ? [] : sub.allocation_pools ?? []), ...pools(valuesOf(o.allocationPool))];
    }
    if (o.dnsNameserver !== undefined || o.dnsNameservers === false) {
      attrs.dns_nameservers = [...(o.dnsNameservers === false ? [] : sub.dns_nameservers ?? []), ...valuesOf(o.dnsNameserver)];
    }
    if (o.hostRoute !== undefined) {
      attrs.host_routes = [...(isCleared(o.hostRoute) ? [] : sub.host_routes ?? []), ...toRoutes(valuesOf(o.hostRoute))];
    }
    if (o.serviceType) attrs.service_types = [...(sub.service_types ?? []), ...valuesOf(o.serviceType)];
    if (Object.keys(attrs).length) await client.update(SUBNET, sub.id, attrs);
    await updateTags(client, SUBNET, sub, o);
  });

  subnet
    .command('unset')
    .description('unset subnet properties')
    .argument('<subnet>', 'subnet to modify (name or ID)')
    .option('--allocation-pool <start=ip-address,end=ip-address>', 'allocation pool IP addresses to be removed from this subnet (repeat option to unset multiple allocation pools)', keyValueList(['start', 'end']))
    .option('--dns-nameserver <dns-nameserver>', 'DNS server to be removed from this subnet (repeat option to unset multiple DNS servers)', collect)
    .option('--host-route <destination=subnet,gateway=ip-address>', 'route to be removed from this subnet (repeat option to unset multiple host routes)', keyValueList(['destination', 'gateway']))
    .option('--service-type <service-type>', 'service type to be removed from this subnet (repeat option to unset multiple service types)', collect)
    .option('--tag <tag>', 'tag to be removed from the subnet (repeat option to remove multiple tags)', collect)
    .option('--all-tag', 'clear all tags associated with the subnet')
    .action(async (name: string, o: SubnetOpts & { allTag?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      const sub = await client.find(SUBNET, name);
      const attrs: Body = {};
      const remove = <T>(current: T[], items: T[], option: string, show: (x: T) => string, same: (a: T, b: T) => boolean): T[] => {
        const left = [...current];
        for (const item of items) {
          const i = left.findIndex((x) => same(x, item));
          if (i < 0) throw new CliError(`Subnet does not contain ${option} ${show(item)}`);
          left.splice(i, 1);
        }
        return left;
      };
      const dictShow = (d: object): string => '{' + Object.entries(d).map(([k, v]) => `'${k}': '${v}'`).join(', ') + '}';
      if (o.dnsNameserver) attrs.dns_nameservers = remove<string>(sub.dns_nameservers ?? [], valuesOf(o.dnsNameserver), 'dns-nameserver', String, (a, b) => a === b);
      if (o.hostRoute) {
        attrs.host_routes = remove<{ destination: string; nexthop: string }>(sub.host_routes ?? [], toRoutes(valuesOf(o.hostRoute)), 'host-route', dictShow, (a, b) => a.destination === b.destination && a.nexthop === b.nexthop);
      }
      if (o.allocationPool) {
        attrs.allocation_pools = remove<{ start: string; end: string }>(sub.allocation_pools ?? [], pools(valuesOf(o.allocationPool)), 'allocation-pool', dictShow, (a, b) => a.start === b.start && a.end === b.end);
      }
      if (o.serviceType) attrs.service_types = remove<string>(sub.service_types ?? [], valuesOf(o.serviceType), 'service-type', String, (a, b) => a === b);
      if (Object.keys(attrs).length) await client.update(SUBNET, sub.id, attrs);
      await removeTags(client, SUBNET, sub, { tag: valuesOf(o.tag || undefined), allTag: o.allTag });
    });

  subnet
    .command('delete')
    .description('delete subnet(s)')
    .argument('<subnet...>', 'subnet(s) to delete (name or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      await deleteMany(clientOf(cmd), SUBNET, 'subnet', 'subnets', names);
    });
}
