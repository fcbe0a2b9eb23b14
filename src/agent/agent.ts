// The v6stack agent: a reconciler. At start a full resync (the four collections), then it follows the API's
// change feed with long polls; every relevant change (debounced) re-plans and applies the difference. It
// heartbeats every 10 s. On SIGTERM it stops its daemons and leaves the kernel state, so a restart converges
// without disturbing anything.

import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { plan, networksNeedingDhcp, dhcpDeviceId, DHCP_OWNER, type ApiState, type Doc, type PlanOptions } from './plan.js';
import { dhcpv6Subnets } from './dnsmasq.js';
import { applyActions, diff, observe } from './linux.js';
import { Supervisor } from './daemons.js';

export interface AgentOptions {
  server: string;
  host: string;
  stateDir: string;
  debounceMs?: number;
  heartbeatMs?: number;
  radvd?: PlanOptions['radvd'];
  log?: (line: string) => void;
}

const RELEVANT = new Set(['network', 'subnet', 'port', 'router']);
export const AGENT_BINARY = 'v6stack-agent';

export class Agent {
  private readonly log: (line: string) => void;
  private readonly supervisor: Supervisor;
  private owned = new Set<string>();
  private seq = 0;
  private stopped = false;
  private syncing: Promise<void> | null = null;
  private dirty = false;
  private debounce: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private poll: AbortController | null = null;
  private lastSummary: Record<string, unknown> = {};

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.log ?? ((l) => console.log(`${new Date().toISOString()} agent: ${l}`));
    this.supervisor = new Supervisor(opts.stateDir, this.log, () => this.schedule(1000));
  }

  private get ledgerPath(): string {
    return join(this.opts.stateDir, 'owned.json');
  }

  async start(): Promise<void> {
    await mkdir(this.opts.stateDir, { recursive: true });
    this.owned = new Set(JSON.parse(await readFile(this.ledgerPath, 'utf8').catch(() => '{"namespaces":[]}')).namespaces as string[]);
    await this.supervisor.cleanupStale();
    this.seq = await this.latestSeq();
    await this.sync().catch((e: Error) => {
      this.log(`reconcile failed: ${e.message}; retrying`);
      this.schedule(2000);
    });
    void this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs ?? 10_000);
    void this.follow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll?.abort();
    await this.syncing?.catch(() => {});
    await this.supervisor.shutdown();
    this.log('stopped; daemons stopped, kernel state left in place');
  }

  private async api(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<any> {
    const res = await fetch(this.opts.server + path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  private async latestSeq(): Promise<number> {
    let since = 0;
    for (;;) {
      const r = await this.api('GET', `/v6stack/v1/changes?since=${since}&limit=10000`);
      since = r.last;
      if (r.changes.length < 10000) return since;
    }
  }

  private async fetchState(): Promise<ApiState> {
    const [n, s, p, r] = await Promise.all(['networks', 'subnets', 'ports', 'routers'].map((c) => this.api('GET', `/v2.0/${c}`)));
    return { networks: n.networks, subnets: s.subnets, ports: p.ports, routers: r.routers };
  }

  /**
   * The DHCP port of each network that needs DHCPv6 is a real port (device_owner network:dhcp), created here: IPAM
   * gives it its addresses, so it can never collide with an instance, and it shows in port listings as in Neutron.
   * Returns true when it changed anything (then the state is fetched again).
   */
  private async ensureDhcpPorts(state: ApiState): Promise<boolean> {
    const need = new Set(networksNeedingDhcp(state));
    const mine = state.ports.filter((p) => p.device_owner === DHCP_OWNER && String(p.device_id).startsWith(`dhcp-${this.opts.host}-`));
    let changed = false;
    for (const netId of need) {
      const port = mine.find((p) => p.device_id === dhcpDeviceId(this.opts.host, netId));
      const subnets = dhcpv6Subnets(state.subnets.filter((s) => s.network_id === netId) as any) as unknown as Doc[];
      if (!port) {
        this.log(`create DHCP port on network ${netId}`);
        await this.api('POST', '/v2.0/ports', { port: { network_id: netId, device_owner: DHCP_OWNER, device_id: dhcpDeviceId(this.opts.host, netId), name: '' } });
        changed = true;
        continue;
      }
      const missing = subnets.filter((s) => !(port.fixed_ips as Doc[]).some((ip) => ip.subnet_id === s.id));
      if (missing.length) {
        this.log(`add subnets ${missing.map((s) => s.id).join(', ')} to DHCP port ${port.id}`);
        await this.api('PUT', `/v2.0/ports/${port.id}`, { port: { fixed_ips: [...port.fixed_ips, ...missing.map((s) => ({ subnet_id: s.id }))] } });
        changed = true;
      }
    }
    for (const p of mine) {
      if (!need.has(p.network_id)) {
        this.log(`delete DHCP port ${p.id} (network ${p.network_id} needs no DHCPv6)`);
        await this.api('DELETE', `/v2.0/ports/${p.id}`).catch((e: Error) => this.log(e.message));
        changed = true;
      }
    }
    return changed;
  }

  /** One reconcile pass; concurrent requests collapse into one more pass. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.dirty = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.dirty = false;
          await this.reconcile();
        } while (this.dirty && !this.stopped);
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  private async saveLedger(): Promise<void> {
    const tmp = `${this.ledgerPath}.tmp`;
    await writeFile(tmp, JSON.stringify({ namespaces: [...this.owned].sort() }) + '\n');
    await rename(tmp, this.ledgerPath);
  }

  private async reconcile(): Promise<void> {
    let state = await this.fetchState();
    if (await this.ensureDhcpPorts(state)) state = await this.fetchState();
    // dnsmasq logs every DHCP transaction to stderr, which the supervisor relays into this log.
    const desired = plan(state, { host: this.opts.host, stateDir: this.opts.stateDir, dnsmasqLogFacility: '-', ...(this.opts.radvd ? { radvd: this.opts.radvd } : {}) });
    // Daemons first, while their interfaces still exist: radvd's SIGTERM sends the RA that withdraws the router.
    const stopped = await this.supervisor.stopUndesired(desired.daemons);
    const actual = await observe(desired, this.owned);
    const actions = diff(desired, actual, this.owned);
    const names = desired.namespaces.map((n) => n.name);
    for (const n of names) this.owned.add(n);
    await this.saveLedger();
    await applyActions(actions, this.log);
    this.owned = new Set(names);
    await this.saveLedger();
    const started = await this.supervisor.ensure(desired.daemons);
    this.lastSummary = { bridge_namespace: desired.bridgeNs, bridges: desired.bridges.length, routers: desired.namespaces.filter((n) => n.kind === 'router').length, dhcp_networks: desired.namespaces.filter((n) => n.kind === 'dhcp').length, daemons: this.supervisor.ids().length };
    this.log(`in sync: ${actions.length} kernel actions, ${stopped + started} daemon actions`);
  }

  private schedule(ms = this.opts.debounceMs ?? 200): void {
    if (this.stopped || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.sync().catch((e: Error) => {
        this.log(`reconcile failed: ${e.message}; retrying`);
        this.schedule(2000);
      });
    }, ms);
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        this.poll = new AbortController();
        const r = await this.api('GET', `/v6stack/v1/changes?since=${this.seq}&wait=25`, undefined, this.poll.signal);
        this.seq = r.last;
        if ((r.changes as { kind: string }[]).some((c) => RELEVANT.has(c.kind))) this.schedule();
      } catch (e) {
        if (this.stopped) return;
        this.log(`change feed: ${(e as Error).message}; retrying in 2 s`);
        await new Promise((res) => setTimeout(res, 2000));
        this.schedule(); // we may have missed changes while the server was away
      }
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.api('PUT', `/v6stack/v1/agents/${encodeURIComponent(this.opts.host)}/${AGENT_BINARY}`, { agent: { agent_type: 'v6stack agent', configurations: this.lastSummary } });
    } catch (e) {
      this.log(`heartbeat: ${(e as Error).message}`);
    }
  }
}
