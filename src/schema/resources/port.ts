// ports: neutron-lib api/definitions/port.py, portbindings, port-security, security groups, allowed-address-pairs,
// extra_dhcp_opt, ip_allocation.

import { badAttribute } from '../../domain/errors.js';
import { IpAddress, IpPrefix } from '../../domain/ip.js';
import { normalizeMac } from '../../domain/mac.js';
import { pyStr } from '../../domain/py.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import {
  anyDict,
  bool,
  int,
  ipAddress,
  isStorableText,
  isUuid,
  listOf,
  mac,
  nullable,
  oneOf,
  record,
  string,
  uuid,
  withConverter,
  type Type,
} from '../types.js';
import { id, name, project, standardTail } from './standard.js';
import type { FixedIp, FixedIpRequest } from '../../domain/ipv6/port-addresses.js';

export const PORT_STATUSES = ['ACTIVE', 'DOWN', 'BUILD', 'ERROR', 'N/A'] as const;

export const VNIC_TYPES = [
  'normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa',
  'accelerator-direct', 'accelerator-direct-physical', 'remote-managed',
] as const;

// A port's address and a request's fixed_ips entry are the addressing rules' types (domain/ipv6).
export type { FixedIp, FixedIpRequest };

const fixedIp = record({ subnet_id: uuid, ip_address: ipAddress });

/** validate_fixed_ips: a list of dicts with subnet_id (a UUID) and / or ip_address. Allocation is IPAM's. */
export function convertFixedIps(value: unknown, attr = 'fixed_ips'): FixedIpRequest[] {
  if (!Array.isArray(value)) throw badAttribute(attr, `'${pyStr(value)}' is not a list`);
  return value.map((e) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw badAttribute(attr, `'${pyStr(e)}' is not a dictionary`);
    const entry = e as Record<string, unknown>;
    const extra = Object.keys(entry).filter((k) => k !== 'subnet_id' && k !== 'ip_address');
    if (extra.length) throw badAttribute(attr, `Unrecognized attribute(s) '${extra.join(', ')}'`);
    const out: FixedIpRequest = {};
    if (entry.subnet_id !== undefined) {
      if (!isUuid(entry.subnet_id)) throw badAttribute(attr, `'${pyStr(entry.subnet_id)}' is not a valid UUID`);
      out.subnet_id = entry.subnet_id;
    }
    if (entry.ip_address !== undefined) {
      if (typeof entry.ip_address !== 'string' || !IpAddress.parse(entry.ip_address)) {
        throw badAttribute(attr, `'${pyStr(entry.ip_address)}' is not a valid IP address`);
      }
      out.ip_address = entry.ip_address;
    }
    if (out.subnet_id === undefined && out.ip_address === undefined) {
      throw badAttribute(attr, 'Exactly one of subnet_id or ip_address must be given');
    }
    return out;
  });
}

const fixedIps = withConverter(listOf(fixedIp) as unknown as Type<FixedIpRequest[]>, convertFixedIps, 'list of {subnet_id, ip_address}');

export interface AddressPair {
  ip_address: string;
  mac_address?: string;
}

const addressPairShape = record({ ip_address: string(255), mac_address: mac }, ['mac_address']);
/** validate_allowed_address_pairs: an address or a cidr, and optionally a MAC. */
const addressPairs: Type<AddressPair[]> = withConverter(listOf(addressPairShape) as unknown as Type<AddressPair[]>, (value, attr) => {
  if (!Array.isArray(value)) throw badAttribute(attr, `'${pyStr(value)}' is not a list`);
  return value.map((p) => {
    const pair = p as Record<string, unknown>;
    if (pair === null || typeof pair !== 'object' || Array.isArray(pair) || typeof pair.ip_address !== 'string') {
      throw badAttribute(attr, 'Allowed address pair must contain ip_address');
    }
    const ip = pair.ip_address.includes('/') ? IpPrefix.parse(pair.ip_address) : IpAddress.parse(pair.ip_address);
    if (!ip || !isStorableText(pair.ip_address)) throw badAttribute(attr, `'${pyStr(pair.ip_address)}' is not a valid IP address`);
    const extra = Object.keys(pair).filter((k) => k !== 'ip_address' && k !== 'mac_address');
    if (extra.length) throw badAttribute(attr, `Unrecognized attribute(s) '${extra.join(', ')}'`);
    if (pair.mac_address === undefined) return { ip_address: pair.ip_address };
    const m = normalizeMac(pair.mac_address);
    if (m === null) throw badAttribute(attr, `'${pyStr(pair.mac_address)}' is not a valid MAC address`);
    return { ip_address: pair.ip_address, mac_address: m };
  });
});

