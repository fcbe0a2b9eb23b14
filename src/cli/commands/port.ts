// `port create|list|show|set|unset|delete`, as `openstack port ...`.
import { Option, type Command } from 'commander';
import { collect, isCleared, keyValueList, valuesOf, type ListOption } from '../args.js';
import type { OutputOptions } from '../format.js';
import { CliError, NETWORK, PORT, ROUTER, SECURITY_GROUP, SUBNET, type Body, type NeutronClient } from '../http.js';
import { PORT_LIST, PORT_LIST_LONG, PORT_SHOW } from '../views.js';
import type { AddressPair, FixedIp } from '../../schema/index.js';
import { applyTags, clientOf, deleteMany, printList, printOne, removeTags, updateTags, withOutput, withTags } from './common.js';

type KV = Record<string, string>;

interface PortOpts extends OutputOptions {
  name?: string;
  network?: string;
  fixedIp?: ListOption<KV> | false;
  macAddress?: string;
  device?: string;
  deviceOwner?: string;
  host?: string;
  vnicType?: string;
  securityGroup?: ListOption<string> | false;
  allowedAddress?: ListOption<KV> | false;
  enable?: boolean;
  disable?: boolean;
  enablePortSecurity?: boolean;
  disablePortSecurity?: boolean;
  description?: string;
  dnsName?: string;
  tag?: ListOption<string> | false;
}

/** --fixed-ip subnet=NAME|ID,ip-address=IP into the API's {subnet_id, ip_address}. */
async function fixedIps(client: NeutronClient, entries: KV[]): Promise<Body[]> {
  const out: Body[] = [];
  for (const e of entries) {
    const ip: Body = {};
    if (e.subnet) ip.subnet_id = await client.findId(SUBNET, e.subnet);
    if (e['ip-address']) ip.ip_address = e['ip-address'];
    out.push(ip);
  }
  return out;
}

function addressPairs(entries: KV[]): Body[] {
  return entries.map((e) => (e['mac-address'] ? { ip_address: e['ip-address'], mac_address: e['mac-address'] } : { ip_address: e['ip-address'] }));
}

async function securityGroups(client: NeutronClient, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const n of names) ids.push(await client.findId(SECURITY_GROUP, n));
  return ids;
}

function commonAttrs(o: PortOpts): Body {
  const attrs: Body = {};
  if (o.description !== undefined) attrs.description = o.description;
  if (o.device !== undefined) attrs.device_id = o.device;
  if (o.deviceOwner !== undefined) attrs.device_owner = o.deviceOwner;
  if (o.macAddress !== undefined) attrs.mac_address = o.macAddress;
  if (o.vnicType !== undefined) attrs['binding:vnic_type'] = o.vnicType;
  if (o.host !== undefined) attrs['binding:host_id'] = o.host;
  if (o.enable) attrs.admin_state_up = true;
  if (o.disable) attrs.admin_state_up = false;
  if (o.enablePortSecurity) attrs.port_security_enabled = true;
  if (o.disablePortSecurity) attrs.port_security_enabled = false;
  if (o.dnsName !== undefined) attrs.dns_name = o.dnsName;
  return attrs;
}

function sharedOptions(cmd: Command): Command {
  return cmd
    .option('--description <description>', 'description of this port')
    .option('--device <device-id>', 'port device ID')
    .option('--mac-address <mac-address>', 'MAC address of this port (admin only)')
    .option('--device-owner <device-owner>', 'device owner of this port, the entity that uses it (e.g. network:dhcp)')
    .addOption(new Option('--vnic-type <vnic-type>', 'VNIC type for this port').choices(['direct', 'direct-physical', 'macvtap', 'normal', 'baremetal', 'virtio-forwarder', 'vdpa', 'accelerator-direct', 'accelerator-direct-physical', 'remote-managed']))
    .option('--host <host-id>', 'allocate port on host <host-id> (ID only)')
    .option('--dns-name <dns-name>', 'set DNS name for this port')
    .option('--enable', 'enable port (default)')
    .option('--disable', 'disable port')
    .option('--enable-port-security', 'enable port security for this port (default)')
    .option('--disable-port-security', 'disable port security for this port')
    .option('--fixed-ip <subnet=subnet,ip-address=ip-address>', 'desired IP and/or subnet for this port (name or ID); repeat option to set multiple fixed IP addresses', keyValueList([], ['subnet', 'ip-address']))
    .option('--security-group <security-group>', 'security group to associate with this port (name or ID); repeat option to set multiple security groups', collect)
    .option('--no-security-group', 'associate no security groups with this port')
    .option('--allowed-address <ip-address=ip-address[,mac-address=mac-address]>', 'add allowed-address pair associated with this port; repeat option to set multiple allowed-address pairs', keyValueList(['ip-address'], ['mac-address']));
}

