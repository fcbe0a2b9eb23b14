// NDP proxy (l3-ndp-proxy, l3-ext-ndp-proxy) as pure rules: which address of a port a router may publish on its
// external network, when a router may have enable_ndp_proxy, and Neutron's errors with their exact texts
// (neutron/services/ndp_proxy/plugin.py and exceptions.py). PURE: the API reads the documents and calls these.

import { NeutronError, badRequest } from './errors.js';
import { IpAddress } from './ip.js';

export interface FixedIpRef {
  subnet_id: string;
  ip_address: string;
}

/** neutron/services/ndp_proxy/exceptions.py, with the HTTP status of their neutron-lib base class. */
export const ndpProxyErrors = {
  routerGatewayInUse: (routerId: string): NeutronError =>
    new NeutronError(409, 'RouterGatewayInUseByNDPProxy', `Unable to unset external gateway of router ${routerId}, There are one or more ndp proxies still in use on the router.`),
  routerInterfaceInUse: (routerId: string, subnetId: string): NeutronError =>
    new NeutronError(409, 'RouterInterfaceInUseByNDPProxy', `Unable to remove subnet ${subnetId} from router ${routerId}, There are one or more ndp proxies still in use on the subnet.`),
  addressScopeConflict: (ext: string | null, internal: string | null): NeutronError =>
    new NeutronError(409, 'AddressScopeConflict', `The IPv6 address scope ${ext ?? 'None'} of external network conflict with internal network's IPv6 address scope ${internal ?? 'None'}.`),
  routerGatewayNotValid: (routerId: string, reason: string): NeutronError =>
    new NeutronError(409, 'RouterGatewayNotValid', `Can not enable ndp proxy no router ${routerId}, ${reason}.`),
  notEnabled: (routerId: string): NeutronError =>
    new NeutronError(409, 'RouterNDPProxyNotEnable', `The enable_ndp_proxy parameter of router ${routerId} must be set as True while create ndp proxy entry on it.`),
  portUnreachable: (portId: string, routerId: string): NeutronError =>
    new NeutronError(409, 'PortUnreachableRouter', `The port ${portId} cannot reach the router ${routerId} by IPv6 subnet.`),
  invalidAddress: (address: string, reason: string): NeutronError =>
    new NeutronError(400, 'InvalidAddress', `The address ${address} is invalid, reason: ${reason}.`),
  ipv6GatewayInUse: (routerId: string): NeutronError =>
    new NeutronError(409, 'RouterIPv6GatewayInUse', `Can't remove the IPv6 subnet from external gateway of router ${routerId}, the IPv6 subnet in use by the router's ndp proxy.`),
  /** NeutronDbObjectDuplicateEntry on uniq_ndp_proxy0router_id0ip_address. */
  duplicate: (): NeutronError =>
    new NeutronError(409, 'NeutronDbObjectDuplicateEntry', "Failed to create a duplicate NDPProxy: for attribute(s) ['router_id', 'ip_address'] with value(s) None"),
};

/** RouterGatewayNotValid's reasons, as the plugin words them. */
export const GATEWAY_REASONS = {
  noGatewayInBody: 'The request body not contain external gateway information',
  networkUnsupported: (networkId: string): string =>
    `The external network ${networkId} don't support IPv6 ndp proxy, the network has no IPv6 subnets or has no IPv6 address scope`,
  gatewayUnsupported: 'The router has no external gateway or the external gateway port has no IPv6 address or IPv6 address scope',
  gatewayUnset: "The router's external gateway will be unset",
};

const v6 = (ip: string): boolean => IpAddress.parse(ip)?.version === 6;
const sameAddress = (a: string, b: string): boolean => IpAddress.parse(a)?.toString() === IpAddress.parse(b)?.toString();

/**
 * _check_ext_gw_network: an external network supports NDP proxy when it has an IPv6 address scope (its IPv6
 * subnets come from a pool of a scope) and at least one IPv6 subnet.
 */
export function networkSupportsNdpProxy(ipv6AddressScope: string | null, subnetVersions: readonly number[]): boolean {
  return ipv6AddressScope !== null && subnetVersions.includes(6);
}

/** _gateway_is_valid: the network supports it and the gateway port holds an IPv6 address. */
export function gatewaySupportsNdpProxy(networkSupports: boolean, gatewayFixedIps: readonly FixedIpRef[]): boolean {
  return networkSupports && gatewayFixedIps.some((f) => v6(f.ip_address));
}

/**
 * _check_port: the address a proxy publishes. The port needs an IPv6 address (400 otherwise); without a requested
 * address, its first IPv6 address on a subnet the router has an interface on; a requested address must be the
 * port's, on such a subnet. `routerFixedIps`: the fixed IPs of the router's ports on the port's network.
 */
