// keepalived configuration for an HA router, rendered as Neutron's L3 agent renders it
// (neutron/agent/linux/keepalived.py, ha_router.py) with v6stack's timing: one vrrp_instance per router on its HA
// interface, state BACKUP and nopreempt on every node (the first to time out becomes master, and stays), the primary
// VIP 169.254.0.<vrid>/24 on the HA interface ("must be consistent in order to avoid keepalived bugs"), every real
// address (IPv4, IPv6 global, and the IPv6 link-local gateway derived from each port's MAC) in
// virtual_ipaddress_excluded, the default routes and the router's extra routes in virtual_routes, and a notify script that writes the node's
// state to a file the agent watches. PURE: no I/O.
//
// Differences from Neutron, and why: VRRPv3 (RFC 5798), whose advertisement interval has centisecond resolution, so
// a router fails over in well under a second (VRRPv2's whole seconds give Neutron's 3-5 s); no track_interface on
// the HA interface itself (keepalived ignores it and warns: lab facts §4); no `scope link` on IPv6 link-locals
// (keepalived warns and ignores it).

import { IpAddress } from '../domain/ip.js';
import { linkLocalFromMac } from '../domain/eui64.js';

import type { LinkSpec, NamespaceSpec, PortDoc, VrrpOptions } from './model.js';
import { DEVICE_OWNER_ROUTER_HA_INTF } from '../domain/ha.js';

export type { VrrpOptions };

export const DEFAULT_VRRP: Required<VrrpOptions> = { advertInt: 0.2, garpMasterDelay: 1 };
/** Neutron's HA_DEFAULT_PRIORITY: every node the same, so no node preempts another. */
export const HA_PRIORITY = 50;

export interface VrrpLink {
  /** qr-/qg- link name. */
  name: string;
  mac: string;
  /** "addr/len", IPv4 and IPv6 global. */
  addresses: string[];
}

export interface KeepalivedRouter {
  routerId: string;
  vrid: number;
  /** ha-<port id[:11]>: where VRRP runs. */
  haLink: string;
  links: VrrpLink[];
  routes: { family: 4 | 6; via: string; dev: string }[];
  /** The router's extra routes (extraroute's `routes`): the master's only, like its default routes. */
  extraRoutes?: { destination: string; nexthop: string }[];
  notifyScript: string;
}

/** The link-local address keepalived holds on a port for the master: fe80::/64 from the port's (shared) MAC. */
export const vrrpLinkLocal = (mac: string): string => `${linkLocalFromMac(mac).toString()}/64`;

export function renderKeepalivedConf(r: KeepalivedRouter, opts: VrrpOptions = {}): string {
  const o = { ...DEFAULT_VRRP, ...opts };
  const excluded: string[] = [];
  for (const l of r.links) {
    for (const a of l.addresses) excluded.push(`${a} dev ${l.name}`);
    excluded.push(`${vrrpLinkLocal(l.mac)} dev ${l.name}`);
  }
  const routes = r.routes.map((x) => `${x.family === 6 ? '::/0' : '0.0.0.0/0'} via ${x.via} dev ${x.dev}`);
  // Neutron's ha_router.routes_updated: KeepalivedVirtualRoute(destination, nexthop), no device (the kernel finds it
  // from the connected subnets the master holds).
  for (const x of r.extraRoutes ?? []) routes.push(`${x.destination} via ${x.nexthop}`);
  const block = (name: string, lines: string[]): string[] => (lines.length ? [`    ${name} {`, ...lines.map((l) => `        ${l}`), '    }'] : []);
  return [
    'global_defs {',
    `    router_id v6stack-${r.routerId.slice(0, 8)}`,
    '    script_user root',
    '    vrrp_version 3',
    '}',
    `vrrp_instance VR_${r.vrid} {`,
    '    state BACKUP',
    `    interface ${r.haLink}`,
    `    virtual_router_id ${r.vrid}`,
    `    priority ${HA_PRIORITY}`,
    `    garp_master_delay ${o.garpMasterDelay}`,
    '    nopreempt',
    `    advert_int ${Number(o.advertInt.toFixed(2))}`,
    ...block('virtual_ipaddress', [`169.254.0.${r.vrid}/24 dev ${r.haLink}`]),
    ...block('virtual_ipaddress_excluded', excluded),
    ...block('virtual_routes', routes),
    `    notify "${r.notifyScript}"`,
    '}',
    '',
  ].join('\n');
}

