#!/usr/bin/env node
// Runs the compiled test files with Node's own test runner. `node scripts/run-tests.mjs [unit|api|store|integration]...`
// picks groups (folders under dist/test); no argument runs them all. Integration tests need root (namespaces,
// daemons) and the Debian packages .ci/run installs; they skip themselves with a reason when those are missing.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const groups = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
}
for (const g of groups.length ? groups : readdirSync(root).sort()) {
  try { walk(join(root, g)); } catch { /* group without tests */ }
}
if (!files.length) { console.error('no test files found'); process.exit(1); }
const concurrency = process.env.TEST_CONCURRENCY ?? '1';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
