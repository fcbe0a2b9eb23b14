// `ndp-proxy create|list|show|set|delete`, as `openstack router ndp proxy ...` (python3-openstackclient 6.0): the
// same flags and columns; a proxy is found by ID or name.
import type { Command } from 'commander';
import type { OutputOptions, Column } from '../format.js';
import { CliError, PORT, ROUTER, type Body, type ResourceType } from '../http.js';
import type { NdpProxy } from '../../schema/index.js';
import { clientOf, printList, printOne, withOutput } from './common.js';

const NDP_PROXY: ResourceType<NdpProxy & { id: string }> = { path: 'ndp_proxies', singular: 'ndp_proxy', label: 'NDPProxy' };

const col = (name: string, key = name): Column => ({ name, key });
/** OSC's ShowNDPProxy: the SDK's NDPProxy attributes. */
const SHOW: Column[] = [
  col('created_at'), col('description'), col('id'), col('ip_address'), col('name'), col('port_id'), col('project_id'), col('revision_number'), col('router_id'), col('updated_at'),
];
const LIST: Column[] = [col('ID', 'id'), col('Name', 'name'), col('Router ID', 'router_id'), col('IP Address', 'ip_address'), col('Project', 'project_id')];

interface NdpOpts extends OutputOptions {
  name?: string;
  port?: string;
  ipAddress?: string;
  description?: string;
  router?: string;
  project?: string;
}

export function registerNdpProxyCommands(ndp: Command): void {
  withOutput(
    ndp
      .command('create')
      .description('create NDP proxy')
      .argument('<router>', 'the router with which the NDP proxy is associated (name or ID)')
      .requiredOption('--port <port>', 'the port the NDP proxy publishes an IPv6 address of (name or ID)')
      .option('--name <name>', 'new NDP proxy name')
      .option('--ip-address <ip-address>', "the IPv6 address of the port to publish (default: its address on a subnet of the router)")
      .option('--description <description>', 'a text to describe/contextualize the NDP proxy'),
  ).action(async (router: string, o: NdpOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const attrs: Body = { router_id: await client.findId(ROUTER, router), port_id: await client.findId(PORT, o.port!) };
    if (o.name !== undefined) attrs.name = o.name;
    if (o.ipAddress) attrs.ip_address = o.ipAddress;
    if (o.description !== undefined) attrs.description = o.description;
    printOne(SHOW, await client.create(NDP_PROXY, attrs), o);
  });

  withOutput(
    ndp
      .command('list')
      .description('list NDP proxies')
      .option('--router <router>', 'list only NDP proxies of this router (name or ID)')
      .option('--port <port>', 'list only NDP proxies of this port (name or ID)')
      .option('--ip-address <ip-address>', 'list only NDP proxies of this IPv6 address')
      .option('--project <project>', 'list only NDP proxies of this project (ID)')
      .option('--name <name>', 'list only NDP proxies of this name'),
  ).action(async (o: NdpOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const q: Record<string, string | undefined> = {
      router_id: o.router ? await client.findId(ROUTER, o.router) : undefined,
      port_id: o.port ? await client.findId(PORT, o.port) : undefined,
      ip_address: o.ipAddress,
      project_id: o.project,
      name: o.name,
    };
    printList(LIST, await client.list(NDP_PROXY, q), o);
  });

  withOutput(ndp.command('show').description('display NDP proxy details').argument('<ndp-proxy>', 'the NDP proxy (name or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      printOne(SHOW, await clientOf(cmd).find(NDP_PROXY, name), o);
    },
  );

  ndp
    .command('set')
    .description('set NDP proxy properties')
    .argument('<ndp-proxy>', 'the NDP proxy (name or ID)')
    .option('--name <name>', 'set NDP proxy name')
    .option('--description <description>', 'a text to describe/contextualize the NDP proxy')
    .action(async (name: string, o: NdpOpts, cmd: Command) => {
      const client = clientOf(cmd);
      const attrs: Body = {};
      if (o.name !== undefined) attrs.name = o.name;
      if (o.description !== undefined) attrs.description = o.description;
      if (Object.keys(attrs).length) await client.update(NDP_PROXY, (await client.find(NDP_PROXY, name)).id, attrs);
    });

  ndp
    .command('delete')
    .description('delete NDP proxy(ies)')
    .argument('<ndp-proxy...>', 'NDP proxy(ies) to delete (name or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const client = clientOf(cmd);
      let failed = 0;
      for (const name of names) {
        try {
          await client.remove(NDP_PROXY, (await client.find(NDP_PROXY, name)).id);
        } catch (e) {
          failed++;
          process.stderr.write(`Failed to delete NDP proxy with name or ID '${name}': ${(e as Error).message}\n`);
        }
      }
      if (failed) throw new CliError(`${failed} of ${names.length} NDP proxies failed to delete.`);
    });
}
