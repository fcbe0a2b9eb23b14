// The data centre beyond an external network, as in the talk: the upstream router that owns the external subnets'
// gateway addresses (2001:db8:cafe:16::1 and 172.16.22.1 there), a DNS host behind it (2001:db8:cafe:a::e), and routes
// back to every tenant prefix through the v6stack router whose gateway is on that network (no NAT for IPv6, as in
// Neutron). Tenant IPv4 prefixes are routed back only for routers with enable_snat false: with SNAT on, their IPv4
// reaches the DC as the gateway's address (or a floating IP), and a route back would hide a missing NAT.
//
// It is also the provider network's RA source, as the talk's upstream router was: for every IPv6 subnet of the
// network with an address mode (a provider subnet "configured to receive RAs from an external router", or the talk's
// slaac/slaac external-subnet-v6), it runs radvd on its eth0 with the flags that mode needs, so an instance plugged
// straight into the provider network configures itself from the upstream router.
//
// `v6stack lab dc --network public` builds it as a namespace `lab-<name>` whose eth0 is plugged into the external
// network's bridge. Its bridge end is `up-<name>`, not `tap...`, so the agent never takes it for a stale port.
// Running it again makes the DC what the API and the options say now (routes, addresses, RAs); `--follow` does that
// on every change the API's change feed reports. `lab delete NAME` stops its radvd (goodbye RA) and removes it.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../agent/linux.js';
import { labDaemonPid, labNsName, stopLabDaemon, type IpJson, type LabOptions } from './lab.js';
import { bridgeName, bridgeNsName, GATEWAY_OWNER, ROUTER_INTERFACE_OWNERS } from '../agent/model.js';
import type { Network, Port, Router, Subnet } from '../schema/index.js';
import { renderDefaultRouterInterface, renderRadvdInterface } from '../agent/radvd.js';
import { linkLocalFromMac } from '../domain/eui64.js';
import { upstreamRaFlags } from '../domain/ipv6/index.js';
import { isProvisional } from '../domain/prefix-delegation.js';
import { ensurePdServer, type DcPdOptions } from './dc-pd.js';

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
  /** The prefixes the upstream router advertises on the provider network (radvd on eth0). */
  advertised: string[];
  /**
   * An external network with no IPv6 subnet: the upstream router advertises itself as default router, with no
   * prefix, so that routers without an IPv6 gateway_ip learn their default route from it (accept_ra 2 on qg-).
   */
  defaultRouterOnly: boolean;
}

const family = (cidr: string): 4 | 6 => (cidr.includes(':') ? 6 : 4);
/** The documents as the DC reads them (the schema's types, narrowed to what it uses). */
export type DcNetwork = Pick<Network, 'id'> & Partial<Pick<Network, 'mtu'>>;
export type DcSubnet = Pick<Subnet, 'id' | 'network_id' | 'ip_version' | 'cidr' | 'gateway_ip'> & Partial<Pick<Subnet, 'ipv6_ra_mode' | 'ipv6_address_mode' | 'dns_nameservers'>>;
export type DcPort = Pick<Port, 'id' | 'network_id' | 'device_owner' | 'device_id' | 'fixed_ips'> & Partial<Pick<Port, 'mac_address'>>;
export type DcRouter = Pick<Router, 'id' | 'external_gateway_info'>;

/** ext-gw-mode: a router translates its tenants' IPv4 unless enable_snat is false (true by default). */
const snats = (r: DcRouter | undefined): boolean => r?.external_gateway_info?.enable_snat !== false;

const byCidr = (a: DcSubnet, b: DcSubnet): number => a.cidr.localeCompare(b.cidr);

/** The IPv6 subnets of the network whose hosts expect RAs from the upstream router (domain/ipv6 `upstreamRaFlags`). */
function advertisedSubnets(network: DcNetwork, subnets: DcSubnet[]): DcSubnet[] {
  return subnets.filter((s) => s.network_id === network.id && s.ip_version === 6 && upstreamRaFlags(s) !== null).sort(byCidr);
}

/**
 * PURE. What the upstream router of `network` holds: every subnet's gateway_ip, the given hosts, a route to each
 * internal subnet of every router whose gateway port is on the network, via that port's address of the same family
 * (IPv4 ones only for routers `routers` shows with enable_snat false: the others translate), and the prefixes it
 * advertises.
 */
