// Security groups and their rules, with Neutron's per-project "default" group: ingress only from members of the
// group, all egress, for IPv4 and IPv6 alike. A new non-default group starts with the two egress rules.

import { randomUUID } from 'node:crypto';
import { NeutronError, notFound } from '../../domain/errors.js';
import { IpAddress, IpPrefix } from '../../domain/ip.js';
import type { Doc, Tx } from '../../store/types.js';
import { securityGroup, securityGroupRule } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, saveDoc, timestamp, type RequestContext } from '../context.js';
import type { ResourceDef } from '../resource.js';

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'dccp', 'sctp', 'udplite', '6', '17', '33', '132', '136']);
const ICMP_PROTOCOLS = new Set(['icmp', 'ipv6-icmp', 'icmpv6', 'ipv6_icmp', '1', '58']);

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
    if (doc.name === 'default') {
      // Neutron: creating another group named "default" is refused; the project's own is made implicitly.
      await defaultSecurityGroupOf(tx, doc.project_id as string);
      throw new NeutronError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    }
    await defaultSecurityGroupOf(tx, doc.project_id as string);
    await insertDoc(tx, 'security_group', doc);
    await insertEgressRules(tx, doc.project_id as string, doc.id);
    return doc;
  },
  async update(tx, _ctx, doc, input) {
    if (doc.name === 'default' && input.name !== undefined && input.name !== 'default') {
      throw new NeutronError(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
    }
    Object.assign(doc, input);
    return saveDoc(tx, 'security_group', doc);
  },
  async remove(tx, _ctx, doc) {
    if ((await tx.defaultSecurityGroup(doc.project_id as string)) === doc.id) {
      throw new NeutronError(409, 'SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
    }
    const used = (await tx.list('port')).some((p) => (p.security_groups as string[]).includes(doc.id));
    if (used) throw new NeutronError(409, 'SecurityGroupInUse', `Security Group ${doc.id} in use.`);
    for (const r of await tx.list('security_group_rule', { security_group_id: [doc.id] })) {
      await deleteDoc(tx, 'security_group_rule', r.id);
    }
    await deleteDoc(tx, 'security_group', doc.id);
  },
  async present(tx, doc) {
    return { ...doc, security_group_rules: await tx.list('security_group_rule', { security_group_id: [doc.id] }) };
  },
};

function checkPorts(protocol: string | null, min: number | null, max: number | null): void {
  if (min === null && max === null) return;
  if (protocol === null) {
    throw new NeutronError(400, 'SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
  }
  if (PORT_PROTOCOLS.has(protocol)) {
    for (const p of [min, max]) {
      if (p !== null && (p < 0 || p > 65535)) throw new NeutronError(400, 'SecurityGroupInvalidPortValue', `Invalid value for port ${p}.`);
    }
    if (min !== null && max !== null && min > max) {
      throw new NeutronError(400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
    }
    if (min === 0 || max === 0) throw new NeutronError(400, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0.');
  } else if (ICMP_PROTOCOLS.has(protocol)) {
    for (const [name, v] of [['type', min], ['code', max]] as const) {
      if (v !== null && (v < 0 || v > 255)) {
        throw new NeutronError(400, 'SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${name} (${name === 'type' ? 'port-range-min' : 'port-range-max'}): ${v}.`);
      }
    }
    if (min === null && max !== null) {
      throw new NeutronError(400, 'SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
    }
  }
}

const RULE_MATCH_KEYS = ['direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'remote_address_group_id'];

export const securityGroupRules: ResourceDef = {
  kind: 'security_group_rule',
  schema: securityGroupRule,
  async create(tx, _ctx, input) {
    const group = await tx.get('security_group', input.security_group_id as string);
    if (!group) throw notFound('security_group', input.security_group_id as string);
    const ethertype = (input.ethertype as string | undefined) ?? 'IPv4';
    const protocol = (input.protocol as string | null | undefined) ?? null;
    const min = (input.port_range_min as number | null | undefined) ?? null;
    const max = (input.port_range_max as number | null | undefined) ?? null;
    checkPorts(protocol, min, max);
    const remoteIp = (input.remote_ip_prefix as string | null | undefined) ?? null;
    const remoteGroup = (input.remote_group_id as string | null | undefined) ?? null;
    if (remoteIp !== null && remoteGroup !== null) {
      throw new NeutronError(400, 'SecurityGroupRemoteGroupAndRemoteIpPrefix', 'Only remote_ip_prefix or remote_group_id may be provided.');
    }
    if (remoteGroup !== null && !(await tx.get('security_group', remoteGroup))) throw notFound('security_group', remoteGroup);
    let normalized: string | null = null;
    if (remoteIp !== null) {
      const prefix = IpPrefix.parse(remoteIp.includes('/') ? remoteIp : `${remoteIp}/${IpAddress.parse(remoteIp)!.bits}`)!;
      if (`IPv${prefix.version}` !== ethertype) {
        throw new NeutronError(400, 'SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${ethertype} for CIDR ${remoteIp}`);
      }
      normalized = prefix.toString();
    }
    if (ethertype === 'IPv4' && protocol !== null && ['ipv6-icmp', 'icmpv6', 'ipv6_icmp', '58', 'ipv6-encap', 'ipv6-frag', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route'].includes(protocol)) {
      throw new NeutronError(400, 'SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${ethertype} for protocol ${protocol}.`);
    }
    const doc = ruleDoc(group.project_id as string, group.id, { direction: input.direction as string, ethertype, remote_group_id: remoteGroup });
    Object.assign(doc, {
      protocol,
      port_range_min: min,
      port_range_max: max,
      remote_ip_prefix: normalized,
      normalized_cidr: normalized,
      remote_address_group_id: input.remote_address_group_id ?? null,
      description: input.description ?? '',
    });
    if (input.project_id !== undefined || input.tenant_id !== undefined) {
      doc.project_id = doc.tenant_id = (input.project_id ?? input.tenant_id) as string;
    }
    for (const r of await tx.list('security_group_rule', { security_group_id: [group.id] })) {
      if (RULE_MATCH_KEYS.every((k) => r[k] === doc[k])) {
        throw new NeutronError(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${r.id}.`);
      }
    }
    return insertDoc(tx, 'security_group_rule', doc);
  },
  async remove(tx, _ctx, doc) {
    await deleteDoc(tx, 'security_group_rule', doc.id);
  },
};
