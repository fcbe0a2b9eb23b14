// `security group create|list|show|set|delete` and `security group rule create|list|show|delete`, as the openstack client.
import type { Command } from 'commander';
import { integer, parsePortRange, valuesOf, type ListOption } from '../args.js';
import type { OutputOptions } from '../format.js';
import { CliError, SECURITY_GROUP, SECURITY_GROUP_RULE, type Body } from '../http.js';
import {
  SECURITY_GROUP_LIST,
  SECURITY_GROUP_RULE_LIST,
  SECURITY_GROUP_RULE_LIST_GROUP,
  SECURITY_GROUP_RULE_SHOW,
  SECURITY_GROUP_SHOW,
  securityGroupRuleRow,
} from '../views.js';
import { applyTags, clientOf, deleteMany, printList, printOne, updateTags, withOutput, withTags } from './common.js';

interface GroupOpts extends OutputOptions {
  name?: string;
  description?: string;
  stateful?: boolean;
  stateless?: boolean;
  tag?: ListOption<string> | false;
}

interface RuleOpts extends OutputOptions {
  remoteIp?: string;
  remoteGroup?: string;
  dstPort?: string;
  protocol?: string;
  description?: string;
  icmpType?: number;
  icmpCode?: number;
  ingress?: boolean;
  egress?: boolean;
  ethertype?: string;
}

const ICMP = ['icmp', 'icmpv6', 'ipv6-icmp', '1', '58'];

/** Ethertype spelled as the API wants it (the openstack client accepts any case). */
function ethertypeOf(value: string): string {
  const v = value.toLowerCase();
  if (v === 'ipv4') return 'IPv4';
  if (v === 'ipv6') return 'IPv6';
  throw new CliError(`argument --ethertype: invalid choice: '${value}' (choose from 'IPv4', 'IPv6')`);
}

/**
 * The API body of `security group rule create`, as the openstack client builds it, except that without --ethertype
 * an IPv6 --remote-ip also selects IPv6 (the client would send IPv4 and the API refuse the pair).
 */
export function ruleAttrs(o: RuleOpts, securityGroupId: string, remoteGroupId?: string): Body {
  const protocol = o.protocol === undefined || o.protocol.toLowerCase() === 'any' ? null : o.protocol.toLowerCase();
  const attrs: Body = { protocol, direction: o.egress ? 'egress' : 'ingress' };
  if (o.description !== undefined) attrs.description = o.description;
  let ethertype = 'IPv4';
  if (o.ethertype !== undefined) ethertype = ethertypeOf(o.ethertype);
  else if ((protocol !== null && protocol.startsWith('ipv6-')) || ['icmpv6', '41', '43', '44', '58', '59', '60'].includes(protocol ?? '')) ethertype = 'IPv6';
  else if (o.remoteIp?.includes(':')) ethertype = 'IPv6';
  attrs.ethertype = ethertype;
  const icmp = protocol !== null && ICMP.includes(protocol);
  if (o.dstPort && (o.icmpType !== undefined || o.icmpCode !== undefined)) throw new CliError('Argument --dst-port not allowed with arguments --icmp-type and --icmp-code');
  if (o.icmpType === undefined && o.icmpCode !== undefined) throw new CliError('Argument --icmp-type required with argument --icmp-code');
  if (!icmp && (o.icmpType !== undefined || o.icmpCode !== undefined)) throw new CliError('ICMP IP protocol required with arguments --icmp-type and --icmp-code');
  if (o.dstPort && !icmp) [attrs.port_range_min, attrs.port_range_max] = parsePortRange(o.dstPort);
  if (o.icmpType !== undefined && o.icmpType >= 0) attrs.port_range_min = o.icmpType;
  if (o.icmpCode !== undefined && o.icmpCode >= 0) attrs.port_range_max = o.icmpCode;
  if (remoteGroupId !== undefined) attrs.remote_group_id = remoteGroupId;
  else if (o.remoteIp !== undefined) attrs.remote_ip_prefix = o.remoteIp;
  else attrs.remote_ip_prefix = ethertype === 'IPv4' ? '0.0.0.0/0' : '::/0';
  attrs.security_group_id = securityGroupId;
  return attrs;
}

