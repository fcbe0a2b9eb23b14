// Supervises radvd and dnsmasq as children of the agent (`ip netns exec NS radvd -n ...`, `dnsmasq -k`): Node reaps
// them itself, which matters on hosts whose PID 1 reaps orphans slowly (lab facts). Config files are rewritten
// only when their text changes; then both get SIGHUP (radvd re-reads its conf, dnsmasq its hosts/opts files).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DaemonSpec } from './model.js';
import { goodbyeConf, radvdStanzas } from './radvd.js';
import { afterExit, afterStart, DEFAULT_RESTART_POLICY, freshHealth, isFailing, likelyFix, type DaemonHealth, type RestartPolicy } from './restart-policy.js';

interface Running {
  spec: DaemonSpec;
  /** Our child, or (detached daemons a previous agent started) a process found by its pid file. */
  kill(signal: NodeJS.Signals): void;
  alive(): boolean;
  exited: Promise<void>;
}

/** A detached daemon (keepalived) a previous agent left running, found at start; adopted by ensure() if still wanted. */
interface Adoptable {
  pid: number;
  dir: string;
  /** Its command line, NUL-separated (compared with the spec's argv: an equal one is adopted, not restarted). */
  cmdline: string;
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const readLog = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};
const childAlive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** What the agent reports of a daemon that keeps failing (GET /v2.0/agents, configurations.failing_daemons). */
export interface FailingDaemon {
  id: string;
  kind: DaemonSpec['kind'];
  namespace: string;
  exits_in_a_row: number;
  last_words: string[];
  fix: string;
}

interface Tracked {
  health: DaemonHealth;
  spec: DaemonSpec;
  /** Its last output lines (stderr and stdout): what it said before it exited. */
  lastWords: string[];
  /** The restart timer (backoff) or the timer that declares it recovered. */
  timer: NodeJS.Timeout | null;
}

const LAST_WORDS = 6;

export class Supervisor {
  private running = new Map<string, Running>();
  private adoptable = new Map<string, Adoptable>();
  private tracked = new Map<string, Tracked>();
  private stopping = false;

