#!/usr/bin/env node
// Records the answers of a Neutron-compatible server to scripts/http-cases.py (the raw-HTTP behaviour catalogue of
// ../shared/peers/neutron) as one JSON file. Used to (re)record the real Neutron Zed peer's answers, which
// test/integration/http-cases.test.ts compares v6stack against, so CI needs no peer:
//
//   node scripts/http-cases-record.mjs [--url http://127.0.0.1:9696] [--out test/fixtures/http-cases/neutron-zed.json]
//
// The script only creates, and at the start and end deletes, objects named `http-...`; it needs no fresh database
// (never RESET_DB a shared peer). List answers then include whatever else the peer holds, so the test compares only
// the status of list cases. Loopback targets only (the Python script refuses others).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const url = opt('--url', 'http://127.0.0.1:9696');
const out = opt('--out', join(root, 'test/fixtures/http-cases/neutron-zed.json'));
const python = opt('--python', '/usr/bin/python3');

const dir = mkdtempSync(join(tmpdir(), 'http-cases-record-'));
try {
  const r = spawnSync(python, [join(root, 'scripts/http-cases.py'), '--url', url, '--out', dir], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`http-cases.py exited ${r.status ?? r.signal}`);
  }
  const setupErrors = JSON.parse(readFileSync(join(dir, 'setup-errors.json'), 'utf8'));
  if (setupErrors.length) throw new Error(`setup failed against ${url}: ${JSON.stringify(setupErrors)}`);
  const order = JSON.parse(readFileSync(join(dir, 'catalogue.json'), 'utf8')).map((c) => c.name);
  const files = new Set(readdirSync(dir));
  const cases = order.map((name) => {
    if (!files.has(`${name}.json`)) throw new Error(`no answer file for ${name}`);
    const rec = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    return { name: rec.name, note: rec.note, request: rec.request, status: rec.status, body: rec.body };
  });
  const fixture = {
    about:
      'Answers of the real Neutron (Debian 12 neutron-server 2:21.0.0-7+deb12u1, Zed, noauth, ML2/OVS, l3_ha=True, ipv6_pd_enabled=True) ' +
      'to scripts/http-cases.py, recorded by scripts/http-cases-record.mjs on a shared, non-empty peer database.',
    url,
    recorded_at: new Date().toISOString(),
    cases,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(fixture, null, 1) + '\n');
  console.log(`${cases.length} cases from ${url} written to ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