export function registerSecurityGroupCommands(group: Command): void {
  withTags(
    withOutput(
      group
        .command('create')
        .description('create a new security group')
        .argument('<name>', 'new security group name')
        .option('--description <description>', 'security group description')
        .option('--stateful', 'security group is stateful (default)')
        .option('--stateless', 'security group is stateless'),
    ),
  ).action(async (name: string, o: GroupOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const attrs: Body = { name, description: o.description ?? name };
    if (o.stateful) attrs.stateful = true;
    if (o.stateless) attrs.stateful = false;
    const created = await client.create(SECURITY_GROUP, attrs);
    printOne(SECURITY_GROUP_SHOW, await applyTags(client, SECURITY_GROUP, created, valuesOf(o.tag || undefined)), o);
  });

  withOutput(group.command('list').description('list security groups')).action(async (o: OutputOptions, cmd: Command) => {
    printList(SECURITY_GROUP_LIST, await clientOf(cmd).list(SECURITY_GROUP), o);
  });

  withOutput(group.command('show').description('display security group details').argument('<group>', 'security group to display (name or ID)')).action(
    async (name: string, o: OutputOptions, cmd: Command) => {
      printOne(SECURITY_GROUP_SHOW, await clientOf(cmd).find(SECURITY_GROUP, name), o);
    },
  );

  withTags(
    group
      .command('set')
      .description('set security group properties')
      .argument('<group>', 'security group to modify (name or ID)')
      .option('--name <new-name>', 'new security group name')
      .option('--description <description>', 'new security group description')
      .option('--stateful', 'security group is stateful (default)')
      .option('--stateless', 'security group is stateless'),
    true,
  ).action(async (name: string, o: GroupOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const g = await client.find(SECURITY_GROUP, name);
    const attrs: Body = {};
    if (o.name !== undefined) attrs.name = o.name;
    if (o.description !== undefined) attrs.description = o.description;
    if (o.stateful) attrs.stateful = true;
    if (o.stateless) attrs.stateful = false;
    if (Object.keys(attrs).length) await client.update(SECURITY_GROUP, g.id, attrs);
    await updateTags(client, SECURITY_GROUP, g, o);
  });

  group
    .command('delete')
    .description('delete security group(s)')
    .argument('<group...>', 'security group(s) to delete (name or ID)')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      await deleteMany(clientOf(cmd), SECURITY_GROUP, 'group', 'groups', names);
    });

  const rule = group.command('rule').description('security group rules (openstack security group rule ...)');

  withOutput(
    rule
      .command('create')
      .description('create a new security group rule')
      .argument('<group>', 'create rule in this security group (name or ID)')
      .option('--remote-ip <ip-address>', 'remote IP address block (may use CIDR notation; default for IPv4 rule: 0.0.0.0/0, default for IPv6 rule: ::/0)')
      .option('--remote-group <group>', 'remote security group (name or ID)')
      .option('--dst-port <port-range>', 'destination port, may be a single port or a starting and ending port range: 137:139')
      .option('--protocol <protocol>', "IP protocol (ah, dccp, egp, esp, gre, icmp, igmp, ipv6-encap, ipv6-frag, ipv6-icmp, ipv6-nonxt, ipv6-opts, ipv6-route, ospf, pgm, rsvp, sctp, tcp, udp, udplite, vrrp and integer representations [0-255] or any; default: any (all protocols))")
      .option('--description <description>', 'set security group rule description')
      .option('--icmp-type <icmp-type>', 'ICMP type for ICMP IP protocols', integer('--icmp-type'))
      .option('--icmp-code <icmp-code>', 'ICMP code for ICMP IP protocols', integer('--icmp-code'))
      .option('--ingress', 'rule applies to incoming network traffic (default)')
      .option('--egress', 'rule applies to outgoing network traffic')
      .option('--ethertype <ethertype>', 'ethertype of network traffic (IPv4, IPv6; default: based on IP protocol, or on --remote-ip)'),
  ).action(async (groupName: string, o: RuleOpts, cmd: Command) => {
    if (o.remoteIp !== undefined && o.remoteGroup !== undefined) throw new CliError('argument --remote-group: not allowed with argument --remote-ip');
    const client = clientOf(cmd);
    const groupId = await client.findId(SECURITY_GROUP, groupName);
    const remoteGroupId = o.remoteGroup === undefined ? undefined : await client.findId(SECURITY_GROUP, o.remoteGroup);
    printOne(SECURITY_GROUP_RULE_SHOW, await client.create(SECURITY_GROUP_RULE, ruleAttrs(o, groupId, remoteGroupId)), o);
  });

  withOutput(
    rule
      .command('list')
      .description('list security group rules')
      .argument('[group]', 'list all rules in this security group (name or ID)')
      .option('--protocol <protocol>', 'list rules by the IP protocol')
      .option('--ethertype <ethertype>', 'list rules by the Ethertype (IPv4 or IPv6)')
      .option('--ingress', 'list rules applied to incoming network traffic')
      .option('--egress', 'list rules applied to outgoing network traffic')
      .option('--long', '**Deprecated** This argument is no longer needed'),
  ).action(async (groupName: string | undefined, o: RuleOpts, cmd: Command) => {
    const client = clientOf(cmd);
    const q: Record<string, string | undefined> = {};
    const cols = [...SECURITY_GROUP_RULE_LIST];
    if (groupName !== undefined) q.security_group_id = await client.findId(SECURITY_GROUP, groupName);
    else cols.push(SECURITY_GROUP_RULE_LIST_GROUP);
    if (o.ingress) q.direction = 'ingress';
    if (o.egress) q.direction = 'egress';
    if (o.protocol !== undefined) q.protocol = o.protocol;
    if (o.ethertype !== undefined) q.ethertype = ethertypeOf(o.ethertype);
    printList(cols, (await client.list(SECURITY_GROUP_RULE, q)).map(securityGroupRuleRow), o);
  });

  withOutput(rule.command('show').description('display security group rule details').argument('<rule>', 'security group rule to display (ID only)')).action(
    async (id: string, o: OutputOptions, cmd: Command) => {
      printOne(SECURITY_GROUP_RULE_SHOW, await clientOf(cmd).find(SECURITY_GROUP_RULE, id), o);
    },
  );

  rule
    .command('delete')
    .description('delete security group rule(s)')
    .argument('<rule...>', 'security group rule(s) to delete (ID only)')
    .action(async (ids: string[], _o: unknown, cmd: Command) => {
      await deleteMany(clientOf(cmd), SECURITY_GROUP_RULE, 'rule', 'rules', ids);
    });
}
