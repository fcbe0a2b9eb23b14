// security-groups and security-group-rules: neutron-lib api/definitions/security_groups.py (+ stateful-security-
// group, security-groups-remote-address-group, security-groups-normalized-cidr).

import { NeutronError, badAttribute } from '../../domain/errors.js';
import { IpAddress, IpPrefix } from '../../domain/ip.js';
import { pyInt, pyStr } from '../../domain/py.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import { bool, cidrText, int, isStorableText, listOf, nullable, oneOf, record, string, uuid, withConverter, type Type } from '../types.js';
import { id, name, project, standardTail } from './standard.js';

/** Protocol names Neutron accepts, with their numbers (neutron-lib constants.IP_PROTOCOL_MAP and aliases). */
export const PROTOCOLS: Record<string, number> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ipip: 4, ipv6_encap: 41, 'ipv6-encap': 41,
  ipv6_frag: 44, 'ipv6-frag': 44, ipv6_icmp: 58, 'ipv6-icmp': 58, icmpv6: 58, ipv6_nonxt: 59, 'ipv6-nonxt': 59,
  ipv6_opts: 60, 'ipv6-opts': 60, ipv6_route: 43, 'ipv6-route': 43, ospf: 89, pgm: 113, rsvp: 46, sctp: 132, tcp: 6,
  udp: 17, udplite: 136, vrrp: 112,
};

/** convert_protocol: a name (any case), a number 0..255, or none ("any", "", null). */
const protocol: Type<string | null> = {
  describe: 'protocol name or number 0..255, or null',
  is: (v) => v === null || (typeof v === 'string' && (v in PROTOCOLS || (/^\d+$/.test(v) && Number(v) <= 255))),
  convert(value) {
    if (value === null || value === undefined || value === '' || value === 'any') return null;
    const text = typeof value === 'string' || typeof value === 'number' ? String(value).toLowerCase() : null;
    if (text !== null && Object.hasOwn(PROTOCOLS, text)) return text;
    if (text !== null && /^\d+$/.test(text) && Number(text) <= 255) return text;
    throw new NeutronError(
      400,
      'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol ${pyStr(value)} not supported. Only protocol values [None, ${Object.keys(PROTOCOLS)
        .map((p) => `'${p}'`)
        .join(', ')}] and integer representations [0 to 255] are supported.`,
    );
  },
};

/** convert_ethertype_to_case_insensitive, then validate_values. */
const ethertype: Type<'IPv4' | 'IPv6'> = withConverter(oneOf(['IPv4', 'IPv6'] as const), (v, attr) => {
  const lower = typeof v === 'string' ? v.toLowerCase() : null;
  const e = lower === 'ipv4' ? 'IPv4' : lower === 'ipv6' ? 'IPv6' : undefined;
  if (!e) throw badAttribute(attr, `${pyStr(v)} is not in valid_values`);
  return e;
});

/** convert_ip_prefix_to_cidr + validate_subnet_or_none: an address (a host prefix) or a cidr. */
const remoteIpPrefix: Type<string | null> = withConverter(nullable(cidrText), (v, attr) => {
  if (v === null) return null;
  const text = string(255).convert(v, attr);
  const prefix = IpPrefix.parse(text.includes('/') ? text : `${text}/${IpAddress.parse(text)?.bits ?? 0}`);
  if (!prefix || !isStorableText(text)) throw badAttribute(attr, `'${text}' is not a valid IP subnet`);
  return text;
});

/** convert_validate_port_value: null or a valid port 0..65535 (netutils.is_valid_port), else
 * SecurityGroupInvalidPortValue; ICMP type/code ranges are the rule's own checks. */
const portValue: Type<number | null> = withConverter(nullable(int()), (v) => {
  if (v === null) return null;
  const n = pyInt(v);
  if (n === null || n < 0 || n > 65535) {
    throw new NeutronError(400, 'SecurityGroupInvalidPortValue', `Invalid value for port ${pyStr(v)}`);
  }
  return n;
});

/** _validate_name_not_default: "default" in any case is the project's own group, never a user's (409, POST and
 * PUT alike); the server names the default group itself, past this converter. */
const groupName: Type<string> = withConverter(string(255), (v, attr) => {
  const text = string(255).convert(v, attr);
  if (text.toLowerCase() === 'default') {
    throw new NeutronError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
  }
  return text;
});

/** remote_group_id has no validator in Neutron's map: any text is looked up, and one that names no group is
 * 404 SecurityGroupNotFound (Tempest's test_create_security_group_rule_with_non_existent_remote_groupid). */
const remoteGroupId: Type<string | null> = withConverter(nullable(string(255)), (v, attr) => (v === null ? null : string(255).convert(v, attr)));

export const securityGroup = defineResource({
  kind: 'security_group',
  singular: 'security_group',
  plural: 'security_groups',
  doc: "A per-project `default` group with Neutron's four rules, made on first use.",
  path: 'security-groups',
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete', 'tags'],
  attributes: {
    id,
    name: { ...name, type: groupName },
    ...project,
    stateful: { filter: false, type: bool, post: true, put: true, default: true },
    shared: { type: bool },
    security_group_rules: { filter: false, type: listOf(record({})), optional: true, doc: 'shown, not stored: the rules of the group' },
    ...standardTail,
  },
});

export type SecurityGroup = DocOf<typeof securityGroup>;

export const securityGroupRule = defineResource({
  kind: 'security_group_rule',
  singular: 'security_group_rule',
  plural: 'security_group_rules',
  path: 'security-group-rules',
  doc: 'Protocol by name or number; port ranges checked per protocol (ICMP type/code); a duplicate rule is 409.',
  operations: ['list', 'show', 'create', 'bulk', 'delete', 'tags'],
  attributes: {
    id,
    name: { type: string(255), optional: true, doc: 'rules have none' },
    ...project,
    security_group_id: { type: uuid, post: true, required: true },
    direction: { type: oneOf(['ingress', 'egress'] as const), post: true, required: true },
    ethertype: { type: ethertype, post: true, default: 'IPv4' },
    protocol: { type: protocol, post: true, default: null },
    port_range_min: { type: portValue, post: true, default: null },
    port_range_max: { type: portValue, post: true, default: null },
    remote_ip_prefix: { type: remoteIpPrefix, post: true, default: null, doc: 'stored normalized (host bits cleared)' },
    remote_group_id: { type: remoteGroupId, post: true, default: null },
    remote_address_group_id: { type: nullable(uuid), post: true, default: null },
    normalized_cidr: { type: nullable(cidrText) },
    ...standardTail,
    description: { type: nullable(string(255)), post: true, default: '' },
  },
});

export type SecurityGroupRule = DocOf<typeof securityGroupRule>;
export type SecurityGroupRuleInput = InputOf<typeof securityGroupRule>;
