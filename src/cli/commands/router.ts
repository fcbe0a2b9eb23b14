// `router create|list|show|set|unset|delete` and `router add|remove subnet|port`, as `openstack router ...`.
import type { Command } from 'commander';
import { collect, isCleared, keyValueList, toRoutes, valuesOf, type ListOption } from '../args.js';
import type { Column, OutputOptions } from '../format.js';
import { ApiError, CliError, NETWORK, PORT, ROUTER, SUBNET, type Body, type NeutronClient } from '../http.js';
import { ROUTER_LIST, ROUTER_LIST_AZ, ROUTER_LIST_DISTRIBUTED, ROUTER_LIST_HA, ROUTER_LIST_LONG_EXTRA, ROUTER_LIST_TAGS, ROUTER_SHOW } from '../views.js';
import { applyTags, clientOf, deleteMany, printList, printOne, removeTags, updateTags, withOutput, withTags } from './common.js';
import { DEVICE_OWNER_ROUTER_GW } from '../../domain/ipv6/index.js';

type KV = Record<string, string>;

interface RouterOpts extends OutputOptions {
  name?: string;
  description?: string;
  enable?: boolean;
  disable?: boolean;
  distributed?: boolean;
  centralized?: boolean;
  ha?: boolean;
  route?: ListOption<KV> | false;
  externalGateway?: string | boolean;
  fixedIp?: ListOption<KV>;
  enableSnat?: boolean;
  disableSnat?: boolean;
  enableNdpProxy?: boolean;
  disableNdpProxy?: boolean;
  tag?: ListOption<string> | false;
}

/** The openstack client hides ha / distributed when the API does not return them (no l3-ha / dvr extension). */
function routerColumns(router: Body, withInterfaces: boolean): Column[] {
  return ROUTER_SHOW.filter(
    (c) => !(c.key === 'ha' && router.ha == null) && !(c.key === 'distributed' && router.distributed == null) && (withInterfaces || c.key !== 'interfaces_info'),
  );
}

async function hasExtension(client: NeutronClient, alias: string): Promise<boolean> {
  try {
    await client.request('GET', `extensions/${alias}`);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false;
    throw e;
  }
}

function commonAttrs(o: RouterOpts): Body {
  const attrs: Body = {};
  if (o.name !== undefined) attrs.name = o.name;
  if (o.description !== undefined) attrs.description = o.description;
  if (o.enable) attrs.admin_state_up = true;
  if (o.disable) attrs.admin_state_up = false;
  if (o.centralized) attrs.distributed = false;
  if (o.distributed) attrs.distributed = true;
  if (o.ha !== undefined) attrs.ha = o.ha;
  if (o.enableNdpProxy) attrs.enable_ndp_proxy = true;
  if (o.disableNdpProxy) attrs.enable_ndp_proxy = false;
  return attrs;
}

/** external_gateway_info from --external-gateway NET [--fixed-ip ...] [--enable-snat|--disable-snat]. */
async function gatewayInfo(client: NeutronClient, o: RouterOpts): Promise<Body | undefined> {
  if (typeof o.externalGateway !== 'string') {
    if (o.fixedIp || o.enableSnat || o.disableSnat) throw new CliError('You must specify \'--external-gateway\' in order to specify SNAT or fixed-ip values');
    return undefined;
  }
  const info: Body = { network_id: await client.findId(NETWORK, o.externalGateway) };
  if (o.disableSnat) info.enable_snat = false;
  if (o.enableSnat) info.enable_snat = true;
  if (o.fixedIp) {
    const ips: Body[] = [];
    for (const e of valuesOf(o.fixedIp)) {
      const ip: Body = {};
      if (e.subnet) ip.subnet_id = await client.findId(SUBNET, e.subnet);
      if (e['ip-address']) ip.ip_address = e['ip-address'];
      ips.push(ip);
    }
    info.external_fixed_ips = ips;
  }
  return info;
}

