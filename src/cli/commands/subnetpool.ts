// `subnet pool create|list|show|set|unset|delete|onboard` and `address scope create|list|show|set|delete`, as the openstack client.
import { Option, type Command } from 'commander';
import { collect, integer, valuesOf, type ListOption } from '../args.js';
import type { OutputOptions } from '../format.js';
import { ADDRESS_SCOPE, CliError, NETWORK, SUBNET_POOL, type Body } from '../http.js';
import { ADDRESS_SCOPE_LIST, ADDRESS_SCOPE_SHOW, SUBNET_POOL_LIST, SUBNET_POOL_LIST_LONG, SUBNET_POOL_SHOW } from '../views.js';
import { applyTags, clientOf, deleteMany, printList, printOne, removeTags, updateTags, withOutput, withTags } from './common.js';

interface PoolOpts extends OutputOptions {
  name?: string;
  poolPrefix?: ListOption<string>;
  defaultPrefixLength?: number;
  minPrefixLength?: number;
  maxPrefixLength?: number;
  addressScope?: string | false;
  default?: boolean;
  share?: boolean;
  description?: string;
  defaultQuota?: number;
  tag?: ListOption<string> | false;
}

function poolOptions(cmd: Command): Command {
  return cmd
    .option('--pool-prefix <pool-prefix>', 'set subnet pool prefixes (in CIDR notation) (repeat option to set multiple prefixes)', collect)
    .option('--default-prefix-length <default-prefix-length>', 'set subnet pool default prefix length', integer('--default-prefix-length'))
    .option('--min-prefix-length <min-prefix-length>', 'set subnet pool minimum prefix length', integer('--min-prefix-length'))
    .option('--max-prefix-length <max-prefix-length>', 'set subnet pool maximum prefix length', integer('--max-prefix-length'))
    .option('--address-scope <address-scope>', 'set address scope associated with the subnet pool (name or ID); prefixes must be unique across address scopes')
    .option('--default', 'set this as a default subnet pool')
    .option('--no-default', 'set this as a non-default subnet pool')
    .option('--description <description>', 'set subnet pool description')
    .option('--default-quota <num-ip-addresses>', 'set default per-project quota for this subnet pool as the number of IP addresses that can be allocated from the subnet pool', integer('--default-quota'));
}

async function poolAttrs(cmd: Command, o: PoolOpts): Promise<Body> {
  const attrs: Body = {};
  if (o.name !== undefined) attrs.name = o.name;
  if (o.defaultPrefixLength !== undefined) attrs.default_prefixlen = o.defaultPrefixLength;
  if (o.minPrefixLength !== undefined) attrs.min_prefixlen = o.minPrefixLength;
  if (o.maxPrefixLength !== undefined) attrs.max_prefixlen = o.maxPrefixLength;
  if (typeof o.addressScope === 'string') attrs.address_scope_id = await clientOf(cmd).findId(ADDRESS_SCOPE, o.addressScope);
  if (o.addressScope === false) attrs.address_scope_id = null;
  if (o.default !== undefined) attrs.is_default = o.default;
  if (o.share !== undefined) attrs.shared = o.share;
  if (o.description !== undefined) attrs.description = o.description;
  if (o.defaultQuota !== undefined) attrs.default_quota = o.defaultQuota;
  return attrs;
}

