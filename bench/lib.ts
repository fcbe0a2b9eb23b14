// Shared pieces of the benchmark: a small loopback-only HTTP client (keep-alive on or off), latency statistics,
// CPU and I/O accounting from /proc, and bounded loops. No dependencies beyond Node itself.

import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';

export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface Reply {
  status: number;
  ms: number;
  bytes: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A client for one Neutron-compatible endpoint. Refuses anything but loopback. */
export class Client {
  readonly host: string;
  readonly port: number;
  readonly keepAlive: boolean;
  private readonly agent: http.Agent;

  constructor(
    readonly url: string,
    opts: { keepAlive: boolean; maxSockets: number; timeoutMs?: number },
  ) {
    const u = new URL(url);
    if (!LOOPBACK.has(u.hostname)) throw new Error(`refusing non-loopback target ${u.hostname}`);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.keepAlive = opts.keepAlive;
    this.agent = new http.Agent({ keepAlive: opts.keepAlive, maxSockets: opts.maxSockets, maxFreeSockets: opts.maxSockets });
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }
  private readonly timeoutMs: number;

  request(method: string, path: string, body?: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers: Record<string, string | number> = { Accept: 'application/json' };
      if (!this.keepAlive) headers.Connection = 'close';
      if (data) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = data.length;
      }
      const t0 = process.hrtime.bigint();
      const req = http.request(
        { host: this.host, port: this.port, method, path: `/v2.0${path}`, agent: this.agent, headers, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            // Time to the last byte, for every server alike; parsing the body is not timed.
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            const buf = Buffer.concat(chunks);
            let json: unknown = null;
            try {
              json = buf.length ? JSON.parse(buf.toString('utf8')) : null;
            } catch {
              json = buf.toString('utf8');
            }
            resolve({ status: res.statusCode ?? 0, ms, bytes: buf.length, json });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${this.timeoutMs} ms: ${method} ${path}`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  /** Like request, but throws unless the status is the expected one. */
  async ok(method: string, path: string, body: unknown, expect: number): Promise<Reply> {
    const r = await this.request(method, path, body);
    if (r.status !== expect) {
      throw new Error(`${method} ${path} -> ${r.status} (expected ${expect}): ${JSON.stringify(r.json).slice(0, 400)}`);
    }
    return r;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LatencyStats {
  n: number;
  mean_ms: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  min_ms: number;
  max_ms: number;
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round(sorted[i]!, 3);
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function stats(lat: number[]): LatencyStats {
  const s = [...lat].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return {
    n: s.length,
    mean_ms: round(mean, 3),
    p50_ms: pct(s, 50),
    p90_ms: pct(s, 90),
    p99_ms: pct(s, 99),
    min_ms: s.length ? round(s[0]!, 3) : NaN,
    max_ms: s.length ? round(s[s.length - 1]!, 3) : NaN,
  };
}

// ---- /proc accounting (Linux)

const CLK = 100; // USER_HZ

export function procCpuSeconds(pid: number): number {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK;
  } catch {
    return 0;
  }
}

export function procRssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Write syscalls and bytes written to storage by a process (from /proc/PID/io; needs the same user or root). */
export function procIo(pid: number): { syscw: number; write_bytes: number } {
  try {
    const t = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k: string): number => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1] ?? 0);
    return { syscw: get('syscw'), write_bytes: get('write_bytes') };
  } catch {
    return { syscw: 0, write_bytes: 0 };
  }
}

interface ProcEntry {
  pid: number;
  ppid: number;
  comm: string;
  cmd: string;
}

export function allProcesses(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(d), ppid: Number(f[1]), comm, cmd });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** A process and all its descendants. */
export function processTree(root: number): number[] {
  const all = allProcesses();
  const set = new Set([root]);
  let grew = true;
  for (let round = 0; grew && round < 20; round++) {
    grew = false;
    for (const p of all) if (set.has(p.ppid) && !set.has(p.pid)) (set.add(p.pid), (grew = true));
  }
  return [...set];
}

export function postgresPids(): number[] {
  return allProcesses()
    .filter((p) => p.comm === 'postgres' || p.cmd.startsWith('postgres:'))
    .map((p) => p.pid);
}

export interface CpuSnap {
  server: Map<number, number>;
  pg: Map<number, number>;
  self: NodeJS.CpuUsage;
  busy: number;
  wall: number;
}

/** CPU snapshot of the server under test (pids from `serverPids()`, re-read each time), PostgreSQL and this process. */
export function cpuSnap(serverPids: () => number[]): CpuSnap {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0) / CLK;
  const idle = (line[3]! + line[4]!) / CLK;
  return {
    server: new Map(serverPids().map((p) => [p, procCpuSeconds(p)])),
    pg: new Map(postgresPids().map((p) => [p, procCpuSeconds(p)])),
    self: process.cpuUsage(),
    busy: total - idle,
    wall: performance.now() / 1000,
  };
}

export interface CpuDelta {
  wall_s: number;
  server_cpu_s: number;
  postgres_cpu_s: number;
  loadgen_cpu_s: number;
  machine_busy_cores: number;
  /** Cores busy with anything but the server, PostgreSQL and the load generator (other work on the machine). */
  other_cores: number;
}

export function cpuDelta(a: CpuSnap, b: CpuSnap): CpuDelta {
  const d = (x: Map<number, number>, y: Map<number, number>): number => {
    let s = 0;
    for (const [pid, v] of y) s += Math.max(0, v - (x.get(pid) ?? 0));
    return s;
  };
  const wall = b.wall - a.wall;
  const server = d(a.server, b.server);
  const pgs = d(a.pg, b.pg);
  const self = (b.self.user - a.self.user + b.self.system - a.self.system) / 1e6;
  return {
    wall_s: round(wall, 3),
    server_cpu_s: round(server, 2),
    postgres_cpu_s: round(pgs, 2),
    loadgen_cpu_s: round(self, 2),
    machine_busy_cores: round((b.busy - a.busy) / wall, 2),
    other_cores: round(Math.max(0, b.busy - a.busy - server - pgs - self) / wall, 2),
  };
}

export function machine(): { cores: number; cpu_model: string; memory_gib: number; kernel: string; node: string } {
  return {
    cores: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gib: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    node: process.version,
  };
}

export const log = (m: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
};

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `n` tasks with `conc` workers; stops starting new ones once `deadline` (ms since epoch) has passed. */
export async function pool(n: number, conc: number, deadline: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    for (;;) {
      const i = next++;
      if (i >= n || Date.now() > deadline) return;
      await task(i);
      done++;
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, conc) }, worker));
  return done;
}

/** A full garbage collection, for memory-per-allocation figures (exposes V8's gc if node was not started with it). */
export function fullGc(): void {
  if (!globalThis.gc) {
    v8.setFlagsFromString('--expose-gc');
    (globalThis as { gc?: () => void }).gc = vm.runInNewContext('gc') as () => void;
  }
  globalThis.gc!();
}
