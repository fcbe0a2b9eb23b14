// Subnet pool allocation at scale (issue 19): does a subnet create from a pool cost the same with 0, 10,000 and
// 100,000 subnets already allocated from it? In process, through the resources' own create (schema conversion,
// the pool lock, the allocator, the subnet rules, the network's refresh, the store's transaction), without HTTP,
// so that the figures are the pool's and not the server's. One pool 2001:db8::/32 (default_prefixlen 64), a
// network per 100 subnets, `--concurrency` creates queued at once (they share group commits).
//
// At each checkpoint (0, 10,000, 100,000 allocated):
//   - plain: `--window` default-length creates (the pool is filled front to back: the cursor path);
//   - explicit: `--probes` creates of an explicit cidr at the far end of the pool, each deleted again (the exact
//     allocator's path, which reads every subnet of the pool, as Neutron's does: it is not flat);
//   - the first plain create after such a delete (the exact path once, which re-establishes the cursor).
//
//   npm run bench:pools                      # embedded store, up to 100,000 subnets
//   npm run bench:pools -- --store postgres://user:pw@host/db --target 20000
//   options: --target N --window N --probes N --concurrency N --store URL

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
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
const window = opt('window', 1_000);
const probes = opt('probes', 5);
const concurrency = opt('concurrency', 100);
const checkpoints = [0, 10_000, 100_000].filter((c) => c <= target);

const ctx: RequestContext = { projectId: 'bench-project', isAdmin: true, requestId: 'bench' };

async function create(store: Store, def: ResourceDef, schema: ResourceSchema, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const input = checkBody(schema, body, 'create');
  return store.write((tx) => def.create(tx, ctx, input)) as Promise<Record<string, unknown>>;
}

interface Checkpoint {
  allocated: number;
  plain_us: number;
  explicit_us: number;
  after_hole_us: number;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v6stack-bench-pools-'));
  let store: Store | null = null;
  try {
    store = await openStore(storeArg ?? `sqlite:${path.join(dir, 'pools.db')}`);
    const s = store;
    const pool = await create(s, subnetpools, subnetpoolSchema as ResourceSchema, { name: 'bench', prefixes: ['2001:db8::/32'], default_prefixlen: 64 });
    let networkId = '';
    let allocated = 0;
    let lastCidr = '';
    const plainBatch = async (n: number): Promise<void> => {
      for (let done = 0; done < n; ) {
        const batch = Math.min(concurrency, n - done, 100 - (allocated % 100));
        if (allocated % 100 === 0) networkId = (await create(s, networks, networkSchema as ResourceSchema, { name: `n${allocated}` })).id as string;
        const made = await Promise.all(
          Array.from({ length: batch }, () =>
            create(s, subnets, subnetSchema as ResourceSchema, { network_id: networkId, ip_version: 6, subnetpool_id: pool.id, enable_dhcp: false }),
          ),
        );
        lastCidr = made[made.length - 1]!.cidr as string;
        allocated += batch;
        done += batch;
      }
    };
    const results: Checkpoint[] = [];
    const t0 = performance.now();
    for (const at of checkpoints) {
      if (allocated < at) await plainBatch(at - allocated);
      const start = allocated;
      let t = performance.now();
      await plainBatch(window);
      const plain = ((performance.now() - t) * 1000) / (allocated - start);
      let explicit = 0;
      let afterHole = 0;
      for (let i = 0; i < probes; i++) {
        const probeNet = (await create(s, networks, networkSchema as ResourceSchema, { name: `probe${at}-${i}` })).id as string;
        t = performance.now();
        const sub = await create(s, subnets, subnetSchema as ResourceSchema, {
          network_id: probeNet,
          ip_version: 6,
          subnetpool_id: pool.id,
          cidr: `2001:db8:ffff:${i.toString(16)}::/64`,
          enable_dhcp: false,
        });
        explicit += performance.now() - t;
        await s.write((tx) => subnets.remove!(tx, ctx, sub as never));
        t = performance.now();
        await plainBatch(1);
        afterHole += performance.now() - t;
      }
      results.push({
        allocated: start,
        plain_us: Math.round(plain),
        explicit_us: Math.round((explicit * 1000) / Math.max(probes, 1)),
        after_hole_us: Math.round((afterHole * 1000) / Math.max(probes, 1)),
      });
      console.log(
        `allocated ${start.toLocaleString('en')}: plain ${results.at(-1)!.plain_us} µs/subnet (${window} creates, ${concurrency} at a time); ` +
          `explicit cidr ${results.at(-1)!.explicit_us} µs; first plain after a hole ${results.at(-1)!.after_hole_us} µs`,
      );
    }
    const wall = (performance.now() - t0) / 1000;
    console.log(`${allocated.toLocaleString('en')} subnets from one pool in ${wall.toFixed(1)} s; last ${lastCidr}; store ${storeArg ? storeArg.replace(/\/\/[^@]*@/, '//…@') : 'embedded (SQLite)'}`);
    console.log(JSON.stringify({ target, window, probes, concurrency, wall_s: Number(wall.toFixed(1)), last_cidr: lastCidr, checkpoints: results }));
  } finally {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
