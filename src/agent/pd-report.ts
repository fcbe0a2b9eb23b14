// The agent's side of prefix delegation after the client: what the routers' PD clients hold (their leases.json) is
// told to the API (PUT /v6stack/v1/prefix-delegation/subnets/ID), which renumbers the subnet and its ports in one
// transaction; the change feed brings the new cidr back, and the RA and L3 features follow it. Level-triggered like
// the rest of the agent: every pass compares each PD subnet's cidr with what its client holds, so a report lost to
// an API restart is sent again, and an agent restart (leases.json kept) reports nothing new. The lease files are
// watched, so a new prefix is reported as soon as the client writes it.

import { spawn } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderRadvdInterface } from './radvd.js';
import { leaseTimes, subnetPrefixOf, type Lease } from '../domain/dhcpv6/pd.js';
import { PROVISIONAL_PD_PREFIX, isPdSubnet } from '../domain/prefix-delegation.js';
import { ROUTER_INTERFACE_OWNERS, routerNsName, type ApiState, type DaemonSpec } from './model.js';
import type { PdClientConfig } from './pd-client.js';

export interface PdReport {
  subnetId: string;
  routerId: string;
  /** The /64 the subnet should have; null: back to ::/64. */
  prefix: string | null;
}

export interface PdClientState {
  routerId: string;
  config: PdClientConfig;
  leases: Record<string, Lease>;
  /** The subnets whose prefix the client is reclaiming (an HA router's new master: its reclaiming.json). */
  reclaiming?: string[];
}

/**
 * PURE: the reports due. A PD subnet on a router whose client holds a live lease for it should have that lease's
 * /64; one on a router hosted here without a client for it (its gateway was removed) or without a live lease,
 * ::/64. `hostedRouters`: the routers whose namespace this agent keeps. An HA router's backup (its client on
 * standby) reports nothing, nor does a new master while it reclaims the prefix the subnet has.
 */
export function pdReports(state: ApiState, clients: readonly PdClientState[], hostedRouters: ReadonlySet<string>, now: number): PdReport[] {
  const subnets = new Map(state.subnets.map((s) => [s.id, s]));
  const out: PdReport[] = [];
  const covered = new Set<string>();
  for (const c of clients) {
    for (const ia of c.config.ias) {
      covered.add(ia.subnet_id);
      const subnet = subnets.get(ia.subnet_id);
      // An HA router's backup says nothing about its prefixes: the master holds them (features/pd.ts).
      if (!subnet || c.config.standby) continue;
      const lease = c.leases[ia.subnet_id];
      const live = lease && now < leaseTimes(lease).expiresAt;
      // A new master reclaiming the router's prefix (no lease of its own yet): the subnet keeps its cidr, so a
      // failover does not renumber it twice through the API.
      if (!live && c.reclaiming?.includes(ia.subnet_id)) continue;
      const prefix = live ? subnetPrefixOf(lease.prefix) : null;
      if (subnet.cidr !== (prefix ?? PROVISIONAL_PD_PREFIX)) out.push({ subnetId: ia.subnet_id, routerId: c.routerId, prefix });
    }
  }
  for (const port of state.ports) {
    if (!ROUTER_INTERFACE_OWNERS.has(port.device_owner) || !hostedRouters.has(port.device_id)) continue;
    for (const f of port.fixed_ips) {
      const subnet = subnets.get(f.subnet_id);
      if (!subnet || covered.has(subnet.id) || !isPdSubnet(subnet) || subnet.cidr === PROVISIONAL_PD_PREFIX) continue;
      covered.add(subnet.id);
      out.push({ subnetId: subnet.id, routerId: port.device_id, prefix: null });
    }
  }
  return out;
}

/**
 * PURE. A one-shot radvd.conf that deprecates a prefix the router no longer has (a re-delegation replaced it):
 * preferred lifetime 0, so hosts stop using their addresses in it for new connections at once (RFC 4862 §5.5.3,
 * RFC 4192 renumbering), valid lifetime 2 hours (hosts keep it at least that long anyway, §5.5.3 e). Same router
 * lifetime as the router's own radvd (radvd's default, 3 x MaxRtrAdvInterval).
 */
export function deprecationConf(ifname: string, mtu: number, oldPrefix: string): string {
  const stanza = renderRadvdInterface({ name: ifname, mtu, subnets: [{ cidr: oldPrefix, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }] })!;
  return stanza.replace(/^(\s*)AdvAutonomous on;$/m, '$1AdvAutonomous on;\n$1AdvPreferredLifetime 0;\n$1AdvValidLifetime 7200;');
}

/** Which qr- link of which router namespace serves a subnet, and its MTU. */
function servingLink(state: ApiState, routerId: string, subnetId: string, ns: string): { ns: string; ifname: string; mtu: number } | null {
  const port = state.ports.find((p) => p.device_id === routerId && ROUTER_INTERFACE_OWNERS.has(p.device_owner) && p.fixed_ips.some((f) => f.subnet_id === subnetId));
  if (!port) return null;
  const mtu = state.networks.find((n) => n.id === port.network_id)?.mtu ?? 1500;
  return { ns, ifname: `qr-${port.id.slice(0, 11)}`, mtu };
}

type ApiCall = (method: string, path: string, body?: unknown) => Promise<unknown>;

export class PdReporter {
  private watchers = new Map<string, FSWatcher>();
  /** subnet -> the prefix last sent and when: a refused report is not repeated every pass. */
  private sent = new Map<string, { prefix: string | null; at: number }>();
  /**
   * subnet -> a re-delegation's old prefix to deprecate, once the router's radvd advertises the new one instead: an
   * RA of the router's own radvd still carrying the old prefix after the deprecating RA would make it preferred
   * again on the hosts (RFC 4862 §5.5.3 e resets the preferred lifetime), for hours.
   */
  private deprecations = new Map<string, { routerId: string; old: string; now: string; dir: string; ns: string }>();

