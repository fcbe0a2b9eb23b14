// The v6stack agent: a reconciler. At start a full resync (the four collections), then it follows the API's
// change feed with long polls and keeps its copy of the API state current by fetching only the documents the feed
// names. Every relevant change re-plans at once (changes that arrive during a pass are taken by the next pass, so
// there is no timer between a change and the wire) and applies the difference; only the namespaces whose plan
// changed are read back from the kernel, and a periodic full resync (default 60 s) re-reads everything, which is
// what repairs changes made behind the agent's back. It heartbeats every 10 s. On SIGTERM it stops its daemons
// and leaves the kernel state, so a restart converges without disturbing anything.

import { PdReporter } from './pd-report.js';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { plan, diff, type ActualLink, type AgentEntry, type ApiState, type DesiredState, type HostRole, type NetworkDoc, type PlanOptions, type PortDoc, type RouterDoc, type SubnetDoc, type FloatingIpDoc } from './plan.js';
import type { AddressGroupDoc, NdpProxyDoc, SecurityGroupDoc, SecurityGroupRuleDoc } from './model.js';
import { FirewallApplier } from './nft.js';
import { applyActions, exec, observe, observeUnderlay } from './linux.js';
import { METERING_FAMILY, METERING_TABLE, parseCounterName, readMeteringTable, type MeteringLabel, type MeteringRule } from '../domain/metering.js';
import { Supervisor } from './daemons.js';
import type { RestartPolicy } from './restart-policy.js';
import { releaseAgentLock, takeAgentLock } from './host-state.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { portStatuses, servedBy, statusChanges } from './port-status.js';
import { networkNodeConflicts, peersFromAgents, underlayProblems, type Peer, type Underlay } from './features/vxlan.js';
import { readHaStates } from './ha-state.js';
import { haStateOf } from '../domain/ha.js';
import type { VrrpOptions } from './model.js';

export interface AgentOptions {
  server: string;
  /** The server's agent secret (X-V6stack-Agent-Secret), needed when it runs with --auth-strategy keystone. */
  secret?: string;
  host: string;
  stateDir: string;
  /** Wait after a change before re-planning (default 0: the next pass collects what arrives meanwhile). */
  debounceMs?: number;
  heartbeatMs?: number;
  /** How often the metering counters are read and reported (default 30 s, Neutron's measure_interval). */
  meteringMs?: number;
  /** Full resync period: every collection fetched again and every namespace read back (default 60 s). */
  resyncMs?: number;
  /** all (default, one host), network (routers and DHCP among several hosts) or compute (bridges only). */
  role?: HostRole;
  /** This host's underlay address: networks get VXLAN tunnels to the other agents' (Neutron's local_ip). */
  tunnelIp?: string;
  /**
   * This host's availability zone (Neutron's `[AGENT] availability_zone`, default `nova`): sent with the heartbeat;
   * networks and routers hinted to other zones are not served here.
   */
  availabilityZone?: string;
  /** The upstream router's address for routers whose external network has no IPv6 gateway_ip (Neutron's ipv6_gateway). */
  ipv6Gateway?: string;
  radvd?: PlanOptions['radvd'];
  /** HA routers' VRRP timing (keepalived.ts DEFAULT_VRRP if absent). */
  vrrp?: VrrpOptions;
  /** Appended to router namespace names (PlanOptions.namespaceSuffix: several lab hosts on one machine). */
  namespaceSuffix?: string;
  /** How often keepalived's state files are read (default 100 ms): a change re-plans and reports at once. */
  haStatePollMs?: number;
  /** How daemons that exit are restarted (default: 1 s doubling to 60 s; failing from the third exit in a row). */
  restartPolicy?: RestartPolicy;
  /**
   * Also be this host's BGP dynamic routing agent (Neutron's neutron-bgp-dragent): heartbeat as one, and run a BIRD
   * for each BGP speaker scheduled here (features/bgp.ts). Off by default.
   */
  bgp?: boolean;
  log?: (line: string) => void;
}

