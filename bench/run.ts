// `npm run bench`: v6stack (embedded SQLite and PostgreSQL) against the Debian Neutron Zed peer, same workload over
// HTTP on loopback, plus the machine's own durable-commit ceiling; prints a table and writes a JSON file.
//
//   npm run bench                         # everything but IPAM at scale (a few minutes plus Neutron's share)
//   npm run bench -- --ipam               # also IPAM at scale (1,000,000 addresses in a /64; 100,000 /64s from a /32, HTTP)
//   npm run bench -- --ipam-only          # only IPAM at scale
//   npm run bench -- --no-neutron --no-pg # v6stack on SQLite only
//   npm run bench -- --quick              # small counts everywhere (a smoke run)
//   npm run bench -- --write-docs         # also regenerate docs/benchmarks.md's figures and docs/benchmarks-*.svg
//   npm run bench -- --keep-neutron-fill  # leave Neutron's 2,000-port listing fill for the next run (then --neutron-sweep)
//
// This process is the load generator; each v6stack server is a child process (`node dist/src/cli/main.js server`),
// Neutron is the running peer (started with /work/shared/peers/neutron/install-and-start.sh when it does not answer).
// Keep-alive is on for v6stack and off for Neutron (eventlet pins keep-alive connections to one worker).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { postgresCeiling, sqliteCeiling } from './ceiling.js';
import { ipamAddresses, ipamPrefixes } from './ipam-scale.js';
import { Client, log, machine, procRssBytes, processTree, sleep } from './lib.js';
import { ipamText, listSvg, markdownTable, portsSvg, textTable, verdicts, type Results } from './report.js';
import { summarizeProfile } from './profile.js';
import { runWorkload, sweep, type Counts, type Target } from './workload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VAR = path.join(ROOT, 'var', 'bench');
const NEUTRON_DIR = '/work/shared/peers/neutron';
/** How every latency is taken, printed with the figures. */
const TIMING =
  'from sending the request to the last byte of the response, the same way for every server; a body is parsed (to count the ports) after the clock stops';

// ---- flags
const argv = process.argv.slice(2);
const flags = new Map<string, string>();
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (!a.startsWith('--')) continue;
  const [k, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
  if (inline !== undefined) flags.set(k, inline);
  else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags.set(k, argv[++i]!);
  else flags.set(k, 'true');
}
const has = (k: string): boolean => flags.has(k) && flags.get(k) !== 'false';
const num = (k: string, d: number): number => (flags.has(k) ? Number(flags.get(k)) : d);
const str = (k: string, d: string): string => flags.get(k) ?? d;

if (has('help')) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).slice(0, 14).join('\n'));
  console.log(`flags: --neutron-url URL --pg-url URL --v6-port N --seq N --conc N --concurrency N --neutron-seq N --neutron-conc N
       --list-ports N --list-repeats N --pool-subnets N --neutron-pool-subnets N --phase-seconds N --keep-neutron-fill
       --no-neutron --no-pg --no-sqlite --no-ceiling --ipam --ipam-only --ipam-addresses N --ipam-prefixes N --ipam-batch N --ipam-concurrency N --ipam-seconds N
       --profile --strace --out FILE --write-docs --quick --neutron-sweep --quota N`);
  process.exit(0);
}

const quick = has('quick');
const ipamOnly = has('ipam-only');
const concurrency = num('concurrency', 8);
const v6Counts: Counts = {
  seq: num('seq', quick ? 200 : 2000),
  conc: num('conc', quick ? 1000 : 20000),
  concurrency,
  listPorts: num('list-ports', quick ? 300 : 2000),
  listRepeats: num('list-repeats', quick ? 3 : 10),
  poolSubnets: num('pool-subnets', quick ? 30 : 300),
  phaseSeconds: num('phase-seconds', 180),
};
const neutronCounts: Counts = {
  seq: num('neutron-seq', quick ? 10 : 60),
  conc: num('neutron-conc', quick ? 16 : 120),
  concurrency,
  listPorts: v6Counts.listPorts,
  listRepeats: num('neutron-list-repeats', v6Counts.listRepeats),
  poolSubnets: num('neutron-pool-subnets', quick ? 3 : 20),
  phaseSeconds: num('phase-seconds', 300),
};
const neutronUrl = str('neutron-url', 'http://127.0.0.1:9696');
const v6Port = num('v6-port', 9797);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = str('out', path.join(VAR, `results-${stamp}.json`));

