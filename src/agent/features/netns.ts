// What the namespace features (l3: qrouter-, dhcp: qdhcp-) share: a port's link in a namespace, and the pure diff of
// a namespace (sysctls, links plugged into their bridge through a veth, addresses, accept_ra, default routes).
// Only differences produce commands.

import { isProvisional } from '../../domain/prefix-delegation.js';
import { IpPrefix, canonicalIp } from '../../domain/ip.js';
import {
  MANAGED_LINK_PREFIXES,
  bridgeName,
  tapName,
  type Action,
  type ActualLink,
  type ActualNamespace,
  type ActualState,
  type DesiredState,
  type ExtraRoute,
  type LinkSpec,
  type NamespaceSpec,
  type NetworkDoc,
  type PortDoc,
  type PortWiring,
  type SubnetDoc,
} from '../model.js';
import type { FeatureActions } from './feature.js';

/** The link of a port in one of the agent's namespaces (`prefix`: qr-, qg-, ns-), with its global addresses. */
export function linkFor(port: PortDoc, prefix: string, subnets: Map<string, SubnetDoc>, network: NetworkDoc | undefined): LinkSpec {
  const addresses = port.fixed_ips
    .map((ip) => {
      const s = subnets.get(ip.subnet_id);
      // A PD subnet's temporary ::/64 is no address (Neutron's router_info skips PROVISIONAL_IPV6_PD_PREFIX).
      return s && !isProvisional(s) ? `${ip.ip_address}/${s.cidr.split('/')[1]}` : null;
    })
    .filter((a): a is string => a !== null);
  return {
    name: `${prefix}${port.id.slice(0, 11)}`,
    tap: tapName(port.id),
    bridge: bridgeName(port.network_id),
    mac: port.mac_address.toLowerCase(),
    mtu: network?.mtu ?? 1500,
    addresses,
    up: port.admin_state_up !== false,
  };
}

export const wiringOf = (port: PortDoc, pluggedBy: PortWiring['pluggedBy']): PortWiring => ({
  id: port.id,
  tap: tapName(port.id),
  bridge: bridgeName(port.network_id),
  adminUp: port.admin_state_up !== false,
  pluggedBy,
});

export const acceptRaKey = (link: string): string => `net.ipv6.conf.${link}.accept_ra`;
const canonAddr = (cidr: string): string => cidr.toLowerCase();

/** One spelling per route: the API's `2001:DB8::/64 via 2001:db8:0::1` and the kernel's print the same key. */
function extraRouteKey(r: ExtraRoute): string {
  return `${IpPrefix.parse(r.destination)?.toString() ?? r.destination} via ${canonicalIp(r.nexthop) ?? r.nexthop}`;
}

function nsCreate(name: string, sysctls: [string, string][]): Action[] {
  const out: Action[] = [{ desc: `create namespace ${name}`, cmds: [['ip', 'netns', 'add', name], ['ip', '-n', name, 'link', 'set', 'lo', 'up']] }];
  if (sysctls.length) out.push({ desc: `sysctl ${name} ${sysctls.map(([k, v]) => `${k}=${v}`).join(' ')}`, cmds: [['ip', 'netns', 'exec', name, 'sysctl', '-qw', ...sysctls.map(([k, v]) => `${k}=${v}`)]] });
  return out;
}

/** The namespace created with its sysctls, or the sysctls that differ. */
export function nsSysctls(name: string, want: [string, string][], actual: ActualNamespace | undefined): Action[] {
  if (!actual) return nsCreate(name, want);
  const diff = want.filter(([k, v]) => actual.sysctls.get(k) !== v);
  return diff.length ? [{ desc: `sysctl ${name} ${diff.map(([k, v]) => `${k}=${v}`).join(' ')}`, cmds: [['ip', 'netns', 'exec', name, 'sysctl', '-qw', ...diff.map(([k, v]) => `${k}=${v}`)]] }] : [];
}

/**
 * The diff of a namespace feature: its namespaces of `kind` (each action tagged with its namespace, so namespaces
 * are applied side by side) and, on teardown, the namespaces with `prefix` it made before and no longer wants.
 */