/** The change feed's kinds the agent follows, and their collections. */
const COLLECTIONS = { network: 'networks', subnet: 'subnets', port: 'ports', router: 'routers', security_group: 'security_groups', security_group_rule: 'security_group_rules', floatingip: 'floatingips', address_group: 'address_groups', ndp_proxy: 'ndp_proxies', metering_label: 'metering_labels', metering_label_rule: 'metering_label_rules' } as const;
/** A collection's path: its JSON key with dashes (security_groups -> security-groups); ndp_proxies keeps Neutron's underscore. */
const pathOf = (k: Kind): string => (k === 'ndp_proxy' ? COLLECTIONS[k] : (k.startsWith('metering_') ? 'metering/' : '') + COLLECTIONS[k].replace(/_/g, '-'));
type Kind = keyof typeof COLLECTIONS;
/** The document of each kind, as the agent reads it (the schema's types, narrowed: model.ts). */
interface DocOfKind {
  network: NetworkDoc;
  subnet: SubnetDoc;
  port: PortDoc;
  router: RouterDoc;
  security_group: SecurityGroupDoc;
  security_group_rule: SecurityGroupRuleDoc;
  floatingip: FloatingIpDoc;
  address_group: AddressGroupDoc;
  ndp_proxy: NdpProxyDoc;
  metering_label: MeteringLabel;
  metering_label_rule: MeteringRule;
}
type Cache = { [K in Kind]: Map<string, DocOfKind[K]> };
const RELEVANT = new Set<string>(Object.keys(COLLECTIONS));
/** Kinds whose changes move a BGP speaker's routes or peers besides the four collections (scopes, pools, BGP's own). */
const BGP_RELEVANT = new Set<string>(['bgp_speaker', 'bgp_peer', 'bgp_dragent_binding', 'subnetpool', 'address_scope']);
/** Neutron's BGP agent binary and type (neutron_dynamic_routing/services/bgp/common/constants.py). */
const BGP_AGENT_BINARY = 'neutron-bgp-dragent';
const BGP_AGENT_TYPE = 'BGP dynamic routing agent';
/** Ids per `GET ...?id=&id=` when fetching changed documents. */
const FETCH_CHUNK = 50;
export { V6STACK_AGENT_BINARY as AGENT_BINARY } from '../domain/dhcp.js';
import { V6STACK_AGENT_BINARY as AGENT_BINARY } from '../domain/dhcp.js';
import { DEFAULT_AVAILABILITY_ZONE } from '../domain/availability-zone.js';

export class Agent {
  private readonly log: (line: string) => void;
  private readonly supervisor: Supervisor;
  /** Security groups and port security in the bridge namespace (nft.ts). */
  readonly firewall: FirewallApplier;
  /** Tells the API the prefixes the routers' DHCPv6-PD clients hold (pd-report.ts). */
  private readonly pdReporter: PdReporter;
  private owned = new Set<string>();
  private seq = 0;
  private stopped = false;
  private syncing: Promise<void> | null = null;
  private dirty = false;
  private debounce: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private poll: AbortController | null = null;
  private lastSummary: Record<string, unknown> = {};
  /** The agent's copy of the API state, kept current from the change feed. */
  private cache: Cache = { network: new Map(), subnet: new Map(), port: new Map(), router: new Map(), security_group: new Map(), security_group_rule: new Map(), floatingip: new Map(), address_group: new Map(), ndp_proxy: new Map(), metering_label: new Map(), metering_label_rule: new Map() };
  /** Documents the feed named since the last pass. */
  private pending: Record<Kind, Set<string>> = { network: new Set(), subnet: new Set(), port: new Set(), router: new Set(), security_group: new Set(), security_group_rule: new Set(), floatingip: new Set(), address_group: new Set(), ndp_proxy: new Set(), metering_label: new Set(), metering_label_rule: new Set() };
  private needFull = true;
  private lastFull = 0;
  /** Each namespace's plan as last applied: a namespace whose plan did not change is not read back. */
  private applied = new Map<string, string>();
  /** The other agent hosts with tunnel addresses (from GET /v2.0/agents), when this host has one. */
  private peers: Peer[] = [];
  /** The interface holding the tunnel address, read on full passes; null when no interface has it. */
  private underlay: Underlay | null = null;
  /** Multi-host problems already logged (see reportProblems). */
  private reported = new Set<string>();
  /** keepalived's state per HA router on this host (the notify scripts' state files). */
  private haStates: Record<string, string> = {};
  private haTimer: NodeJS.Timeout | null = null;
  private meteringTimer: NodeJS.Timeout | null = null;
  /** The router namespaces the last pass metered (features/metering.ts), whose counters reportMetering reads. */
  private metered: { ns: string; routerId: string }[] = [];

