// The data centre beyond an external network, as in the talk: the upstream router that owns the external subnets'
// gateway addresses (2001:db8:cafe:d::1, 172.16.12.1 there), a DNS host behind it (2001:db8:cafe:a::e), and routes
// back to every tenant prefix through the v6stack router whose gateway is on that network (no NAT for IPv6, as in
// Neutron; IPv4 is routed back the same way, since v6stack has no SNAT yet).
//
// `v6stack lab dc --network public` builds it as a namespace `lab-<name>` whose eth0 is plugged into the external
// network's bridge. Its bridge end is `up-<name>`, not `tap...`, so the agent never takes it for a stale port.
// Running it again refreshes the routes from the API (routers, interfaces and gateways may have changed).

import { createHash } from 'node:crypto';
import { exec } from './linux.js';
import { labNsName, type LabOptions } from './lab.js';
import { bridgeName, bridgeNsName, GATEWAY_OWNER, ROUTER_INTERFACE_OWNERS, type Doc } from './plan.js';

export interface DcRoute {
  family: 4 | 6;
  /** A tenant prefix. */
  dst: string;
  /** The address of the router's gateway port (qg-) on the external network. */
  via: string;
}

export interface DcPlan {
  /** The external subnets' gateway addresses, "addr/len", on eth0. */
  addresses: string[];
  /** Hosts behind the upstream router (the DNS host), on lo. */
  hosts: string[];
  routes: DcRoute[];
}

const family = (cidr: string): 4 | 6 => (cidr.includes(':') ? 6 : 4);

/**
 * PURE. What the upstream router of `network` holds: every subnet's gateway_ip, the given hosts, and a route to each
 * internal subnet of every router whose gateway port is on the network, via that port's address of the same family.
 */
export function dcPlan(network: Doc, subnets: Doc[], ports: Doc[], hosts: string[]): DcPlan {
  const mine = subnets.filter((s) => s.network_id === network.id);
  const addresses = mine.filter((s) => s.gateway_ip).map((s) => `${s.gateway_ip}/${String(s.cidr).split('/')[1]}`);
  const byId = new Map(subnets.map((s) => [s.id as string, s]));
  const routes: DcRoute[] = [];
  const gateways = ports.filter((p) => p.device_owner === GATEWAY_OWNER && p.network_id === network.id);
  for (const gw of [...gateways].sort((a, b) => String(a.id).localeCompare(String(b.id)))) {
    const via = new Map<number, string>();
    for (const ip of gw.fixed_ips as Doc[]) via.set(family(ip.ip_address), ip.ip_address);
    const internal = ports.filter((p) => p.device_id === gw.device_id && ROUTER_INTERFACE_OWNERS.has(p.device_owner));
    const seen = new Set<string>();
    for (const p of internal) {
      for (const ip of p.fixed_ips as Doc[]) {
        const s = byId.get(ip.subnet_id);
        if (!s || seen.has(s.id)) continue;
        seen.add(s.id);
        const v = via.get(s.ip_version);
        if (v) routes.push({ family: s.ip_version, dst: s.cidr, via: v });
      }
    }
  }
  return { addresses, hosts, routes };
}

/** A locally administered MAC from the name, stable across runs. */
function macFor(name: string): string {
  const h = createHash('sha256').update(`v6stack-dc-${name}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export const uplinkName = (name: string): string => `up-${name}`.slice(0, 15);

async function api(server: string, path: string): Promise<any> {
  const res = await fetch(server + path);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function has(argv: string[]): Promise<boolean> {
  try {
    await exec(argv);
    return true;
  } catch {
    return false;
  }
}

/** Builds or refreshes the DC of an external network. Returns what it holds. */
export async function labDc(opts: LabOptions, network: string, name: string, hosts: string[]): Promise<DcPlan> {
  const log = opts.log ?? ((l: string) => console.error(`lab: ${l}`));
  if (!/^[A-Za-z0-9_.-]{1,12}$/.test(name)) throw new Error(`bad DC name ${JSON.stringify(name)}: 1 to 12 letters, digits, '_', '.', '-'`);
  for (const h of hosts) if (!/^[0-9a-fA-F:.]+$/.test(h)) throw new Error(`bad host address ${h}`);
  let net: Doc | undefined = (await api(opts.server, `/v2.0/networks?id=${encodeURIComponent(network)}`)).networks[0];
  net ??= (await api(opts.server, `/v2.0/networks?name=${encodeURIComponent(network)}`)).networks[0];
  if (!net) throw new Error(`no network ${network}`);
  if (!net['router:external']) throw new Error(`network ${net.name || net.id} is not external (router:external): a DC sits beyond an external network`);
  const [subnets, ports] = await Promise.all([api(opts.server, '/v2.0/subnets'), api(opts.server, '/v2.0/ports')]);
  const plan = dcPlan(net, subnets.subnets, ports.ports, hosts);
  if (!plan.addresses.length) throw new Error(`network ${net.name || net.id} has no subnet with a gateway_ip for the DC to own`);

  const ns = labNsName(name);
  const brNs = bridgeNsName(opts.host);
  const bridge = bridgeName(net.id);
  if (!(await has(['ip', '-n', brNs, 'link', 'show', bridge]))) throw new Error(`bridge ${bridge} of network ${net.id} is not in ${brNs} (is the agent for host ${opts.host} running?)`);
  if (!(await has(['ip', 'netns', 'exec', ns, 'true']))) {
    await exec(['ip', 'netns', 'add', ns]);
    await exec(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.ip_forward=1']);
    const up = uplinkName(name);
    await exec(['ip', '-n', brNs, 'link', 'add', up, 'mtu', String(net.mtu ?? 1500), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, 'address', macFor(name), 'mtu', String(net.mtu ?? 1500)]);
    await exec(['ip', '-n', brNs, 'link', 'set', up, 'master', bridge, 'up']);
    await exec(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    log(`namespace ${ns}: eth0 on ${bridge} via ${up}`);
  }
  for (const a of plan.addresses) await exec(['ip', '-n', ns, 'addr', 'replace', a, 'dev', 'eth0', 'nodad']);
  for (const h of plan.hosts) await exec(['ip', '-n', ns, 'addr', 'replace', `${h}/${family(h) === 6 ? 128 : 32}`, 'dev', 'lo']);
  // Routes back to the tenants: ours carry `proto static`; those no longer planned are removed.
  for (const f of [4, 6] as const) {
    const have = JSON.parse((await exec(['ip', '-n', ns, '-json', `-${f}`, 'route', 'show', 'proto', 'static'])) || '[]') as { dst: string; gateway?: string }[];
    const want = plan.routes.filter((r) => r.family === f);
    for (const r of have) if (!want.some((w) => w.dst === r.dst && w.via === r.gateway)) await exec(['ip', '-n', ns, `-${f}`, 'route', 'del', r.dst]);
    for (const r of want) await exec(['ip', '-n', ns, `-${f}`, 'route', 'replace', r.dst, 'via', r.via, 'dev', 'eth0', 'proto', 'static']);
  }
  log(`${ns}: upstream router ${plan.addresses.join(' ')}; hosts ${plan.hosts.join(' ') || '-'}; ${plan.routes.map((r) => `${r.dst} via ${r.via}`).join(', ') || 'no tenant routes yet'}`);
  return plan;
}