// ---- v6stack server as a child process

interface Server {
  child: ChildProcess;
  url: string;
  logFile: string;
  profDir?: string;
}

async function startV6(name: string, db: string): Promise<Server> {
  const logFile = path.join(VAR, `server-${name}.log`);
  const args = [];
  let profDir: string | undefined;
  if (has('profile')) {
    profDir = path.join(VAR, `prof-${name}-${stamp}`);
    fs.mkdirSync(profDir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  }
  args.push(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'server', '--db', db, '--port', String(v6Port), '--host', '::1');
  // Quotas as the Neutron peer runs (its neutron.conf: unlimited, so 20,000 ports fit one project); --quota N
  // enforces N on every resource instead, to measure what counting costs.
  for (const r of ['network', 'subnet', 'subnetpool', 'port', 'router', 'floatingip', 'security-group', 'security-group-rule', 'rbac-policy']) {
    args.push(`--quota-${r}`, String(num('quota', -1)));
  }
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const url = `http://[::1]:${v6Port}`;
  const probe = new Client(url, { keepAlive: false, maxSockets: 1, timeoutMs: 2000 });
  try {
    for (let i = 0; i < 150; i++) {
      if (child.exitCode !== null) throw new Error(`v6stack (${name}) exited with ${child.exitCode}: ${fs.readFileSync(logFile, 'utf8').slice(-800)}`);
      try {
        const r = await probe.request('GET', '/networks');
        if (r.status === 200) return { child, url, logFile, ...(profDir ? { profDir } : {}) };
      } catch {
        /* not up yet */
      }
      await sleep(200);
    }
  } finally {
    probe.close();
  }
  child.kill('SIGKILL');
  throw new Error(`v6stack (${name}) did not answer within 30 s; see ${logFile}`);
}

async function stopV6(s: Server): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
  s.child.kill('SIGTERM');
  const t = await Promise.race([exited.then(() => 'ok'), sleep(20_000).then(() => 'timeout')]);
  if (t === 'timeout' && s.child.exitCode === null) {
    log(`v6stack pid ${s.child.pid} did not stop within 20 s, sending SIGKILL`);
    s.child.kill('SIGKILL');
    await exited;
  }
}

function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

// ---- PostgreSQL for v6stack

async function pgReady(url: string): Promise<string | null> {
  const tryConnect = async (): Promise<string | null> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      return null;
    } catch (e) {
      return (e as Error).message;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  let err = await tryConnect();
  if (err && !flags.has('pg-url') && process.getuid?.() === 0) {
    log(`PostgreSQL: ${err}; creating role and database with bench/setup-pg.sh`);
    const r = spawnSync('bash', [path.join(ROOT, 'bench', 'setup-pg.sh')], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) return `setup-pg.sh failed: ${r.stderr}`;
    err = await tryConnect();
  }
  return err;
}

async function pgReset(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('DROP OWNED BY CURRENT_USER');
  } finally {
    await c.end();
  }
}

// ---- Neutron

async function neutronUp(): Promise<string | null> {
  const probe = new Client(neutronUrl, { keepAlive: false, maxSockets: 1, timeoutMs: 10_000 });
  try {
    const ok = async (): Promise<boolean> => (await probe.request('GET', '/networks?fields=id').catch(() => ({ status: 0 }))).status === 200;
    if (await ok()) return null;
    const script = path.join(NEUTRON_DIR, 'install-and-start.sh');
    if (!fs.existsSync(script)) return `Neutron does not answer at ${neutronUrl} and ${script} is missing`;
    log(`Neutron does not answer at ${neutronUrl}: starting it with ${script}`);
    const r = spawnSync('bash', [script], { cwd: NEUTRON_DIR, encoding: 'utf8', timeout: 900_000 });
    if (r.status !== 0) return `install-and-start.sh exited ${r.status}: ${(r.stderr || r.stdout).slice(-600)}`;
    for (let i = 0; i < 60; i++) {
      if (await ok()) return null;
      await sleep(1000);
    }
    return `Neutron still does not answer at ${neutronUrl}`;
  } finally {
    probe.close();
  }
}