export function dcPlan(network: DcNetwork, subnets: DcSubnet[], ports: DcPort[], hosts: string[], routers?: readonly DcRouter[]): DcPlan {
  const mine = subnets.filter((s) => s.network_id === network.id);
  const addresses = mine.filter((s) => s.gateway_ip).map((s) => `${s.gateway_ip}/${s.cidr.split('/')[1]}`);
  const byId = new Map(subnets.map((s) => [s.id, s]));
  const routes: DcRoute[] = [];
  const gateways = ports.filter((p) => p.device_owner === GATEWAY_OWNER && p.network_id === network.id);
  for (const gw of [...gateways].sort((a, b) => a.id.localeCompare(b.id))) {
    const via = new Map<number, string>();
    for (const ip of gw.fixed_ips) via.set(family(ip.ip_address), ip.ip_address);
    if (routers && snats(routers.find((r) => r.id === gw.device_id))) via.delete(4);
    // No IPv6 address on the external network: tenant prefixes are reached through qg-'s link-local address.
    if (!via.has(6) && gw.mac_address) via.set(6, linkLocalFromMac(gw.mac_address).toString());
    const internal = ports.filter((p) => p.device_id === gw.device_id && ROUTER_INTERFACE_OWNERS.has(p.device_owner));
    const seen = new Set<string>();
    for (const p of internal) {
      for (const ip of p.fixed_ips) {
        const s = byId.get(ip.subnet_id);
        // A PD subnet is routed once it has its delegated prefix (the DC is its delegating router).
        if (!s || seen.has(s.id) || isProvisional(s)) continue;
        seen.add(s.id);
        const v = via.get(s.ip_version);
        if (v) routes.push({ family: s.ip_version, dst: s.cidr, via: v });
      }
    }
  }
  const advertised = advertisedSubnets(network, subnets).map((s) => s.cidr);
  return { addresses, hosts, routes, advertised, defaultRouterOnly: !mine.some((s) => s.ip_version === 6) };
}

/**
 * PURE. The upstream router's radvd.conf for the provider network, or null when no subnet needs RAs. The flags
 * follow each subnet's address mode (its RA mode when it has no address mode), as the talk's router was configured
 * per mode (`ipv6 nd other-config-flag` for stateless, `ipv6 nd managed-config-flag` for stateful): slaac A;
 * dhcpv6-stateless A+O; dhcpv6-stateful M with the prefix not autonomous. No RDNSS: the talk's router sent none
 * (its instances had DNS from DHCPv6 or the config drive).
 */
export function dcRadvdConf(network: DcNetwork, subnets: DcSubnet[]): string | null {
  // The subnets without their dns_nameservers: the talk's router sent no RDNSS.
  const adv = advertisedSubnets(network, subnets).map((s) => ({ cidr: s.cidr, ipv6_ra_mode: s.ipv6_ra_mode, ipv6_address_mode: s.ipv6_address_mode }));
  if (adv.length) return renderRadvdInterface({ name: 'eth0', mtu: network.mtu ?? 1500, subnets: adv }, {}, upstreamRaFlags);
  if (subnets.some((s) => s.network_id === network.id && s.ip_version === 6)) return null;
  // No IPv6 subnet at all: the upstream router only says it is a default router (router lifetime 300 s, no prefix).
  return renderDefaultRouterInterface('eth0', network.mtu ?? 1500);
}

