// Subnet pool allocation at scale (issue 19): does each pool operation cost the same with 0, 10,000 and 100,000
// subnets already allocated from the pool? In process, through the resources' own create and delete (schema
// conversion, the pool lock, the allocator, the subnet rules, the network's refresh, the store's transaction),
// without HTTP, so that the figures are the pool's and not the server's. One pool 2001:db8::/32
// (default_prefixlen 64, min_prefixlen 48), a network per 100 subnets; the fill runs `--concurrency` creates at once
// (they share group commits).
//
// At each checkpoint (0, 10,000, 100,000 allocated), `--probes` of each operation, one at a time, each timed alone:
//   - plain: a create with the pool's default length (the next /64);
//   - explicit: a create of an explicit cidr at the far end of the pool (deleted again, untimed);
//   - after delete: one subnet of the fill is deleted (untimed), then a plain create, which takes the hole;
//   - prefixlen: a create asking for a /60 (a block of another size than the fill's), deleted again.
// Prints p50 and p99 per operation and checkpoint, and the machine's load average at start and end.
//
//   npm run bench:pools                      # embedded store, up to 100,000 subnets
//   npm run bench:pools -- --store postgres://user:pw@host/db --target 20000
//   options: --target N --probes N --concurrency N --store URL

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
import { stats } from './lib.js';
import type { Store } from '../src/store/types.js';
import { checkBody } from '../src/schema/convert.js';
import { network as networkSchema, subnet as subnetSchema, subnetpool as subnetpoolSchema, type ResourceSchema } from '../src/schema/index.js';
import { networks } from '../src/api/resources/networks.js';
import { subnets } from '../src/api/resources/subnets.js';
import { subnetpools } from '../src/api/resources/subnetpools.js';
import type { RequestContext } from '../src/api/context.js';
import type { ResourceDef } from '../src/api/resource.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(argv[i + 1]);
};
const storeArg = argv.includes('--store') ? argv[argv.indexOf('--store') + 1]! : null;
const target = opt('target', 100_000);
const probes = opt('probes', 100);
const concurrency = opt('concurrency', 100);
const checkpoints = [...new Set([0, 10_000, 100_000].filter((c) => c < target).concat(target))];

const ctx: RequestContext = { projectId: 'bench-project', isAdmin: true, requestId: 'bench' };

async function create(store: Store, def: ResourceDef, schema: ResourceSchema, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const input = checkBody(schema, body, 'create');
  return store.write((tx) => def.create(tx, ctx, input)) as Promise<Record<string, unknown>>;
}

type Op = 'plain' | 'explicit' | 'after_delete' | 'prefixlen';
const OPS: Op[] = ['plain', 'explicit', 'after_delete', 'prefixlen'];