  private readonly opts: AgentOptions;

  constructor(opts: AgentOptions) {
    // Absolute once, here: every path the agent hands a daemon derives from it, and dnsmasq chdirs to / before it
    // writes its pid file (a relative state dir, as `up` once passed, left dnsmasq restarting for ever).
    this.opts = { ...opts, stateDir: resolve(opts.stateDir) };
    // The last applied security-group input survives a restart there: flows a change made meanwhile stops allowing are cut.
    this.firewall = new FirewallApplier(join(this.opts.stateDir, 'firewall-applied.json'));
    this.log = opts.log ?? ((l) => console.log(`${new Date().toISOString()} agent: ${l}`));
    this.supervisor = new Supervisor(this.opts.stateDir, this.log, () => this.schedule(), () => {
      // A daemon started or stopped failing: its ports' status (next pass) and the agent's report, at once.
      this.schedule();
      void this.heartbeat();
    }, opts.restartPolicy);
    this.pdReporter = new PdReporter((m, p, b) => this.api(m, p, b), this.log, () => this.schedule(20));
  }

  private get ledgerPath(): string {
    return join(this.opts.stateDir, 'owned.json');
  }

  async start(): Promise<void> {
    await mkdir(this.opts.stateDir, { recursive: true });
    takeAgentLock(this.opts.stateDir, this.opts.host);
    this.owned = new Set(JSON.parse(await readFile(this.ledgerPath, 'utf8').catch(() => '{"namespaces":[]}')).namespaces as string[]);
    await this.supervisor.cleanupStale();
    this.seq = await this.latestSeq();
    await this.sync().catch((e: Error) => {
      this.log(`reconcile failed: ${e.message}; retrying`);
      this.schedule(2000);
    });
    void this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs ?? 10_000);
    this.haTimer = setInterval(() => void this.watchHaStates(), this.opts.haStatePollMs ?? 100);
    this.meteringTimer = setInterval(() => void this.reportMetering(), this.opts.meteringMs ?? 30_000);
    this.resyncTimer = setInterval(() => {
      this.needFull = true;
      this.schedule();
    }, this.opts.resyncMs ?? 60_000);
    void this.follow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.haTimer) clearInterval(this.haTimer);
    if (this.meteringTimer) clearInterval(this.meteringTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll?.abort();
    this.pdReporter.close();
    this.monitor?.stdin?.end();
    await this.syncing?.catch(() => {});
    await this.supervisor.shutdown();
    releaseAgentLock(this.opts.stateDir);
    this.log('stopped; daemons stopped, kernel state left in place (`v6stack down` removes it)');
  }

  private async api(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<any> {
    const res = await fetch(this.opts.server + path, {
      method,
      headers: { 'Content-Type': 'application/json', ...(this.opts.secret ? { 'X-V6stack-Agent-Secret': this.opts.secret } : {}) },
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

  /** Full resync: every collection. Pending changes are dropped first (what they name is in the answers). */
  private async fetchAll(): Promise<void> {
    for (const k of Object.keys(COLLECTIONS) as Kind[]) this.pending[k].clear();
    const kinds = Object.keys(COLLECTIONS) as Kind[];
    const answers = await Promise.all(kinds.map((k) => this.api('GET', `/v2.0/${pathOf(k)}`)));
    kinds.forEach((k, i) => this.store(k, answers[i][COLLECTIONS[k]] as DocOfKind[typeof k][], true));
  }

  /** Takes documents of one kind into the cache (`replace`: they are the whole collection). */
  private store<K extends Kind>(kind: K, docs: DocOfKind[K][], replace = false): void {
    const map: Map<string, DocOfKind[K]> = this.cache[kind];
    if (replace) map.clear();
    for (const d of docs) map.set(d.id, d);
  }

  /** Only the documents the change feed named; one that is no longer there was deleted. */
  private async fetchChanged(): Promise<number> {
    let n = 0;
    for (const k of Object.keys(COLLECTIONS) as Kind[]) {
      const ids = [...this.pending[k]];
      this.pending[k].clear();
      n += ids.length;
      for (let i = 0; i < ids.length; i += FETCH_CHUNK) {
        const chunk = ids.slice(i, i + FETCH_CHUNK);
        const docs = (await this.api('GET', `/v2.0/${pathOf(k)}?${chunk.map((id) => `id=${encodeURIComponent(id)}`).join('&')}`))[COLLECTIONS[k]] as DocOfKind[typeof k][];
        const found = new Set(docs.map((d) => d.id));
        for (const id of chunk) if (!found.has(id)) this.cache[k].delete(id);
        this.store(k, docs);
      }
    }
    return n;
  }

  /**
   * Reads the agents list: the other hosts with a tunnel address, alive or not. True when they differ from those
   * the last plan used (a heartbeat alone changes nothing, so it costs no reconcile pass).
   */
  private async refreshPeers(): Promise<boolean> {
    if (!this.opts.tunnelIp) return false;
    const agents = (await this.api('GET', `/v2.0/agents?binary=${AGENT_BINARY}`)).agents as AgentEntry[];
    const peers = peersFromAgents(agents, this.opts.host, AGENT_BINARY);
    const changed = JSON.stringify(peers) !== JSON.stringify(this.peers);
    this.peers = peers;
    return changed;
  }

  /**
   * Logs each multi-host problem once (again if it comes back after going away): the tunnel address on no
   * interface, networks too big for the underlay, another network node.
   */
  private reportProblems(tunnels: Parameters<typeof underlayProblems>[0]): void {
    if (!this.opts.tunnelIp) return;
    const now = [
      ...(this.underlay ? underlayProblems(tunnels, this.underlay) : [`the tunnel address ${this.opts.tunnelIp} is on no interface of this host's namespace: tunnels cannot send`]).map((l) => `tunnel: ${l}`),
      ...networkNodeConflicts(this.opts.role ?? 'all', this.peers).map((l) => `roles: ${l}`),
    ];
    for (const line of now) if (!this.reported.has(line)) this.log(`ERROR ${line}`);
    this.reported = new Set(now);
  }

  private state(): ApiState {
    return { networks: [...this.cache.network.values()], subnets: [...this.cache.subnet.values()], ports: [...this.cache.port.values()], routers: [...this.cache.router.values()], securityGroups: [...this.cache.security_group.values()], securityGroupRules: [...this.cache.security_group_rule.values()], floatingips: [...this.cache.floatingip.values()], addressGroups: [...this.cache.address_group.values()], ndpProxies: [...this.cache.ndp_proxy.values()], meteringLabels: [...this.cache.metering_label.values()], meteringLabelRules: [...this.cache.metering_label_rule.values()] };
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
    try {
      await this.reconcileOnce();
    } catch (e) {
      this.needFull = true; // what was applied is not known: the next pass reads everything back
      throw e;
    }
  }

  /**
   * One pass: bring the copy of the API state up to date, plan every feature (plan.ts walks the table), stop the
   * daemons no longer wanted, make the kernel match (applyKernel), start or reload the daemons, report.
   */
  private async reconcileOnce(): Promise<void> {
    const full = this.needFull || Date.now() - this.lastFull >= (this.opts.resyncMs ?? 60_000);
    if (full) {
      this.needFull = false;
      this.lastFull = Date.now();
      this.applied.clear();
      await this.fetchAll();
    } else {
      await this.fetchChanged();
    }
    if (full && this.opts.tunnelIp) {
      await this.refreshPeers();
      this.underlay = await observeUnderlay(this.opts.tunnelIp);
    }
    // The DHCP ports are the server's to make (api/dhcp-ports.ts): this host serves those bound to it.
    const state = this.state();
    // The BGP speakers scheduled here, with their peers and the routes the server derived (read on every pass: the
    // routes follow routers, ports, subnets and pools, so any change may move them).
    if (this.opts.bgp) state.bgpSpeakers = (await this.api('GET', `/v6stack/v1/bgp-speakers?host=${encodeURIComponent(this.opts.host)}`)).bgp_speakers;
    this.haStates = await readHaStates(this.opts.stateDir);
    // dnsmasq logs every DHCP transaction to stderr, which the supervisor relays into this log.
    const desired = plan(state, {
      host: this.opts.host,
      stateDir: this.opts.stateDir,
      dnsmasqLogFacility: '-',
      role: this.opts.role ?? 'all',
      availabilityZone: this.opts.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE,
      peers: this.peers,
      ...(this.opts.tunnelIp ? { tunnelIp: this.opts.tunnelIp } : {}),
      ...(this.opts.ipv6Gateway ? { ipv6Gateway: this.opts.ipv6Gateway } : {}),
      ...(this.opts.radvd ? { radvd: this.opts.radvd } : {}),
      ...(this.opts.vrrp ? { vrrp: this.opts.vrrp } : {}),
      ...(this.opts.namespaceSuffix ? { namespaceSuffix: this.opts.namespaceSuffix } : {}),
      haStates: this.haStates,
    });
    // Daemons first, while their interfaces still exist: radvd's SIGTERM sends the RA that withdraws the router.
    const stopped = (await this.supervisor.stopUndesired(desired.daemons)) + (await this.supervisor.farewell(desired.daemons));
    const kernel = await this.applyKernel(desired);
    // Security groups after the bridges exist; a failed apply throws, and the next pass reads the kernel again.
    await this.firewall.apply(desired.firewall, this.log, { verify: full });
    const started = await this.supervisor.ensure(desired.daemons);
    await this.pdReporter.report(state, desired.daemons, desired.namespaces.map((n) => n.name));
    await this.report(desired, kernel.bridgeEnds);
    this.metered = desired.metering.map((m) => ({ ns: m.ns, routerId: m.routerId }));
    this.log(`in sync: ${kernel.actions} kernel actions, ${stopped + started} daemon actions (${full ? 'full resync' : `${kernel.readBack} namespaces read back`})`);
  }

  /**
   * Observe, diff (the features' diffs, plan.ts) and apply the kernel's part. Only namespaces whose plan changed since
   * it was last applied are read back and diffed (all on a full pass); namespaces the agent owned and no longer wants
   * are always in, to be deleted. The ledger names every namespace the agent may have made before it acts.
   */
  private async applyKernel(desired: DesiredState): Promise<{ actions: number; readBack: number; bridgeEnds: Map<string, ActualLink> }> {
    const names = desired.namespaces.map((n) => n.name);
    const wanted = new Set(names);
    // A namespace's NAT table (features/nat.ts) is part of what "its plan changed" means: an enable_snat or
    // floating IP change may leave its links as they are.
    const natOf = new Map(desired.nat.map((n) => [n.ns, n.table]));
    // So are its NDP proxy plan (features/ndp-proxy.ts) and its metering table (features/metering.ts): a proxy or a
    // label added or removed changes nothing else.
    const ndpOf = new Map((desired.ndpProxy ?? []).map((p) => [p.ns, p]));
    const meteringOf = new Map(desired.metering.map((m) => [m.ns, m.table]));
    const specs = new Map(desired.namespaces.map((n) => [n.name, JSON.stringify([n, natOf.get(n.name) ?? null, ndpOf.get(n.name) ?? null, meteringOf.get(n.name) ?? null], (_k, v: unknown) => (v instanceof Map ? [...v] : v))]));
    const touched = desired.namespaces.filter((n) => this.applied.get(n.name) !== specs.get(n.name));
    const subset = { ...desired, namespaces: touched };
    const touchedNames = new Set(touched.map((n) => n.name));
    const owned = [...this.owned].filter((n) => !wanted.has(n) || touchedNames.has(n));
    const actual = await observe(subset, owned);
    const actions = diff(subset, actual, owned);
    for (const n of names) this.owned.add(n);
    await this.saveLedger();
    await applyActions(actions, this.log);
    this.owned = new Set(names);
    await this.saveLedger();
    for (const n of touched) this.applied.set(n.name, specs.get(n.name)!);
    for (const n of [...this.applied.keys()]) if (!wanted.has(n)) this.applied.delete(n);
    return { actions: actions.length, readBack: touched.length, bridgeEnds: actual.ns.get(desired.bridgeNs)?.links ?? new Map() };
  }

  /** Multi-host problems, port status, the watch on the bridge ends, and the summary the heartbeat carries. */
  private async report(desired: DesiredState, bridgeEnds: Map<string, ActualLink>): Promise<void> {
    this.reportProblems(desired.tunnels);
    await this.reportPortStatus(desired.wiring, bridgeEnds);
    this.ownTaps = new Set(desired.namespaces.flatMap((n) => n.links.map((l) => l.tap)));
    this.watchBridgeEnds(desired.bridgeNs);
    this.lastSummary = {
      role: this.opts.role ?? 'all',
      ...(this.opts.tunnelIp ? { tunneling_ip: this.opts.tunnelIp, tunnel_types: ['vxlan'], tunnels: desired.tunnels.length, peers: this.peers.map((p) => p.tunnelIp), ...(this.underlay ? { underlay_mtu: this.underlay.mtu } : {}) } : {}),
      bridge_namespace: desired.bridgeNs,
      bridges: desired.bridges.length, routers: desired.namespaces.filter((n) => n.kind === 'router').length, dhcp_networks: desired.namespaces.filter((n) => n.kind === 'dhcp').length, daemons: this.supervisor.ids().length };
  }

  /**
   * Tells the API which ports are ACTIVE (plugged, admin state up) and which DOWN, for the ports whose status it
   * shows differently; the answer (the ports it changed) goes into the cache, so the same change is sent once.
   */
  private async reportPortStatus(wiring: Parameters<typeof portStatuses>[0], bridgeEnds: Parameters<typeof portStatuses>[1]): Promise<void> {
    const errored = servedBy(this.supervisor.failing().map((d) => d.id), [...this.cache.port.values()], this.opts.host);
    const changes = statusChanges(portStatuses(wiring, bridgeEnds, errored), (id) => this.cache.port.get(id)?.status as string | undefined);
    const ids = Object.keys(changes);
    if (!ids.length) return;
    const r = await this.api('PUT', '/v6stack/v1/ports/status', { host: this.opts.host, ports: changes });
    this.store('port', r.ports as PortDoc[]);
    const up = ids.filter((id) => changes[id] === 'ACTIVE');
    const down = ids.filter((id) => changes[id] === 'DOWN');
    const error = ids.filter((id) => changes[id] === 'ERROR');
    this.log(`port status: ${[up.length ? `ACTIVE ${up.join(' ')}` : '', down.length ? `DOWN ${down.join(' ')}` : '', error.length ? `ERROR ${error.join(' ')} (their daemon keeps failing)` : ''].filter(Boolean).join('; ')}`);
  }

  private monitor: ChildProcess | null = null;
  /** The bridge ends of the links the agent plugs itself: their events are its own doing and start no pass. */
  private ownTaps = new Set<string>();

  /**
   * Watches the bridge namespace's links (`ip monitor link`): a tap that appears, leaves its bridge or goes away
   * (an instance plugged or unplugged by the hypervisor, which the API does not see) starts a pass at once, so its
   * port's status follows without waiting for the next full resync; the agent's own plugging starts none. Restarted
   * by the next pass if it dies.
   */
  private watchBridgeEnds(bridgeNs: string): void {
    if (this.monitor || this.stopped) return;
    // Through a shell that waits on its stdin: when the agent goes, even by SIGKILL, the pipe closes and the shell
    // ends the monitor (which would otherwise sit on its netlink socket, and keep the namespace alive, for ever).
    const child = spawn('sh', ['-c', 'ip -n "$1" monitor link & m=$!; read -r _; kill $m', 'sh', bridgeNs], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.monitor = child;
    child.stdout!.on('data', (chunk: Buffer) => {
      const taps = chunk.toString().match(/\btap[0-9a-f-]+/g) ?? [];
      if (taps.some((t) => !this.ownTaps.has(t))) this.schedule(20);
    });
    child.once('exit', () => {
      if (this.monitor === child) this.monitor = null;
    });
  }

  private schedule(ms = this.opts.debounceMs ?? 0): void {
    if (this.stopped || this.debounce) return;
    if (ms === 0 && this.syncing) {
      this.dirty = true; // the running pass goes round once more
      return;
    }
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
        let relevant = false;
        let agents = false;
        for (const c of r.changes as { kind: string; id: string }[]) {
          if (c.kind === 'agent' && this.opts.tunnelIp && c.id !== this.selfAgentId) {
            agents = true; // another agent came, went or heartbeated: its tunnel address or role may have changed
            continue;
          }
          if (this.opts.bgp && BGP_RELEVANT.has(c.kind)) relevant = true;
          if (!RELEVANT.has(c.kind)) continue;
          this.pending[c.kind as Kind].add(c.id);
          relevant = true;
        }
        if (agents && (await this.refreshPeers())) relevant = true;
        if (relevant) this.schedule();
      } catch (e) {
        if (this.stopped) return;
        this.log(`change feed: ${(e as Error).message}; retrying in 2 s`);
        await new Promise((res) => setTimeout(res, 2000));
        this.needFull = true; // we may have missed changes while the server was away
        this.schedule();
      }
    }
  }

  private selfAgentId: string | null = null;
  private watchingHa = false;

  /**
   * keepalived changed state on this host (its notify script rewrote a state file): re-plan at once (radvd follows
   * the master) and tell the API (ha_state) without waiting for the next heartbeat.
   */
  private async watchHaStates(): Promise<void> {
    if (this.watchingHa || this.stopped) return;
    this.watchingHa = true;
    try {
      const now = await readHaStates(this.opts.stateDir);
      const changed = Object.keys({ ...now, ...this.haStates }).filter((id) => now[id] !== this.haStates[id]);
      if (!changed.length) return;
      for (const id of changed) this.log(`HA router ${id}: ${this.haStates[id] ?? 'none'} -> ${now[id] ?? 'none'}`);
      this.haStates = now;
      this.schedule();
      await this.heartbeat();
    } finally {
      this.watchingHa = false;
    }
  }

  /**
   * Reads each metered router's counters (absolute, as the kernel keeps them) and reports them; the server adds up
   * their increases per label and router (api/resources/metering.ts). A failed read or report is tried next time.
   */
  private async reportMetering(): Promise<void> {
    if (!this.metered.length || this.stopped) return;
    try {
      const counters = [];
      for (const { ns, routerId } of this.metered) {
        const json = await exec(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'table', METERING_FAMILY, METERING_TABLE]).catch(() => '');
        if (!json) continue;
        for (const [name, c] of readMeteringTable(json).counters) {
          const key = parseCounterName(name);
          if (key) counters.push({ metering_label_id: key.labelId, router_id: routerId, direction: key.direction, packets: c.packets, bytes: c.bytes });
        }
      }
      if (counters.length) await this.api('PUT', '/v6stack/v1/metering/counters', { host: this.opts.host, counters });
    } catch (e) {
      this.log(`metering: ${(e as Error).message}`);
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      // The configurations carry tunneling_ip (as Neutron's OVS agent reports it): the other hosts tunnel to it.
      // failing_daemons: each daemon that keeps failing, with its last words and the likely fix (see restart-policy.ts).
      // ha_routers: keepalived's state of each HA router here, as the API's ha_state (api/ha-routers.ts).
      const ha_routers = Object.fromEntries(Object.entries(this.haStates).map(([id, s]) => [id, haStateOf(s)]));
      const configurations = { ...this.lastSummary, ha_routers, failing_daemons: this.supervisor.failing(), role: this.opts.role ?? 'all', ...(this.opts.tunnelIp ? { tunneling_ip: this.opts.tunnelIp, tunnel_types: ['vxlan'] } : {}) };
      this.selfAgentId = (await this.api('PUT', `/v6stack/v1/agents/${encodeURIComponent(this.opts.host)}/${AGENT_BINARY}`, { agent: { agent_type: 'v6stack agent', configurations, availability_zone: this.opts.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE } })).agent.id;
      if (this.opts.bgp) {
        const speakers = this.supervisor.ids().filter((id) => id.startsWith('bgp-')).length;
        await this.api('PUT', `/v6stack/v1/agents/${encodeURIComponent(this.opts.host)}/${BGP_AGENT_BINARY}`, { agent: { agent_type: BGP_AGENT_TYPE, configurations: { bgp_speakers: speakers, engine: 'bird' } } });
      }
    } catch (e) {
      this.log(`heartbeat: ${(e as Error).message}`);
    }
  }
}