export interface ExtraDhcpOpt {
  opt_name: string;
  opt_value: string | null;
  ip_version?: 4 | 6;
}

const extraDhcpOptShape = record({ opt_name: string(255), opt_value: nullable(string(255)), ip_version: oneOf([4, 6] as const) }, ['ip_version']);
/** extra_dhcp_opt's validator: dicts of opt_name, opt_value and an optional ip_version. */
const extraDhcpOpts: Type<ExtraDhcpOpt[]> = withConverter(listOf(extraDhcpOptShape) as unknown as Type<ExtraDhcpOpt[]>, (value, attr) => {
  if (!Array.isArray(value)) throw badAttribute(attr, `'${pyStr(value)}' is not a list`);
  return value.map((o) => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw badAttribute(attr, `'${pyStr(o)}' is not a dictionary`);
    const opt = o as Record<string, unknown>;
    const extra = Object.keys(opt).filter((k) => !['opt_name', 'opt_value', 'ip_version'].includes(k));
    if (extra.length) throw badAttribute(attr, `Unrecognized attribute(s) '${extra.join(', ')}'`);
    const out: ExtraDhcpOpt = {
      opt_name: string(255).convert(opt.opt_name, attr),
      opt_value: nullable(string(255)).convert(opt.opt_value ?? null, attr),
    };
    if (opt.ip_version !== undefined) out.ip_version = oneOf([4, 6] as const).convert(int().convert(opt.ip_version, attr), attr);
    return out;
  });
});

export const port = defineResource({
  kind: 'port',
  singular: 'port',
  plural: 'ports',
  doc: "MACs under `fa:16:3e`; `fixed_ips` (EUI-64 on auto-address subnets, next-fit on stateful/IPv4); the project's default security group; MAC updates renumber EUI-64 addresses; `status` is `DOWN` until the agent of the port's host has plugged it, then `ACTIVE` (`DOWN` again with `admin_state_up` false or when unplugged).",
  operations: ['list', 'show', 'create', 'bulk', 'update', 'delete', 'tags'],
  attributes: {
    id,
    name,
    network_id: { type: uuid, post: true, required: true },
    admin_state_up: { type: bool, post: true, put: true, default: true },
    mac_address: { type: mac, post: true, put: true, doc: 'default: a free one under `fa:16:3e`' },
    fixed_ips: { type: fixedIps as Type<unknown> as Type<FixedIp[]>, post: true, put: true, doc: 'EUI-64 on SLAAC/stateless subnets, next-fit elsewhere' },
    device_id: { type: string(255), post: true, put: true, default: '' },
    device_owner: { type: string(255), post: true, put: true, default: '' },
    ...project,
    status: { type: oneOf(PORT_STATUSES), doc: '`DOWN` until the agent has plugged it' },
    security_groups: { type: listOf(uuid, { unique: true }), post: true, put: true, doc: "default: the project's default group" },
    allowed_address_pairs: { filter: false, type: addressPairs, post: true, put: true, default: [] },
    port_security_enabled: { filter: false, type: bool, post: true, put: true, doc: "default: the network's" },
    'binding:host_id': { type: string(255), post: true, put: true, default: '', adminOnly: true },
    'binding:profile': { filter: false, type: anyDict, post: true, put: true, default: {}, adminOnly: true },
    'binding:vnic_type': { filter: false, type: oneOf(VNIC_TYPES), post: true, put: true, default: 'normal' },
    'binding:vif_type': { filter: false, type: string(255) },
    'binding:vif_details': { filter: false, type: anyDict },
    extra_dhcp_opts: { filter: false, type: extraDhcpOpts, post: true, put: true, default: [] },
    ip_allocation: { type: string(255) },
    // v6stack's instance-metadata extension (docs/dataplane.md, "What an instance sees"): what Nova would hold for
    // the instance behind the port, served by the metadata service and written to config drives. Shown only when set.
    'instance:metadata': { filter: false, type: anyDict, post: true, put: true, optional: true, doc: 'instance-metadata: `{name, hostname, availability_zone, meta: {k: v}, public_keys: {name: key}}` for meta_data.json' },
    'instance:user_data': { filter: false, type: string(65535), post: true, put: true, optional: true, doc: 'instance-metadata: the user data (e.g. `#cloud-config`) served as user_data, at most 65535 characters' },
    ...standardTail,
  },
});

export type Port = DocOf<typeof port>;
export type PortInput = Omit<InputOf<typeof port>, 'fixed_ips'> & { fixed_ips?: FixedIpRequest[] };
