// The firewall's kernel I/O: reads the bridge namespace's v6stack-fw tables back once (after a start, or after a
// failed apply) and writes the difference as one `nft -f` transaction. The plan, the marks and the script are
// domain/firewall.ts's; this file only runs nft.
//
// Restart: the tables outlive the agent (it leaves kernel state in place), so filtering never stops. The first pass
// reads the kernel: each port keeps the mark the dispatch map gives it, the maps' elements are diffed, and every
// chain and set is rewritten (flush and refill) in the same transaction, which yields the same ruleset without a
// moment in which a port is open. Later passes write only what changed since the last apply.
//
// Flows a change stops allowing are cut (conntrack -D) by comparing the new input with the last applied one. That
// one is also kept in the agent's state dir (firewall-applied.json, domain/firewall.ts firewallMemory): a rule
// removed while the agent was down still cuts its flows when the agent comes back, as the kernel's ruleset alone
// cannot say which rule, group member or address-group entry allowed a flow.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FW_TABLE,
  allocateMarks,
  compileFirewall,
  conntrackCuts,
  firewallMemory,
  firewallScript,
  objectKey,
  type AppliedFirewall,
  type Family,
  type FirewallInput,
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

/** conntrack processes run side by side when a change cuts flows of many ports. */
const CONNTRACK_PARALLEL = 4;

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
/** Both v6stack-fw tables as `nft -j` lists them; a missing table is absent from the map. */
export async function listTables(ns: string): Promise<Map<Family, Record<string, any>[]>> {
  const out = new Map<Family, Record<string, any>[]>();
  for (const family of ['bridge', 'inet'] as Family[]) {
    const r = await run(nft(ns, ['-j', 'list', 'table', family, FW_TABLE]));
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) continue;
      throw new Error(`nft list table ${family} ${FW_TABLE} in ${ns}: ${r.stderr.trim()}`);
    }
    out.set(family, (JSON.parse(r.stdout) as { nftables: Record<string, any>[] }).nftables);
  }
  return out;
}

/** Keys that change by themselves (handles, counters, quotas, timeouts): not part of what was applied. */
const VOLATILE = new Set(['handle', 'packets', 'bytes', 'used', 'expires']);
const stable = (v: unknown): string => JSON.stringify(v, (k, x) => (VOLATILE.has(k) ? undefined : x));

/** A set's or map's declaration and elements, sorted: a hash set lists in bucket order, which a resize may change. */
function setContent(set: Record<string, unknown>): string {
  const elem = Array.isArray(set.elem) ? (set.elem as unknown[]).map(stable).sort() : [];
  return stable({ ...set, elem });
}

/**
 * Each object's content as the kernel lists it, normalised (no handles, counters or timeouts): a chain's hook and
 * its rules' expressions in order, a set's or map's declaration and elements. Taken right after an apply, it is
 * what a later listing must still show (kernelDrift): the compiler's rule text and nft's JSON do not compare
 * directly (nft canonicalises `meta l4proto 6` as `tcp`, sorts set elements), the kernel's own listings do.
 */
export function kernelContents(tables: Map<Family, Record<string, any>[]>): Map<string, string> {
  const chains = new Map<string, { head: string; rules: string[] }>();
  const out = new Map<string, string>();
  for (const [family, items] of tables) {
    for (const item of items) {
      if (item.chain) {
        const { name, table: _t, family: _f, ...head } = item.chain as Record<string, unknown>;
        const key = objectKey({ family, kind: 'chain', name: String(name) });
        chains.set(key, { head: stable(head), rules: chains.get(key)?.rules ?? [] });
      } else if (item.set) out.set(objectKey({ family, kind: 'set', name: item.set.name }), setContent(item.set));
      else if (item.map) out.set(objectKey({ family, kind: 'map', name: item.map.name }), setContent(item.map));
      else if (item.rule) {
        const key = objectKey({ family, kind: 'chain', name: item.rule.chain });
        const c = chains.get(key) ?? { head: '', rules: [] };
        c.rules.push(stable({ expr: item.rule.expr, comment: item.rule.comment }));
        chains.set(key, c);
      }
    }
  }
  for (const [key, c] of chains) out.set(key, JSON.stringify(c));
  return out;
}