export function diffNamespaces(kind: NamespaceSpec['kind'], prefix: string, desired: DesiredState, actual: ActualState, owned: readonly string[]): FeatureActions {
  const build: Action[] = [];
  const brLinks = actual.ns.get(desired.bridgeNs)?.links ?? new Map<string, ActualLink>();
  for (const spec of desired.namespaces) {
    if (spec.kind !== kind) continue;
    const a = actual.ns.get(spec.name);
    for (const action of [...nsSysctls(spec.name, spec.sysctls, a), ...diffNamespace(spec, a, desired.bridgeNs, brLinks)]) build.push({ ...action, ns: spec.name });
  }
  const teardown = goneNamespaces(desired, actual, owned)
    .filter((name) => name.startsWith(prefix))
    .map((name) => ({ desc: `delete namespace ${name}`, cmds: [['ip', 'netns', 'del', name]] }));
  return { build, teardown };
}

/** The agent's own namespaces (its ledger) that are no longer desired and still exist: deleted with all in them. */
export function goneNamespaces(desired: DesiredState, actual: ActualState, owned: readonly string[]): string[] {
  const desiredNs = new Set(desired.namespaces.map((n) => n.name));
  return owned.filter((name) => !desiredNs.has(name) && actual.namespaces.has(name));
}

