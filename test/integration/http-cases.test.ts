// Differential test against the real Neutron Zed: scripts/http-cases.py (the peer's 140-case raw-HTTP catalogue)
// runs against a freshly started v6stack server, and every answer is compared with the recorded answer of the peer
// (test/fixtures/http-cases/neutron-zed.json): status, NeutronError type and message, deterministic fields and
// attribute names (see http-cases-compare.ts). Differences we know of are listed, with a reason and today's
// answer, in test/fixtures/http-cases/known-mismatches.json; the test fails on any other difference, on a listed
// difference whose answer changed, and on a listed entry that now matches Neutron (remove it then).
//
// Set V6STACK_HTTP_CASES_REPORT=/path.json to also write every mismatch (allowed or not) to that file.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, freshStoreUrl, spawnServer, type ServerProcess } from '../helpers/v6stack.js';
import { freePort, python3, run } from './util.js';
import {
  ASPECTS,
  compareCase,
  isAllowed,
  loadAllowList,
  loadFixture,
  readRun,
  repoRoot,
  scriptPath,
  type CaseRecord,
  type Mismatch,
} from './http-cases-compare.js';

const fixture = loadFixture();
const allow = loadAllowList();
const py = python3();
const skip = py ? false : 'no python3 on this machine: scripts/http-cases.py needs it (scripts/test-all.sh runs on Debian, which has it)';

describe('http-cases allow-list', () => {
  it('names only cases and aspects of the fixture, once each, with a reason', () => {
    const names = new Set(fixture.map((c) => c.name));
    const seen = new Set<string>();
    for (const a of allow) {
      assert.ok(names.has(a.case), `allow-list entry for unknown case ${a.case}`);
      assert.ok(ASPECTS.includes(a.aspect), `allow-list entry ${a.case} has unknown aspect ${a.aspect}`);
      assert.ok(typeof a.reason === 'string' && a.reason.length > 10 && !/^todo/i.test(a.reason), `allow-list entry ${a.case}/${a.aspect} needs a reason`);
      const key = `${a.case}/${a.aspect}`;
      assert.ok(!seen.has(key), `duplicate allow-list entry ${key}`);
      seen.add(key);
    }
  });
});

for (const backend of backends()) {
  describe(`http-cases: v6stack vs recorded Neutron Zed answers (${backend})`, { skip }, () => {
    let ours = new Map<string, CaseRecord>();
    let setupErrors: { section: string; error: string }[] = [];
    let server: ServerProcess | undefined;
    let dispose: (() => Promise<void>) | undefined;
    let outDir: string | undefined;
    const mismatches: Mismatch[] = [];

    before(async () => {
      const fresh = await freshStoreUrl(backend);
      dispose = fresh.dispose;
      outDir = mkdtempSync(join(tmpdir(), 'v6stack-http-cases-'));
      const port = await freePort('::1');
      process.chdir(repoRoot); // spawnServer runs dist/src/cli/main.js relative to the repository
      server = await spawnServer(fresh.url, port);
      try {
        const r = await run(py!, [scriptPath, '--url', server.url, '--out', outDir], { timeoutMs: 10 * 60_000 });
        assert.equal(r.timedOut, false, `http-cases.py did not finish:\n${r.stdout}\n${r.stderr}`);
        assert.equal(r.code, 0, `http-cases.py failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
        ({ cases: ours, setupErrors } = readRun(outDir));
      } finally {
        await server.stop();
      }
    });

    after(async () => {
      await server?.stop();
      if (outDir) rmSync(outDir, { recursive: true, force: true });
      await dispose?.();
      if (process.env.V6STACK_HTTP_CASES_REPORT) {
        const file = process.env.V6STACK_HTTP_CASES_REPORT.replace(/(\.json)?$/, `.${backend}.json`);
        writeFileSync(
          file,
          JSON.stringify({ setupErrors, mismatches: mismatches.map((m) => ({ ...m, allowed: isAllowed(m, allow)?.reason ?? null })) }, null, 1),
        );
      }
    });

    for (const neutron of fixture) {
      it(`${neutron.name}`, (t) => {
        const found = compareCase(neutron, ours.get(neutron.name));
        mismatches.push(...found);
        if (!ours.has(neutron.name) && setupErrors.length) t.diagnostic(`setup errors: ${JSON.stringify(setupErrors)}`);
        const unexpected = found.filter((m) => !isAllowed(m, allow));
        const stale = allow.filter((a) => a.case === neutron.name && !found.some((m) => m.aspect === a.aspect));
        for (const m of found) {
          const a = isAllowed(m, allow);
          if (a) t.diagnostic(`known mismatch (${m.aspect}): ${a.reason}`);
        }
        assert.deepEqual(
          unexpected,
          [],
          `v6stack differs from Neutron Zed on ${neutron.request.method} ${neutron.request.path} ` +
            `(${JSON.stringify(neutron.request.body)}); if intended, list it in known-mismatches.json:\n` +
            unexpected.map((m) => `  ${m.aspect}: neutron=${JSON.stringify(m.neutron)}\n  ${' '.repeat(m.aspect.length)}  v6stack=${JSON.stringify(m.v6stack)}`).join('\n'),
        );
        assert.deepEqual(
          stale.map((a) => `${a.case}/${a.aspect}`),
          [],
          'these known mismatches now match Neutron: remove them from test/fixtures/http-cases/known-mismatches.json',
        );
      });
    }
  });
}