function neutronPids(): number[] {
  try {
    return processTree(Number(fs.readFileSync('/run/neutron/neutron-server.pid', 'utf8').trim()));
  } catch {
    return [];
  }
}

// ---- main

async function runV6(results: Results, key: 'sqlite' | 'pg', db: string): Promise<void> {
  const name = key === 'sqlite' ? 'v6stack-sqlite' : 'v6stack-pg';
  log(`${name}: starting the server (--db ${db.replace(/:[^:@/]*@/, ':***@')})`);
  let server: Server;
  try {
    server = await startV6(key, db);
  } catch (e) {
    results.notes.push(`${name}: server did not start: ${(e as Error).message.split('\n')[0]}`);
    log(`${name}: ${(e as Error).message}`);
    return;
  }
  const client = new Client(server.url, { keepAlive: true, maxSockets: concurrency + 2 });
  const pid = server.child.pid!;
  // --strace: count the server's fsyncs and writes (syscall counts, strace -c) to see how many requests share a commit.
  let strace: ChildProcess | undefined;
  const straceFile = path.join(VAR, `strace-${key}-${stamp}.txt`);
  if (has('strace')) {
    strace = spawn('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync,pwrite64,writev,write', '-o', straceFile, '-p', String(pid)], { stdio: 'ignore' });
    await sleep(1000);
  }
  const target: Target = { name, client, serverPids: () => [pid], ioPid: pid, counts: v6Counts, keepFill: false, cleanup: false };
  try {
    const r = await runWorkload(target, `v6bench-${stamp}`);
    results.targets[key] = { ...r, server: { pid, rss_bytes: procRssBytes(pid), peak_rss_bytes: peakRss(pid), db: db.replace(/:[^:@/]*@/, ':***@') } };
  } finally {
    client.close();
    if (strace && strace.exitCode === null) {
      const done = new Promise<void>((r) => strace!.once('exit', () => r()));
      strace.kill('SIGINT');
      await Promise.race([done, sleep(10_000)]);
      if (results.targets[key] && fs.existsSync(straceFile)) {
        (results.targets[key]!.server as Record<string, unknown>).strace = fs.readFileSync(straceFile, 'utf8');
      }
    }
    await stopV6(server);
  }
  if (server.profDir) {
    const files = fs.readdirSync(server.profDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files[0]) {
      const summary = summarizeProfile(path.join(server.profDir, files[0]), 25);
      (results.targets[key]!.server as Record<string, unknown>).profile = summary;
      log(`${name}: CPU profile ${path.join(server.profDir, files[0])}`);
    }
  }
}

/** /64s from a pool through a fresh v6stack server on the embedded store (see ipam-scale.ts). */
async function prefixesOverHttp(target: number, seconds: number, concurrency: number): Promise<NonNullable<Results['ipam']>['prefixes']> {
  const dbFile = path.join(VAR, `ipam-prefixes-${stamp}.db`);
  let server: Server | undefined;
  const client = () => new Client(server!.url, { keepAlive: true, maxSockets: concurrency + 1 });
  let c: Client | undefined;
  try {
    server = await startV6('ipam', `sqlite:${dbFile}`);
    c = client();
    return await ipamPrefixes({ client: c, pid: server.child.pid!, dbFile }, target, seconds, concurrency);
  } catch (e) {
    return { error: (e as Error).stack ?? String(e) };
  } finally {
    c?.close();
    if (server) await stopV6(server);
    for (const s of ['', '-wal', '-shm']) fs.rmSync(dbFile + s, { force: true });
  }
}

