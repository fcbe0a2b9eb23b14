// HA routers (Neutron's l3-ha extension): the per-project HA network, the VRRP router id (VRID) of each HA router,
// which L3 agents host it and the ha_state the API shows for each. PURE: no store, no clock (`now` is given).
//
// Neutron: neutron/db/l3_hamode_db.py (HA network and subnet names, VR_ID_RANGE, _verify_configuration,
// get_number_of_agents_for_scheduling, _get_bindings_and_update_router_state_for_dead_agents),
// neutron/conf/db/l3_hamode_db.py (l3_ha, max_l3_agents_per_router = 3, l3_ha_net_cidr = 169.254.192.0/18,
// l3_ha_network_type), neutron/agent/l3/ha.py TRANSLATION_MAP (keepalived's state -> the API's ha_state).

import { NeutronError } from './errors.js';
import { IpPrefix } from './ip.js';
import { spreadOverZones } from './availability-zone.js';

export const DEVICE_OWNER_ROUTER_HA_INTF = 'network:router_ha_interface';
export const haNetworkName = (project: string): string => `HA network tenant ${project}`;
export const haSubnetName = (project: string): string => `HA subnet tenant ${project}`;
export const haPortName = (project: string): string => `HA port tenant ${project}`;

/** Neutron's VR_ID_RANGE = set(range(1, 255)): VRIDs 1..254 per HA network (one HA network per project). */
export const VR_ID_MIN = 1;
export const VR_ID_MAX = 254;

export interface HaSettings {
  /** l3_ha: routers created without `ha` are HA routers. */
  l3Ha: boolean;
  /** max_l3_agents_per_router: 0 means every live L3 agent. */
  maxL3AgentsPerRouter: number;
  /** l3_ha_net_cidr. */
  l3HaNetCidr: string;
  /** l3_ha_network_type: the HA network's provider:network_type ('' = the tenant network default). */
  l3HaNetworkType: string;
}

export const DEFAULT_HA_SETTINGS: HaSettings = { l3Ha: false, maxL3AgentsPerRouter: 3, l3HaNetCidr: '169.254.192.0/18', l3HaNetworkType: '' };

/** _verify_configuration: the HA CIDR must be a prefix written as its network address with a length. */
export function haCidrProblem(cidr: string): string | null {
  return IpPrefix.parse(cidr, true) ? null : `The HA Network CIDR specified in the configuration file isn't valid; ${cidr}.`;
}

/** The smallest VRID not taken on the HA network, or null when all 254 are (Neutron picks at random; any free one works). */
export function pickVrid(taken: Iterable<number>): number | null {
  const used = new Set(taken);
  for (let v = VR_ID_MIN; v <= VR_ID_MAX; v++) if (!used.has(v)) return v;
  return null;
}

/** neutron_lib l3_ext_ha_mode.NoVRIDAvailable (409). */
export function noVridAvailable(routerId: string): NeutronError {
  return new NeutronError(
    409,
    'NoVRIDAvailable',
    `No more Virtual Router Identifier (VRID) available when creating router ${routerId}. The limit of number of HA Routers per tenant is 254.`,
  );
}

/** get_number_of_agents_for_scheduling: every live L3 agent, at most max_l3_agents_per_router (0 = no limit). */
export function agentsForScheduling(liveAgents: number, maxPerRouter: number): number {
  return maxPerRouter > 0 ? Math.min(liveAgents, maxPerRouter) : liveAgents;
}

/**
 * The hosts a HA router gains: it keeps the hosts it has and is given more live L3 hosts, least loaded first (fewest
 * HA ports; ties by name), until it has agentsForScheduling of them. Neutron schedules an HA router at creation and
 * again when an L3 agent syncs (auto_schedule_routers), and never moves one off a dead agent.
 */
export function scheduleHaHosts(
  liveHosts: readonly string[],
  current: readonly string[],
  maxPerRouter: number,
  load: ReadonlyMap<string, number>,
  zoneOf?: ReadonlyMap<string, string | null | undefined>,
): string[] {
  const want = agentsForScheduling(liveHosts.length, maxPerRouter);
  const have = new Set(current);
  const missing = want - [...have].filter((h) => liveHosts.includes(h)).length;
  if (missing <= 0 || have.size >= (maxPerRouter > 0 ? maxPerRouter : Infinity)) return [];
  const room = maxPerRouter > 0 ? Math.min(missing, maxPerRouter - have.size) : missing;
  const ordered = [...liveHosts].filter((h) => !have.has(h)).sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || a.localeCompare(b));
  // With the hosts' zones: spread over them (AZLeastRoutersScheduler._choose_router_agents_for_ha).
  return zoneOf ? spreadOverZones(ordered, zoneOf, [...have], Math.max(0, room)) : ordered.slice(0, Math.max(0, room));
}

export type HaState = 'active' | 'standby' | 'unknown';
/** What keepalived reports (its notify script's third argument). */
export type VrrpState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** neutron/agent/l3/ha.py TRANSLATION_MAP: primary -> active; backup and fault -> standby. */
export function haStateOf(vrrp: string | undefined): HaState {
  if (vrrp === 'MASTER') return 'active';
  if (vrrp === 'BACKUP' || vrrp === 'FAULT') return 'standby';
  return 'standby';
}

export interface HaBinding {
  host: string;
  /** What the host's agent last reported (standby until it reports: Neutron's binding default). */
  reported: HaState;
  /** Alive and administratively up. */
  live: boolean;
}

/**
 * The ha_state each hosting agent shows (_get_bindings_and_update_router_state_for_dead_agents): a dead agent that
 * last said active shows standby while some other hosting agent is alive (another node takes over), unknown when
 * every hosting agent is dead (the router may still forward; nobody can tell).
 */
export function shownHaStates(bindings: readonly HaBinding[]): HaState[] {
  const deadActive = bindings.filter((b) => !b.live && b.reported === 'active');
  if (!deadActive.length) return bindings.map((b) => b.reported);
  const allDead = bindings.every((b) => !b.live);
  return bindings.map((b) => (!b.live && b.reported === 'active' ? (allDead ? 'unknown' : 'standby') : b.reported));
}

/** The VRID a router's HA port carries (binding:vif_details.ha_vr_id), if any. */
export function vridOf(vifDetails: unknown): number | null {
  const v = (vifDetails as { ha_vr_id?: unknown } | null | undefined)?.ha_vr_id;
  return typeof v === 'number' && Number.isInteger(v) && v >= VR_ID_MIN && v <= VR_ID_MAX ? v : null;
}
