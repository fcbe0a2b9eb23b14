// Observe and change the host's kernel state with iproute2 and sysctl, always through execFile with argument
// vectors (no shell, so names and addresses from the API are never interpreted). `diff` is pure: from the desired
// state and what `observe` saw, it computes the commands that make them equal, and nothing for what already is.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DesiredState, NamespaceSpec, RouteSpec } from './plan.js';
import { MANAGED_LINK_PREFIXES } from './plan.js';
import { diffTunnels, type FdbEntry } from './vxlan.js';

const run = promisify(execFile);

export interface ActualLink {
  name: string;
  kind: string | null;
  mac: string;
  mtu: number;
  up: boolean;
  master: string | null;
  /** Global-scope addresses, "addr/len" (the kernel's link-locals are not ours to manage). */
  addresses: string[];
  /** A vxlan link's VNI and source address. */
  vxlan?: { id: number; local: string } | null;
}

export interface ActualNamespace {
  links: Map<string, ActualLink>;
  routes: RouteSpec[];
  sysctls: Map<string, string>;
}

export interface ActualState {
  namespaces: Set<string>;
  ns: Map<string, ActualNamespace>;
  /** The bridge namespace's FDB entries of vxlan links (read only when there are tunnels to check). */
  fdb: FdbEntry[];
}

/** One step of a plan: a line for the log and the commands that do it. */
export interface Action {
  desc: string;
  cmds: string[][];
  /**
   * The namespace whose own links, addresses and routes it changes. Consecutive actions of different namespaces
   * are independent and run side by side; an action without one is a barrier (bridges before plugs, deletions last).
   */
  ns?: string;
}

