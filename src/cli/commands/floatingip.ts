// `floating ip create|list|show|set|unset|delete`, as `openstack floating ip ...` (python3-openstackclient 6.0):
// the same words, flags, columns and lookups (a floating IP by ID or by its address).
import type { Command } from 'commander';
import { collect, valuesOf, type ListOption } from '../args.js';
import type { Column, OutputOptions } from '../format.js';
import { CliError, NETWORK, PORT, ROUTER, SUBNET, type Body, type NeutronClient, type ResourceType } from '../http.js';
import type { FloatingIp } from '../../schema/index.js';
import { applyTags, clientOf, printList, printOne, removeTags, updateTags, withOutput, withTags } from './common.js';

const FLOATING_IP: ResourceType<FloatingIp & { id: string }> = { path: 'floatingips', singular: 'floatingip', label: 'FloatingIP' };

const col = (name: string, key = name, fmt?: Column['fmt']): Column => ({ name, key, ...(fmt ? { fmt } : {}) });

/** `openstack floating ip show`: the SDK's FloatingIP attributes, sorted (`name` is the floating address there). */
const SHOW: Column[] = [
  col('created_at'), col('description'), col('dns_domain'), col('dns_name'), col('fixed_ip_address'), col('floating_ip_address'),
  col('floating_network_id'), col('id'), col('name', 'floating_ip_address'), col('port_details', 'port_details', 'dict'), col('port_id'),
  col('project_id'), col('qos_policy_id'), col('revision_number'), col('router_id'), col('status'), col('subnet_id'), col('tags', 'tags', 'list'),
  col('updated_at'),
];
const LIST: Column[] = [
  col('ID', 'id'), col('Floating IP Address', 'floating_ip_address'), col('Fixed IP Address', 'fixed_ip_address'), col('Port', 'port_id'),
  col('Floating Network', 'floating_network_id'), col('Project', 'project_id'),
];
const LIST_LONG: Column[] = [col('Router', 'router_id'), col('Status', 'status'), col('Description', 'description'), col('Tags', 'tags', 'list')];

interface FipOpts extends OutputOptions {
  subnet?: string;
  port?: string | boolean;
  floatingIpAddress?: string;
  fixedIpAddress?: string;
  description?: string;
  project?: string;
  network?: string;
  router?: string;
  status?: string;
  long?: boolean;
  tag?: ListOption<string> | false;
  allTag?: boolean;
}

/** A floating IP by ID, else by its address (as OSC's find_ip). */
async function findFip(client: NeutronClient, idOrAddress: string): Promise<FloatingIp & { id: string }> {
  const byId = await client.list(FLOATING_IP, { id: idOrAddress }).catch(() => []);
  if (byId.length === 1) return byId[0]!;
  const byAddress = await client.list(FLOATING_IP, { floating_ip_address: idOrAddress });
  if (byAddress.length === 1) return byAddress[0]!;
  throw new CliError(`No FloatingIP found for ${idOrAddress}`);
}

