// The DHCP port of a network: which subnets it has an address on, which host serves it, and what must change when
// the network's subnets or the agents change. The server carries these plans out in the transaction of the change
// (api/dhcp-ports.ts); agents only read the port and report its status. PURE: no store, no clock (`now` is given).
//
// Neutron: the DHCP agent asks the server for the port (neutron/agent/linux/dhcp.py DeviceManager.setup_dhcp_port,
// _setup_existing_dhcp_port, _setup_new_dhcp_port) with fixed_ips on every subnet with enable_dhcp, once the
// network is scheduled to it (neutron/scheduler/dhcp_agent_scheduler.py, dhcp_agents_per_network = 1 by default,
// least-loaded agent first); a network no DHCP agent hosts has no DHCP port.

import { IpAddress } from './ip.js';
import { poolRanges, poolSize } from './ipam.js';
import { DEVICE_OWNER_DHCP, dhcpv6Service, isAutoAddressSubnet, type FixedIp, type FixedIpRequest, type Modes } from './ipv6/index.js';

export { DEVICE_OWNER_DHCP };

/** The binary the v6stack agent reports itself with (GET /v2.0/agents). */
export const V6STACK_AGENT_BINARY = 'v6stack-agent';

/** The device_id of the DHCP port a host's agent serves (Neutron: dhcp<host uuid>-<network id>). */
export const dhcpDeviceId = (host: string, networkId: string): string => `dhcp-${host}-${networkId}`;

export interface DhcpSubnet extends Modes {
  id: string;
  ip_version: number;
  cidr: string;
  enable_dhcp: boolean;
  allocation_pools?: readonly { start: string; end: string }[];
}

/**
 * Whether dnsmasq serves the subnet: IPv4 with enable_dhcp; IPv6 with enable_dhcp and DHCPv6 (stateful or
 * stateless) on a prefix of /64 or longer (dnsmasq's DHCPv6 ranges). SLAAC subnets are not served: their hosts
 * get everything from the RA (Neutron still adds them to the port, where IPAM gives the same EUI-64 address).
 */
export function servesDhcp(s: DhcpSubnet): boolean {
  if (s.ip_version === 4) return s.enable_dhcp;
  return dhcpv6Service({ ...s, enable_dhcp: s.enable_dhcp }) !== null && Number(s.cidr.split('/')[1]) >= 64;
}

/**
 * The subnets the DHCP port takes an address on: the served ones, in the network's order. A served subnet with an
 * empty allocation pool (nothing to take the address from) is left out rather than failing the subnet's request.
 */
export function dhcpPortSubnets<S extends DhcpSubnet>(subnets: readonly S[]): S[] {
  return subnets.filter((s) => servesDhcp(s) && (isAutoAddressSubnet(s) || (s.allocation_pools ?? [{}]).length > 0));
}

/** Pools larger than this are not counted: an address is taken from them as from any other. */
export const COUNTED_POOL_MAX = 65_536n;

/**
 * Whether the subnet's pools may have no free address left, given the addresses allocated on it (only asked for
 * pools of at most COUNTED_POOL_MAX addresses; `allocated` are the subnet's allocation rows).
 */
export function poolExhausted(subnet: DhcpSubnet, allocated: readonly string[]): boolean {
  const ranges = poolRanges(subnet.allocation_pools ?? []);
  const inPools = allocated.filter((a) => {
    const ip = IpAddress.parse(a);
    return ip !== null && ranges.some((r) => r.contains(ip));
  }).length;
  return BigInt(inPools) >= poolSize(ranges);
}

/** Whether the pool is small enough that poolExhausted is worth asking (the count costs a row per allocation). */
export function poolCounted(subnet: DhcpSubnet): boolean {
  return !isAutoAddressSubnet(subnet) && poolSize(poolRanges(subnet.allocation_pools ?? [])) <= COUNTED_POOL_MAX;
}

export interface DhcpAgent {
  host: string;
  binary: string;
  admin_state_up?: boolean;
  /** Neutron's format, UTC: "2026-12-07 12:00:00". */
  heartbeat_timestamp: string;
  configurations?: Record<string, unknown>;
}

/** Neutron's agent_down_time default. */
export const AGENT_DOWN_TIME_MS = 75_000;

/** Neutron's agent_down_time: an agent is alive while its last heartbeat is younger than this. */
export function agentAlive(a: Pick<DhcpAgent, 'heartbeat_timestamp'>, nowMs: number, downTimeMs: number): boolean {
  const beat = Date.parse(`${String(a.heartbeat_timestamp).replace(' ', 'T')}Z`);
  return Number.isFinite(beat) && nowMs - beat < downTimeMs;
}

/** A v6stack agent that runs DHCP: role all (the default) or network; compute hosts only plug instances. */
export function servesDhcpRole(a: DhcpAgent): boolean {
  const role = a.configurations?.role;
  return a.binary === V6STACK_AGENT_BINARY && role !== 'compute';
}

/** The hosts that may be given a network now: alive, administratively up, DHCP-capable. Sorted. */
export function dhcpHosts(agents: readonly DhcpAgent[], nowMs: number, downTimeMs: number): string[] {
  return [...new Set(agents.filter((a) => a.admin_state_up !== false && servesDhcpRole(a) && agentAlive(a, nowMs, downTimeMs)).map((a) => a.host))].sort();
}

