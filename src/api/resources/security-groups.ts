// Security groups and their rules, with Neutron's per-project "default" group: ingress only from members of the
// group, all egress, for IPv4 and IPv6 alike. A new non-default group starts with the two egress rules.

import { randomUUID } from 'node:crypto';
import { NeutronError, notFound } from '../../domain/errors.js';
import { IpAddress, IpPrefix } from '../../domain/ip.js';
import type { Doc, Tx } from '../../store/types.js';
import { securityGroup, securityGroupRule } from '../../schema/index.js';
import { PROTOCOLS } from '../../schema/resources/security-group.js';
import { deleteDoc, insertDoc, newDoc, saveDoc, timestamp, type RequestContext } from '../context.js';
import type { ResourceDef } from '../resource.js';
import { dropRbacOf } from './rbac-policies.js';
import { ADDRESS_GROUP_KIND, addressGroupNotFound } from './address-groups.js';


function ruleDoc(
  project: string,
  groupId: string,
  fields: { direction: string; ethertype: string; remote_group_id?: string | null },
): Doc {
  const now = timestamp();
  return {
    id: randomUUID(),
    tenant_id: project,
    security_group_id: groupId,
    ethertype: fields.ethertype,
    direction: fields.direction,
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_address_group_id: null,
    normalized_cidr: null,
    remote_group_id: fields.remote_group_id ?? null,
    description: null,
    tags: [],
    created_at: now,
    updated_at: now,
    revision_number: 0,
    project_id: project,
  };
}

async function insertEgressRules(tx: Tx, project: string, groupId: string): Promise<void> {
  for (const ethertype of ['IPv4', 'IPv6']) {
    await insertDoc(tx, 'security_group_rule', ruleDoc(project, groupId, { direction: 'egress', ethertype }));
  }
}

/** The project's default group, made on first use (as Neutron does on a project's first request). */
export async function defaultSecurityGroupOf(tx: Tx, project: string): Promise<string> {
  const existing = await tx.defaultSecurityGroup(project);
  if (existing) return existing;
  const ctx: RequestContext = { projectId: project, isAdmin: true, requestId: '' };
  const group = newDoc(ctx, {}, { name: 'default', stateful: true, shared: false });
  group.name = 'default';
  group.description = 'Default security group';
  await tx.setDefaultSecurityGroup(project, group.id);
  await insertDoc(tx, 'security_group', group);
  for (const ethertype of ['IPv4', 'IPv6']) {
    await insertDoc(tx, 'security_group_rule', ruleDoc(project, group.id, { direction: 'ingress', ethertype, remote_group_id: group.id }));
  }
  await insertEgressRules(tx, project, group.id);
  return group.id;
}

