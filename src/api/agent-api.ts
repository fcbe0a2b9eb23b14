// v6stack's own API for agents, beside Neutron's: the change feed agents follow, and the heartbeat with which an
// agent reports itself (it then shows in Neutron's GET /v2.0/agents).
//
//   GET /v6stack/v1/changes?since=SEQ[&limit=N][&wait=SECONDS]  -> {"changes": [{seq, kind, id, op}], "last": SEQ}
//       With `wait`, an empty answer is held until a change arrives or the time is up (long poll, at most 30 s).
//   PUT /v6stack/v1/agents/<host>/<binary>  {"agent": {"agent_type", "configurations"?, "availability_zone"?}} -> {"agent": {...}}
//       The heartbeat of a DHCP host (role all or network) also refreshes the host's "DHCP agent" row (the
//       dhcp_agent_scheduler's agents: dhcp-agent-scheduler.ts, in the host's zone), moves the networks of dead DHCP
//       agents to live ones, and when that row comes alive schedules the networks short of agents: their DHCP ports
//       are made or moved in its transaction (dhcp-ports.ts).
//   GET /v6stack/v1/bgp-speakers?host=H  -> {"bgp_speakers": [{id, local_as, ip_version, networks, peers (with
//       passwords), advertised_routes}]}: what host H's BGP agent runs (api/resources/bgp.ts hostedBgpSpeakers).
//   PUT /v6stack/v1/ports/status  {"host": H, "ports": {"<port id>": "ACTIVE" | "DOWN", ...}} -> {"ports": [...]}
//       What an agent found on the wire: a port it has plugged (and whose admin state is up) is ACTIVE, else DOWN
//       (Neutron's update_device_up/down). Only ports whose status changes are written, and returned; ports that
//       no longer exist are skipped (deleted while the agent looked).
//   PUT /v6stack/v1/metering/counters  {"host": H, "counters": [{metering_label_id, router_id, direction, packets,
//       bytes}]}: the metering counters an agent read (absolute); their increases are added to the label's counts.
//   GET /v6stack/v1/metering-labels/<id>/counters -> bytes and packets per router and direction, and the total.
//   PUT /v6stack/v1/prefix-delegation/subnets/<subnet id>  {"prefix": "<IPv6 /64>" | null}: a router's DHCPv6-PD
//       client obtained (or released) a subnet's prefix; the subnet and its ports are renumbered (prefix-delegation.ts).

import { randomUUID } from 'node:crypto';
import { httpBadRequest, resourceNotFound } from '../domain/errors.js';
import type { Doc, Store, Tx } from '../store/types.js';
import { anyDict, isUuid, nullable, string } from '../schema/types.js';
import { insertDoc, saveDoc, timestamp, type ServerSettings } from './context.js';
import { agentAlive, AGENT_DOWN_TIME_MS, servesDhcpRole, type DhcpAgent } from '../domain/dhcp.js';
import { syncAllDhcpPorts } from './dhcp-ports.js';
import { DHCP_AGENT_BINARY, DHCP_AGENT_TYPE, schedulerView } from './dhcp-agent-scheduler.js';
import { hostedBgpSpeakers, scheduleUnscheduledSpeakers } from './resources/bgp.js';
import { syncAllHaRouters } from './ha-routers.js';
import { handlePrefixDelegation } from './prefix-delegation.js';
import { labelCounters, readingsOf, recordReadings } from './resources/metering.js';

const MAX_WAIT_MS = 30_000;
/** The port statuses an agent reports (Neutron's constants: PORT_STATUS_ACTIVE, _BUILD, _DOWN, _ERROR). */
const PORT_STATUSES = new Set(['ACTIVE', 'DOWN', 'BUILD', 'ERROR']);