/**
 * How the kernel's tables differ from what was applied, or null: an object missing or extra, a base chain without
 * its hook, a chain with another number of rules, a set or map with another number of elements; and, given the
 * contents listed right after the apply (kernelContents), any object whose content changed since: a rule replaced
 * in place (`nft replace rule`, same count, other text), a set element swapped for another.
 */
export function kernelDrift(tables: Map<Family, Record<string, any>[]>, applied: AppliedFirewall, contents?: ReadonlyMap<string, string>): string | null {
  const seen = new Map<string, { hook: boolean; count: number }>();
  const rules = new Map<string, number>();
  for (const [family, items] of tables) {
    for (const item of items) {
      if (item.chain) seen.set(objectKey({ family, kind: 'chain', name: item.chain.name }), { hook: item.chain.hook !== undefined, count: 0 });
      else if (item.set) seen.set(objectKey({ family, kind: 'set', name: item.set.name }), { hook: false, count: (item.set.elem ?? []).length });
      else if (item.map) seen.set(objectKey({ family, kind: 'map', name: item.map.name }), { hook: false, count: (item.map.elem ?? []).length });
      else if (item.rule) {
        const key = objectKey({ family, kind: 'chain', name: item.rule.chain });
        rules.set(key, (rules.get(key) ?? 0) + 1);
      }
    }
  }
  for (const [key, s] of seen) if (key.includes(' chain ')) s.count = rules.get(key) ?? 0;
  for (const [key, o] of applied.objects) {
    const k = seen.get(key);
    if (!k) return `${key} is missing`;
    const want = o.kind === 'chain' ? o.rules.length : o.kind === 'set' ? o.elements.length : o.elements.size;
    // A set read back after a restart has unknown contents ('(kernel)'): only its presence is checked.
    if (o.kind !== 'chain' && o.decl === '(kernel)') continue;
    if (o.kind === 'chain' && o.hook === '(kernel)') continue;
    if (o.kind === 'chain' && !!o.hook !== k.hook) return `${key} has ${k.hook ? 'a' : 'no'} hook`;
    if (k.count !== want) return `${key} holds ${k.count} ${o.kind === 'chain' ? 'rules' : 'elements'}, not ${want}`;
  }
  for (const key of seen.keys()) if (!applied.objects.has(key)) return `${key} is not ours`;
  if (contents) {
    const now = kernelContents(tables);
    for (const [key, was] of contents) {
      const is = now.get(key);
      if (is === undefined || is === was) continue;
      if (key.includes(' chain ')) {
        const a = JSON.parse(was) as { head: string; rules: string[] };
        const b = JSON.parse(is) as { head: string; rules: string[] };
        if (a.head !== b.head) return `${key} has another hook, type or policy`;
        const i = a.rules.findIndex((r, n) => r !== b.rules[n]);
        return `${key}: rule ${i + 1} of ${a.rules.length} differs from what was applied`;
      }
      return `${key} holds other elements`;
    }
  }
  return null;
}

