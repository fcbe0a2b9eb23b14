// The import graph of src/, read from the sources: no file reaches itself through its imports (type-only imports
// included: a circle of types is still a circle a reader has to untangle), and the agent imports nothing of the lab
// (the lab, the DC and the demo use the agent's renderers and names, never the other way round).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/agent -> the repository's src/
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../src');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** file (relative to src) -> the src files it imports or re-exports from. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)) {
      deps.push(relative(SRC, resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
    }
    graph.set(relative(SRC, file), deps);
  }
  return graph;
}

/** The circles met on a depth-first walk, each as the path that closes it (a -> b -> a). */
function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

test('the circle finder finds a circle (so an empty answer means something)', () => {
  const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  assert.deepEqual(circles(g), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  assert.deepEqual(circles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
});

test('src/ has no import circles', () => {
  const graph = importGraph();
  assert.ok(graph.size > 50 && graph.has('agent/agent.ts') && graph.get('agent/agent.ts')!.includes('agent/plan.ts'), 'the graph was read');
  assert.deepEqual(circles(graph).map((c) => c.join(' -> ')), []);
});

test('the agent imports nothing of the lab', () => {
  const graph = importGraph();
  const up = [...graph].filter(([f]) => f.startsWith('agent/')).flatMap(([f, deps]) => deps.filter((d) => d.startsWith('lab/')).map((d) => `${f} -> ${d}`));
  assert.deepEqual(up, []);
  assert.ok([...graph].some(([f, deps]) => f.startsWith('lab/') && deps.some((d) => d.startsWith('agent/'))), 'the lab does use the agent (the check reads real imports)');
});