export function registerFloatingIpCommands(fip: Command): void {
  withTags(
    withOutput(
      fip
        .command('create')
        .description('create floating IP')
        .argument('<network>', 'network to allocate floating IP from (name or ID)')
        .option('--subnet <subnet>', 'subnet on which you want to create the floating IP (name or ID)')
        .option('--port <port>', 'port to be associated with the floating IP (name or ID)')
        .option('--floating-ip-address <ip-address>', 'floating IP address')
        .option('--fixed-ip-address <ip-address>', 'fixed IP address mapped to the floating IP')
        .option('--description <description>', 'set floating IP description')
        .option('--project <project>', "owner's project (ID)"),
    ),
  ).action(async (network: string, o: FipOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const attrs: Body = { floating_network_id: await client.findId(NETWORK, network) };
    if (o.subnet) attrs.subnet_id = await client.findId(SUBNET, o.subnet);
    if (typeof o.port === 'string') attrs.port_id = await client.findId(PORT, o.port);
    if (o.floatingIpAddress) attrs.floating_ip_address = o.floatingIpAddress;
    if (o.fixedIpAddress) attrs.fixed_ip_address = o.fixedIpAddress;
    if (o.description !== undefined) attrs.description = o.description;
    if (o.project) attrs.project_id = o.project;
    const created = await applyTags(client, FLOATING_IP, await client.create(FLOATING_IP, attrs), valuesOf(o.tag || undefined));
    printOne(SHOW, created, o);
  });

  withOutput(
    fip
      .command('list')
      .description('list floating IP(s)')
      .option('--network <network>', 'list floating IP(s) according to given network (name or ID)')
      .option('--port <port>', 'list floating IP(s) according to given port (name or ID)')
      .option('--fixed-ip-address <ip-address>', 'list floating IP(s) according to given fixed IP address')
      .option('--floating-ip-address <ip-address>', 'list floating IP(s) according to given floating IP address')
      .option('--router <router>', 'list floating IP(s) according to given router (name or ID)')
      .option('--status <status>', 'list floating IP(s) according to given status (ACTIVE, DOWN)')
      .option('--project <project>', 'list floating IP(s) according to given project (ID)')
      .option('--long', 'list additional fields in output'),
  ).action(async (o: FipOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const q: Record<string, string | undefined> = {
      floating_network_id: o.network ? await client.findId(NETWORK, o.network) : undefined,
      port_id: typeof o.port === 'string' ? await client.findId(PORT, o.port) : undefined,
      fixed_ip_address: o.fixedIpAddress,
      floating_ip_address: o.floatingIpAddress,
      router_id: o.router ? await client.findId(ROUTER, o.router) : undefined,
      status: o.status,
      project_id: o.project,
    };
    printList(o.long ? [...LIST, ...LIST_LONG] : LIST, await client.list(FLOATING_IP, q), o);
  });

  withOutput(fip.command('show').description('display floating IP details').argument('<floating-ip>', 'floating IP to display (IP address or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      printOne(SHOW, await findFip(clientOf(cmd), name), o);
    },
  );

  withTags(
    fip
      .command('set')
      .description('set floating IP properties')
      .argument('<floating-ip>', 'floating IP to modify (IP address or ID)')
      .option('--port <port>', 'associate the floating IP with port (name or ID)')
      .option('--fixed-ip-address <ip-address>', 'fixed IP of the port (required only if port has multiple IPs)')
      .option('--description <description>', 'set floating IP description'),
    true,
  ).action(async (name: string, o: FipOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const f = await findFip(client, name);
    const attrs: Body = {};
    if (typeof o.port === 'string') attrs.port_id = await client.findId(PORT, o.port);
    if (o.fixedIpAddress) attrs.fixed_ip_address = o.fixedIpAddress;
    if (o.description !== undefined) attrs.description = o.description;
    if (Object.keys(attrs).length) await client.update(FLOATING_IP, f.id, attrs);
    await updateTags(client, FLOATING_IP, f, o);
  });

  fip
    .command('unset')
    .description('unset floating IP properties')
    .argument('<floating-ip>', 'floating IP to disassociate (IP address or ID)')
    .option('--port', 'disassociate any port associated with the floating IP')
    .option('--tag <tag>', 'tag to be removed from the floating IP (repeat option to remove multiple tags)', collect)
    .option('--all-tag', 'clear all tags associated with the floating IP')
    .action(async (name: string, o: FipOpts, cmd: Command) => {
      const client = clientOf(cmd);
      const f = await findFip(client, name);
      if (o.port) await client.update(FLOATING_IP, f.id, { port_id: null });
      await removeTags(client, FLOATING_IP, f, { tag: valuesOf(o.tag || undefined), allTag: o.allTag });
    });

  fip
    .command('delete')
    .description('delete floating IP(s)')
    .argument('<floating-ip...>', 'floating IP(s) to delete (IP address or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const client = clientOf(cmd);
      let failed = 0;
      for (const name of names) {
        try {
          await client.remove(FLOATING_IP, (await findFip(client, name)).id);
        } catch (e) {
          failed++;
          process.stderr.write(`Failed to delete floating IP with name or ID '${name}': ${(e as Error).message}\n`);
        }
      }
      if (failed) throw new CliError(`${failed} of ${names.length} floating_ips failed to delete.`);
    });
}
