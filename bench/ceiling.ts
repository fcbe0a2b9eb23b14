// The machine's own ceiling, measured in the same run: how many durable commits per second the disk and the
// databases allow with nothing else in the way. Port creation on v6stack cannot beat these without group commit.

import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { log, round } from './lib.js';

const BODY = JSON.stringify({ filler: 'x'.repeat(700) }); // about the size of a stored port document

export interface Ceiling {
  sqlite_single_commits_per_s: number;
  sqlite_single_commit_p50_ms: number;
  sqlite_group50_rows_per_s: number;
  sqlite_group50_commits_per_s: number;
  postgres?: { conns: number; commits_per_s: number; single_conn_commits_per_s: number; synchronous_commit: string; fsync: string } | { error: string };
}

function timedLoop(seconds: number, maxIters: number, body: () => void): { iters: number; wall: number; lat: number[] } {
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let i = 0;
  for (; i < maxIters; i++) {
    const a = performance.now();
    if (a > end) break;
    body();
    lat.push(performance.now() - a);
  }
  return { iters: i, wall: (performance.now() - t0) / 1000, lat };
}

export function sqliteCeiling(dir: string, seconds: number): Omit<Ceiling, 'postgres'> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'ceiling.db');
  for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL, body TEXT NOT NULL)');
  db.exec('CREATE UNIQUE INDEX t_k ON t (k)');
  const ins = db.prepare('INSERT INTO t (k, body) VALUES (?, ?)');
  let n = 0;
  log(`ceiling: SQLite single-row durable commits (${seconds} s)`);
  const single = timedLoop(seconds, 200_000, () => ins.run(`k${n++}`, BODY));
  log(`ceiling: SQLite 50-row group commits (${seconds} s)`);
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  const group = timedLoop(seconds, 200_000, () => {
    begin.run();
    for (let j = 0; j < 50; j++) ins.run(`k${n++}`, BODY);
    commit.run();
  });
  db.close();
  for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
  const sorted = [...single.lat].sort((a, b) => a - b);
  return {
    sqlite_single_commits_per_s: round(single.iters / single.wall, 1),
    sqlite_single_commit_p50_ms: round(sorted[Math.floor(sorted.length / 2)] ?? NaN, 3),
    sqlite_group50_rows_per_s: round((group.iters * 50) / group.wall, 0),
    sqlite_group50_commits_per_s: round(group.iters / group.wall, 1),
  };
}

export async function postgresCeiling(url: string, seconds: number, conns = 8): Promise<NonNullable<Ceiling['postgres']>> {
  const clients: pg.Client[] = [];
  try {
    for (let i = 0; i < conns; i++) {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      await c.connect();
      clients.push(c);
    }
    const c0 = clients[0]!;
    const sync = (await c0.query('SHOW synchronous_commit')).rows[0].synchronous_commit as string;
    const fsync = (await c0.query('SHOW fsync')).rows[0].fsync as string;
    await c0.query('DROP TABLE IF EXISTS v6bench_ceiling');
    await c0.query('CREATE TABLE v6bench_ceiling (id BIGSERIAL PRIMARY KEY, k TEXT NOT NULL UNIQUE, body TEXT NOT NULL)');
    let n = 0;
    const run = async (cs: pg.Client[], secs: number): Promise<number> => {
      const end = Date.now() + secs * 1000;
      let count = 0;
      const t0 = performance.now();
      await Promise.all(
        cs.map(async (c) => {
          for (let i = 0; i < 1_000_000 && Date.now() < end; i++) {
            await c.query('INSERT INTO v6bench_ceiling (k, body) VALUES ($1, $2)', [`k${n++}`, BODY]);
            count++;
          }
        }),
      );
      return count / ((performance.now() - t0) / 1000);
    };
    log(`ceiling: PostgreSQL durable single-row commits, 1 connection then ${conns} (${seconds} s each)`);
    const single = await run([c0], seconds);
    const multi = await run(clients, seconds);
    await c0.query('DROP TABLE v6bench_ceiling');
    return { conns, commits_per_s: round(multi, 1), single_conn_commits_per_s: round(single, 1), synchronous_commit: sync, fsync };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}