interface Checkpoint {
  allocated: number;
  ms: Record<Op, { p50: number; p99: number; n: number }>;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v6stack-bench-pools-'));
  let store: Store | null = null;
  const loadStart = os.loadavg();
  try {
    store = await openStore(storeArg ?? `sqlite:${path.join(dir, 'pools.db')}`);
    const s = store;
    const pool = await create(s, subnetpools, subnetpoolSchema as ResourceSchema, {
      name: 'bench',
      prefixes: ['2001:db8::/32'],
      default_prefixlen: 64,
      min_prefixlen: 48,
    });
    let networkId = '';
    let allocated = 0;
    let lastCidr = '';
    const fill: Record<string, unknown>[] = [];
    const subnetBody = (network: string, extra: Record<string, unknown> = {}) => ({
      network_id: network,
      ip_version: 6,
      subnetpool_id: pool.id,
      enable_dhcp: false,
      ...extra,
    });
    const plainBatch = async (n: number): Promise<void> => {
      for (let done = 0; done < n; ) {
        const batch = Math.min(concurrency, n - done, 100 - (allocated % 100));
        if (allocated % 100 === 0) networkId = (await create(s, networks, networkSchema as ResourceSchema, { name: `n${allocated}` })).id as string;
        const made = await Promise.all(Array.from({ length: batch }, () => create(s, subnets, subnetSchema as ResourceSchema, subnetBody(networkId))));
        fill.push(...made);
        lastCidr = made[made.length - 1]!.cidr as string;
        allocated += batch;
        done += batch;
      }
    };
    const remove = (sub: Record<string, unknown>) => s.write((tx) => subnets.remove!(tx, ctx, sub as never));
    const timed = async <T>(lat: number[], f: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const out = await f();
      lat.push(performance.now() - t);
      return out;
    };
    const results: Checkpoint[] = [];
    const t0 = performance.now();
    let seed = 12345;
    const random = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    for (const at of checkpoints) {
      if (allocated < at) await plainBatch(at - allocated);
      const start = allocated;
      const lat: Record<Op, number[]> = { plain: [], explicit: [], after_delete: [], prefixlen: [] };
      const probeNet = (await create(s, networks, networkSchema as ResourceSchema, { name: `probe${at}` })).id as string;
      for (let i = 0; i < probes; i++) {
        // plain: the next /64 (kept: it is part of the pool from then on).
        if (allocated % 100 === 0) networkId = (await create(s, networks, networkSchema as ResourceSchema, { name: `n${allocated}` })).id as string;
        fill.push(await timed(lat.plain, () => create(s, subnets, subnetSchema as ResourceSchema, subnetBody(networkId))));
        allocated++;
        // explicit: a /64 at the far end of the pool, then deleted.
        const far = `2001:db8:ffff:${i.toString(16)}::/64`;
        await remove(await timed(lat.explicit, () => create(s, subnets, subnetSchema as ResourceSchema, subnetBody(probeNet, { cidr: far }))));
        // after delete: a hole somewhere in the fill, then a plain create (which takes it).
        const victim = fill.splice(Math.floor(random() * fill.length), 1)[0]!;
        await remove(victim);
        const filled = await timed(lat.after_delete, () => create(s, subnets, subnetSchema as ResourceSchema, subnetBody(victim.network_id as string)));
        if (filled.cidr !== victim.cidr) throw new Error(`the hole ${String(victim.cidr)} was not reused (got ${String(filled.cidr)})`);
        fill.push(filled);
        // prefixlen: a /60, then deleted.
        await remove(await timed(lat.prefixlen, () => create(s, subnets, subnetSchema as ResourceSchema, subnetBody(probeNet, { prefixlen: 60 }))));
      }
      const ms = Object.fromEntries(
        OPS.map((op) => {
          const st = stats(lat[op]);
          return [op, { p50: st.p50_ms, p99: st.p99_ms, n: st.n }];
        }),
      ) as Checkpoint['ms'];
      results.push({ allocated: start, ms });
      console.log(
        `allocated ${start.toLocaleString('en')}: ` + OPS.map((op) => `${op} p50 ${ms[op].p50} ms p99 ${ms[op].p99} ms`).join('; ') + ` (${probes} each)`,
      );
    }
    const wall = (performance.now() - t0) / 1000;
    const loadEnd = os.loadavg();
    console.log(
      `${allocated.toLocaleString('en')} subnets from one pool in ${wall.toFixed(1)} s; last fill ${lastCidr}; store ${storeArg ? storeArg.replace(/\/\/[^@]*@/, '//…@') : 'embedded (SQLite)'}; ` +
        `load average ${loadStart.map((x) => x.toFixed(1)).join(' ')} at start, ${loadEnd.map((x) => x.toFixed(1)).join(' ')} at end, ${os.cpus().length} cores`,
    );
    console.log(JSON.stringify({ target, probes, concurrency, wall_s: Number(wall.toFixed(1)), last_cidr: lastCidr, load_start: loadStart, load_end: loadEnd, checkpoints: results }));
  } finally {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
