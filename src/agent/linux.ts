// The kernel I/O of the agent: observe and change the host's kernel state with iproute2 and sysctl, always through
// execFile with argument vectors (no shell, so names and addresses from the API are never interpreted). What to
// change is decided by the features' pure diffs (features/*, walked by plan.ts diff); this file reads the kernel
// (observe) and carries the actions out (applyActions: `ip -batch` per namespace, namespaces side by side).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { canonicalIp } from '../domain/ip.js';
import { acceptRaKey } from './features/netns.js';
import { NAT_FAMILY, NAT_TABLE, readNatTable } from '../domain/nat.js';
import { NDP_FAMILY, NDP_TABLE, proxyNdpKey, readNdpTable } from '../domain/ndp-proxy.js';
import { METERING_FAMILY, METERING_TABLE, readMeteringTable } from '../domain/metering.js';
import type { Action, ActualLink, ActualNamespace, ActualState, DesiredState, ExtraRoute, FdbEntry, RouteSpec } from './model.js';

export type { Action, ActualLink, ActualNamespace, ActualState };

const run = promisify(execFile);

/** What `ip -json -details addr show` prints per link (the fields read here). */
interface IpLinkJson {
  ifname: string;
  address?: string;
  mtu: number;
  flags: string[];
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: { id: number; local?: string; local6?: string } };
  addr_info?: { local: string; prefixlen: number; scope: string }[];
}
/** `ip -json route show default`. */
interface IpRouteJson {
  dst?: string;
  gateway?: string;
  dev: string;
  protocol?: string;
}
/** `bridge -json fdb show`. */
interface FdbJson {
  mac: string;
  ifname?: string;
  dst?: string;
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
  const router = ns.startsWith('qrouter-');
  const [addrs, v6, v4, sysctlOut, natJson, static6, static4, neighProxy, ndpJson, meteringJson] = await Promise.all([
    exec(['ip', '-n', ns, '-json', '-details', 'addr', 'show']),
    exec(['ip', '-n', ns, '-json', '-6', 'route', 'show', 'default']),
    exec(['ip', '-n', ns, '-json', '-4', 'route', 'show', 'default']),
    // -e: a link's key (net.ipv6.conf.<link>.accept_ra) is unknown until the link exists; it is then just absent.
    sysctls.length ? exec(['ip', 'netns', 'exec', ns, 'sysctl', '-e', ...sysctls]) : Promise.resolve(''),
    // A router's NAT table (features/nat.ts); nft fails when it is absent, which is "none".
    router ? exec(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'table', NAT_FAMILY, NAT_TABLE]).catch(() => '') : Promise.resolve(null),
    // A legacy router's extra routes: the agent adds them as `proto static`, so those are the ones it owns.
    router ? exec(['ip', '-n', ns, '-json', '-6', 'route', 'show', 'proto', 'static']) : Promise.resolve(null),
    router ? exec(['ip', '-n', ns, '-json', '-4', 'route', 'show', 'proto', 'static']) : Promise.resolve(null),
    // A router's NDP proxy entries and its filter table (features/ndp-proxy.ts).
    router ? exec(['ip', '-n', ns, '-6', '-json', 'neigh', 'show', 'proxy']) : Promise.resolve(null),
    router ? exec(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'table', NDP_FAMILY, NDP_TABLE]).catch(() => '') : Promise.resolve(null),
    // A router's metering table (features/metering.ts); absent is "none".
    router ? exec(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'table', METERING_FAMILY, METERING_TABLE]).catch(() => '') : Promise.resolve(null),
  ]);
  const raw = JSON.parse(addrs || '[]') as IpLinkJson[];
  for (const l of raw) {
    links.set(l.ifname, {
      name: l.ifname,
      kind: l.linkinfo?.info_kind ?? null,
      mac: String(l.address ?? '').toLowerCase(),
      mtu: l.mtu,
      up: (l.flags as string[]).includes('UP'),
      master: l.master ?? null,
      addresses: (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`),
      linkLocal: (l.addr_info ?? []).filter((a) => a.scope === 'link').map((a) => `${a.local}/${a.prefixlen}`),
      vxlan: l.linkinfo?.info_kind === 'vxlan' ? { id: l.linkinfo.info_data?.id ?? -1, local: l.linkinfo.info_data?.local6 ?? l.linkinfo.info_data?.local ?? '' } : null,
    });
  }
  const routes: RouteSpec[] = [];
  for (const [family, out] of [[6, v6], [4, v4]] as const) {
    // A default route the kernel learnt from an RA (accept_ra 2 on qg-) is the kernel's to keep, not ours.
    // keepalived's (an HA router's virtual_routes, on the master only) are keepalived's to add and remove.
    for (const x of JSON.parse(out || '[]') as IpRouteJson[]) if (x.gateway && x.protocol !== 'ra' && x.protocol !== 'keepalived') routes.push({ family, via: x.gateway, dev: x.dev });
  }
  const values = new Map<string, string>();
  for (const line of sysctlOut.split('\n')) {
    const at = line.indexOf(' = ');
    if (at > 0) values.set(line.slice(0, at).trim(), line.slice(at + 3).trim());
  }
  const extraRoutes: ExtraRoute[] = [];
  for (const [family, out] of [[6, static6], [4, static4]] as const) {
    if (out === null) continue;
    for (const x of JSON.parse(out || '[]') as IpRouteJson[]) {
      if (!x.gateway || !x.dst) continue;
      // `ip` prints a host route without its length.
      extraRoutes.push({ destination: x.dst.includes('/') ? x.dst : `${x.dst}/${family === 6 ? 128 : 32}`, nexthop: x.gateway });
    }
  }
  const ndp = router ? { proxies: (JSON.parse(neighProxy || '[]') as { dst: string; dev: string }[]).map((e) => ({ dst: canonicalIp(e.dst) ?? e.dst, dev: e.dev })), table: readNdpTable(ndpJson) } : null;
  return { links, routes, sysctls: values, ...(natJson === null ? {} : { nat: readNatTable(natJson) }), ...(meteringJson === null ? {} : { metering: meteringJson ? readMeteringTable(meteringJson) : null }), ...(router ? { extraRoutes } : {}), ...(ndp ? { ndp } : {}) };
}

const OBSERVE_PARALLEL = 4;

/** What the kernel has, for the namespaces the plan names plus those the agent owned before (its ledger). */
export async function observe(desired: DesiredState, owned: Iterable<string>): Promise<ActualState> {
  const namespaces = await listNamespaces();
  const ns = new Map<string, ActualNamespace>();
  const wanted = new Map<string, string[]>([[desired.bridgeNs, desired.bridgeNsSysctls.map(([k]) => k)]]);
  const ndpLinks = new Map((desired.ndpProxy ?? []).map((p) => [p.ns, p.gatewayLink]));
  for (const n of desired.namespaces) wanted.set(n.name, [...n.sysctls.map(([k]) => k), ...n.links.filter((l) => l.acceptRa !== undefined).map((l) => acceptRaKey(l.name)), ...(ndpLinks.has(n.name) ? [proxyNdpKey(ndpLinks.get(n.name)!)] : [])]);
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
    const raw = JSON.parse((await exec(['bridge', '-n', desired.bridgeNs, '-json', 'fdb', 'show'])) || '[]') as FdbJson[];
    fdb = raw.filter((e) => e.ifname && e.dst).map((e) => ({ mac: String(e.mac), dev: String(e.ifname), dst: String(e.dst) }));
  }
  return { namespaces, ns, fdb };
}



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
      // conntrack -D of a floating IP without flows exits 1 saying so.
      const gone = /Cannot find device|No such file or directory|0 flow entries have been deleted/.test(err.stderr ?? '');
      if (gone && (cmd.includes('del') || cmd.includes('delete') || cmd.includes('-D'))) continue;
      throw new Error(`${cmd.join(' ')}: ${(err.stderr ?? err.message).trim()}`);
    }
  }
}

/** The underlay link that carries the tunnels: the interface holding the tunnel address (features/vxlan.ts). */
export async function observeUnderlay(tunnelIp: string): Promise<{ dev: string; mtu: number } | null> {
  const norm = (a: string): string => canonicalIp(a) ?? a.toLowerCase();
  const links = JSON.parse((await exec(['ip', '-json', 'addr', 'show'])) || '[]') as { ifname: string; mtu: number; addr_info?: { local: string }[] }[];
  const want = norm(tunnelIp);
  const l = links.find((x) => (x.addr_info ?? []).some((a) => norm(a.local) === want));
  return l ? { dev: l.ifname, mtu: l.mtu } : null;
}
