// Differential comparison of v6stack with the real Neutron Zed on scripts/http-cases.py (140 raw-HTTP cases).
// The peer's answers are recorded in test/fixtures/http-cases/neutron-zed.json (scripts/http-cases-record.mjs).
// Every case is reduced to a few "aspects" that must agree once ids and randomness are normalised away:
//   run         the case was run at all (a failed setup request in the script skips the rest of its section)
//   status      the HTTP status
//   error       NeutronError type and message (UUIDs replaced by <uuid>, Python set reprs sorted)
//   fields      the values of the deterministic attributes of a created/updated resource (addresses Neutron picks
//               at random become <allocated>, generated MACs <generated>), or the shape of a list answer
//   attributes  the attribute names of a single-resource answer (which keys a client will find)
// Known, accepted differences live in test/fixtures/http-cases/known-mismatches.json, one entry per case and
// aspect, with the exact (normalised) answer v6stack gives today and the reason.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

/** The repository root (this file is compiled to dist/test/integration/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const fixturePath = join(repoRoot, 'test/fixtures/http-cases/neutron-zed.json');
export const allowListPath = join(repoRoot, 'test/fixtures/http-cases/known-mismatches.json');
export const scriptPath = join(repoRoot, 'scripts/http-cases.py');

export interface CaseRecord {
  name: string;
  note: string;
  request: { method: string; path: string; body: unknown; headers: Record<string, string> };
  status: number;
  body: any;
}

export type Aspect = 'run' | 'status' | 'error' | 'fields' | 'attributes';
export const ASPECTS: Aspect[] = ['run', 'status', 'error', 'fields', 'attributes'];

export interface AllowEntry {
  case: string;
  aspect: Aspect;
  reason: string;
  neutron: unknown;
  v6stack: unknown;
}

export interface Mismatch {
  case: string;
  aspect: Aspect;
  neutron: unknown;
  v6stack: unknown;
}

export function loadFixture(): CaseRecord[] {
  return JSON.parse(readFileSync(fixturePath, 'utf8')).cases;
}

export function loadAllowList(): AllowEntry[] {
  return existsSync(allowListPath) ? JSON.parse(readFileSync(allowListPath, 'utf8')).mismatches : [];
}

/** Reads the per-case answer files http-cases.py wrote into `dir`. */
export function readRun(dir: string): { cases: Map<string, CaseRecord>; setupErrors: { section: string; error: string }[] } {
  const cases = new Map<string, CaseRecord>();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json') || f === 'catalogue.json' || f === 'setup-errors.json') continue;
    const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CaseRecord;
    cases.set(rec.name, rec);
  }
  const se = join(dir, 'setup-errors.json');
  return { cases, setupErrors: existsSync(se) ? JSON.parse(readFileSync(se, 'utf8')) : [] };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Ids become <uuid>; a Python set repr such as {'start', 'end'} (random order per process) is sorted. */
export function normaliseMessage(m: unknown): unknown {
  if (typeof m !== 'string') return m;
  return m
    .replace(UUID, '<uuid>')
    .replace(/\{('[^']*'(?:, '[^']*')*)\}/g, (_, items: string) => `{${items.split(', ').sort().join(', ')}}`);
}

function normaliseIds(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(UUID, '<uuid>');
  if (Array.isArray(v)) return v.map(normaliseIds);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normaliseIds(x)]));
  return v;
}

/** Expands an IPv6 address to 8 groups of 4 lowercase hex digits (undefined if it is not IPv6). */
function expandV6(ip: string): string[] | undefined {
  if (!ip.includes(':')) return undefined;
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.length === 8 ? groups.map((g) => g.padStart(4, '0')) : undefined;
}

function eui64Iid(mac: string): string[] {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const iid = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  return [0, 2, 4, 6].map((i) => ((iid[i]! << 8) | iid[i + 1]!).toString(16).padStart(4, '0'));
}

/**
 * A port's address as a deterministic value: requested addresses and EUI-64 addresses of a requested MAC as they
 * are, the EUI-64 address of a generated MAC as `prefix:<eui64>`, other (pool-picked) addresses as `prefix:<allocated>`.
 */
function portAddress(ip: string, mac: string, macRequested: boolean, requested: Set<string>): string {
  if (requested.has(ip)) return ip;
  const g = expandV6(ip);
  if (!g) return '<allocated IPv4>';
  const prefix = g.slice(0, 4).map((x) => x.replace(/^0+(?=.)/, '')).join(':');
  if (typeof mac === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac) && isDeepStrictEqual(g.slice(4), eui64Iid(mac.toLowerCase()))) {
    return macRequested ? ip : `${prefix}:<eui64>`;
  }
  return `${prefix}:<allocated>`;
}

const pick = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> =>
  Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));

