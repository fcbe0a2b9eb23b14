// The shape of a data-plane feature (a room of the agent) and the API state indexed once for all of them. PURE.
//
// A feature plans its part of the host's desired state from the API state (and from what the features before it in
// the table planned: a tunnel needs its bridge), diffs its kernel objects against what the kernel has, and names how
// what it planned is carried out: kernel actions go through linux.ts applyActions (`ip -batch` per namespace),
// daemons through daemons.ts's Supervisor. The reconciler (agent.ts) walks the table (features/index.ts) and knows no
// feature by name, so HA, PD, BGP or metadata are a new file here and a row in the table.

import type { Action, ActualState, ApiState, DesiredState, HostRole, NetworkDoc, PlanOptions, PortDoc, SubnetDoc } from '../model.js';

/** The API state with the lookups every feature needs, built once per plan so planning stays linear in its size. */
export interface PlanContext {
  state: ApiState;
  opts: PlanOptions;
  role: HostRole;
  networks: Map<string, NetworkDoc>;
  subnets: Map<string, SubnetDoc>;
  /** Every port, sorted by id. */
  ports: PortDoc[];
  /** A router's (or a DHCP server's) ports, by device_id. */
  byDevice: Map<string, PortDoc[]>;
  /** A network's ports. */
  byNetwork: Map<string, PortDoc[]>;
  subnetsByNetwork: Map<string, SubnetDoc[]>;
}

/** What a feature's plan adds to the desired state (lists are concatenated in table order). */
export type Contribution = Partial<DesiredState>;

/** A feature's kernel commands: `build` runs in table order, `teardown` after every build, in reverse table order. */
export interface FeatureActions {
  build: Action[];
  teardown: Action[];
}

export interface Feature {
  /** l2, vxlan, l3, dhcp, ra, ... (logs and docs). */
  readonly name: string;
  /** Where what it plans is carried out: `kernel` (its diff's actions) and/or `daemons` (the supervisor). */
  readonly applies: readonly ('kernel' | 'daemons')[];
  /** PURE: this feature's part of the desired state. `planned`: what the features before it in the table planned. */
  plan(ctx: PlanContext, planned: Readonly<DesiredState>): Contribution;
  /**
   * PURE: the commands that make the kernel hold this feature's part of `desired`. `owned`: the namespaces the agent
   * made before (its ledger), of which those no longer desired are deleted.
   */
  diff?(desired: DesiredState, actual: ActualState, owned: readonly string[]): FeatureActions;
}

const byId = <T extends { id: string }>(docs: readonly T[]): Map<string, T> => new Map(docs.map((d) => [d.id, d]));
function groupBy<T>(docs: readonly T[], key: (d: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const d of docs) {
    const k = key(d);
    const list = m.get(k);
    if (list) list.push(d);
    else m.set(k, [d]);
  }
  return m;
}
export const sortById = <T extends { id: string }>(docs: readonly T[]): T[] => [...docs].sort((a, b) => a.id.localeCompare(b.id));

export function planContext(state: ApiState, opts: PlanOptions): PlanContext {
  const ports = sortById(state.ports);
  return {
    state,
    opts,
    role: opts.role ?? 'all',
    networks: byId(state.networks),
    subnets: byId(state.subnets),
    ports,
    byDevice: groupBy(ports, (p) => p.device_id),
    byNetwork: groupBy(ports, (p) => p.network_id),
    subnetsByNetwork: groupBy(state.subnets, (s) => s.network_id),
  };
}