export async function readKernel(ns: string): Promise<KernelState> {
  const objects = new Map<string, NftObject>();
  const marks = new Map<string, number>();
  const tables = await listTables(ns);
  const empty = tables.size === 0;
  for (const [family, items] of tables) {
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
  /** The input of the plan last applied: what the next change is compared with to cut flows it no longer allows. */
  private lastInput: Omit<FirewallInput, 'marks'> | null = null;
  /** The last applied input as written to the state file (JSON), so an unchanged one is not written again. */
  private savedMemory: string | null = null;
  /** The kernel's listing of every object right after the last apply (kernelContents): what the resync compares. */
  private contents: Map<string, string> | null = null;
  private loaded = false;

  /** `stateFile`: where the last applied input is kept across restarts (none: only in memory). */
  constructor(private readonly stateFile?: string) {}

  /** The input applied before this process started, from the state file; null when there is none (a first start). */
  private async loadMemory(log: (line: string) => void): Promise<void> {
    this.loaded = true;
    if (!this.stateFile) return;
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch {
      return;
    }
    try {
      const m = JSON.parse(text) as { version?: number; input?: Omit<FirewallInput, 'marks'> };
      if (m.version === 1 && m.input && Array.isArray(m.input.local)) {
        this.lastInput = m.input;
        this.savedMemory = text;
      }
    } catch (e) {
      log(`firewall: ignoring ${this.stateFile}: ${(e as Error).message}`);
    }
  }

  /** Writes the applied input's memory (tmp file + rename: a crash leaves the old one or the new one whole). */
  private async saveMemory(input: Omit<FirewallInput, 'marks'>): Promise<void> {
    if (!this.stateFile) return;
    const text = JSON.stringify({ version: 1, input: firewallMemory(input) });
    if (text === this.savedMemory) return;
    await writeFile(`${this.stateFile}.tmp`, text);
    await rename(`${this.stateFile}.tmp`, this.stateFile);
    this.savedMemory = text;
  }

  /**
   * Makes the kernel hold `spec`'s plan; returns the number of script lines run (0: nothing to do). With `verify`
   * (the agent's periodic full resync) the kernel's tables are first compared with what was applied: a table,
   * chain, set or rule deleted or added by hand makes this pass read the kernel back and rewrite every object in one
   * transaction (the same path as a restart), so the ruleset is restored without a moment in which a port is open.
   */
  async apply(spec: FirewallSpec | undefined, log: (line: string) => void, opts: { verify?: boolean } = {}): Promise<number> {
    if (!spec || !spec.namespace) return 0;
    if (!this.loaded) await this.loadMemory(log);
    if (opts.verify && this.applied && this.namespace === spec.namespace) {
      const drift = kernelDrift(await listTables(spec.namespace), this.applied, this.contents ?? undefined);
      if (drift) {
        log(`firewall: the kernel's ${FW_TABLE} tables differ from what was applied (${drift}): restoring them`);
        this.applied = null;
        this.contents = null;
      }
    }
    if (!this.applied || this.namespace !== spec.namespace) {
      const kernel = await readKernel(spec.namespace);
      // No filtered port and no table: nothing to enforce, and no reason to start conntrack in the namespace.
      if (kernel.empty && spec.input.local.length === 0) return 0;
      this.applied = kernel.applied;
      // A table deleted by hand takes its dispatch map with it: the marks the bridge chains still set are ours.
      if (kernel.marks.size || this.namespace !== spec.namespace) this.marks = kernel.marks;
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
          this.contents = null;
          throw new Error(`nft -f in ${spec.namespace}: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const lines = script.split('\n').length - 1;
      log(`firewall: ${spec.input.local.length} filtered ports, ${lines} nft lines applied in one transaction`);
    }
    this.applied = { objects: new Map(plan.objects.map((o) => [objectKey(o), o])) };
    // What the kernel holds once it holds the plan, listed again only when a script ran (or after a read-back).
    if (script !== null || !this.contents) this.contents = kernelContents(await listTables(spec.namespace));
    this.marks = marks;
    this.lastPlan = plan;
    // Only once the new ruleset is in place: a cut flow's next packet is judged by it.
    if (script !== null && this.lastInput) await this.cutFlows(spec.namespace, conntrackCuts(this.lastInput, spec.input), log);
    this.lastInput = spec.input;
    // After the cuts: a crash before this line leaves the older memory, whose cuts are a superset (deleting the
    // entry of a flow still allowed only makes its next packet be judged again).
    await this.saveMemory(spec.input);
    return script === null ? 0 : script.split('\n').length - 1;
  }

  /** Runs `conntrack -D` commands in the namespace; "0 flow entries have been deleted" (status 1) is no failure. */
  private async cutFlows(ns: string, cuts: string[][], log: (line: string) => void): Promise<void> {
    if (!cuts.length) return;
    let deleted = 0;
    // One process per command (conntrack takes one filter each); a few side by side, as a rule removed from a group
    // of many ports is one command per port address.
    const queue = [...cuts];
    const worker = async (): Promise<void> => {
      for (let argv = queue.shift(); argv; argv = queue.shift()) {
        const r = await run(['ip', 'netns', 'exec', ns, ...argv]);
        const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
        if (m) deleted += Number(m[1]);
        else if (r.code !== 0) log(`firewall: ${argv.join(' ')}: ${r.stderr.trim()}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONNTRACK_PARALLEL, cuts.length) }, worker));
    log(`firewall: conntrack clean-up: ${cuts.length} commands, ${deleted} flow entries deleted`);
  }

  /** Forget what was applied: the next apply reads the kernel again (a failed pass, a full resync). */
  reset(): void {
    this.applied = null;
    this.contents = null;
  }
}