export const securityGroups: ResourceDef = {
  kind: 'security_group',
  schema: securityGroup,
  async create(tx, ctx, input) {
    const doc = newDoc(ctx, input, { stateful: input.stateful ?? true, shared: false });
    await defaultSecurityGroupOf(tx, doc.project_id as string);
    await insertDoc(tx, 'security_group', doc);
    await insertEgressRules(tx, doc.project_id as string, doc.id);
    return doc;
  },
  async update(tx, _ctx, doc, input) {
    // securitygroups_db.update_security_group: the default group's name cannot be given at all.
    if (doc.name === 'default' && input.name !== undefined) {
      throw new NeutronError(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
    }
    Object.assign(doc, input);
    return saveDoc(tx, 'security_group', doc);
  },
  async remove(tx, ctx, doc) {
    // Neutron's delete_security_group: only an admin may remove a project's default group (Tempest's admin clean-up
    // of its projects does); the next port of that project gets a new one.
    if (!ctx.isAdmin && (await tx.defaultSecurityGroup(doc.project_id as string)) === doc.id) {
      throw new NeutronError(409, 'SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
    }
    const used = (await tx.list('port')).some((p) => (p.security_groups as string[]).includes(doc.id));
    if (used) throw new NeutronError(409, 'SecurityGroupInUse', `Security Group ${doc.id} in use.`);
    for (const r of await tx.list('security_group_rule', { security_group_id: [doc.id] })) {
      await deleteDoc(tx, 'security_group_rule', r.id);
    }
    await dropRbacOf(tx, doc.id);
    await deleteDoc(tx, 'security_group', doc.id);
  },
  async present(tx, doc) {
    return { ...doc, security_group_rules: await tx.list('security_group_rule', { security_group_id: [doc.id] }) };
  },
};

/** The IP protocol number of a rule's protocol (name or number), as securitygroups_db._get_ip_proto_number. */
function protocolNumber(protocol: string): number {
  return /^\d+$/.test(protocol) ? Number(protocol) : PROTOCOLS[protocol];
}

/** neutron/common/_constants.py SG_PORT_PROTO_NUMS: DCCP, SCTP, TCP, UDP, UDPLITE. */
const PORT_PROTOCOL_NUMBERS = new Set([33, 132, 6, 17, 136]);
const PORT_PROTOCOL_NAMES = 'DCCP, SCTP, TCP, UDP, UDPLITE';

/** _validate_ethertype_and_protocol's list: IPv6-only protocols, which an IPv4 rule cannot carry. */
const IPV6_ONLY_PROTOCOLS = new Set(['ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '41', '44', '58', '59', '60', '43']);

/** securitygroups_db._validate_port_range, in Neutron's order. */
function checkPorts(protocol: string | null, min: number | null, max: number | null): void {
  if (min === null && max === null) return;
  if (protocol === null) {
    throw new NeutronError(400, 'SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
  }
  const number = protocolNumber(protocol);
  if (PORT_PROTOCOL_NUMBERS.has(number)) {
    if (min === 0 || max === 0) throw new NeutronError(400, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0');
    // Both ends are required: a TCP rule with only port_range_max is refused, not widened (Tempest's (None, 6)).
    if (!(min !== null && max !== null && min <= max)) {
      throw new NeutronError(400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
    }
  } else if (number === 1 || number === 58) {
    for (const [attr, field, v] of [['port_range_min', 'type', min], ['port_range_max', 'code', max]] as const) {
      if (v !== null && !(v >= 0 && v <= 255)) {
        throw new NeutronError(400, 'SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${v}. It must be 0 to 255.`);
      }
    }
    if (min === null && max !== null) {
      throw new NeutronError(400, 'SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
    }
  } else {
    throw new NeutronError(
      400,
      'SecurityGroupInvalidProtocolForPort',
      `Ports cannot be specified for protocol ${number}. Ports are only supported for ${PORT_PROTOCOL_NAMES}.`,
    );
  }
}

const RULE_MATCH_KEYS = ['direction', 'ethertype', 'port_range_max', 'port_range_min', 'protocol', 'remote_group_id', 'remote_address_group_id', 'remote_ip_prefix'];

/** securitygroups_db._rule_to_key: "tcp" and "6" are one protocol, and 0.0.0.0/0 or ::/0 is no prefix. */
function ruleKey(rule: Doc): string {
  return RULE_MATCH_KEYS.map((k) => {
    const v = rule[k];
    if (k === 'remote_ip_prefix' && (v === '0.0.0.0/0' || v === '::/0')) return '+';
    if (v === null || v === undefined) return '+';
    if (k === 'protocol') return String(protocolNumber(v as string));
    return String(v);
  }).join('_');
}

export const securityGroupRules: ResourceDef = {
  kind: 'security_group_rule',
  schema: securityGroupRule,
  async create(tx, _ctx, input) {
    const ethertype = (input.ethertype as string | undefined) ?? 'IPv4';
    let protocol = (input.protocol as string | null | undefined) ?? null;
    let min = (input.port_range_min as number | null | undefined) ?? null;
    let max = (input.port_range_max as number | null | undefined) ?? null;
    // _make_canonical_ipv6_icmp_protocol: an IPv6 rule's legacy "icmp"/"icmpv6" (or 1) means ICMPv6.
    if (ethertype === 'IPv6' && (protocol === 'icmp' || protocol === 'icmpv6')) protocol = 'ipv6-icmp';
    else if (ethertype === 'IPv6' && protocol === '1') protocol = '58';
    // _make_canonical_port_range: the whole range 1-65535 is stored as no range.
    if (min === 1 && max === 65535) min = max = null;
    checkPorts(protocol, min, max);
    const remoteIp = (input.remote_ip_prefix as string | null | undefined) ?? null;
    const remoteGroup = (input.remote_group_id as string | null | undefined) ?? null;
    const remoteAddressGroup = (input.remote_address_group_id as string | null | undefined) ?? null;
    let normalized: string | null = null;
    if (remoteIp !== null) {
      const prefix = IpPrefix.parse(remoteIp.includes('/') ? remoteIp : `${remoteIp}/${IpAddress.parse(remoteIp)!.bits}`)!;
      if (`IPv${prefix.version}` !== ethertype) {
        throw new NeutronError(400, 'SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${ethertype} for CIDR ${remoteIp}`);
      }
      normalized = prefix.toString();
    }
    if (ethertype === 'IPv4' && protocol !== null && IPV6_ONLY_PROTOCOLS.has(protocol)) {
      throw new NeutronError(400, 'SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${ethertype} for protocol ${protocol}.`);
    }
    if ([remoteIp, remoteGroup, remoteAddressGroup].filter((r) => r !== null).length > 1) {
      throw new NeutronError(
        400,
        'SecurityGroupMultipleRemoteEntites',
        'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.',
      );
    }
    if (remoteGroup !== null && !(await tx.get('security_group', remoteGroup))) throw notFound('security_group', remoteGroup);
    // _check_remote_address_group_id (check_address_group): the group must exist.
    if (remoteAddressGroup !== null && !(await tx.get(ADDRESS_GROUP_KIND, remoteAddressGroup))) throw addressGroupNotFound(remoteAddressGroup);
    const group = await tx.get('security_group', input.security_group_id as string);
    if (!group) throw notFound('security_group', input.security_group_id as string);
    const doc = ruleDoc(group.project_id as string, group.id, { direction: input.direction as string, ethertype, remote_group_id: remoteGroup });
    Object.assign(doc, {
      protocol,
      port_range_min: min,
      port_range_max: max,
      remote_ip_prefix: normalized,
      normalized_cidr: normalized,
      remote_address_group_id: remoteAddressGroup,
      description: input.description ?? '',
    });
    if (input.project_id !== undefined || input.tenant_id !== undefined) {
      doc.project_id = doc.tenant_id = (input.project_id ?? input.tenant_id) as string;
    }
    const key = ruleKey(doc);
    for (const r of await tx.list('security_group_rule', { security_group_id: [group.id] })) {
      if (ruleKey(r) === key) {
        throw new NeutronError(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${r.id}.`);
      }
    }
    const rule = await insertDoc(tx, 'security_group_rule', doc);
    // A rule is part of its group: the group's revision_number moves with it (Neutron's revises_on_change).
    await saveDoc(tx, 'security_group', group);
    return rule;
  },
  async remove(tx, _ctx, doc) {
    await deleteDoc(tx, 'security_group_rule', doc.id);
    const group = await tx.get('security_group', doc.security_group_id as string);
    if (group) await saveDoc(tx, 'security_group', group);
  },
};