const FIELDS: Record<string, string[]> = {
  subnet: ['name', 'ip_version', 'cidr', 'gateway_ip', 'allocation_pools', 'enable_dhcp', 'ipv6_ra_mode', 'ipv6_address_mode',
    'dns_nameservers', 'host_routes', 'subnetpool_id', 'description', 'service_types', 'segment_id', 'tags'],
  network: ['name', 'admin_state_up', 'status', 'shared', 'router:external', 'mtu', 'subnets', 'port_security_enabled',
    'provider:network_type', 'provider:physical_network', 'is_default', 'l2_adjacency', 'availability_zone_hints',
    'ipv4_address_scope', 'ipv6_address_scope', 'description', 'tags'],
  router: ['name', 'admin_state_up', 'status', 'external_gateway_info', 'distributed', 'ha', 'routes', 'availability_zone_hints',
    'flavor_id', 'description', 'tags'],
  subnetpool: ['name', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'is_default', 'shared', 'ip_version',
    'default_quota', 'address_scope_id', 'description', 'tags'],
  bgp_speaker: ['name', 'ip_version', 'local_as', 'advertise_tenant_networks', 'advertise_floating_ip_host_routes', 'peers', 'networks'],
  bgp_peer: ['name', 'peer_ip', 'remote_as', 'auth_type'],
  port: ['name', 'admin_state_up', 'status', 'device_id', 'device_owner', 'port_security_enabled', 'binding:vnic_type',
    'binding:profile', 'binding:host_id', 'binding:vif_type', 'binding:vif_details', 'allowed_address_pairs', 'extra_dhcp_opts',
    'description', 'ip_allocation', 'tags'],
};

/** The deterministic part of a successful answer. */
function fields(rec: CaseRecord): unknown {
  const body = rec.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return normaliseIds(body);
  const keys = Object.keys(body);
  const only = keys.length === 1 ? keys[0]! : undefined;
  const inner = only ? body[only] : undefined;
  if (only && Array.isArray(inner)) {
    // a list: its shape only (the peer's database held other objects)
    const itemKeys = [...new Set(inner.flatMap((x: object) => Object.keys(x)))].sort();
    return { list: only, itemKeys };
  }
  if (keys.some((k) => k.endsWith('_links'))) {
    const list = keys.find((k) => !k.endsWith('_links'))!;
    const items = body[list] as object[];
    return { list, links: keys.filter((k) => k.endsWith('_links')), count: items.length, itemKeys: [...new Set(items.flatMap((x) => Object.keys(x)))].sort() };
  }
  if (only && inner && typeof inner === 'object' && FIELDS[only]) {
    const o = inner as Record<string, any>;
    const out: Record<string, unknown> = pick(o, FIELDS[only]!);
    if (Array.isArray(o.subnets)) out.subnets = o.subnets.length;
    if (only === 'port') {
      const reqPort = ((rec.request.body as any)?.port ?? {}) as Record<string, any>;
      const requested = new Set<string>((reqPort.fixed_ips ?? []).map((f: any) => f.ip_address).filter(Boolean));
      out.mac_address = reqPort.mac_address ? o.mac_address : /^fa:16:3e(:[0-9a-f]{2}){3}$/.test(o.mac_address) ? '<generated fa:16:3e>' : o.mac_address;
      out.fixed_ips = (o.fixed_ips ?? []).map((f: any) => portAddress(f.ip_address, o.mac_address, Boolean(reqPort.mac_address), requested)).sort();
      out.security_groups = Array.isArray(o.security_groups) ? o.security_groups.length : o.security_groups;
    }
    if (only === 'router' && o.external_gateway_info) out.external_gateway_info = normaliseIds(o.external_gateway_info);
    return normaliseIds(out);
  }
  // e.g. add_router_interface / add_gateway_network answers: the whole body, ids normalised, project left out
  const { tenant_id: _t, project_id: _p, ...rest } = body as Record<string, unknown>;
  return normaliseIds(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))));
}

function attributes(rec: CaseRecord): unknown {
  const body = rec.body;
  if (!body || typeof body !== 'object' || Array.isArray(body) || 'NeutronError' in body) return null;
  const keys = Object.keys(body);
  if (keys.length === 1 && body[keys[0]!] && typeof body[keys[0]!] === 'object' && !Array.isArray(body[keys[0]!])) {
    return { [keys[0]!]: Object.keys(body[keys[0]!]).sort() };
  }
  return { '': keys.sort() };
}

function errorOf(rec: CaseRecord): unknown {
  const e = rec.body && typeof rec.body === 'object' ? rec.body.NeutronError : undefined;
  if (!e || typeof e !== 'object') return rec.status >= 400 ? { body: normaliseIds(rec.body) } : null;
  return { type: e.type ?? null, message: normaliseMessage(e.message ?? null) };
}

/** The aspects on which our answer to one case differs from Neutron's. */
export function compareCase(neutron: CaseRecord, ours: CaseRecord | undefined): Mismatch[] {
  const name = neutron.name;
  if (!ours) return [{ case: name, aspect: 'run', neutron: 'run', v6stack: 'not run (a setup request of its section failed)' }];
  const out: Mismatch[] = [];
  const push = (aspect: Aspect, a: unknown, b: unknown): void => {
    if (!isDeepStrictEqual(a, b)) out.push({ case: name, aspect, neutron: a, v6stack: b });
  };
  push('status', neutron.status, ours.status);
  const nErr = neutron.status >= 400;
  if (nErr || ours.status >= 400) {
    push('error', errorOf(neutron), errorOf(ours));
  } else {
    push('fields', fields(neutron), fields(ours));
    push('attributes', attributes(neutron), attributes(ours));
  }
  return out;
}

/** Allowed when an entry names the case and aspect and records exactly the answer we give today. */
export function isAllowed(m: Mismatch, allow: AllowEntry[]): AllowEntry | undefined {
  return allow.find((a) => a.case === m.case && a.aspect === m.aspect && isDeepStrictEqual(a.v6stack, m.v6stack));
}