  constructor(
    private readonly stateDir: string,
    private readonly log: (line: string) => void,
    /** Called when a daemon that exited on its own is due to start again (the agent then reconciles, which starts it). */
    private readonly onUnexpectedExit: (id: string) => void = () => {},
    /** Called when the set of failing daemons changes (the agent reports it at once). */
    private readonly onHealthChange: () => void = () => {},
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {}

  /** The daemons that keep failing, for the agent's report. */
  failing(): FailingDaemon[] {
    const out: FailingDaemon[] = [];
    for (const [id, t] of this.tracked) {
      if (!isFailing(t.health, this.policy)) continue;
      out.push({ id, kind: t.spec.kind, namespace: t.spec.namespace, exits_in_a_row: t.health.failures, last_words: [...t.lastWords], fix: likelyFix(t.spec.kind, t.lastWords, t.spec.namespace) });
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Kills daemons a previous agent left behind (killed with SIGKILL, or crashed): found by the pid files in the
   * state directory, and only if that pid's command line still names our config directory.
   */
  async cleanupStale(): Promise<void> {
    // keepalived outlives the agent on purpose (a restart must not be a failover): it is adopted, not killed.
    const kept = await readdir(join(this.stateDir, 'keepalived')).catch(() => [] as string[]);
    for (const d of kept) {
      const dir = join(this.stateDir, 'keepalived', d);
      const pid = Number((await readFile(join(dir, 'keepalived.pid'), 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(pid) || pid <= 1 || !pidAlive(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (!cmdline.includes(dir)) continue;
      this.adoptable.set(`keepalived-${d}`, { pid, dir, cmdline: cmdline.replace(/\0$/, '') });
    }
    for (const [sub, pidName] of [['radvd', 'radvd.pid'], ['dhcp', 'pid'], ['pd', 'pid'], ['metadata', 'pid']] as const) {
      let dirs: string[] = [];
      try {
        dirs = await readdir(join(this.stateDir, sub));
      } catch {
        continue;
      }
      for (const d of dirs) {
        const dir = join(this.stateDir, sub, d);
        const pid = Number((await readFile(join(dir, pidName), 'utf8').catch(() => '')).trim());
        if (!Number.isInteger(pid) || pid <= 1) continue;
        const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
        if (!cmdline.includes(dir)) continue;
        this.log(`stop stale ${sub === 'radvd' ? 'radvd' : sub === 'pd' ? 'pd-client' : sub === 'metadata' ? 'metadata server' : 'dnsmasq'} pid ${pid} (${dir})`);
        try {
          // SIGKILL for radvd: no "stop adverts" RA, so hosts keep their default route while the new one starts.
          // A PD client too: its SIGTERM would release the prefixes the new one resumes.
          process.kill(pid, sub === 'dhcp' ? 'SIGTERM' : 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  }

  /** Stops the daemons the plan no longer has (before their interfaces go: radvd's SIGTERM withdraws its RAs). */
  async stopUndesired(desired: DaemonSpec[]): Promise<number> {
    const ids = new Set(desired.map((d) => d.id));
    let n = 0;
    for (const [id, r] of this.running) {
      if (ids.has(id)) continue;
      this.log(`stop ${id} (no longer needed)`);
      await this.stop(r, r.spec.stopSignal ?? 'SIGTERM');
      await rm(r.spec.dir, { recursive: true, force: true });
      n++;
    }
    for (const [id, a] of this.adoptable) {
      if (ids.has(id)) continue;
      this.adoptable.delete(id);
      this.log(`stop ${id} left by an earlier agent, pid ${a.pid} (no longer needed)`);
      await this.stop(this.adopted({ id } as DaemonSpec, a), 'SIGTERM');
      await rm(a.dir, { recursive: true, force: true });
      n++;
    }
    let forgot = false;
    for (const [id, t] of this.tracked) {
      if (ids.has(id)) continue;
      if (t.timer) clearTimeout(t.timer);
      forgot ||= isFailing(t.health, this.policy);
      this.tracked.delete(id);
    }
    if (forgot) this.onHealthChange();
    return n;
  }

  /**
   * Before a reload drops interfaces from a radvd that stays (its router keeps other interfaces), and while those
   * links still exist: a one-shot radvd with their stanzas is started and stopped, so hosts on them get a final RA
   * (router lifetime 0, prefixes deprecated). Returns the number of interfaces said goodbye to.
   */
  async farewell(desired: DaemonSpec[]): Promise<number> {
    let n = 0;
    for (const spec of desired) {
      const r = this.running.get(spec.id);
      if (!r || spec.kind !== 'radvd') continue;
      const before = radvdStanzas(r.spec.files[0]?.content ?? '');
      const after = radvdStanzas(spec.files[0]?.content ?? '');
      const leaving = [...before.keys()].filter((i) => !after.has(i));
      if (!leaving.length) continue;
      const conf = join(spec.dir, 'goodbye.conf');
      await writeFile(conf, goodbyeConf(leaving.map((i) => before.get(i)!)), { mode: 0o444 }).catch(async () => {
        await rm(conf, { force: true });
        await writeFile(conf, goodbyeConf(leaving.map((i) => before.get(i)!)), { mode: 0o444 });
      });
      this.log(`goodbye RA on ${leaving.join(', ')} (leaving ${spec.id})`);
      const child = spawn('ip', ['netns', 'exec', spec.namespace, 'radvd', '-n', '-m', 'stderr', '-C', conf, '-p', join(spec.dir, 'goodbye.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      // radvd sends its first RA at once (lab facts: ~5 ms); then SIGTERM makes it send the final one and exit.
      await Promise.race([exited, new Promise((res) => setTimeout(res, 200))]);
      child.kill('SIGTERM');
      const k = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(k);
      if (/error|failed/i.test(err)) this.log(`goodbye radvd for ${spec.id}: ${err.trim().split('\n').slice(-2).join(' | ')}`);
      await rm(conf, { force: true });
      n += leaving.length;
    }
    return n;
  }

  /** Writes changed config files, starts missing daemons, reloads changed ones. Returns the number of actions. */
  async ensure(desired: DaemonSpec[]): Promise<number> {
    let n = 0;
    for (const spec of desired) {
      const { changed, old } = await this.writeFiles(spec);
      const r = this.running.get(spec.id) ?? (await this.adopt(spec));
      // Exited on its own and still in its backoff: its timer starts the pass that starts it.
      if (!r && (this.tracked.get(spec.id)?.health.retryAt ?? 0) > Date.now()) continue;
      if (!r) {
        await this.releaseLeases(spec, null);
        this.start(spec);
        n++;
      } else if (r.spec.argv.join('\0') !== spec.argv.join('\0') || r.spec.namespace !== spec.namespace) {
        this.log(`restart ${spec.id} (command line changed)`);
        await this.stop(r, 'SIGTERM');
        await this.releaseLeases(spec, null);
        this.start(spec);
        n++;
      } else if (changed.length) {
        // A host line that went away (port deleted, or its MAC changed) leaves a lease bound to the old client's
        // DUID+IAID, and dnsmasq answers the address's next owner "no addresses available" until it expires.
        // Neutron sends dhcp_release6 for it; here dnsmasq is restarted with those lease lines removed. New ports
        // alone only need the SIGHUP.
        const gone = spec.kind === 'dnsmasq' ? removedHostAddresses(old.get('host') ?? '', spec.files.find((f) => f.name === 'host')?.content ?? '') : [];
        if (spec.reload === 'hup' && !gone.length) {
          this.log(`reload ${spec.id} (SIGHUP; ${changed.join(', ')} changed)`);
          r.kill('SIGHUP');
          r.spec = spec;
        } else {
          this.log(`restart ${spec.id} (${changed.join(', ')} changed${gone.length ? `; release ${gone.join(' ')}` : ''})`);
          await this.stop(r, 'SIGTERM');
          await this.releaseLeases(spec, gone);
          this.start(spec);
        }
        n++;
      }
    }
    return n;
  }

  /**
   * dnsmasq only: drops lease lines of the given addresses (null: of every address without a host line, for a
   * dnsmasq that is not running, e.g. ports deleted while the agent was down). Call only while it is stopped.
   */
  private async releaseLeases(spec: DaemonSpec, addresses: string[] | null): Promise<void> {
    if (spec.kind !== 'dnsmasq') return;
    const leaseArg = spec.argv.find((a) => a.startsWith('--dhcp-leasefile='));
    if (!leaseArg) return;
    const path = leaseArg.slice('--dhcp-leasefile='.length);
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text === null) return;
    const hosts = hostAddresses(spec.files.find((f) => f.name === 'host')?.content ?? '');
    const drop = (addr: string): boolean => (addresses ? addresses.includes(addr) : !hosts.has(addr));
    const { kept, dropped } = pruneLeases(text, drop);
    if (!dropped.length) return;
    this.log(`${spec.id}: release leases of ${dropped.join(' ')}`);
    await writeFile(`${path}.tmp`, kept);
    await rename(`${path}.tmp`, path);
  }

  /**
   * On agent shutdown: radvd is killed without its goodbye RA, BIRD without a Cease, a PD client without releasing its
   * prefixes (the next agent's client resumes them from leases.json), dnsmasq stopped normally; kernel state stays.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const t of this.tracked.values()) if (t.timer) clearTimeout(t.timer);
    // Detached daemons (keepalived) stay: the next agent adopts them, and the router does not fail over.
    // BIRD is killed like radvd: its BGP sessions end without a Cease, so peers with graceful restart (RFC 4724) keep
    // its routes while the agent restarts, instead of withdrawing and re-learning every prefix.
    await Promise.all([...this.running.values()].filter((r) => !r.spec.detached).map((r) => this.stop(r, r.spec.kind === 'dnsmasq' ? 'SIGTERM' : 'SIGKILL')));
  }

  /** A wanted detached daemon left running by an earlier agent: adopted when its command line is the wanted one. */
  private async adopt(spec: DaemonSpec): Promise<Running | undefined> {
    const a = this.adoptable.get(spec.id);
    if (!a) return undefined;
    this.adoptable.delete(spec.id);
    const entry = this.adopted(spec, a);
    if (a.cmdline !== spec.argv.join('\0') || !entry.alive()) {
      this.log(`restart ${spec.id} left by an earlier agent, pid ${a.pid} (command line changed)`);
      await this.stop(entry, 'SIGTERM');
      return undefined;
    }
    this.log(`adopt ${spec.id}, pid ${a.pid}, left running by an earlier agent`);
    this.running.set(spec.id, entry);
    void entry.exited.then(() => {
      if (this.running.get(spec.id) !== entry) return;
      this.running.delete(spec.id);
      if (this.stopping) return;
      this.log(`${spec.id} (adopted, pid ${a.pid}) exited; restart`);
      this.onUnexpectedExit(spec.id);
    });
    return entry;
  }

  /** A process we did not start, watched through its pid (it is not our child: no exit event). */
  private adopted(spec: DaemonSpec, a: Adoptable): Running {
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<void>((resolve) => {
      timer = setInterval(() => {
        if (pidAlive(a.pid)) return;
        clearInterval(timer);
        resolve();
      }, 200);
      timer.unref();
    });
    return {
      spec,
      kill: (signal) => {
        try {
          process.kill(a.pid, signal);
        } catch {
          /* already gone */
        }
      },
      alive: () => pidAlive(a.pid),
      exited,
    };
  }

  ids(): string[] {
    return [...this.running.keys()];
  }

  private async writeFiles(spec: DaemonSpec): Promise<{ changed: string[]; old: Map<string, string | null> }> {
    await mkdir(spec.dir, { recursive: true, mode: 0o755 });
    // dnsmasq drops privileges to `nobody` and only then reads its hosts and opts files (at start and on every
    // SIGHUP): every directory from the state dir down must be searchable by others, whatever the umask.
    const top = resolve(this.stateDir);
    for (let d = resolve(spec.dir); d === top || d.startsWith(top + '/'); d = dirname(d)) {
      const mode = (await stat(d)).mode & 0o7777;
      if ((mode & 0o755) !== 0o755) await chmod(d, mode | 0o755);
    }
    const changed: string[] = [];
    const before = new Map<string, string | null>();
    for (const f of spec.files) {
      const path = join(spec.dir, f.name);
      const old = await readFile(path, 'utf8').catch(() => null);
      before.set(f.name, old);
      if (old === f.content) continue;
      const tmp = `${path}.tmp`;
      await rm(tmp, { force: true });
      await writeFile(tmp, f.content, { mode: f.mode });
      await chmod(tmp, f.mode);
      await rename(tmp, path);
      changed.push(f.name);
    }
    return { changed, old: before };
  }

  private start(spec: DaemonSpec): void {
    this.log(`start ${spec.id} in ${spec.namespace}: ${spec.argv.join(' ')}`);
    if (spec.kind === 'dnsmasq') {
      void unsearchableByOthers(spec.dir).then((bad) => {
        if (bad) this.log(`ERROR ${spec.id}: dnsmasq runs as nobody and cannot read ${spec.dir}: ${bad} is not searchable by others (chmod o+x it, or choose another --state-dir); it will answer every client "no addresses available"`);
      });
    }
    for (const f of spec.staleOnStart ?? []) rmSync(join(spec.dir, f), { force: true });
    let child: ChildProcess;
    if (spec.detached) {
      // Its own process group and its output in a file: it lives on when the agent stops or dies (a pipe to a dead
      // agent would end it), and the next agent adopts it.
      const log = openSync(join(spec.dir, `${spec.kind}.log`), 'a');
      child = spawn('ip', ['netns', 'exec', spec.namespace, ...spec.argv], { stdio: ['ignore', log, log], detached: true });
      closeSync(log);
      child.unref();
    } else {
      child = spawn('ip', ['netns', 'exec', spec.namespace, ...spec.argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
    const tracked = this.tracked.get(spec.id) ?? { health: freshHealth(), spec, lastWords: [], timer: null };
    if (tracked.timer) clearTimeout(tracked.timer);
    tracked.spec = spec;
    tracked.health = afterStart(tracked.health, Date.now());
    this.tracked.set(spec.id, tracked);
    const prefix = `[${spec.id}] `;
    const relay = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) {
        if (!line.trim()) continue;
        this.log(prefix + line);
        tracked.lastWords.push(line.trim());
        if (tracked.lastWords.length > LAST_WORDS) tracked.lastWords.shift();
      }
    };
    child.stdout?.on('data', relay);
    child.stderr?.on('data', relay);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const entry: Running = { spec, kill: (signal) => child.kill(signal), alive: () => childAlive(child), exited };
    this.running.set(spec.id, entry);
    // Up for stableMs: the count of exits in a row starts again (and a failing daemon has recovered).
    tracked.timer = setTimeout(() => {
      tracked.timer = null;
      if (this.running.get(spec.id) !== entry) return;
      const was = isFailing(tracked.health, this.policy);
      tracked.health = { ...tracked.health, failures: 0 };
      if (was) {
        this.log(`${spec.id} recovered: up for ${Math.round(this.policy.stableMs / 1000)} s`);
        this.onHealthChange();
      }
    }, this.policy.stableMs);
    tracked.timer.unref();
    child.once('exit', (code, signal) => {
      if (this.running.get(spec.id) !== entry) return;
      this.running.delete(spec.id);
      if (this.stopping) return;
      if (spec.detached) {
        // What it said is in its log file.
        const tail = readLog(join(spec.dir, `${spec.kind}.log`)).split('\n').filter((l) => l.trim()).slice(-LAST_WORDS);
        tracked.lastWords.splice(0, tracked.lastWords.length, ...tail.map((l) => l.trim()));
      }
      if (tracked.timer) clearTimeout(tracked.timer);
      const wasFailing = isFailing(tracked.health, this.policy);
      const { health, delayMs } = afterExit(tracked.health, Date.now(), this.policy);
      tracked.health = health;
      const why = `${spec.id} exited (${signal ?? code})`;
      if (isFailing(health, this.policy)) {
        // One ERROR line each time, with what it said and what to do: never a silent restart loop.
        this.log(`ERROR ${why}, ${health.failures} times in a row; next try in ${delayMs / 1000} s. It said: ${tracked.lastWords.join(' | ') || '(nothing)'}. Likely fix: ${likelyFix(spec.kind, tracked.lastWords, spec.namespace)}`);
        if (!wasFailing) this.onHealthChange();
      } else {
        this.log(`${why}; restart in ${delayMs / 1000} s${tracked.lastWords.length ? ` (it said: ${tracked.lastWords.slice(-2).join(' | ')})` : ''}`);
      }
      tracked.timer = setTimeout(() => {
        tracked.timer = null;
        this.onUnexpectedExit(spec.id);
      }, delayMs);
    });
  }

  private async stop(r: Running, signal: NodeJS.Signals): Promise<void> {
    if (this.running.get(r.spec.id) === r) this.running.delete(r.spec.id);
    if (r.alive()) {
      r.kill(signal);
      const t = setTimeout(() => r.kill('SIGKILL'), 5000);
      await r.exited;
      clearTimeout(t);
    }
  }
}

/** The first directory on the way to `dir` that others (dnsmasq's `nobody`) cannot search, or null. */
export async function unsearchableByOthers(dir: string): Promise<string | null> {
  let d = resolve(dir);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(d);
    if (d === dirname(d)) break;
    d = dirname(d);
  }
  for (const c of chain) {
    const st = await stat(c).catch(() => null);
    if (st && (st.mode & 0o001) === 0) return `${c} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  }
  return null;
}

/** The addresses of a dnsmasq hosts file (Neutron's format: `mac,tag:dhcpv6,name,[addr]`, IPv4 `mac,name,addr`). */
export function hostAddresses(hosts: string): Set<string> {
  const out = new Set<string>();
  for (const line of hosts.split('\n')) {
    const m = /,\[?([0-9a-fA-F:.]+)\]?\s*$/.exec(line);
    if (m) out.add(m[1]!.toLowerCase());
  }
  return out;
}

/** Addresses of host lines in `before` that are not in `after` as the same line (deleted port, or a new MAC). */
export function removedHostAddresses(before: string, after: string): string[] {
  const kept = new Set(after.split('\n').filter(Boolean));
  const lines = before.split('\n').filter((l) => l && !kept.has(l));
  return [...hostAddresses(lines.join('\n'))].sort();
}

/**
 * dnsmasq's lease file without the leases of some addresses. DHCPv6 lines are `expiry IAID address name DUID`
 * (DHCPv4: `expiry MAC address name client-id`); the `duid ...` line (the server's own DUID) is always kept.
 */
export function pruneLeases(text: string, drop: (address: string) => boolean): { kept: string; dropped: string[] } {
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    if (f[0] !== 'duid' && f.length >= 3 && drop(f[2]!.toLowerCase())) dropped.push(f[2]!);
    else kept.push(line);
  }
  return { kept: kept.length ? kept.join('\n') + '\n' : '', dropped };
}