export class AgentApi {
  private waiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly settings?: ServerSettings,
  ) {}

  /** The server is closing: long polls end now, without touching the store (which closes next). */
  close(): void {
    this.closed = true;
    this.notify();
  }

  /** Wakes long-polling agents; called after every successful write. */
  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  async handle(method: string, parts: string[], url: URL, body: unknown): Promise<{ status: number; body: string }> {
    if (parts[1] === 'changes' && parts.length === 2 && method === 'GET') return this.changes(url);
    if (parts[1] === 'agents' && parts.length === 4 && method === 'PUT') return this.heartbeat(parts[2]!, parts[3]!, body);
    if (parts[1] === 'ports' && parts[2] === 'status' && parts.length === 3 && method === 'PUT') return this.portStatus(body);
    if (parts[1] === 'bgp-speakers' && parts.length === 2 && method === 'GET') {
      const host = string(255).convert(url.searchParams.get('host') ?? '', 'host');
      return { status: 200, body: JSON.stringify({ bgp_speakers: await this.store.read((tx) => hostedBgpSpeakers(tx, host)) }) };
    }
    // Metering: the counts an agent read (PUT), and an operator's view of a label's (GET).
    if (parts[1] === 'metering' && parts[2] === 'counters' && parts.length === 3 && method === 'PUT') {
      const { host, readings } = readingsOf(body);
      const n = await this.store.write((tx) => recordReadings(tx, host, readings, timestamp()));
      return { status: 200, body: JSON.stringify({ recorded: n }) };
    }
    if (parts[1] === 'metering-labels' && parts[3] === 'counters' && parts.length === 4 && method === 'GET') {
      const id = parts[2]!;
      return { status: 200, body: JSON.stringify(await this.store.read((tx) => labelCounters(tx, id))) };
    }
    const pd = await handlePrefixDelegation(this.store, method, parts, body, () => this.notify());
    if (pd) return pd;
    throw resourceNotFound(url.pathname);
  }

  private async changes(url: URL): Promise<{ status: number; body: string }> {
    const since = Number(url.searchParams.get('since') ?? '0');
    const limit = Math.min(Number(url.searchParams.get('limit') ?? '1000'), 10_000);
    const wait = Math.min(Number(url.searchParams.get('wait') ?? '0') * 1000, MAX_WAIT_MS);
    if (!Number.isSafeInteger(since) || since < 0 || !Number.isSafeInteger(limit) || limit < 1 || !(wait >= 0)) {
      throw httpBadRequest('since and limit must be non-negative integers, wait a number of seconds');
    }
    let changes = await this.store.changesSince(since, limit);
    if (!changes.length && wait > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiters.delete(wake);
          resolve();
        }, wait);
        const wake = (): void => {
          clearTimeout(t);
          resolve();
        };
        this.waiters.add(wake);
      });
      if (this.closed) return { status: 200, body: JSON.stringify({ changes: [], last: since }) };
      changes = await this.store.changesSince(since, limit);
    }
    const last = changes.length ? changes[changes.length - 1]!.seq : since;
    return { status: 200, body: JSON.stringify({ changes, last }) };
  }

  private async portStatus(body: unknown): Promise<{ status: number; body: string }> {
    const input = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    const ports = input?.ports;
    if (!ports || typeof ports !== 'object' || Array.isArray(ports)) throw httpBadRequest('ports must be an object of port id -> status');
    const want = Object.entries(ports as Record<string, unknown>);
    for (const [id, st] of want) {
      if (!isUuid(id)) throw httpBadRequest(`${JSON.stringify(id)} is not a port id (a UUID)`);
      if (!PORT_STATUSES.has(st as string)) throw httpBadRequest(`status of port ${id} must be one of ${[...PORT_STATUSES].join(', ')}, not ${JSON.stringify(st)}`);
    }
    const host = input?.host === undefined ? undefined : string(255).convert(input.host, 'host');
    const changed = await this.store.write(async (tx) => {
      const out = [];
      // One read for all of them (an agent's cold start reports every port it plugged at once).
      const docs = new Map((want.length ? await tx.list('port', { id: want.map(([id]) => id) }) : []).map((d) => [d.id as string, d]));
      for (const [id, st] of want) {
        const doc = docs.get(id);
        if (!doc || doc.status === st) continue;
        // A port another host has bound since the agent looked is that host's to report.
        if (host !== undefined && doc['binding:host_id'] && doc['binding:host_id'] !== host) continue;
        doc.status = st;
        out.push(await saveDoc(tx, 'port', doc));
      }
      return out;
    });
    if (changed.length) this.notify();
    return { status: 200, body: JSON.stringify({ ports: changed }) };
  }

  private async heartbeat(host: string, binary: string, body: unknown): Promise<{ status: number; body: string }> {
    // The agents send these; they are checked all the same, since nothing else stands between a body and the store.
    string(255).convert(host, 'host');
    string(255).convert(binary, 'binary');
    const outer = body === undefined || body === null ? {} : body;
    if (typeof outer !== 'object' || Array.isArray(outer)) throw httpBadRequest("Unable to find 'agent' in request body");
    const raw = (outer as Record<string, unknown>).agent ?? {};
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw httpBadRequest('Body contains invalid data');
    const input = raw as Record<string, unknown>;
    const agentType = string(255).convert(input.agent_type ?? 'v6stack agent', 'agent_type');
    const configurations = input.configurations === undefined ? undefined : anyDict.convert(input.configurations, 'configurations');
    // Neutron's [AGENT] availability_zone (max_length 255); a report without one keeps what the agent said before.
    const zone = input.availability_zone === undefined ? undefined : nullable(string(255)).convert(input.availability_zone, 'availability_zone');
    const doc = await this.store.write(async (tx) => {
      const agent = await this.upsertAgent(tx, host, binary, agentType, configurations, zone);
      // A DHCP host is alive: its DHCP agent row too (in the same zone). Networks of dead DHCP agents fail over
      // (Neutron's allow_automatic_dhcp_failover); when the row is new or was dead, networks short of agents are
      // scheduled (network_auto_schedule: Neutron's agent asks for it when it starts). Their DHCP ports are made or
      // moved in this transaction.
      if (servesDhcpRole(agent as unknown as DhcpAgent) && binary !== DHCP_AGENT_BINARY) {
        const view = await schedulerView(tx);
        const before = [...view.agents.values()].find((a) => a.host === host && a.binary === DHCP_AGENT_BINARY);
        const cameAlive = !before || !agentAlive(before as unknown as DhcpAgent, Date.now(), this.settings?.agentDownTimeMs ?? AGENT_DOWN_TIME_MS);
        const networks = view.load.get(before?.id ?? '') ?? 0;
        const dhcpAgent = await this.upsertAgent(tx, host, DHCP_AGENT_BINARY, DHCP_AGENT_TYPE, { dhcp_driver: 'dnsmasq', networks, notifies_port_ready: true }, agent.availability_zone as string | null);
        view.agents.set(dhcpAgent.id, dhcpAgent);
        await syncAllDhcpPorts(tx, this.settings, { schedule: cameAlive, view });
      }
      // An L3 host is alive: HA routers short of hosts are scheduled to it (Neutron's auto_schedule_routers).
      if (servesDhcpRole(agent as unknown as DhcpAgent)) await syncAllHaRouters(tx, this.settings);
      // A BGP agent with nothing to do takes a speaker no agent hosts.
      await scheduleUnscheduledSpeakers(tx, agent);
      return agent;
    });
    this.notify();
    return { status: 200, body: JSON.stringify({ agent: doc }) };
  }

  /** The agent's row, made at its first heartbeat, refreshed at every other. */
  private async upsertAgent(tx: Tx, host: string, binary: string, agentType: string, configurations: Record<string, unknown> | undefined, zone: string | null | undefined): Promise<Doc> {
    const now = timestamp();
    const existing = (await tx.list('agent', { host: [host] })).find((a) => a.binary === binary);
    if (existing) {
      Object.assign(existing, { heartbeat_timestamp: now.replace('T', ' ').replace('Z', ''), alive: true, configurations: configurations ?? existing.configurations });
      if (zone !== undefined) existing.availability_zone = zone;
      return saveDoc(tx, 'agent', existing);
    }
    return insertDoc(tx, 'agent', {
      id: randomUUID(),
      agent_type: agentType,
      binary,
      host,
      topic: 'N/A',
      admin_state_up: true,
      alive: true,
      availability_zone: zone ?? null,
      configurations: configurations ?? {},
      description: null,
      created_at: now.replace('T', ' ').replace('Z', ''),
      started_at: now.replace('T', ' ').replace('Z', ''),
      heartbeat_timestamp: now.replace('T', ' ').replace('Z', ''),
      resources_synced: null,
      tags: [],
      revision_number: 0,
    });
  }
}