export async function exec(argv: string[]): Promise<string> {
  const { stdout } = await run(argv[0]!, argv.slice(1), { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function listNamespaces(): Promise<Set<string>> {
  const out = (await exec(['ip', '-json', 'netns', 'list'])).trim();
  const list = out ? (JSON.parse(out) as { name: string }[]) : [];
  return new Set(list.map((n) => n.name));
}

export async function observeNamespace(ns: string, sysctls: string[]): Promise<ActualNamespace> {
  const links = new Map<string, ActualLink>();
  // The four reads run side by side: a namespace costs one round of process spawns, not four.
  const [addrs, v6, v4, sysctlOut] = await Promise.all([
    exec(['ip', '-n', ns, '-json', '-details', 'addr', 'show']),
    exec(['ip', '-n', ns, '-json', '-6', 'route', 'show', 'default']),
    exec(['ip', '-n', ns, '-json', '-4', 'route', 'show', 'default']),
    // -e: a link's key (net.ipv6.conf.<link>.accept_ra) is unknown until the link exists; it is then just absent.
    sysctls.length ? exec(['ip', 'netns', 'exec', ns, 'sysctl', '-e', ...sysctls]) : Promise.resolve(''),
  ]);
  const raw = JSON.parse(addrs || '[]') as any[];
  for (const l of raw) {
    links.set(l.ifname, {
      name: l.ifname,
      kind: l.linkinfo?.info_kind ?? null,
      mac: String(l.address ?? '').toLowerCase(),
      mtu: l.mtu,
      up: (l.flags as string[]).includes('UP'),
      master: l.master ?? null,
      addresses: ((l.addr_info ?? []) as any[]).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`),
      vxlan: l.linkinfo?.info_kind === 'vxlan' ? { id: l.linkinfo.info_data?.id, local: l.linkinfo.info_data?.local6 ?? l.linkinfo.info_data?.local ?? '' } : null,
    });
  }
  const routes: RouteSpec[] = [];
  for (const [family, out] of [[6, v6], [4, v4]] as const) {
    // A default route the kernel learnt from an RA (accept_ra 2 on qg-) is the kernel's to keep, not ours.
    for (const x of JSON.parse(out || '[]') as any[]) if (x.gateway && x.protocol !== 'ra') routes.push({ family, via: x.gateway, dev: x.dev });
  }
  const values = new Map<string, string>();
  for (const line of sysctlOut.split('\n')) {
    const at = line.indexOf(' = ');
    if (at > 0) values.set(line.slice(0, at).trim(), line.slice(at + 3).trim());
  }
  return { links, routes, sysctls: values };
}

const OBSERVE_PARALLEL = 4;

/** What the kernel has, for the namespaces the plan names plus those the agent owned before (its ledger). */
export async function observe(desired: DesiredState, owned: Iterable<string>): Promise<ActualState> {
  const namespaces = await listNamespaces();
  const ns = new Map<string, ActualNamespace>();
  const wanted = new Map<string, string[]>([[desired.bridgeNs, desired.bridgeNsSysctls.map(([k]) => k)]]);
  for (const n of desired.namespaces) wanted.set(n.name, [...n.sysctls.map(([k]) => k), ...n.links.filter((l) => l.acceptRa !== undefined).map((l) => acceptRaKey(l.name))]);
  for (const n of owned) if (!wanted.has(n)) wanted.set(n, []);
  // A few namespaces at a time: each read is a handful of short-lived `ip` processes.
  const queue = [...wanted].filter(([name]) => namespaces.has(name));
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) ns.set(next[0], await observeNamespace(next[0], next[1]));
  };
  await Promise.all(Array.from({ length: OBSERVE_PARALLEL }, worker));
  const brLinks = ns.get(desired.bridgeNs)?.links;
  let fdb: FdbEntry[] = [];
  if (desired.tunnels.length || [...(brLinks?.values() ?? [])].some((l) => l.kind === 'vxlan')) {
    const raw = JSON.parse((await exec(['bridge', '-n', desired.bridgeNs, '-json', 'fdb', 'show'])) || '[]') as any[];
    fdb = raw.filter((e) => e.ifname && e.dst).map((e) => ({ mac: String(e.mac), dev: String(e.ifname), dst: String(e.dst) }));
  }
  return { namespaces, ns, fdb };
}

const acceptRaKey = (link: string): string => `net.ipv6.conf.${link}.accept_ra`;

/** qr-0123456789a -> tap0123456789a: the bridge end the agent gives every link it plugs. */
const peerTap = (link: string): string => `tap${link.slice(link.indexOf('-') + 1)}`;
const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
const canonAddr = (cidr: string): string => cidr.toLowerCase();

function nsCreate(name: string, sysctls: [string, string][]): Action[] {
  const out: Action[] = [{ desc: `create namespace ${name}`, cmds: [['ip', 'netns', 'add', name], ['ip', '-n', name, 'link', 'set', 'lo', 'up']] }];
  if (sysctls.length) out.push({ desc: `sysctl ${name} ${sysctls.map(([k, v]) => `${k}=${v}`).join(' ')}`, cmds: [['ip', 'netns', 'exec', name, 'sysctl', '-qw', ...sysctls.map(([k, v]) => `${k}=${v}`)]] });
  return out;
}

function nsSysctls(name: string, want: [string, string][], actual: ActualNamespace | undefined): Action[] {
  if (!actual) return nsCreate(name, want);
  const diff = want.filter(([k, v]) => actual.sysctls.get(k) !== v);
  return diff.length ? [{ desc: `sysctl ${name} ${diff.map(([k, v]) => `${k}=${v}`).join(' ')}`, cmds: [['ip', 'netns', 'exec', name, 'sysctl', '-qw', ...diff.map(([k, v]) => `${k}=${v}`)]] }] : [];
}

/**
 * The commands that turn `actual` into `desired`. Only differences produce commands; the agent's own namespaces
 * (those it planned before, the `owned` ledger) that are no longer desired are deleted, with everything in them.
 */
export function diff(desired: DesiredState, actual: ActualState, owned: Iterable<string> = []): Action[] {
  const actions: Action[] = [];
  const brNs = desired.bridgeNs;
  const br = actual.ns.get(brNs);
  actions.push(...nsSysctls(brNs, desired.bridgeNsSysctls, br));
  const brLinks = br?.links ?? new Map<string, ActualLink>();

  for (const b of desired.bridges) {
    const have = brLinks.get(b.name);
    if (!have) {
      actions.push({ desc: `create bridge ${b.name} (network ${b.networkId}, mtu ${b.mtu})`, cmds: [['ip', '-n', brNs, 'link', 'add', b.name, 'mtu', String(b.mtu), 'type', 'bridge'], ['ip', '-n', brNs, 'link', 'set', b.name, 'up']] });
      continue;
    }
    if (have.mtu !== b.mtu) actions.push({ desc: `set bridge ${b.name} mtu ${b.mtu}`, cmds: [['ip', '-n', brNs, 'link', 'set', b.name, 'mtu', String(b.mtu)]] });
    if (!have.up) actions.push({ desc: `set bridge ${b.name} up`, cmds: [['ip', '-n', brNs, 'link', 'set', b.name, 'up']] });
  }

  actions.push(...diffTunnels(desired.tunnels, brNs, brLinks, actual.fdb));

  // Instances' taps (plugged by the hypervisor, here `lab boot`) follow their port's admin_state_up.
  for (const w of desired.wiring) {
    const tap = w.pluggedBy === 'guest' ? brLinks.get(w.tap) : undefined;
    if (tap && tap.up !== w.adminUp) {
      actions.push({ desc: `set ${w.tap} ${w.adminUp ? 'up' : 'down (admin_state_up false)'} (port ${w.id})`, cmds: [['ip', '-n', brNs, 'link', 'set', w.tap, w.adminUp ? 'up' : 'down']] });
    }
  }

  const desiredTaps = new Set<string>();
  for (const spec of desired.namespaces) {
    const a = actual.ns.get(spec.name);
    for (const action of [...nsSysctls(spec.name, spec.sysctls, a), ...diffNamespace(spec, a, brNs, brLinks)]) actions.push({ ...action, ns: spec.name });
    for (const l of spec.links) desiredTaps.add(l.tap);
  }

  // Leftovers: links in our namespaces, bridge ends of ports the API no longer has, bridges of deleted networks,
  // namespaces we planned before. A namespace goes with its links (the veth peers in the bridge namespace too).
  const desiredNs = new Set(desired.namespaces.map((n) => n.name));
  const known = new Set([...desired.knownTaps, ...desiredTaps]);
  // Deleting one end of a veth deletes the other: bridge ends of links (or namespaces) deleted above go by themselves.
  const vanishing = new Set<string>();
  const goneNs = [...owned].filter((name) => !desiredNs.has(name) && actual.namespaces.has(name));
  for (const spec of desired.namespaces) {
    const wanted = new Set(spec.links.map((l) => l.name));
    for (const name of actual.ns.get(spec.name)?.links.keys() ?? []) if (!wanted.has(name)) vanishing.add(peerTap(name));
  }
  for (const ns of goneNs) for (const name of actual.ns.get(ns)?.links.keys() ?? []) vanishing.add(peerTap(name));
  for (const [name, l] of brLinks) {
    if (name.startsWith('tap') && l.kind === 'veth' && !known.has(name) && !vanishing.has(name)) actions.push({ desc: `delete ${name} (its port is gone)`, cmds: [['ip', '-n', brNs, 'link', 'del', name]] });
  }
  for (const name of goneNs) actions.push({ desc: `delete namespace ${name}`, cmds: [['ip', 'netns', 'del', name]] });
  const bridges = new Set(desired.bridges.map((b) => b.name));
  for (const [name, l] of brLinks) {
    if (name.startsWith('v6b-') && l.kind === 'bridge' && !bridges.has(name)) actions.push({ desc: `delete bridge ${name}`, cmds: [['ip', '-n', brNs, 'link', 'del', name]] });
  }
  return actions;
}

function diffNamespace(spec: NamespaceSpec, a: ActualNamespace | undefined, brNs: string, brLinks: Map<string, ActualLink>): Action[] {
  const out: Action[] = [];
  const ns = spec.name;
  const links = a?.links ?? new Map<string, ActualLink>();
  const wanted = new Set(spec.links.map((l) => l.name));
  for (const [name] of links) {
    if (MANAGED_LINK_PREFIXES.some((p) => name.startsWith(p)) && !wanted.has(name)) out.push({ desc: `delete ${ns} ${name}`, cmds: [['ip', '-n', ns, 'link', 'del', name]] });
  }
  for (const l of spec.links) {
    const have = links.get(l.name);
    const tap = brLinks.get(l.tap);
    if (!have) {
      const cmds: string[][] = [];
      if (tap) cmds.push(['ip', '-n', brNs, 'link', 'del', l.tap]);
      cmds.push(
        ['ip', '-n', brNs, 'link', 'add', l.tap, 'mtu', String(l.mtu), 'type', 'veth', 'peer', 'name', l.name, 'netns', ns, 'address', l.mac, 'mtu', String(l.mtu)],
        ['ip', '-n', brNs, 'link', 'set', l.tap, 'master', l.bridge, l.up ? 'up' : 'down'],
      );
      for (const addr of l.addresses) cmds.push(['ip', '-n', ns, 'addr', 'add', addr, 'dev', l.name, 'nodad']);
      cmds.push(['ip', '-n', ns, 'link', 'set', l.name, 'up']);
      out.push({ desc: `plug ${ns} ${l.name} (${l.mac}) into ${l.bridge} via ${l.tap}${l.addresses.length ? ' with ' + l.addresses.join(' ') : ''}`, cmds });
      continue;
    }
    if (have.mac !== l.mac) out.push({ desc: `set ${ns} ${l.name} address ${l.mac}`, cmds: [['ip', '-n', ns, 'link', 'set', l.name, 'down'], ['ip', '-n', ns, 'link', 'set', l.name, 'address', l.mac], ['ip', '-n', ns, 'link', 'set', l.name, 'up']] });
    if (have.mtu !== l.mtu) out.push({ desc: `set ${ns} ${l.name} mtu ${l.mtu}`, cmds: [['ip', '-n', ns, 'link', 'set', l.name, 'mtu', String(l.mtu)], ...(tap ? [['ip', '-n', brNs, 'link', 'set', l.tap, 'mtu', String(l.mtu)]] : [])] });
    if (tap && (tap.master !== l.bridge || tap.up !== l.up)) {
      out.push({ desc: `attach ${l.tap} to ${l.bridge}, ${l.up ? 'up' : 'down (admin_state_up false)'}`, cmds: [['ip', '-n', brNs, 'link', 'set', l.tap, 'master', l.bridge, l.up ? 'up' : 'down']] });
    }
    const haveAddrs = have.addresses.map(canonAddr);
    const wantAddrs = l.addresses.map(canonAddr);
    for (const addr of wantAddrs) if (!haveAddrs.includes(addr)) out.push({ desc: `add ${addr} to ${ns} ${l.name}`, cmds: [['ip', '-n', ns, 'addr', 'add', addr, 'dev', l.name, 'nodad']] });
    for (const addr of haveAddrs) if (!wantAddrs.includes(addr)) out.push({ desc: `remove ${addr} from ${ns} ${l.name}`, cmds: [['ip', '-n', ns, 'addr', 'del', addr, 'dev', l.name]] });
    if (!have.up) out.push({ desc: `set ${ns} ${l.name} up`, cmds: [['ip', '-n', ns, 'link', 'set', l.name, 'up']] });
  }
  for (const l of spec.links) {
    if (l.acceptRa === undefined || a?.sysctls.get(acceptRaKey(l.name)) === String(l.acceptRa)) continue;
    const why = l.acceptRa === 2 ? ' (no IPv6 gateway: the default route comes from the upstream RAs)' : '';
    out.push({ desc: `sysctl ${ns} ${acceptRaKey(l.name)}=${l.acceptRa}${why}`, cmds: [['ip', 'netns', 'exec', ns, 'sysctl', '-qw', `${acceptRaKey(l.name)}=${l.acceptRa}`]] });
  }
  const routes = a?.routes ?? [];
  for (const family of [6, 4] as const) {
    const want = spec.routes.find((r) => r.family === family);
    const have = routes.filter((r) => r.family === family);
    if (want && !(have.length === 1 && have[0]!.via === want.via && have[0]!.dev === want.dev)) {
      out.push({ desc: `${ns}: default route (IPv${family}) via ${want.via} dev ${want.dev}`, cmds: [['ip', '-n', ns, `-${family}`, 'route', 'replace', 'default', 'via', want.via, 'dev', want.dev]] });
    } else if (!want && have.length) {
      out.push({ desc: `${ns}: remove default route (IPv${family})`, cmds: [['ip', '-n', ns, `-${family}`, 'route', 'del', 'default']] });
    }
  }
  return out;
}

export { same as sameSet };

const APPLY_PARALLEL = 4;

/**
 * Runs the actions, one log line each: in order within a namespace, several namespaces side by side (see Action.ns).
 * Stops at the first failure (the actions of other namespaces already under way finish); the next pass retries.
 */
export async function applyActions(actions: Action[], log: (line: string) => void): Promise<void> {
  for (let i = 0; i < actions.length; ) {
    if (!actions[i]!.ns) {
      await applyOne(actions[i]!, log);
      i++;
      continue;
    }
    const groups = new Map<string, Action[]>();
    for (; i < actions.length && actions[i]!.ns; i++) {
      const a = actions[i]!;
      const g = groups.get(a.ns!);
      if (g) g.push(a);
      else groups.set(a.ns!, [a]);
    }
    const queue = [...groups.values()];
    const failures: Error[] = [];
    const worker = async (): Promise<void> => {
      for (let g = queue.shift(); g && !failures.length; g = queue.shift()) {
        try {
          for (const a of g) await applyOne(a, log);
        } catch (e) {
          failures.push(e as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: APPLY_PARALLEL }, worker));
    if (failures.length) throw failures[0]!;
  }
}

const BATCH_SAFE = /^[A-Za-z0-9:._/-]+$/;
/** `ip -n NS OBJECT ...` with plain words only (no option after the namespace, nothing ip's batch parser would split or quote), not a delete. */
const batchable = (c: string[]): boolean =>
  c[0] === 'ip' && c[1] === '-n' && c.length > 4 && !c[3]!.startsWith('-') && !c.includes('del') && c.slice(3).every((w) => BATCH_SAFE.test(w));

/** An action's commands, consecutive batchable ones of the same namespace grouped: a plug is two `ip` processes, not five. */
export function batches(cmds: string[][]): string[][][] {
  const out: string[][][] = [];
  for (const c of cmds) {
    const last = out[out.length - 1];
    if (last && batchable(c) && batchable(last[0]!) && last[0]![2] === c[2]) last.push(c);
    else out.push([c]);
  }
  return out;
}

/** Several `ip -n NS ...` commands through one `ip -n NS -batch -`, which stops at the first that fails. */
function execBatch(group: string[][]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['-n', group[0]![2]!, '-batch', '-'], (err, _stdout, stderr) => {
      if (!err) return resolve();
      // ip names the failing line ("Command failed -:N"), except when it exits at once on a bad argument.
      const line = Number(/Command failed -:(\d+)/.exec(stderr)?.[1] ?? 0);
      const failed = group[line - 1] ? group[line - 1]!.join(' ') : `one of: ${group.map((c) => c.slice(3).join(' ')).join('; ')}`;
      reject(Object.assign(new Error(err.message), { stderr: `${failed}: ${stderr.trim().replace(/\s*Command failed -:\d+$/, '')}` }));
    });
    child.stdin!.end(group.map((c) => c.slice(3).join(' ')).join('\n') + '\n');
  });
}

async function applyOne(a: Action, log: (line: string) => void): Promise<void> {
  log(a.desc);
  for (const group of batches(a.cmds)) {
    if (group.length > 1) {
      try {
        await execBatch(group);
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`ip -n ${group[0]![2]} -batch: ${(err.stderr ?? err.message).trim()}`);
      }
      continue;
    }
    const cmd = group[0]!;
    try {
      await exec(cmd);
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      // A delete whose object is already gone has done its job (a veth peer goes with its other end).
      const gone = /Cannot find device|No such file or directory/.test(err.stderr ?? '');
      if (gone && (cmd.includes('del') || cmd.includes('delete'))) continue;
      throw new Error(`${cmd.join(' ')}: ${(err.stderr ?? err.message).trim()}`);
    }
  }
}
