// What only the embedded store has to get right: an acknowledged write survives kill -9 of the server process, and
// writes of one turn share a transaction without sharing each other's failures.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/store/sqlite.js';
import { openStore } from '../../src/store/index.js';

const storeModule = new URL('../../src/store/sqlite.js', import.meta.url).href;

// The child: eight writers inserting networks as fast as the store acknowledges them, printing each id once its
// write has resolved. It never stops by itself (short of a bound far beyond what the test waits for).
const CHILD = `
import { SqliteStore } from ${JSON.stringify(storeModule)};
const store = new SqliteStore(process.env.V6STACK_DB);
let next = 0;
async function writer() {
  while (next < 200000) {
    const id = 'net-' + next++;
    await store.write((tx) => tx.insert('network', { id, name: id, project_id: 'p' }));
    process.stdout.write(id + '\\n');
  }
}
await Promise.all(Array.from({ length: 8 }, writer));
`;

describe('sqlite store', () => {
  it('keeps every acknowledged write when the process is killed with SIGKILL mid-stream', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-kill-'));
    const path = join(dir, 'v6stack.db');
    try {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
        env: { ...process.env, V6STACK_DB: path },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const acked: string[] = [];
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
        child.on('exit', (code, signal) => r({ code, signal })),
      );
      // Only complete lines count: a line is printed after its write resolved.
      for await (const line of createInterface({ input: child.stdout })) {
        acked.push(line);
        if (acked.length === 300) child.kill('SIGKILL');
      }
      const { code, signal } = await exited;
      assert.equal(signal, 'SIGKILL', `the child must die mid-stream (exit code ${code}; stderr: ${stderr})`);
      assert.ok(acked.length >= 300, `acknowledged ${acked.length}`);

      const store = new SqliteStore(path);
      try {
        const present = new Set(await store.read(async (tx) => (await tx.list('network')).map((d) => d.id)));
        const missing = acked.filter((id) => !present.has(id));
        assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged writes were lost`);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('commits the writes of one turn in one transaction, and the next turn in another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-batch-'));
    const store = new SqliteStore(join(dir, 'v6stack.db'));
    try {
      const before = store.batches;
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.write((tx) => tx.insert('network', { id: `a${i}` }))));
      assert.equal(store.batches - before, 1);
      assert.equal(store.maxBatch, 20);
      await store.write((tx) => tx.insert('network', { id: 'b' }));
      assert.equal(store.batches - before, 2);
      // A write arriving while a batch is committing goes into the next batch, not lost nor run outside one.
      const late: Promise<void>[] = [];
      const first = store.write(async (tx) => {
        late.push(store.write((t) => t.insert('network', { id: 'late' })));
        await tx.insert('network', { id: 'early' });
      });
      await first;
      await Promise.all(late);
      assert.equal(await store.read((tx) => tx.count('network')), 23);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens through openStore with sqlite: URLs and bare paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6stack-open-'));
    try {
      const a = await openStore(`sqlite:${join(dir, 'a.db')}`);
      await a.write((tx) => tx.insert('network', { id: 'x' }));
      await a.close();
      const again = await openStore(join(dir, 'a.db'));
      assert.equal(again.dialect, 'sqlite');
      assert.deepEqual(await again.read((tx) => tx.get('network', 'x')), { id: 'x' });
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