export function chooseProxyAddress(
  port: { id: string; fixed_ips: readonly FixedIpRef[] },
  routerId: string,
  routerFixedIps: readonly FixedIpRef[],
  requested: string | null,
): string {
  const portV6 = port.fixed_ips.filter((f) => v6(f.ip_address));
  if (!portV6.length) throw badRequest('ndp_proxy', `Requested port ${port.id} must allocate one IPv6 address at least`);
  const routerSubnets = new Set(routerFixedIps.filter((f) => v6(f.ip_address)).map((f) => f.subnet_id));
  if (requested === null) {
    const found = portV6.find((f) => routerSubnets.has(f.subnet_id));
    if (!found) throw ndpProxyErrors.portUnreachable(port.id, routerId);
    return IpAddress.parse(found.ip_address)!.toString();
  }
  const mine = portV6.find((f) => sameAddress(f.ip_address, requested));
  if (!mine) throw ndpProxyErrors.invalidAddress(requested, `This address not belong to the port ${port.id}`);
  if (!routerSubnets.has(mine.subnet_id)) throw ndpProxyErrors.invalidAddress(requested, `This address cannot reach the router ${routerId}`);
  return IpAddress.parse(requested)!.toString();
}

/** What a router create or update makes of enable_ndp_proxy (undefined: the request did not say). */
export interface NdpStateInput {
  routerId: string;
  requested: boolean | undefined;
  /** The router will have a gateway after the request. */
  hasGateway: boolean;
  /** The gateway (as it will be) supports NDP proxy: _check_ext_gw_network on create, _gateway_is_valid on update. */
  gatewaySupports: boolean;
  /** enable_ndp_proxy_by_default. */
  byDefault: boolean;
  /** The gateway's network (for the create's 409 text). */
  networkId?: string;
}

/**
 * _process_ndp_proxy_state_for_create_router: true needs a gateway that supports it (409 otherwise); unspecified is
 * `enable_ndp_proxy_by_default` where the gateway supports it.
 */
export function ndpStateOnCreate(i: NdpStateInput): boolean {
  if (!i.hasGateway) {
    if (i.requested === true) throw ndpProxyErrors.routerGatewayNotValid(i.routerId, GATEWAY_REASONS.noGatewayInBody);
    return false;
  }
  if (i.requested === false) return false;
  if (i.requested === true) {
    if (!i.gatewaySupports) throw ndpProxyErrors.routerGatewayNotValid(i.routerId, GATEWAY_REASONS.networkUnsupported(i.networkId ?? ''));
    return true;
  }
  return i.gatewaySupports && i.byDefault;
}

/**
 * _process_ndp_proxy_state_for_update_router: true needs a gateway that supports it (409 otherwise). Unspecified:
 * Neutron sets the state to "the gateway supports it" on every router update (so renaming a router turns NDP proxy
 * on, whatever enable_ndp_proxy_by_default says); here an update that does not name it keeps the current value
 * while the gateway still supports it, and a new gateway takes the default as on create (docs/api.md says why).
 */
export function ndpStateOnUpdate(i: NdpStateInput & { current: boolean; gatewayChanged: boolean }): boolean {
  if (i.requested === true) {
    if (!i.gatewaySupports) throw ndpProxyErrors.routerGatewayNotValid(i.routerId, GATEWAY_REASONS.gatewayUnsupported);
    return true;
  }
  if (i.requested === false || !i.gatewaySupports) return false;
  return i.gatewayChanged ? i.byDefault : i.current;
}

// ---- The data plane of one router (features/ndp-proxy.ts plans it, agent/linux.ts reads it back).
//
// As Neutron's l3 agent extension (neutron/agent/l3/extensions/ndp_proxy.py) does it: proxy_ndp on the gateway link,
// one `ip -6 neigh add proxy <address> dev qg-…` per proxy (the kernel then answers Neighbor Solicitations for the
// address on qg- with qg-'s MAC, RFC 4861 section 7.2.8), and a filter: traffic arriving on qg- for an internal
// subnet of the gateway's address scope is forwarded only to proxied addresses (Neutron's NDP chain: ACCEPT per
// proxy, then DROP). Here the filter is an nftables table of family ip6 in the router namespace, two sets and one
// rule, replaced in one transaction when it differs.

export const NDP_TABLE = 'v6stack_ndp';
export const NDP_FAMILY = 'ip6';

/** What one router namespace should hold (enabled false: nothing, proxy_ndp 0). */
export interface NdpRouterPlan {
  ns: string;
  gatewayLink: string;
  enabled: boolean;
  /** The proxied addresses, canonical and sorted. */
  proxies: string[];
  /** Internal IPv6 subnets in the gateway's address scope, sorted. */
  scoped: string[];
}

/** The table as read back (or planned): comparable as a string. */
export interface NdpTable {
  gatewayLink: string;
  proxies: string[];
  scoped: string[];
}

export const proxyNdpKey = (link: string): string => `net.ipv6.conf.${link}.proxy_ndp`;

const canonicalPrefix = (p: string): string => {
  const [addr, len] = p.split('/');
  return `${IpAddress.parse(addr!)?.toString() ?? addr}/${len}`;
};