function sharedOptions(cmd: Command): Command {
  return cmd
    .option('--description <description>', 'set router description')
    .option('--enable', 'enable router')
    .option('--disable', 'disable router')
    .option('--distributed', 'distributed router (DVR)')
    .option('--centralized', 'centralized router')
    .option('--ha', 'highly available router (VRRP)')
    .option('--no-ha', 'legacy (non-HA) router')
    .option('--external-gateway <network>', "external network used as router's gateway (name or ID)")
    .option('--fixed-ip <subnet=subnet,ip-address=ip-address>', 'desired IP and/or subnet on external gateway (name or ID); repeat option to set multiple fixed IP addresses', keyValueList([], ['subnet', 'ip-address']))
    .option('--enable-snat', 'enable Source NAT on external gateway')
    .option('--disable-snat', 'disable Source NAT on external gateway')
    .option('--enable-ndp-proxy', "publish the router's NDP proxies' addresses on its external gateway (l3-ext-ndp-proxy)")
    .option('--disable-ndp-proxy', 'do not publish NDP proxies (l3-ext-ndp-proxy)');
}

export function registerRouterCommands(router: Command): void {
  withTags(
    withOutput(
      sharedOptions(router.command('create').description('create a new router').argument('<name>', 'new router name')).option(
        '--availability-zone-hint <availability-zone>',
        'availability zone in which to create this router (repeat option to set multiple availability zones)',
        collect,
      ),
    ),
  ).action(
    async (name: string, o: RouterOpts & { availabilityZoneHint?: ListOption<string> }, cmd: Command) => {
      const client = clientOf(cmd);
      const attrs: Body = { ...commonAttrs(o), name };
      if (o.availabilityZoneHint) attrs.availability_zone_hints = valuesOf(o.availabilityZoneHint);
      const gw = await gatewayInfo(client, o);
      if (gw) attrs.external_gateway_info = gw;
      const created = await applyTags(client, ROUTER, await client.create(ROUTER, attrs), valuesOf(o.tag || undefined));
      printOne(routerColumns(created, false), created, o);
    },
  );

  withOutput(
    router
      .command('list')
      .description('list routers')
      .option('--name <name>', 'list routers according to their name')
      .option('--enable', 'list enabled routers')
      .option('--disable', 'list disabled routers')
      .option('--long', 'list additional fields in output'),
  ).action(async (o: RouterOpts & { long?: boolean }, cmd: Command) => {
    const q: Record<string, string | boolean | undefined> = { name: o.name };
    if (o.enable) q.admin_state_up = true;
    else if (o.disable) q.admin_state_up = false;
    const client = clientOf(cmd);
    const rows = await client.list(ROUTER, q);
    // as the openstack client: Distributed / HA columns appear when some router has the attribute
    const cols = [...ROUTER_LIST];
    if (rows.some((r) => r.distributed != null)) cols.push(ROUTER_LIST_DISTRIBUTED);
    if (rows.some((r) => r.ha != null)) cols.push(ROUTER_LIST_HA);
    if (o.long) {
      cols.push(...ROUTER_LIST_LONG_EXTRA);
      if (await hasExtension(client, 'router_availability_zone')) cols.push(ROUTER_LIST_AZ);
      cols.push(ROUTER_LIST_TAGS);
    }
    printList(cols, rows, o);
  });

  withOutput(router.command('show').description('display router details').argument('<router>', 'router to display (name or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      const client = clientOf(cmd);
      const r = await client.find(ROUTER, name);
      // interfaces_info: one entry per fixed IP of the router's ports other than its gateway port
      const interfaces: Body[] = [];
      for (const p of await client.list(PORT, { device_id: r.id })) {
        if (p.device_owner === DEVICE_OWNER_ROUTER_GW) continue;
        for (const ip of p.fixed_ips ?? []) interfaces.push({ port_id: p.id, ip_address: ip.ip_address, subnet_id: ip.subnet_id });
      }
      printOne(routerColumns(r, true), { ...r, interfaces_info: interfaces }, o);
    },
  );

  withTags(
    sharedOptions(router.command('set').description('set router properties').argument('<router>', 'router to modify (name or ID)'))
      .option('--name <name>', 'set router name')
      .option('--route <destination=subnet,gateway=ip-address>', 'add routes to the router; repeat option to add multiple routes', keyValueList(['destination', 'gateway']))
      .option('--no-route', 'clear routes associated with the router; specify both --route and --no-route to overwrite'),
    true,
  ).action(async (name: string, o: RouterOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const r = await client.find(ROUTER, name);
    const attrs = commonAttrs(o);
    if (o.route !== undefined) {
      const base: Body[] = isCleared(o.route) ? [] : (r.routes ?? []);
      const routes = [...base];
      for (const x of toRoutes(valuesOf(o.route))) {
        if (!routes.some((y) => y.destination === x.destination && y.nexthop === x.nexthop)) routes.push(x);
      }
      attrs.routes = routes;
    }
    const gw = await gatewayInfo(client, o);
    if (gw) attrs.external_gateway_info = gw;
    if (Object.keys(attrs).length) await client.update(ROUTER, r.id, attrs);
    await updateTags(client, ROUTER, r, o);
  });

  router
    .command('unset')
    .description('unset router properties')
    .argument('<router>', 'router to modify (name or ID)')
    .option('--route <destination=subnet,gateway=ip-address>', 'routes to be removed from the router; repeat option to unset multiple routes', keyValueList(['destination', 'gateway']))
    .option('--external-gateway', 'remove external gateway information from the router')
    .option('--tag <tag>', 'tag to be removed from the router (repeat option to remove multiple tags)', collect)
    .option('--all-tag', 'clear all tags associated with the router')
    .action(async (name: string, o: RouterOpts & { allTag?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      const r = await client.find(ROUTER, name);
      const attrs: Body = {};
      if (o.route) {
        const routes: Body[] = [...(r.routes ?? [])];
        for (const x of toRoutes(valuesOf(o.route))) {
          const i = routes.findIndex((y) => y.destination === x.destination && y.nexthop === x.nexthop);
          if (i < 0) throw new CliError(`Router does not contain route {'destination': '${x.destination}', 'nexthop': '${x.nexthop}'}`);
          routes.splice(i, 1);
        }
        attrs.routes = routes;
      }
      if (o.externalGateway) attrs.external_gateway_info = {};
      if (Object.keys(attrs).length) await client.update(ROUTER, r.id, attrs);
      await removeTags(client, ROUTER, r, { tag: valuesOf(o.tag || undefined), allTag: o.allTag });
    });

  router
    .command('delete')
    .description('delete router(s)')
    .argument('<router...>', 'router(s) to delete (name or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      await deleteMany(clientOf(cmd), ROUTER, 'router', 'routers', names);
    });

  for (const [verb, action, what] of [
    ['add', 'add_router_interface', 'to'],
    ['remove', 'remove_router_interface', 'from'],
  ] as const) {
    const group = router.command(verb).description(`${verb} a subnet or port ${what} a router`);
    group
      .command('subnet')
      .description(`${verb} a subnet ${what} a router`)
      .argument('<router>', 'router (name or ID)')
      .argument('<subnet>', `subnet to be ${verb === 'add' ? 'added' : 'removed'} (name or ID)`)
      .action(async (routerName: string, subnetName: string, _o: unknown, cmd: Command) => {
        const client = clientOf(cmd);
        const r = await client.find(ROUTER, routerName);
        await client.action(ROUTER, r.id, action, { subnet_id: await client.findId(SUBNET, subnetName) });
      });
    group
      .command('port')
      .description(`${verb} a port ${what} a router`)
      .argument('<router>', 'router (name or ID)')
      .argument('<port>', `port to be ${verb === 'add' ? 'added' : 'removed'} (name or ID)`)
      .action(async (routerName: string, portName: string, _o: unknown, cmd: Command) => {
        const client = clientOf(cmd);
        const r = await client.find(ROUTER, routerName);
        await client.action(ROUTER, r.id, action, { port_id: await client.findId(PORT, portName) });
      });
  }
}
