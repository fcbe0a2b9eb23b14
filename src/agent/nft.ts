// The firewall's kernel I/O: reads the bridge namespace's v6stack-fw tables back once (after a start, or after a
// failed apply) and writes the difference as one `nft -f` transaction. The plan, the marks and the script are
// domain/firewall.ts's; this file only runs nft.
//
// Restart: the tables outlive the agent (it leaves kernel state in place), so filtering never stops. The first pass
// reads the kernel: each port keeps the mark the dispatch map gives it, the maps' elements are diffed, and every
// chain and set is rewritten (flush and refill) in the same transaction, which yields the same ruleset without a
// moment in which a port is open. Later passes write only what changed since the last apply.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FW_TABLE,
  allocateMarks,
  compileFirewall,
  firewallScript,
  objectKey,
  type AppliedFirewall,
  type Family,
  type FirewallPlan,
  type NftObject,
} from '../domain/firewall.js';
import type { FirewallSpec } from './model.js';

function run(argv: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

const nft = (ns: string, args: string[]): string[] => ['ip', 'netns', 'exec', ns, 'nft', ...args];

type JsonElem = string | number | { prefix?: unknown } | unknown;
type JsonVerdict = { jump?: { target: string }; goto?: { target: string } } | number | string;

/** A map element's key and value in the compiler's text (`"tap…"`, `0x00000005`, `jump eg-…`, `12345`). */
function keyText(type: string, key: JsonElem): string {
  if (type === 'mark') return `0x${Number(key).toString(16).padStart(8, '0')}`;
  return `"${String(key)}"`;
}
function valueText(v: JsonVerdict): string {
  if (typeof v === 'object' && v !== null && 'jump' in v && v.jump) return `jump ${v.jump.target}`;
  if (typeof v === 'object' && v !== null && 'goto' in v && v.goto) return `goto ${v.goto.target}`;
  return String(v);
}

interface KernelState {
  applied: AppliedFirewall;
  /** Each port's mark, from the egress dispatch map. */
  marks: Map<string, number>;
  /** True when neither table exists. */
  empty: boolean;
}

/**
 * What the namespace's tables hold: every chain and set by name, with a content that never equals a planned one (so
 * the first apply rewrites them), and the maps with their elements (so they are diffed element by element).
 */
export async function readKernel(ns: string): Promise<KernelState> {
  const objects = new Map<string, NftObject>();
  const marks = new Map<string, number>();
  let empty = true;
  for (const family of ['bridge', 'inet'] as Family[]) {
    const r = await run(nft(ns, ['-j', 'list', 'table', family, FW_TABLE]));
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) continue;
      throw new Error(`nft list table ${family} ${FW_TABLE} in ${ns}: ${r.stderr.trim()}`);
    }
    empty = false;
    const items = (JSON.parse(r.stdout) as { nftables: Record<string, any>[] }).nftables;
    for (const item of items) {
      if (item.chain) {
        objects.set(objectKey({ family, kind: 'chain', name: item.chain.name }), { kind: 'chain', family, name: item.chain.name, hook: '(kernel)', rules: [] });
      } else if (item.set) {
        objects.set(objectKey({ family, kind: 'set', name: item.set.name }), { kind: 'set', family, name: item.set.name, decl: '(kernel)', elements: [] });
      } else if (item.map) {
        const m = item.map as { name: string; type: string; elem?: [JsonElem, JsonVerdict][] };
        const elements = new Map<string, string>();
        for (const [k, v] of m.elem ?? []) {
          elements.set(keyText(m.type, k), valueText(v));
          if (family === 'inet' && m.name === 'egress-ports') {
            const target = valueText(v).replace(/^jump eg-/, '');
            if (target !== valueText(v)) marks.set(target, Number(k));
          }
        }
        objects.set(objectKey({ family, kind: 'map', name: m.name }), { kind: 'map', family, name: m.name, decl: '(kernel)', elements });
      }
    }
  }
  return { applied: { objects }, marks, empty };
}

/** Applies the firewall plans of successive passes; one per agent. */
export class FirewallApplier {
  private applied: AppliedFirewall | null = null;
  private marks = new Map<string, number>();
  private namespace = '';
  /** The plan last applied (for `firewall show` from the agent's view). */
  lastPlan: FirewallPlan | null = null;

  /** Makes the kernel hold `spec`'s plan; returns the number of script lines run (0: nothing to do). */
  async apply(spec: FirewallSpec | undefined, log: (line: string) => void): Promise<number> {
    if (!spec || !spec.namespace) return 0;
    if (!this.applied || this.namespace !== spec.namespace) {
      const kernel = await readKernel(spec.namespace);
      // No filtered port and no table: nothing to enforce, and no reason to start conntrack in the namespace.
      if (kernel.empty && spec.input.local.length === 0) return 0;
      this.applied = kernel.applied;
      this.marks = kernel.marks;
      this.namespace = spec.namespace;
    }
    const marks = allocateMarks(spec.input.local.map((l) => l.port.id), this.marks);
    const plan = compileFirewall({ ...spec.input, marks });
    const script = firewallScript(plan, this.applied);
    if (script !== null) {
      const dir = await mkdtemp(join(tmpdir(), 'v6stack-nft-'));
      try {
        await writeFile(join(dir, 'fw.nft'), script);
        const r = await run(nft(spec.namespace, ['-f', join(dir, 'fw.nft')]));
        if (r.code !== 0) {
          this.applied = null; // what the kernel holds is not known: read it back next time
          throw new Error(`nft -f in ${spec.namespace}: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const lines = script.split('\n').length - 1;
      log(`firewall: ${spec.input.local.length} filtered ports, ${lines} nft lines applied in one transaction`);
    }
    this.applied = { objects: new Map(plan.objects.map((o) => [objectKey(o), o])) };
    this.marks = marks;
    this.lastPlan = plan;
    return script === null ? 0 : script.split('\n').length - 1;
  }

  /** Forget what was applied: the next apply reads the kernel again (a failed pass, a full resync). */
  reset(): void {
    this.applied = null;
  }
}