async function main(): Promise<void> {
  fs.mkdirSync(VAR, { recursive: true });
  if (has('neutron-sweep')) {
    // Removes everything a benchmark ever left on the Neutron peer (names starting v6bench-), the kept fill included.
    const client = new Client(neutronUrl, { keepAlive: false, maxSockets: 10 });
    try {
      console.log(JSON.stringify(await sweep(client, ['v6bench-'], false, 'neutron sweep')));
    } finally {
      client.close();
    }
    return;
  }
  const results: Results = {
    started: new Date().toISOString(),
    machine: machine(),
    config: {
      v6stack_counts: v6Counts,
      neutron_counts: neutronCounts,
      neutron_url: neutronUrl,
      v6stack_keepalive: true,
      neutron_keepalive: false,
      load_generator: 'this process (node), separate from every server under test; loopback only',
      flags: Object.fromEntries(flags),
      loadavg_at_start: os.loadavg(),
    },
    targets: {},
    notes: [],
  };
  const pgUrl = str('pg-url', 'postgres://v6bench:v6bench@127.0.0.1:5432/v6stack_bench');
  const wantPg = !has('no-pg') && !ipamOnly;
  const pgErr = wantPg || (!has('no-ceiling') && !ipamOnly) ? await pgReady(pgUrl) : 'not requested';
  if (pgErr && wantPg) results.notes.push(`PostgreSQL at ${pgUrl.replace(/:[^:@/]*@/, ':***@')} not reachable: ${pgErr}`);

  if (!ipamOnly) {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/src/cli/main.js is missing: run npm run build');
    if (!has('no-ceiling')) {
      const secs = num('ceiling-seconds', quick ? 1 : 4);
      results.ceiling = { ...sqliteCeiling(VAR, secs) };
      if (!pgErr) results.ceiling.postgres = await postgresCeiling(pgUrl, secs, 8);
      else results.ceiling.postgres = { error: pgErr };
    }
    if (!has('no-sqlite')) {
      const dbFile = path.join(VAR, `v6stack-${stamp}.db`);
      await runV6(results, 'sqlite', `sqlite:${dbFile}`);
      for (const s of ['', '-wal', '-shm']) fs.rmSync(dbFile + s, { force: true });
    }
    if (wantPg && !pgErr) {
      await pgReset(pgUrl);
      await runV6(results, 'pg', pgUrl);
      await pgReset(pgUrl).catch(() => undefined);
    }
    if (!has('no-neutron')) {
      const err = await neutronUp();
      if (err) results.notes.push(`Neutron not measured: ${err}`);
      else {
        // Neutron's bulk creates of 100 ports took 20 s to over 120 s on a busy 2-core machine: a long timeout.
        const client = new Client(neutronUrl, { keepAlive: false, maxSockets: concurrency + 2, timeoutMs: 600_000 });
        const target: Target = {
          name: 'neutron',
          client,
          serverPids: neutronPids,
          counts: neutronCounts,
          keepFill: has('keep-neutron-fill'),
          cleanup: true,
        };
        try {
          results.targets.neutron = await runWorkload(target, `v6bench-${stamp}`);
        } finally {
          client.close();
        }
      }
    }
  }
  if (has('ipam') || ipamOnly) {
    results.ipam = {};
    try {
      results.ipam.addresses = await ipamAddresses(VAR, num('ipam-addresses', quick ? 50_000 : 1_000_000), num('ipam-batch', 1000), num('ipam-seconds', 900));
    } catch (e) {
      results.ipam.error = `addresses: ${(e as Error).message}`;
    }
    results.ipam.prefixes = await prefixesOverHttp(num('ipam-prefixes', quick ? 10_000 : 100_000), num('ipam-seconds', 900), num('ipam-concurrency', 4));
  }
  results.finished = new Date().toISOString();
  results.config.loadavg_at_end = os.loadavg();

  // ---- report
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2));
  const lines: string[] = [];
  lines.push('');
  lines.push(
    `v6stack vs Neutron Zed on ${results.machine.cores} cores (${results.machine.cpu_model}), ${results.machine.memory_gib} GiB, node ${results.machine.node}, ${results.started}`,
  );
  lines.push('Keep-alive: on for v6stack, off for Neutron (eventlet pins keep-alive connections to one API worker).');
  lines.push(`Latency: ${TIMING}.`);
  lines.push(
    `Counts: v6stack ${v6Counts.seq} sequential, ${v6Counts.conc} with ${concurrency} clients, ${v6Counts.poolSubnets} pool subnets; ` +
      `Neutron ${neutronCounts.seq} sequential, ${neutronCounts.conc} with ${concurrency} clients, ${neutronCounts.poolSubnets} pool subnets.`,
  );
  const n = results.targets.neutron;
  if (n) {
    lines.push(
      `Neutron listing fill: ${n.fill.reused} ports were already there, ${n.fill.created} bulk-created (100 per POST, ${n.fill.per_s} ports/s)` +
        (n.cleanup ? `; cleanup deleted ${JSON.stringify(n.cleanup.deleted)} in ${n.cleanup.wall_s} s${n.cleanup.kept.length ? `, kept ${n.cleanup.kept.join('; ')}` : ''}.` : '.'),
    );
  }
  if (!ipamOnly) {
    lines.push('');
    lines.push(textTable(results));
    lines.push('');
    lines.push('Targets:');
    lines.push(...verdicts(results).map((l) => `  ${l}`));
  }
  for (const [k, t] of Object.entries(results.targets)) {
    if (t?.error) lines.push(`${k}: ERROR ${t.error.split('\n')[0]}`);
    for (const [phase, o] of [
      ['seq', t?.seq],
      ['conc', t?.conc],
      ['pool', t?.pool_subnet],
      ['iface', t?.router_iface],
    ] as const) {
      if (o && Object.keys(o.errors).length) lines.push(`${k} ${phase} errors: ${JSON.stringify(o.errors)}`);
    }
  }
  const ip = ipamText(results.ipam);
  if (ip.length) lines.push('', ...ip);
  for (const note of results.notes) lines.push(`note: ${note}`);
  lines.push('', `results: ${out}`);
  console.log(lines.join('\n'));

  if (has('write-docs') && !ipamOnly) writeDocs(results, out);
}