/** The least loaded of `hosts` (fewest DHCP ports), ties by host name; null when there is none. */
export function scheduleDhcpHost(hosts: readonly string[], load: ReadonlyMap<string, number>): string | null {
  let best: string | null = null;
  for (const h of [...hosts].sort()) if (best === null || (load.get(h) ?? 0) < (load.get(best) ?? 0)) best = h;
  return best;
}

export interface DhcpPortState {
  id: string;
  device_id: string;
  'binding:host_id': string;
  fixed_ips: readonly FixedIp[];
  created_at?: string;
}

/** The subnets a plan takes a new pool address on (to check for room before carrying it out). */
export function poolAddressesAsked(steps: readonly DhcpPortStep[], subnets: readonly DhcpSubnet[]): string[] {
  const auto = new Set(subnets.filter((s) => isAutoAddressSubnet(s)).map((s) => s.id));
  return steps.flatMap((st) => {
    if (st.op === 'create') return st.subnet_ids.filter((id) => !auto.has(id));
    if (st.op === 'readdress') return st.fixed_ips.filter((f) => f.ip_address === undefined && f.subnet_id !== undefined).map((f) => f.subnet_id!);
    return [];
  });
}

export type DhcpPortStep =
  /** A new port on `host` with an address on each of `subnet_ids` (IPAM adds the EUI-64 ones). */
  | { op: 'create'; host: string; subnet_ids: string[] }
  /** The port's fixed_ips become this request (a PUT: kept addresses named, new subnets by id). */
  | { op: 'readdress'; port_id: string; fixed_ips: FixedIpRequest[] }
  /** The port moves to `host`: its device_id and binding change, its addresses stay. */
  | { op: 'bind'; port_id: string; host: string }
  | { op: 'delete'; port_id: string };

/**
 * What a network's DHCP port needs, from its subnets (in order), its DHCP ports, the live DHCP hosts and the host
 * the scheduler would pick (null when there is none):
 * - no served subnet: every DHCP port goes (Neutron's agent releases it when the last DHCP subnet goes);
 * - one port per network: of several (agent-made ports from before the server made them), the one on a live host,
 *   else the oldest, stays and the others go;
 * - no port: one is made on the scheduled host; with no live DHCP host none is made (the network is not scheduled,
 *   as in Neutron; the next heartbeat of a DHCP-capable agent schedules it);
 * - a port whose host has no live DHCP agent moves to the scheduled host, when there is one;
 * - its addresses follow the served subnets as _setup_existing_dhcp_port's update does: kept on the subnets still
 *   served, one more for each newly served subnet, released from the ones no longer served (automatic EUI-64
 *   addresses stay with their subnet, as for every port).
 * `full`: served subnets with no free pool address. No new address is asked there (it would fail the change that
 * needs the port, where Neutron's agent fails on its own and the change stands); an address the port has stays.
 */
export function planDhcpPort(
  subnets: readonly DhcpSubnet[],
  ports: readonly DhcpPortState[],
  liveHosts: readonly string[],
  scheduled: string | null,
  full: ReadonlySet<string> = new Set(),
): DhcpPortStep[] {
  const served = dhcpPortSubnets(subnets);
  if (!served.length) return ports.map((p) => ({ op: 'delete', port_id: p.id }));
  const live = new Set(liveHosts);
  const ranked = [...ports].sort(
    (a, b) =>
      Number(live.has(b['binding:host_id'])) - Number(live.has(a['binding:host_id'])) ||
      String(a.created_at ?? '').localeCompare(String(b.created_at ?? '')) ||
      a.id.localeCompare(b.id),
  );
  const [keep, ...extra] = ranked;
  const steps: DhcpPortStep[] = extra.map((p) => ({ op: 'delete', port_id: p.id }));
  if (!keep) {
    const room = served.filter((s) => !full.has(s.id));
    if (scheduled !== null && room.length) steps.push({ op: 'create', host: scheduled, subnet_ids: room.map((s) => s.id) });
    return steps;
  }
  if (!live.has(keep['binding:host_id']) && scheduled !== null) {
    steps.push({ op: 'bind', port_id: keep.id, host: scheduled });
  }
  const servedIds = new Set(served.map((s) => s.id));
  const auto = new Set(subnets.filter((s) => isAutoAddressSubnet(s)).map((s) => s.id));
  const kept = keep.fixed_ips.filter((f) => servedIds.has(f.subnet_id));
  const missing = served.filter((s) => !auto.has(s.id) && !full.has(s.id) && !keep.fixed_ips.some((f) => f.subnet_id === s.id));
  const stale = keep.fixed_ips.filter((f) => !servedIds.has(f.subnet_id) && !auto.has(f.subnet_id));
  if (missing.length || stale.length) {
    steps.push({
      op: 'readdress',
      port_id: keep.id,
      fixed_ips: [...kept.map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })), ...missing.map((s) => ({ subnet_id: s.id }))],
    });
  }
  return steps;
}