export function registerSubnetPoolCommands(pool: Command): void {
  withTags(
    withOutput(
      poolOptions(pool.command('create').description('create subnet pool').argument('<name>', 'name of the new subnet pool'))
        .option('--share', 'set this subnet pool as shared')
        .option('--no-share', 'set this subnet pool as not shared'),
    ),
  ).action(async (name: string, o: PoolOpts, cmd: Command) => {
    if (!o.poolPrefix) throw new CliError('the following arguments are required: --pool-prefix');
    const client = clientOf(cmd);
    const attrs = { ...(await poolAttrs(cmd, o)), name, prefixes: valuesOf(o.poolPrefix) };
    const created = await client.create(SUBNET_POOL, attrs);
    printOne(SUBNET_POOL_SHOW, await applyTags(client, SUBNET_POOL, created, valuesOf(o.tag || undefined)), o);
  });

  withOutput(
    pool
      .command('list')
      .description('list subnet pools')
      .option('--long', 'list additional fields in output')
      .option('--share', 'list subnet pools shared between projects')
      .option('--no-share', 'list subnet pools not shared between projects')
      .option('--default', 'list subnet pools used as the default external subnet pool')
      .option('--no-default', 'list subnet pools not used as the default external subnet pool')
      .option('--name <name>', 'list only subnet pools of given name in output')
      .option('--address-scope <address-scope>', 'list only subnet pools of given address scope in output (name or ID)'),
  ).action(async (o: PoolOpts & { long?: boolean }, cmd: Command) => {
    const client = clientOf(cmd);
    const q: Record<string, string | boolean | undefined> = { shared: o.share, is_default: o.default, name: o.name };
    if (typeof o.addressScope === 'string') q.address_scope_id = await client.findId(ADDRESS_SCOPE, o.addressScope);
    printList(o.long ? SUBNET_POOL_LIST_LONG : SUBNET_POOL_LIST, await client.list(SUBNET_POOL, q), o);
  });

  withOutput(pool.command('show').description('display subnet pool details').argument('<subnet-pool>', 'subnet pool to display (name or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      printOne(SUBNET_POOL_SHOW, await clientOf(cmd).find(SUBNET_POOL, name), o);
    },
  );

  withTags(
    poolOptions(pool.command('set').description('set subnet pool properties').argument('<subnet-pool>', 'subnet pool to modify (name or ID)'))
      .option('--name <name>', 'set subnet pool name')
      .option('--no-address-scope', 'remove address scope associated with the subnet pool'),
    true,
  ).action(async (name: string, o: PoolOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const p = await client.find(SUBNET_POOL, name);
    const attrs = await poolAttrs(cmd, o);
    // prefixes are added to the pool's (a pool cannot shrink)
    if (o.poolPrefix) attrs.prefixes = [...new Set([...(p.prefixes ?? []), ...valuesOf(o.poolPrefix)])];
    if (Object.keys(attrs).length) await client.update(SUBNET_POOL, p.id, attrs);
    await updateTags(client, SUBNET_POOL, p, o);
  });

  pool
    .command('unset')
    .description('unset subnet pool properties')
    .argument('<subnet-pool>', 'subnet pool to modify (name or ID)')
    .option('--tag <tag>', 'tag to be removed from the subnet pool (repeat option to remove multiple tags)', collect)
    .option('--all-tag', 'clear all tags associated with the subnet pool')
    .option('--pool-prefix <pool-prefix>', 'remove a prefix from the subnet pool (repeat option to remove multiple prefixes); refused while a subnet uses it', collect)
    .action(async (name: string, o: { tag?: string[]; allTag?: boolean; poolPrefix?: ListOption<string> }, cmd: Command) => {
      const client = clientOf(cmd);
      const p = await client.find(SUBNET_POOL, name);
      // remove_prefixes (subnetpool-prefix-ops): a PUT of a shorter list is refused, as Neutron refuses it.
      if (o.poolPrefix) await client.action(SUBNET_POOL, p.id, 'remove_prefixes', { prefixes: valuesOf(o.poolPrefix) });
      await removeTags(client, SUBNET_POOL, p, o);
    });

  pool
    .command('onboard')
    .description("move a network's subnets of the pool's IP version into the subnet pool (Neutron's onboard_network_subnets)")
    .argument('<subnet-pool>', 'subnet pool to onboard into (name or ID)')
    .requiredOption('--network <network>', 'network whose subnets are onboarded (name or ID)')
    .action(async (name: string, o: { network: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const p = await client.find(SUBNET_POOL, name);
      const networkId = await client.findId(NETWORK, o.network);
      const answer = await client.action(SUBNET_POOL, p.id, 'onboard_network_subnets', { network_id: networkId });
      for (const s of (answer as unknown as { id: string; cidr: string }[] | null) ?? []) console.log(`${s.id} ${s.cidr}`);
    });

  pool
    .command('delete')
    .description('delete subnet pool(s)')
    .argument('<subnet-pool...>', 'subnet pool(s) to delete (name or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      await deleteMany(clientOf(cmd), SUBNET_POOL, 'subnet pool', 'subnet pools', names);
    });
}

export function registerAddressScopeCommands(scope: Command): void {
  withOutput(
    scope
      .command('create')
      .description('create a new address scope')
      .argument('<name>', 'new address scope name')
      .addOption(new Option('--ip-version <ip-version>', 'IP version (default is 4)').choices(['4', '6']).default('4'))
      .option('--share', 'share the address scope between projects')
      .option('--no-share', 'do not share the address scope between projects'),
  ).action(async (name: string, o: OutputOptions & { ipVersion: string; share?: boolean }, cmd: Command) => {
    const attrs: Body = { name, ip_version: Number(o.ipVersion) };
    if (o.share !== undefined) attrs.shared = o.share;
    printOne(ADDRESS_SCOPE_SHOW, await clientOf(cmd).create(ADDRESS_SCOPE, attrs), o);
  });

  withOutput(
    scope
      .command('list')
      .description('list address scopes')
      .option('--name <name>', 'list only address scopes of given name in output')
      .addOption(new Option('--ip-version <ip-version>', 'list address scopes of given IP version networks (4 or 6)').choices(['4', '6']))
      .option('--share', 'list address scopes shared between projects')
      .option('--no-share', 'list address scopes not shared between projects'),
  ).action(async (o: OutputOptions & { name?: string; ipVersion?: string; share?: boolean }, cmd: Command) => {
    printList(ADDRESS_SCOPE_LIST, await clientOf(cmd).list(ADDRESS_SCOPE, { name: o.name, ip_version: o.ipVersion, shared: o.share }), o);
  });

  withOutput(scope.command('show').description('display address scope details').argument('<address-scope>', 'address scope to display (name or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      printOne(ADDRESS_SCOPE_SHOW, await clientOf(cmd).find(ADDRESS_SCOPE, name), o);
    },
  );

  scope
    .command('set')
    .description('set address scope properties')
    .argument('<address-scope>', 'address scope to modify (name or ID)')
    .option('--name <name>', 'set address scope name')
    .option('--share', 'share the address scope between projects')
    .option('--no-share', 'do not share the address scope between projects')
    .action(async (name: string, o: { name?: string; share?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      const s = await client.find(ADDRESS_SCOPE, name);
      const attrs: Body = {};
      if (o.name !== undefined) attrs.name = o.name;
      if (o.share !== undefined) attrs.shared = o.share;
      if (Object.keys(attrs).length) await client.update(ADDRESS_SCOPE, s.id, attrs);
    });

  scope
    .command('delete')
    .description('delete address scope(s)')
    .argument('<address-scope...>', 'address scope(s) to delete (name or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      await deleteMany(clientOf(cmd), ADDRESS_SCOPE, 'address scope', 'address scopes', names);
    });
}