function writeDocs(results: Results, jsonPath: string): void {
  const docs = path.join(ROOT, 'docs');
  const kept = path.join(ROOT, 'bench', 'results', 'latest.json');
  fs.mkdirSync(path.dirname(kept), { recursive: true });
  fs.copyFileSync(jsonPath, kept);
  fs.writeFileSync(path.join(docs, 'benchmarks-ports.svg'), portsSvg(results));
  fs.writeFileSync(path.join(docs, 'benchmarks-list.svg'), listSvg(results));
  const md = path.join(docs, 'benchmarks.md');
  const m = results.machine;
  const gen = [
    '<!-- BEGIN GENERATED by `npm run bench -- --write-docs` (bench/run.ts); edit outside these markers -->',
    `Run of ${results.started.slice(0, 16).replace('T', ' ')} UTC on ${m.cores} cores (${m.cpu_model}), ${m.memory_gib} GiB, Linux ${m.kernel}, Node ${m.node}. ` +
      `Raw figures: \`bench/results/latest.json\`. Latency: ${TIMING}.`,
    '',
    markdownTable(results),
    '',
    ...verdicts(results).map((l) => `- ${l.replace(/^(MET|MISS|n\/a)\s+/, '**$1** ')}`),
    '',
    ...(results.ipam ? ['IPAM at scale (`--ipam`): addresses in process through the API\'s allocator, prefixes over HTTP:', '', '```', ...ipamText(results.ipam), '```', ''] : []),
    ...(results.notes.length ? [...results.notes.map((n) => `- note: ${n}`), ''] : []),
    '![port creation throughput](benchmarks-ports.svg)',
    '',
    '![listing latency](benchmarks-list.svg)',
    '<!-- END GENERATED -->',
  ].join('\n');
  let text = fs.existsSync(md) ? fs.readFileSync(md, 'utf8') : '# Benchmarks\n\n';
  const re = /<!-- BEGIN GENERATED[\s\S]*?<!-- END GENERATED -->/;
  text = re.test(text) ? text.replace(re, gen) : `${text.trimEnd()}\n\n${gen}\n`;
  fs.writeFileSync(md, text);
  log(`wrote ${md}, docs/benchmarks-ports.svg, docs/benchmarks-list.svg, ${kept}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
