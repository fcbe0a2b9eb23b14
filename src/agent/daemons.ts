// Supervises radvd and dnsmasq as children of the agent (`ip netns exec NS radvd -n ...`, `dnsmasq -k`): Node reaps
// them itself, which matters on hosts whose PID 1 reaps orphans slowly (lab facts). Config files are rewritten
// only when their text changes; then both get SIGHUP (radvd re-reads its conf, dnsmasq its hosts/opts files).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DaemonSpec } from './plan.js';

interface Running {
  spec: DaemonSpec;
  child: ChildProcess;
  exited: Promise<void>;
}

export class Supervisor {
  private running = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly stateDir: string,
    private readonly log: (line: string) => void,
    /** Called when a daemon exits on its own (the agent then reconciles, which restarts it). */
    private readonly onUnexpectedExit: (id: string) => void = () => {},
  ) {}

  /**
   * Kills daemons a previous agent left behind (killed with SIGKILL, or crashed): found by the pid files in the
   * state directory, and only if that pid's command line still names our config directory.
   */
  async cleanupStale(): Promise<void> {
    for (const [sub, pidName] of [['radvd', 'radvd.pid'], ['dhcp', 'pid']] as const) {
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
        this.log(`stop stale ${sub === 'radvd' ? 'radvd' : 'dnsmasq'} pid ${pid} (${dir})`);
        try {
          // SIGKILL for radvd: no "stop adverts" RA, so hosts keep their default route while the new one starts.
          process.kill(pid, sub === 'radvd' ? 'SIGKILL' : 'SIGTERM');
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
      await this.stop(r, 'SIGTERM');
      await rm(r.spec.dir, { recursive: true, force: true });
      n++;
    }
    return n;
  }

  /** Writes changed config files, starts missing daemons, reloads changed ones. Returns the number of actions. */
  async ensure(desired: DaemonSpec[]): Promise<number> {
    let n = 0;
    for (const spec of desired) {
      const changed = await this.writeFiles(spec);
      const r = this.running.get(spec.id);
      if (!r) {
        this.start(spec);
        n++;
      } else if (r.spec.argv.join('\0') !== spec.argv.join('\0') || r.spec.namespace !== spec.namespace) {
        this.log(`restart ${spec.id} (command line changed)`);
        await this.stop(r, 'SIGTERM');
        this.start(spec);
        n++;
      } else if (changed.length) {
        if (spec.reload === 'hup') {
          this.log(`reload ${spec.id} (SIGHUP; ${changed.join(', ')} changed)`);
          r.child.kill('SIGHUP');
        } else {
          this.log(`restart ${spec.id} (${changed.join(', ')} changed)`);
          await this.stop(r, 'SIGTERM');
          this.start(spec);
        }
        r.spec = spec;
        n++;
      }
    }
    return n;
  }

  /** On agent shutdown: radvd is killed without its goodbye RA, dnsmasq stopped normally; kernel state stays. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.values()].map((r) => this.stop(r, r.spec.kind === 'radvd' ? 'SIGKILL' : 'SIGTERM')));
  }

  ids(): string[] {
    return [...this.running.keys()];
  }

  private async writeFiles(spec: DaemonSpec): Promise<string[]> {
    await mkdir(spec.dir, { recursive: true, mode: 0o755 });
    // dnsmasq drops privileges to `nobody` and only then reads its hosts and opts files (at start and on every
    // SIGHUP): every directory from the state dir down must be searchable by others, whatever the umask.
    const top = resolve(this.stateDir);
    for (let d = resolve(spec.dir); d === top || d.startsWith(top + '/'); d = dirname(d)) {
      const mode = (await stat(d)).mode & 0o7777;
      if ((mode & 0o755) !== 0o755) await chmod(d, mode | 0o755);
    }
    const changed: string[] = [];
    for (const f of spec.files) {
      const path = join(spec.dir, f.name);
      const old = await readFile(path, 'utf8').catch(() => null);
      if (old === f.content) continue;
      const tmp = `${path}.tmp`;
      await rm(tmp, { force: true });
      await writeFile(tmp, f.content, { mode: f.mode });
      await chmod(tmp, f.mode);
      await rename(tmp, path);
      changed.push(f.name);
    }
    return changed;
  }

  private start(spec: DaemonSpec): void {
    this.log(`start ${spec.id} in ${spec.namespace}: ${spec.argv.join(' ')}`);
    if (spec.kind === 'dnsmasq') {
      void unsearchableByOthers(spec.dir).then((bad) => {
        if (bad) this.log(`ERROR ${spec.id}: dnsmasq runs as nobody and cannot read ${spec.dir}: ${bad} is not searchable by others (chmod o+x it, or choose another --state-dir); it will answer every client "no addresses available"`);
      });
    }
    const child = spawn('ip', ['netns', 'exec', spec.namespace, ...spec.argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = `[${spec.id}] `;
    const relay = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) if (line.trim()) this.log(prefix + line);
    };
    child.stdout!.on('data', relay);
    child.stderr!.on('data', relay);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const entry: Running = { spec, child, exited };
    this.running.set(spec.id, entry);
    child.once('exit', (code, signal) => {
      if (this.running.get(spec.id) !== entry) return;
      this.running.delete(spec.id);
      if (!this.stopping) {
        this.log(`${spec.id} exited (${signal ?? code}); will restart`);
        this.onUnexpectedExit(spec.id);
      }
    });
  }

  private async stop(r: Running, signal: NodeJS.Signals): Promise<void> {
    this.running.delete(r.spec.id);
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill(signal);
      const t = setTimeout(() => r.child.kill('SIGKILL'), 5000);
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