export function planNdpRouter(input: { ns: string; gatewayLink: string; enabled: boolean; proxies: readonly string[]; scoped: readonly string[] }): NdpRouterPlan {
  return {
    ns: input.ns,
    gatewayLink: input.gatewayLink,
    enabled: input.enabled,
    proxies: input.enabled ? [...new Set(input.proxies.map((a) => IpAddress.parse(a)?.toString() ?? a))].sort() : [],
    scoped: input.enabled ? [...new Set(input.scoped.map(canonicalPrefix))].sort() : [],
  };
}

const tableKey = (t: NdpTable | null): string => (t ? `${t.gatewayLink}|${t.proxies.join(',')}|${t.scoped.join(',')}` : '');

/** The whole table for `nft -f`: made, or replacing what is there, in one transaction. */
export function renderNdpTable(t: NdpTable): string {
  const T = `${NDP_FAMILY} ${NDP_TABLE}`;
  return [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T} { comment "v6stack: NDP proxy, inbound only to proxied addresses of the gateway's scope"; }`,
    `add set ${T} proxied { type ipv6_addr;${t.proxies.length ? ` elements = { ${t.proxies.join(', ')} };` : ''} }`,
    `add set ${T} scoped { type ipv6_addr; flags interval;${t.scoped.length ? ` elements = { ${t.scoped.join(', ')} };` : ''} }`,
    `add chain ${T} forward { type filter hook forward priority filter; policy accept; }`,
    `add rule ${T} forward iifname "${t.gatewayLink}" ip6 daddr @scoped ip6 daddr != @proxied drop`,
  ].join('\n');
}

type Json = Record<string, any>;

/** Parses `nft -j list table ip6 v6stack_ndp` (null: absent). A table of another shape reads with an empty link. */
export function readNdpTable(json: string | null): NdpTable | null {
  if (!json) return null;
  const items = (JSON.parse(json) as { nftables?: Json[] }).nftables ?? [];
  if (!items.some((i) => i.table?.name === NDP_TABLE)) return null;
  const set = (name: string): string[] =>
    ((items.find((i) => i.set?.name === name && i.set.table === NDP_TABLE)?.set.elem ?? []) as unknown[])
      .map((e) => (typeof e === 'string' ? `${e}` : `${(e as Json).prefix?.addr}/${(e as Json).prefix?.len}`))
      .map((e) => (name === 'scoped' && !e.includes('/') ? `${e}/128` : e))
      .sort();
  const rules = items.filter((i) => i.rule?.table === NDP_TABLE);
  const expr = rules.length === 1 ? (rules[0].rule.expr as Json[]) : [];
  const link = expr.find((x) => x.match?.left?.meta?.key === 'iifname')?.match.right;
  const shaped = expr.length === 4 && expr.some((x) => x.match?.right === '@scoped') && expr.some((x) => x.match?.op === '!=' && x.match?.right === '@proxied') && 'drop' in expr[3]!;
  return { gatewayLink: shaped && typeof link === 'string' ? link : '', proxies: set('proxied'), scoped: set('scoped') };
}

/** What the kernel has in one router namespace. */
export interface NdpActual {
  /** proxy_ndp of the gateway link ('1', '0', or undefined when unread). */
  proxyNdp: string | undefined;
  /** Proxy entries on the gateway link (canonical). */
  proxies: string[];
  table: NdpTable | null;
}

/** The commands that make the namespace hold the plan: argv lists, nothing when it already does. */
export function diffNdpRouter(plan: NdpRouterPlan, actual: NdpActual): string[][] {
  const inNs = (argv: string[]): string[] => ['ip', 'netns', 'exec', plan.ns, ...argv];
  const cmds: string[][] = [];
  const want = plan.enabled ? '1' : '0';
  // The filter first when enabling (nothing reaches an unproxied address even for a moment), last when disabling.
  const table: NdpTable | null = plan.enabled ? { gatewayLink: plan.gatewayLink, proxies: plan.proxies, scoped: plan.scoped } : null;
  const tableCmd = tableKey(table) === tableKey(actual.table) ? null : table ? inNs(['nft', renderNdpTable(table)]) : inNs(['nft', `delete table ${NDP_FAMILY} ${NDP_TABLE}`]);
  if (tableCmd && table) cmds.push(tableCmd);
  if (actual.proxyNdp !== undefined && actual.proxyNdp !== want && (plan.enabled || actual.proxyNdp === '1')) cmds.push(inNs(['sysctl', '-qw', `${proxyNdpKey(plan.gatewayLink)}=${want}`]));
  const have = new Set(actual.proxies);
  const wanted = new Set(plan.proxies);
  for (const a of plan.proxies) if (!have.has(a)) cmds.push(['ip', '-n', plan.ns, '-6', 'neigh', 'add', 'proxy', a, 'dev', plan.gatewayLink]);
  for (const a of actual.proxies) if (!wanted.has(a)) cmds.push(['ip', '-n', plan.ns, '-6', 'neigh', 'del', 'proxy', a, 'dev', plan.gatewayLink]);
  if (tableCmd && !table) cmds.push(tableCmd);
  return cmds;
}