/** A locally administered MAC from the name, stable across runs. */
export function dcMac(name: string): string {
  const h = createHash('sha256').update(`v6stack-dc-${name}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export const uplinkName = (name: string): string => `up-${name}`.slice(0, 15);

async function api(server: string, path: string, signal?: AbortSignal): Promise<any> {
  const res = await fetch(server + path, signal ? { signal } : {});
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

const ipJson = async (argv: string[]): Promise<IpJson[]> => JSON.parse((await exec(argv)) || '[]') as IpJson[];

const radvdPid = (dir: string): Promise<number | null> => labDaemonPid(dir, 'radvd.pid', 'radvd.conf');

/** Starts, reloads (SIGHUP) or stops (SIGTERM: goodbye RA) the DC's radvd so that it sends `conf`. */
async function ensureRadvd(ns: string, dir: string, conf: string | null, log: (l: string) => void): Promise<void> {
  const path = join(dir, 'radvd.conf');
  const old = await readFile(path, 'utf8').catch(() => null);
  const pid = await radvdPid(dir);
  if (conf === null) {
    if (pid) await stopLabDaemon(dir, 'radvd.pid', 'radvd.conf', log);
    await rm(path, { force: true });
    return;
  }
  if (old !== conf) {
    await writeFile(`${path}.tmp`, conf, { mode: 0o444 });
    await rename(`${path}.tmp`, path);
  }
  if (pid) {
    if (old !== conf) {
      process.kill(pid, 'SIGHUP');
      log(`${ns}: radvd ${pid} reloaded (SIGHUP)`);
    }
    return;
  }
  // radvd daemonises (`lab dc` exits); its log and pid file are in the DC's directory.
  await exec(['ip', 'netns', 'exec', ns, 'radvd', '-C', path, '-p', join(dir, 'radvd.pid'), '-m', 'logfile', '-l', join(dir, 'radvd.log')]);
  const end = Date.now() + 10_000;
  let started: number | null = null;
  while (!(started = await radvdPid(dir))) {
    if (Date.now() > end) throw new Error(`radvd did not start in ${ns}: ${(await readFile(join(dir, 'radvd.log'), 'utf8').catch(() => '')).trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`${ns}: radvd ${started} advertises on eth0`);
}

/** Builds or refreshes the DC of an external network. Returns what it holds. */
export async function labDc(opts: LabOptions, network: string, name: string, hosts: string[], pd?: DcPdOptions): Promise<DcPlan> {
  const log = opts.log ?? ((l: string) => console.error(`lab: ${l}`));
  if (!/^[A-Za-z0-9_.-]{1,12}$/.test(name)) throw new Error(`bad DC name ${JSON.stringify(name)}: 1 to 12 letters, digits, '_', '.', '-'`);
  for (const h of hosts) if (!/^[0-9a-fA-F:.]+$/.test(h)) throw new Error(`bad host address ${h}`);
  let net: Network | undefined = (await api(opts.server, `/v2.0/networks?id=${encodeURIComponent(network)}`)).networks[0];
  net ??= (await api(opts.server, `/v2.0/networks?name=${encodeURIComponent(network)}`)).networks[0];
  if (!net) throw new Error(`no network ${network}`);
  if (!net['router:external']) throw new Error(`network ${net.name || net.id} is not external (router:external): a DC sits beyond an external network`);
  const [subnets, ports, routers] = await Promise.all([api(opts.server, '/v2.0/subnets'), api(opts.server, '/v2.0/ports'), api(opts.server, '/v2.0/routers')]);
  const plan = dcPlan(net, subnets.subnets, ports.ports, hosts, routers.routers);
  if (!plan.addresses.length) throw new Error(`network ${net.name || net.id} has no subnet with a gateway_ip for the DC to own`);

  const ns = labNsName(name);
  const brNs = bridgeNsName(opts.host);
  const bridge = bridgeName(net.id);
  const up = uplinkName(name);
  const mtu = String(net.mtu ?? 1500);
  // The agent makes the bridge once it has seen the network (through the change feed): wait for it, bounded.
  for (const end = Date.now() + 30_000; !(await has(['ip', '-n', brNs, 'link', 'show', bridge])); await new Promise((r) => setTimeout(r, 200))) {
    if (Date.now() > end) throw new Error(`bridge ${bridge} of network ${net.id} is not in ${brNs} (is the agent for host ${opts.host} running?)`);
  }
  if (!(await has(['ip', 'netns', 'exec', ns, 'true']))) {
    await exec(['ip', 'netns', 'add', ns]);
    await exec(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.addr_gen_mode=0', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.ip_forward=1']);
  }
  if (!(await has(['ip', '-n', ns, 'link', 'show', 'eth0']))) {
    await exec(['ip', '-n', brNs, 'link', 'del', up]).catch(() => {});
    await exec(['ip', '-n', brNs, 'link', 'add', up, 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, 'address', dcMac(name), 'mtu', mtu]);
    log(`namespace ${ns}: eth0 ${dcMac(name)} on ${bridge} via ${up}`);
  }
  // Plugged into this network's bridge (a re-run may name another network, or the bridge may have been remade).
  const upLink = (await ipJson(['ip', '-n', brNs, '-json', 'link', 'show', 'dev', up]))[0];
  if (upLink?.master !== bridge || !(upLink.flags ?? []).includes('UP')) await exec(['ip', '-n', brNs, 'link', 'set', up, 'master', bridge, 'up']);
  await exec(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);

  // Addresses: the gateways on eth0, the hosts on lo; global ones no longer planned go.
  const wantLo = plan.hosts.map((h) => `${h}/${family(h) === 6 ? 128 : 32}`);
  for (const [dev, want] of [['eth0', plan.addresses], ['lo', wantLo]] as const) {
    const have = ((await ipJson(['ip', '-n', ns, '-json', 'addr', 'show', 'dev', dev]))[0]?.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
    for (const a of have) if (!want.includes(a)) await exec(['ip', '-n', ns, 'addr', 'del', a, 'dev', dev]);
    for (const a of want) if (!have.includes(a)) await exec(['ip', '-n', ns, 'addr', 'add', a, 'dev', dev, 'nodad']);
  }
  // Routes back to the tenants: ours carry `proto static`; those no longer planned are removed.
  for (const f of [4, 6] as const) {
    const have = (await ipJson(['ip', '-n', ns, '-json', `-${f}`, 'route', 'show', 'proto', 'static'])) as { dst: string; gateway?: string }[];
    const want = plan.routes.filter((r) => r.family === f);
    for (const r of have) if (!want.some((w) => w.dst === r.dst && w.via === r.gateway)) await exec(['ip', '-n', ns, `-${f}`, 'route', 'del', r.dst]);
    for (const r of want) if (!have.some((h) => h.dst === r.dst && h.gateway === r.via)) await exec(['ip', '-n', ns, `-${f}`, 'route', 'replace', r.dst, 'via', r.via, 'dev', 'eth0', 'proto', 'static']);
  }
  const dir = join(opts.stateDir, name);
  await mkdir(dir, { recursive: true });
  await ensureRadvd(ns, dir, dcRadvdConf(net, subnets.subnets), log);
  // The delegating server (--pd-pool), on the external network's IPv6 subnet; without the option, none runs.
  const link6 = (subnets.subnets as DcSubnet[]).filter((s) => s.network_id === net!.id && s.ip_version === 6 && s.gateway_ip).sort(byCidr)[0];
  if (pd && !link6) throw new Error(`network ${net.name || net.id} has no IPv6 subnet for the delegating server`);
  await ensurePdServer(ns, dir, pd && link6 ? { ...pd, iface: 'eth0', linkSubnet: link6.cidr, dir } : null, log);
  log(
    `${ns}: upstream router ${plan.addresses.join(' ')}; hosts ${plan.hosts.join(' ') || '-'}; ${plan.routes.map((r) => `${r.dst} via ${r.via}`).join(', ') || 'no tenant routes yet'}; RA ${plan.advertised.join(' ') || (plan.defaultRouterOnly ? 'default router only (no IPv6 subnet)' : '-')}`,
  );
  return plan;
}

const FOLLOWED = new Set(['network', 'subnet', 'port', 'router']);

/**
 * `lab dc --follow`: builds the DC, then refreshes it on every network, subnet, port or router change the change
 * feed reports, until `signal` aborts (the DC stays as it is). A refresh that fails (the network deleted, say) is
 * logged and tried again at the next change; a change feed that fails is asked again after 2 s (from the same
 * sequence number, so no change is missed).
 */
export async function followDc(opts: LabOptions, network: string, name: string, hosts: string[], signal: AbortSignal, onRefresh: (plan: DcPlan) => void = () => {}, pd?: DcPdOptions): Promise<void> {
  const log = opts.log ?? ((l: string) => console.error(`lab: ${l}`));
  let since = 0;
  for (;;) {
    const r = await api(opts.server, `/v6stack/v1/changes?since=${since}&limit=10000`);
    since = r.last;
    if (r.changes.length < 10000) break;
  }
  onRefresh(await labDc(opts, network, name, hosts, pd));
  while (!signal.aborted) {
    let relevant = false;
    try {
      const r = await api(opts.server, `/v6stack/v1/changes?since=${since}&wait=25`, signal);
      since = r.last;
      relevant = (r.changes as { kind: string }[]).some((c) => FOLLOWED.has(c.kind));
    } catch (e) {
      if (signal.aborted) break;
      log(`change feed: ${(e as Error).message}; asking again in 2 s`);
      await new Promise((res) => setTimeout(res, 2000));
      continue;
    }
    if (!relevant) continue;
    try {
      onRefresh(await labDc(opts, network, name, hosts, pd));
    } catch (e) {
      log(`refresh of ${labNsName(name)} failed: ${(e as Error).message}; trying again at the next change`);
    }
  }
}
