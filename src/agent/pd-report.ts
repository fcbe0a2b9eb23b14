// The agent's side of prefix delegation after the client: what the routers' PD clients hold (their leases.json) is
// told to the API (PUT /v6stack/v1/prefix-delegation/subnets/ID), which renumbers the subnet and its ports in one
// transaction; the change feed brings the new cidr back, and the RA and L3 features follow it. Level-triggered like
// the rest of the agent: every pass compares each PD subnet's cidr with what its client holds, so a report lost to
// an API restart is sent again, and an agent restart (leases.json kept) reports nothing new. The lease files are
// watched, so a new prefix is reported as soon as the client writes it.

import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
}

/**
 * PURE: the reports due. A PD subnet on a router whose client holds a live lease for it should have that lease's
 * /64; one on a router hosted here without a client for it (its gateway was removed) or without a live lease,
 * ::/64. `hostedRouters`: the routers whose namespace this agent keeps.
 */
export function pdReports(state: ApiState, clients: readonly PdClientState[], hostedRouters: ReadonlySet<string>, now: number): PdReport[] {
  const subnets = new Map(state.subnets.map((s) => [s.id, s]));
  const out: PdReport[] = [];
  const covered = new Set<string>();
  for (const c of clients) {
    for (const ia of c.config.ias) {
      covered.add(ia.subnet_id);
      const subnet = subnets.get(ia.subnet_id);
      if (!subnet) continue;
      const lease = c.leases[ia.subnet_id];
      const prefix = lease && now < leaseTimes(lease).expiresAt ? subnetPrefixOf(lease.prefix) : null;
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

type ApiCall = (method: string, path: string, body?: unknown) => Promise<unknown>;

export class PdReporter {
  private watchers = new Map<string, FSWatcher>();
  /** subnet -> the prefix last sent and when: a refused report is not repeated every pass. */
  private sent = new Map<string, { prefix: string | null; at: number }>();

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
      clients.push({ routerId: d.id.slice('pd-'.length), config, leases });
    }
    const hosted = new Set(state.routers.map((r) => r.id).filter((id) => routerNamespaces.includes(routerNsName(id))));
    const now = Date.now();
    for (const r of pdReports(state, clients, hosted, now)) {
      const last = this.sent.get(r.subnetId);
      if (last && last.prefix === r.prefix && now - last.at < 30_000) continue;
      this.sent.set(r.subnetId, { prefix: r.prefix, at: now });
      try {
        await this.api('PUT', `/v6stack/v1/prefix-delegation/subnets/${r.subnetId}`, { prefix: r.prefix, ...(r.prefix ? { router_id: r.routerId } : {}) });
        this.log(`prefix delegation: subnet ${r.subnetId} ${r.prefix ? `now ${r.prefix}` : `back to ${PROVISIONAL_PD_PREFIX}`}`);
      } catch (e) {
        this.log(`prefix delegation: reporting ${r.prefix ?? PROVISIONAL_PD_PREFIX} for subnet ${r.subnetId} failed: ${(e as Error).message}`);
      }
    }
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