  constructor(
    private readonly api: ApiCall,
    private readonly log: (line: string) => void,
    /** A lease file changed: run a pass. */
    private readonly wake: () => void,
  ) {}

  /** After the supervisor has run the pass's daemons: report what their PD clients hold. */
  async report(state: ApiState, daemons: readonly DaemonSpec[], routerNamespaces: readonly string[]): Promise<void> {
    const specs = daemons.filter((d) => d.kind === 'pd-client');
    this.watchDirs(specs.map((d) => d.dir));
    const clients: PdClientState[] = [];
    for (const d of specs) {
      const config = JSON.parse(d.files.find((f) => f.name === 'pd.json')!.content) as PdClientConfig;
      const leases = JSON.parse(await readFile(join(d.dir, 'leases.json'), 'utf8').catch(() => '{}')) as Record<string, Lease>;
      // Until the client has written it (it was just started), every IA holding a prefix without a lease here.
      const pending = JSON.stringify(config.ias.filter((ia) => ia.prefix && !leases[ia.subnet_id]).map((ia) => ia.subnet_id));
      const reclaiming = JSON.parse(await readFile(join(d.dir, 'reclaiming.json'), 'utf8').catch(() => pending)) as string[];
      clients.push({ routerId: d.id.slice('pd-'.length), config, leases, reclaiming });
    }
    // qrouter-<id>, with the namespace suffix if the agent has one (several lab hosts on one machine).
    const hosted = new Set(state.routers.map((r) => r.id).filter((id) => routerNamespaces.some((n) => n.startsWith(routerNsName(id)))));
    // The pass's state has the subnet on its new prefix, so the radvd the supervisor has just run advertises it and
    // no longer the old one: deprecate the old one now.
    for (const [subnetId, d] of this.deprecations) {
      const cidr = state.subnets.find((s) => s.id === subnetId)?.cidr;
      if (cidr === d.old) continue;
      this.deprecations.delete(subnetId);
      const link = servingLink(state, d.routerId, subnetId, d.ns);
      if (cidr === d.now && link) await this.deprecate(link, d.old, d.dir).catch((e: Error) => this.log(`prefix delegation: deprecating ${d.old} failed: ${e.message}`));
    }
    const now = Date.now();
    for (const r of pdReports(state, clients, hosted, now)) {
      const last = this.sent.get(r.subnetId);
      if (last && last.prefix === r.prefix && now - last.at < 30_000) continue;
      this.sent.set(r.subnetId, { prefix: r.prefix, at: now });
      try {
        await this.api('PUT', `/v6stack/v1/prefix-delegation/subnets/${r.subnetId}`, { prefix: r.prefix, ...(r.prefix ? { router_id: r.routerId } : {}) });
        this.log(`prefix delegation: subnet ${r.subnetId} ${r.prefix ? `now ${r.prefix}` : `back to ${PROVISIONAL_PD_PREFIX}`}`);
        // A re-delegation: the old prefix is deprecated on the wire, once the change feed has brought the subnet's
        // new cidr and the router's radvd advertises it instead of the old one (see `deprecations`).
        const old = state.subnets.find((s) => s.id === r.subnetId)?.cidr;
        const spec = specs.find((d) => d.id === `pd-${r.routerId}`);
        if (r.prefix && old && old !== PROVISIONAL_PD_PREFIX && old !== r.prefix && spec) {
          // Sent by the pass that the subnet's update in the change feed brings.
          this.deprecations.set(r.subnetId, { routerId: r.routerId, old, now: r.prefix, dir: spec.dir, ns: spec.namespace });
        }
      } catch (e) {
        this.log(`prefix delegation: reporting ${r.prefix ?? PROVISIONAL_PD_PREFIX} for subnet ${r.subnetId} failed: ${(e as Error).message}`);
      }
    }
  }

  /**
   * One RA deprecating `prefix` on the router's qr- link, from a one-shot radvd: it sends its first RA at once (lab
   * facts §1), and is then killed with SIGKILL, not SIGTERM, so that it does not send radvd's shutdown RA (router
   * lifetime 0), which would take the router away from the hosts.
   */
  private async deprecate(link: { ns: string; ifname: string; mtu: number }, prefix: string, dir: string): Promise<void> {
    const conf = join(dir, 'deprecate.conf');
    await rm(conf, { force: true });
    await writeFile(conf, deprecationConf(link.ifname, link.mtu, prefix), { mode: 0o444 });
    const child = spawn('ip', ['netns', 'exec', link.ns, 'radvd', '-n', '-m', 'stderr', '-C', conf, '-p', join(dir, 'deprecate.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    await Promise.race([exited, new Promise((res) => setTimeout(res, 300))]);
    child.kill('SIGKILL');
    await exited;
    await rm(conf, { force: true });
    await rm(join(dir, 'deprecate.pid'), { force: true });
    this.log(`prefix delegation: deprecated ${prefix} on ${link.ifname} (RA with preferred lifetime 0)${/error|fail/i.test(err) ? `; radvd said: ${err.trim().split('\n').slice(-2).join(' | ')}` : ''}`);
  }

  private watchDirs(dirs: string[]): void {
    const want = new Set(dirs);
    for (const [dir, w] of this.watchers) {
      if (want.has(dir)) continue;
      w.close();
      this.watchers.delete(dir);
    }
    for (const dir of want) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, (_event, name) => {
          if (name === 'leases.json') this.wake();
        });
        w.on('error', () => {
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        /* the directory appears with the daemon; the next pass watches it */
      }
    }
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