export function diffNamespace(spec: NamespaceSpec, a: ActualNamespace | undefined, brNs: string, brLinks: Map<string, ActualLink>): Action[] {
  const out: Action[] = [];
  const ns = spec.name;
  const links = a?.links ?? new Map<string, ActualLink>();
  const wanted = new Set(spec.links.map((l) => l.name));
  // Before anything is plugged in (a new namespace, or a link added): the namespace's firewall, idempotent (ha.ts).
  if (spec.firewall && (!a || spec.links.some((l) => !links.has(l.name)))) {
    out.push({ desc: `nft ${ns}: ${spec.firewall.split('\n').length} commands`, cmds: [['ip', 'netns', 'exec', ns, 'nft', spec.firewall.replaceAll('\n', ' ; ')]] });
  }
  for (const [name] of links) {
    if (MANAGED_LINK_PREFIXES.some((p) => name.startsWith(p)) && !wanted.has(name)) out.push({ desc: `delete ${ns} ${name}`, cmds: [['ip', '-n', ns, 'link', 'del', name]] });
  }
  for (const l of spec.links) {
    const have = links.get(l.name);
    const tap = brLinks.get(l.tap);
    if (!have) {
      const cmds: string[][] = [];
      if (tap) cmds.push(['ip', '-n', brNs, 'link', 'del', l.tap]);
      cmds.push(
        ['ip', '-n', brNs, 'link', 'add', l.tap, 'mtu', String(l.mtu), 'type', 'veth', 'peer', 'name', l.name, 'netns', ns, 'address', l.mac, 'mtu', String(l.mtu)],
        ['ip', '-n', brNs, 'link', 'set', l.tap, 'master', l.bridge, l.up ? 'up' : 'down'],
      );
      if (l.vips !== 'all') for (const addr of l.addresses) cmds.push(['ip', '-n', ns, 'addr', 'add', addr, 'dev', l.name, 'nodad']);
      cmds.push(['ip', '-n', ns, 'link', 'set', l.name, 'up']);
      out.push({ desc: `plug ${ns} ${l.name} (${l.mac}) into ${l.bridge} via ${l.tap}${l.addresses.length && l.vips !== 'all' ? ' with ' + l.addresses.join(' ') : ''}`, cmds });
      continue;
    }
    if (have.mac !== l.mac) out.push({ desc: `set ${ns} ${l.name} address ${l.mac}`, cmds: [['ip', '-n', ns, 'link', 'set', l.name, 'down'], ['ip', '-n', ns, 'link', 'set', l.name, 'address', l.mac], ['ip', '-n', ns, 'link', 'set', l.name, 'up']] });
    if (have.mtu !== l.mtu) out.push({ desc: `set ${ns} ${l.name} mtu ${l.mtu}`, cmds: [['ip', '-n', ns, 'link', 'set', l.name, 'mtu', String(l.mtu)], ...(tap ? [['ip', '-n', brNs, 'link', 'set', l.tap, 'mtu', String(l.mtu)]] : [])] });
    if (tap && (tap.master !== l.bridge || tap.up !== l.up)) {
      out.push({ desc: `attach ${l.tap} to ${l.bridge}, ${l.up ? 'up' : 'down (admin_state_up false)'}`, cmds: [['ip', '-n', brNs, 'link', 'set', l.tap, 'master', l.bridge, l.up ? 'up' : 'down']] });
    }
    // keepalived's addresses (an HA router's VIPs) are not the agent's to add or remove.
    const haveAddrs = have.addresses.map(canonAddr);
    const wantAddrs = l.addresses.map(canonAddr);
    if (l.vips !== 'all') for (const addr of wantAddrs) if (!haveAddrs.includes(addr)) out.push({ desc: `add ${addr} to ${ns} ${l.name}`, cmds: [['ip', '-n', ns, 'addr', 'add', addr, 'dev', l.name, 'nodad']] });
    if (!l.vips) for (const addr of haveAddrs) if (!wantAddrs.includes(addr)) out.push({ desc: `remove ${addr} from ${ns} ${l.name}`, cmds: [['ip', '-n', ns, 'addr', 'del', addr, 'dev', l.name]] });
    if (!have.up) out.push({ desc: `set ${ns} ${l.name} up`, cmds: [['ip', '-n', ns, 'link', 'set', l.name, 'up']] });
  }
  for (const l of spec.links) {
    if (l.acceptRa === undefined || a?.sysctls.get(acceptRaKey(l.name)) === String(l.acceptRa)) continue;
    const why = l.acceptRa === 2 ? ' (no IPv6 gateway: the default route comes from the upstream RAs)' : '';
    out.push({ desc: `sysctl ${ns} ${acceptRaKey(l.name)}=${l.acceptRa}${why}`, cmds: [['ip', 'netns', 'exec', ns, 'sysctl', '-qw', `${acceptRaKey(l.name)}=${l.acceptRa}`]] });
  }
  const routes = a?.routes ?? [];
  // An HA router's default routes are keepalived's virtual_routes (observe leaves `proto keepalived` routes out).
  for (const family of [6, 4] as const) {
    const want = spec.routes.find((r) => r.family === family);
    const have = routes.filter((r) => r.family === family);
    if (want && !(have.length === 1 && have[0]!.via === want.via && have[0]!.dev === want.dev)) {
      out.push({ desc: `${ns}: default route (IPv${family}) via ${want.via} dev ${want.dev}`, cmds: [['ip', '-n', ns, `-${family}`, 'route', 'replace', 'default', 'via', want.via, 'dev', want.dev]] });
    } else if (!want && have.length) {
      out.push({ desc: `${ns}: remove default route (IPv${family})`, cmds: [['ip', '-n', ns, `-${family}`, 'route', 'del', 'default']] });
    }
  }
  // A legacy router's extra routes, as Neutron's l3 agent's routes_updated: `ip route replace DEST via NEXTHOP`
  // (proto static marks them as the agent's), and those the API no longer lists removed. A namespace whose spec has
  // none (an HA router: keepalived's virtual_routes; a DHCP namespace) is not the agent's to touch.
  if (spec.extraRoutes === undefined) return out;
  const wantExtra = new Map((spec.extraRoutes ?? []).map((r) => [extraRouteKey(r), r]));
  const haveExtra = new Map((a?.extraRoutes ?? []).map((r) => [extraRouteKey(r), r]));
  for (const [k, r] of wantExtra) {
    if (!haveExtra.has(k)) out.push({ desc: `${ns}: extra route ${k}`, cmds: [['ip', '-n', ns, 'route', 'replace', r.destination, 'via', r.nexthop, 'proto', 'static']] });
  }
  for (const [k, r] of haveExtra) {
    if (!wantExtra.has(k)) out.push({ desc: `${ns}: remove extra route ${k}`, cmds: [['ip', '-n', ns, 'route', 'del', r.destination, 'via', r.nexthop, 'proto', 'static']] });
  }
  return out;
}
