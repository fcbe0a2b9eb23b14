// `network create|list|show|set|delete`, as `openstack network ...`.
import type { Command } from 'commander';
import { collect, integer, valuesOf, type ListOption } from '../args.js';
import type { OutputOptions } from '../format.js';
import { NETWORK, type Body } from '../http.js';
import { NETWORK_LIST, NETWORK_LIST_LONG, NETWORK_SHOW } from '../views.js';
import { applyTags, clientOf, deleteMany, maybe, printList, printOne, removeTags, updateTags, withOutput, withTags } from './common.js';

interface NetworkOpts extends OutputOptions {
  name?: string;
  share?: boolean;
  enable?: boolean;
  disable?: boolean;
  description?: string;
  mtu?: number;
  external?: boolean;
  internal?: boolean;
  default?: boolean;
  providerNetworkType?: string;
  providerPhysicalNetwork?: string;
  providerSegment?: number;
  enablePortSecurity?: boolean;
  disablePortSecurity?: boolean;
  dnsDomain?: string;
  tag?: any;
}

function networkAttrs(o: NetworkOpts): Body {
  const attrs: Body = {};
  maybe(attrs, 'name', o.name);
  if (o.enable) attrs.admin_state_up = true;
  if (o.disable) attrs.admin_state_up = false;
  maybe(attrs, 'shared', o.share);
  if (o.enablePortSecurity) attrs.port_security_enabled = true;
  if (o.disablePortSecurity) attrs.port_security_enabled = false;
  if (o.description) attrs.description = o.description;
  if (o.mtu) attrs.mtu = o.mtu;
  if (o.internal) attrs['router:external'] = false;
  if (o.external) attrs['router:external'] = true;
  maybe(attrs, 'is_default', o.default);
  if (o.providerNetworkType) attrs['provider:network_type'] = o.providerNetworkType;
  if (o.providerPhysicalNetwork) attrs['provider:physical_network'] = o.providerPhysicalNetwork;
  if (o.providerSegment !== undefined) attrs['provider:segmentation_id'] = o.providerSegment;
  if (o.dnsDomain) attrs.dns_domain = o.dnsDomain;
  return attrs;
}

function attrOptions(cmd: Command): Command {
  return cmd
    .option('--enable', 'enable network (default)')
    .option('--disable', 'disable network')
    .option('--share', 'share the network between projects')
    .option('--no-share', 'do not share the network between projects')
    .option('--description <description>', 'set network description')
    .option('--mtu <mtu>', 'set network mtu', integer('--mtu'))
    .option('--enable-port-security', 'enable port security by default for ports created on this network')
    .option('--disable-port-security', 'disable port security by default for ports created on this network')
    .option('--external', 'the network has an external routing facility (router:external)')
    .option('--internal', 'opposite of --external (default)')
    .option('--default', 'specify if this network should be used as the default external network')
    .option('--no-default', 'do not use the network as the default external network')
    .option('--provider-network-type <type>', 'the physical mechanism: flat, geneve, gre, local, vlan or vxlan')
    .option('--provider-physical-network <name>', 'name of the physical network over which the virtual network is implemented')
    .option('--provider-segment <id>', 'VLAN ID for VLAN networks or tunnel ID for GENEVE/GRE/VXLAN networks', integer('--provider-segment'))
    .option('--dns-domain <dns-domain>', 'set DNS domain for this network');
}

export function registerNetworkCommands(network: Command): void {
  withTags(
    withOutput(
      attrOptions(network.command('create').description('create new network').argument('<name>', 'new network name')).option(
        '--availability-zone-hint <availability-zone>',
        'availability zone in which to create this network (repeat option to set multiple availability zones)',
        collect,
      ),
    ),
  ).action(async (name: string, o: NetworkOpts & { availabilityZoneHint?: ListOption<string> }, cmd: Command) => {
    const client = clientOf(cmd);
    const created = await client.create(NETWORK, { ...networkAttrs(o), ...(o.availabilityZoneHint ? { availability_zone_hints: valuesOf(o.availabilityZoneHint) } : {}), name });
    printOne(NETWORK_SHOW, await applyTags(client, NETWORK, created, o.tag), o);
  });

  withOutput(
    network
      .command('list')
      .description('list networks')
      .option('--external', 'list external networks')
      .option('--internal', 'list internal networks')
      .option('--long', 'list additional fields in output')
      .option('--name <name>', 'list networks according to their name')
      .option('--enable', 'list enabled networks')
      .option('--disable', 'list disabled networks')
      .option('--share', 'list networks shared between projects')
      .option('--no-share', 'list networks not shared between projects')
      .option('--status <status>', 'list networks according to their status')
      .option('--provider-network-type <type>', 'list networks according to their physical mechanisms')
      .option('--provider-physical-network <name>', 'list networks according to name of the physical network')
      .option('--provider-segment <id>', 'list networks according to VLAN ID or tunnel ID'),
  ).action(async (o: NetworkOpts & { long?: boolean; status?: string }, cmd: Command) => {
    const q: Record<string, string | boolean | undefined> = {};
    if (o.external) q['router:external'] = true;
    else if (o.internal) q['router:external'] = false;
    q.name = o.name;
    if (o.enable) q.admin_state_up = true;
    else if (o.disable) q.admin_state_up = false;
    if (o.share !== undefined) q.shared = o.share;
    q.status = o.status;
    q['provider:network_type'] = o.providerNetworkType;
    q['provider:physical_network'] = o.providerPhysicalNetwork;
    q['provider:segmentation_id'] = o.providerSegment === undefined ? undefined : String(o.providerSegment);
    const rows = await clientOf(cmd).list(NETWORK, q);
    printList(o.long ? NETWORK_LIST_LONG : NETWORK_LIST, rows, o);
  });

  withOutput(network.command('show').description('show network details').argument('<network>', 'network to display (name or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      printOne(NETWORK_SHOW, await clientOf(cmd).find(NETWORK, name), o);
    },
  );

  withTags(attrOptions(network.command('set').description('set network properties').argument('<network>', 'network to modify (name or ID)')).option('--name <name>', 'set network name'), true).action(
    async (name: string, o: NetworkOpts, cmd: Command) => {
      const client = clientOf(cmd);
      const net = await client.find(NETWORK, name);
      const attrs = networkAttrs(o);
      if (Object.keys(attrs).length) await client.update(NETWORK, net.id, attrs);
      await updateTags(client, NETWORK, net, o);
    },
  );

  network
    .command('delete')
    .description('delete network(s)')
    .argument('<network...>', 'network(s) to delete (name or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      await deleteMany(clientOf(cmd), NETWORK, 'network', 'networks', names);
    });

  network
    .command('unset')
    .description('unset network properties')
    .argument('<network>', 'network to modify (name or ID)')
    .option('--tag <tag>', 'tag to be removed from the network (repeat option to remove multiple tags)', collect)
    .option('--all-tag', 'clear all tags associated with the network')
    .action(async (name: string, o: { tag?: string[]; allTag?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      await removeTags(client, NETWORK, await client.find(NETWORK, name), o);
    });
}
