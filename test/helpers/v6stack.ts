// Starts real v6stack API servers for tests: in-process on an ephemeral port (fast API tests) or as a child
// process of the real CLI (clients, crash tests). Each gets a fresh store: a temp SQLite file, or an emptied
// PostgreSQL schema when V6STACK_TEST_PG_URL is set.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { ApiServer, type ApiOptions } from '../../src/api/server.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { freshPgSchema } from '../store/harness.js';

export type Backend = 'sqlite' | 'postgres';

/** The stores to run API suites against: SQLite always, PostgreSQL when CI (or you) provide a database. */
export function backends(): Backend[] {
  return process.env.V6STACK_TEST_PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** A store URL for a fresh, empty store of that backend, and how to dispose of it. */
export async function freshStoreUrl(backend: Backend): Promise<{ url: string; dispose: () => Promise<void> }> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-test-'));
    return { url: `sqlite:${join(dir, 'v6stack.db')}`, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  // A schema of its own per test, so suites (and parallel runs) never see each other's rows.
  const { url, drop } = await freshPgSchema();
  return { url, dispose: drop };
}

export interface Api {
  url: string;
  store: Store;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** `options`: server settings beside the store (e.g. the MTU configuration). */
export async function startApi(backend: Backend = 'sqlite', options: Omit<ApiOptions, 'store'> = {}): Promise<Api> {
  const fresh = await freshStoreUrl(backend);
  const store = await openStore(fresh.url);
  const api = new ApiServer({ store, defaultProjectId: 'test-project', ...options });
  const { port } = await api.listen(0, '::1');
  const url = `http://[::1]:${port}`;
  return {
    url,
    store,
    async request(method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: { 'Content-Type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async close() {
      await api.close();
      await store.close();
      await fresh.dispose();
    },
  };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `v6stack server` as a child process on the given store and port; resolves once it answers. */
export async function spawnServer(db: string, port: number, extra: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'server', '--db', db, '--port', String(port), '--host', '::1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    // A server that has not said it listens in time is killed, so a slow start fails the test instead of leaving a
    // process that keeps the test file (and the run) from ending.
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 60 s: ${output}`));
    }, 60_000);
    const check = (): void => {
      if (output.includes('Neutron v2.0 API on')) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited ${code}: ${output}`));
    });
  });
  return {
    url: `http://[::1]:${port}`,
    child,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