/**
 * keepalived runs it with "INSTANCE VR_n STATE PRIORITY" on every transition; it writes STATE (MASTER, BACKUP,
 * FAULT, STOP) to `stateFile` atomically, where the agent reads it (forwarding, radvd, its report to the API).
 */
export function renderNotifyScript(stateFile: string): string {
  return ['#!/bin/sh', '# keepalived notify: $1 INSTANCE|GROUP, $2 name, $3 MASTER|BACKUP|FAULT|STOP, $4 priority', `printf '%s\\n' "$3" > '${stateFile}.tmp' && mv -f '${stateFile}.tmp' '${stateFile}'`, ''].join('\n');
}

/**
 * The HA router namespace's nftables table: nothing leaves a qr-/qg- link from the unspecified address (IPv6 ::,
 * IPv4 0.0.0.0). A standby holds no address on them (keepalived adds them on the master) and the kernel makes no
 * link-local (addr_gen_mode 1), yet Linux still sends MLDv2 reports from :: with the port's MAC when a link comes up
 * or joins a group (RFC 3810 5.2.13) — the shared MAC then moves to the standby in the bridges' FDBs, Neutron's
 * IPv6 HA failure (LP#1859832). The master sends from its link-local VIP, so it is not affected.
 */
export function haNamespaceFirewall(): string {
  return [
    'add table inet v6stack_ha',
    'flush table inet v6stack_ha',
    'add chain inet v6stack_ha postrouting { type filter hook postrouting priority 0 ; policy accept ; }',
    ...['qr-*', 'qg-*'].flatMap((m) => [`add rule inet v6stack_ha postrouting oifname "${m}" ip6 saddr :: drop`, `add rule inet v6stack_ha postrouting oifname "${m}" ip saddr 0.0.0.0 drop`]),
  ].join('\n');
}

export const isIpv6Cidr = (cidr: string): boolean => IpAddress.parse(cidr.split('/')[0])?.version === 6;

/** The HA port the server bound to `host` for a router (its ports given), if the router is scheduled here. */
export const haPortHere = (routerPorts: readonly PortDoc[], host: string): PortDoc | undefined =>
  routerPorts.find((p) => p.device_owner === DEVICE_OWNER_ROUTER_HA_INTF && p['binding:host_id'] === host);

/**
 * An HA router's namespace from the legacy plan of it (features/l3.ts): the kernel makes no IPv6 link-local on its
 * links (addr_gen_mode 1: keepalived adds the MAC's link-local as a VIP on the master, Neutron 5288593faf), qr-/qg-
 * addresses and default routes are keepalived's, the HA link is added with its own address, and the firewall keeps
 * a standby silent (haNamespaceFirewall). Forwarding stays on on every node: a standby holds no address and no route,
 * so nothing reaches it and nothing leaves it, and toggling forwarding at each transition would itself send MLD
 * (joining and leaving ff02::2) with the shared MAC.
 */
export function haNamespace(legacy: NamespaceSpec, haLink: LinkSpec): NamespaceSpec {
  return {
    ...legacy,
    sysctls: [['net.ipv6.conf.default.addr_gen_mode', '1'], ...legacy.sysctls.filter(([k]) => k !== 'net.ipv6.conf.default.addr_gen_mode')],
    links: [...legacy.links.map((l) => ({ ...l, vips: 'all' as const, ...(l.acceptRa !== undefined ? { acceptRa: 0 as const } : {}) })), { ...haLink, vips: 'others' as const }],
    routes: [],
    firewall: haNamespaceFirewall(),
  };
}