export function registerPortCommands(port: Command): void {
  withTags(
    withOutput(
      sharedOptions(
        port.command('create').description('create a new port').argument('<name>', 'name of this port').requiredOption('--network <network>', 'network this port belongs to (name or ID)'),
      ).option('--no-fixed-ip', 'no IP or subnet for this port'),
    ),
  ).action(async (name: string, o: PortOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const attrs: Body = { name, network_id: await client.findId(NETWORK, o.network!), ...commonAttrs(o) };
    if (o.fixedIp !== undefined) attrs.fixed_ips = isCleared(o.fixedIp) && !valuesOf(o.fixedIp).length ? [] : await fixedIps(client, valuesOf(o.fixedIp));
    if (o.securityGroup !== undefined) attrs.security_groups = await securityGroups(client, valuesOf(o.securityGroup));
    if (o.allowedAddress !== undefined) attrs.allowed_address_pairs = addressPairs(valuesOf(o.allowedAddress));
    const created = await client.create(PORT, attrs);
    printOne(PORT_SHOW, await applyTags(client, PORT, created, valuesOf(o.tag || undefined)), o);
  });

  withOutput(
    port
      .command('list')
      .description('list ports')
      .option('--device-owner <device-owner>', 'list only ports with the specified device owner')
      .option('--device-id <device-id>', 'list only ports with the specified device ID')
      .option('--network <network>', 'list only ports connected to this network (name or ID)')
      .option('--router <router>', 'list only ports attached to this router (name or ID)')
      .option('--host <host-id>', 'list only ports bound to this host ID')
      .option('--mac-address <mac-address>', 'list only ports with this MAC address')
      .option('--name <name>', 'list ports according to their name')
      .option('--fixed-ip <subnet=subnet,ip-address=ip-address>', 'desired IP and/or subnet for filtering ports (name or ID)', keyValueList([], ['subnet', 'ip-address', 'ip-substring']))
      .option('--security-group <security-group>', 'list only ports associated with this security group', collect)
      .option('--long', 'list additional fields in output'),
  ).action(async (o: PortOpts & { deviceId?: string; router?: string; long?: boolean }, cmd: Command) => {
    const client = clientOf(cmd);
    const q: Record<string, string | string[] | undefined> = {
      device_owner: o.deviceOwner,
      device_id: o.deviceId,
      'binding:host_id': o.host,
      mac_address: o.macAddress,
      name: o.name,
    };
    if (o.router) q.device_id = await client.findId(ROUTER, o.router);
    if (o.network) q.network_id = await client.findId(NETWORK, o.network);
    if (o.securityGroup) q.security_groups = await securityGroups(client, valuesOf(o.securityGroup));
    if (o.fixedIp) {
      // Neutron's fixed_ips filter: repeated "subnet_id=X" / "ip_address=Y" / "ip_address_substr=Z"
      const f: string[] = [];
      for (const e of valuesOf(o.fixedIp)) {
        if (e.subnet) f.push(`subnet_id=${await client.findId(SUBNET, e.subnet)}`);
        if (e['ip-address']) f.push(`ip_address=${e['ip-address']}`);
        if (e['ip-substring']) f.push(`ip_address_substr=${e['ip-substring']}`);
      }
      q.fixed_ips = f;
    }
    printList(o.long ? PORT_LIST_LONG : PORT_LIST, await client.list(PORT, q), o);
  });

  withOutput(port.command('show').description('display port details').argument('<port>', 'port to display (name or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      printOne(PORT_SHOW, await clientOf(cmd).find(PORT, name), o);
    },
  );

  withTags(
    sharedOptions(port.command('set').description('set port properties').argument('<port>', 'port to modify (name or ID)'))
      .option('--name <name>', 'set port name')
      .option('--no-fixed-ip', 'clear existing information of fixed IP addresses; specify both --fixed-ip and --no-fixed-ip to overwrite')
      .option('--no-allowed-address', 'clear existing allowed-address pairs; specify both --allowed-address and --no-allowed-address to overwrite'),
    true,
  ).action(async (name: string, o: PortOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const p = await client.find(PORT, name);
    const attrs = commonAttrs(o);
    if (o.name !== undefined) attrs.name = o.name;
    // set adds to what the port has; the --no-X twin starts from empty (as the openstack client does)
    if (o.fixedIp !== undefined) attrs.fixed_ips = [...(isCleared(o.fixedIp) ? [] : p.fixed_ips ?? []), ...(await fixedIps(client, valuesOf(o.fixedIp)))];
    if (o.securityGroup !== undefined) {
      attrs.security_groups = [...new Set([...(isCleared(o.securityGroup) ? [] : p.security_groups ?? []), ...(await securityGroups(client, valuesOf(o.securityGroup)))])];
    }
    if (o.allowedAddress !== undefined) {
      attrs.allowed_address_pairs = [...(isCleared(o.allowedAddress) ? [] : p.allowed_address_pairs ?? []), ...addressPairs(valuesOf(o.allowedAddress))];
    }
    if (Object.keys(attrs).length) await client.update(PORT, p.id, attrs);
    await updateTags(client, PORT, p, o);
  });

  port
    .command('unset')
    .description('unset port properties')
    .argument('<port>', 'port to modify (name or ID)')
    .option('--fixed-ip <subnet=subnet,ip-address=ip-address>', 'desired IP and/or subnet which should be removed from this port (name or ID)', keyValueList([], ['subnet', 'ip-address']))
    .option('--security-group <security-group>', 'security group which should be removed from this port (name or ID)', collect)
    .option('--allowed-address <ip-address=ip-address[,mac-address=mac-address]>', 'desired allowed-address pair which should be removed from this port', keyValueList(['ip-address'], ['mac-address']))
    .option('--tag <tag>', 'tag to be removed from the port (repeat option to remove multiple tags)', collect)
    .option('--all-tag', 'clear all tags associated with the port')
    .action(async (name: string, o: PortOpts & { allTag?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      const p = await client.find(PORT, name);
      const attrs: Body = {};
      if (o.fixedIp) {
        const left: FixedIp[] = [...(p.fixed_ips ?? [])];
        for (const ip of await fixedIps(client, valuesOf(o.fixedIp))) {
          const i = left.findIndex((x) => (!ip.subnet_id || x.subnet_id === ip.subnet_id) && (!ip.ip_address || x.ip_address === ip.ip_address));
          if (i < 0) throw new CliError(`Port does not contain fixed-ip ${JSON.stringify(ip)}`);
          left.splice(i, 1);
        }
        attrs.fixed_ips = left;
      }
      if (o.securityGroup) {
        const drop = await securityGroups(client, valuesOf(o.securityGroup));
        for (const id of drop) if (!(p.security_groups ?? []).includes(id)) throw new CliError(`Port does not contain security group ${id}`);
        attrs.security_groups = (p.security_groups ?? []).filter((id: string) => !drop.includes(id));
      }
      if (o.allowedAddress) {
        const left: AddressPair[] = [...(p.allowed_address_pairs ?? [])];
        for (const pair of addressPairs(valuesOf(o.allowedAddress))) {
          const i = left.findIndex((x) => x.ip_address === pair.ip_address && (!pair.mac_address || x.mac_address === pair.mac_address));
          if (i < 0) throw new CliError(`Port does not contain allowed-address-pair ${JSON.stringify(pair)}`);
          left.splice(i, 1);
        }
        attrs.allowed_address_pairs = left;
      }
      if (Object.keys(attrs).length) await client.update(PORT, p.id, attrs);
      await removeTags(client, PORT, p, { tag: valuesOf(o.tag || undefined), allTag: o.allTag });
    });

  port
    .command('delete')
    .description('delete port(s)')
    .argument('<port...>', 'port(s) to delete (name or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      await deleteMany(clientOf(cmd), PORT, 'port', 'ports', names);
    });
}
