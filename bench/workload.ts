// The workload, identical for every server under test (v6stack on SQLite, v6stack on PostgreSQL, Neutron): only the
// counts differ, because Neutron creates about 4 ports/s. Everything it creates carries the run's tag in its name so
// that cleanup removes exactly that and nothing else.
//
//   setup      two networks: one SLAAC /64, one DHCPv6-stateful /64; a subnet pool (/36, default_prefixlen 64);
//              a router (ha false); two fill networks for the listing (SLAAC and stateful)
//   fill       bulk creates (100 ports per POST) until the server holds `listPorts` ports, half on each fill net
//   list       GET /v2.0/ports, ?fields=id, ?network_id=<stateful fill net>, ?limit=100, `listRepeats` times each
//   seq        `seq` sequential POST /v2.0/ports on the SLAAC subnet
//   conc       `conc` POST /v2.0/ports on the stateful subnet from `concurrency` clients
//   pool       `poolSubnets` subnets from the pool, each on its own network (POST /v2.0/subnets timed)
//   iface      add each of those subnets to the router (PUT add_router_interface timed)
//   cleanup    (Neutron only) remove interfaces, delete the router, ports, networks and the pool

import type { Client, CpuDelta, LatencyStats } from './lib.js';
import { cpuDelta, cpuSnap, log, pool, procIo, round, stats } from './lib.js';

export interface Counts {
  seq: number;
  conc: number;
  concurrency: number;
  listPorts: number;
  listRepeats: number;
  poolSubnets: number;
  /** Seconds each phase may run before it stops issuing requests. */
  phaseSeconds: number;
}

export interface Target {
  name: string;
  client: Client;
  /** Pids of the server under test (re-read at each CPU snapshot). */
  serverPids: () => number[];
  /** The server process whose writes (/proc/PID/io) are counted, if we own it. */
  ioPid?: number;
  counts: Counts;
  /** Neutron: fill networks are kept between runs when true. */
  keepFill: boolean;
  cleanup: boolean;
}

export interface OpResult {
  requests: number;
  ok: number;
  errors: Record<string, number>;
  wall_s: number;
  per_s: number;
  latency: LatencyStats;
  cpu: CpuDelta;
  server_cpu_ms_per_op: number;
  /** Write syscalls of the server process per successful op (a proxy for commits: WAL writes + fsyncs). */
  server_write_syscalls_per_op?: number;
  concurrency: number;
}

export interface ListResult {
  query: string;
  ports_returned: number | null;
  response_bytes: number;
  statuses: Record<string, number>;
  latency: LatencyStats;
}

export interface TargetResult {
  name: string;
  url: string;
  keepalive: boolean;
  counts: Counts;
  ports_before: number;
  fill: { created: number; reused: number; wall_s: number; per_s: number; method: string; failed_requests?: number };
  list?: Record<string, ListResult>;
  seq?: OpResult;
  conc?: OpResult;
  pool_subnet?: OpResult;
  router_iface?: OpResult;
  stateful_addresses?: { count: number; unique: number; sample: string[] };
  cleanup?: { deleted: Record<string, number>; wall_s: number; kept: string[] };
  error?: string;
}

const FILL_NETS = ['v6bench-fill-slaac', 'v6bench-fill-stateful'];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function lookupByName(c: Client, kind: string, name: string): Promise<Json | undefined> {
  const r = await c.ok('GET', `/${kind}s?name=${encodeURIComponent(name)}`, undefined, 200);
  return (r.json[`${kind}s`] as Json[])[0];
}

function fillMac(seed: number, i: number): string {
  const h = (x: number): string => x.toString(16).padStart(2, '0');
  return `fa:16:3e:${h(seed)}:${h((i >> 8) & 0xff)}:${h(i & 0xff)}`;
}

async function makeNetwork(c: Client, name: string, cidr: string | null, mode: string | null): Promise<{ net: string; subnet: string | null }> {
  const n = await c.ok('POST', '/networks', { network: { name } }, 201);
  const net = n.json.network.id as string;
  if (!cidr) return { net, subnet: null };
  const body: Json = { network_id: net, name: `${name}-subnet`, ip_version: 6, cidr };
  if (mode) Object.assign(body, { ipv6_ra_mode: mode, ipv6_address_mode: mode });
  const s = await c.ok('POST', '/subnets', { subnet: body }, 201);
  return { net, subnet: s.json.subnet.id as string };
}

async function timedOps(
  t: Target,
  n: number,
  conc: number,
  op: (i: number) => Promise<{ status: number; ms: number; json: unknown }>,
  expect: number,
  onOk?: (i: number, json: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
  label = '',
): Promise<OpResult> {
  const lat: number[] = [];
  const errors: Record<string, number> = {};
  let ok = 0;
  const io0 = t.ioPid ? procIo(t.ioPid) : undefined;
  const c0 = cpuSnap(t.serverPids);
  const deadline = Date.now() + t.counts.phaseSeconds * 1000;
  const step = Math.max(1, Math.round(n / 4));
  const done = await pool(n, conc, deadline, async (i) => {
    let r: { status: number; ms: number; json: unknown };
    try {
      r = await op(i);
    } catch (e) {
      const k = `exception ${(e as Error).message.slice(0, 120)}`;
      errors[k] = (errors[k] ?? 0) + 1;
      return;
    }
    lat.push(r.ms);
    if (r.status === expect) {
      ok++;
      onOk?.(i, r.json);
    } else {
      const k = `${r.status} ${JSON.stringify(r.json).slice(0, 160)}`;
      errors[k] = (errors[k] ?? 0) + 1;
    }
    if (label && (i + 1) % step === 0) log(`  ${t.name} ${label}: ${i + 1}/${n}`);
  });
  const cpu = cpuDelta(c0, cpuSnap(t.serverPids));
  const io1 = t.ioPid ? procIo(t.ioPid) : undefined;
  if (done < n) errors[`stopped by the ${t.counts.phaseSeconds} s phase limit after ${done}`] = n - done;
  const res: OpResult = {
    requests: done,
    ok,
    errors,
    wall_s: cpu.wall_s,
    per_s: round(ok / cpu.wall_s, 2),
    latency: stats(lat),
    cpu,
    server_cpu_ms_per_op: round((cpu.server_cpu_s * 1000) / Math.max(1, ok), 3),
    concurrency: conc,
  };
  if (io0 && io1) res.server_write_syscalls_per_op = round((io1.syscw - io0.syscw) / Math.max(1, ok), 2);
  return res;
}

export async function runWorkload(t: Target, tag: string): Promise<TargetResult> {
  const c = t.client;
  const k = t.counts;
  const before = await c.ok('GET', '/ports?fields=id', undefined, 200);
  const result: TargetResult = {
    name: t.name,
    url: c.url,
    keepalive: c.keepAlive,
    counts: k,
    ports_before: (before.json.ports as unknown[]).length,
    fill: { created: 0, reused: 0, wall_s: 0, per_s: 0, method: 'bulk POST /v2.0/ports, 100 ports per request' },
  };
  const created = { networks: [] as string[], routers: [] as string[], subnetpools: [] as string[] };
  const ifaces: { router: string; subnet: string }[] = [];
  try {
    // ---- setup
    log(`${t.name}: setup`);
    const slaac = await makeNetwork(c, `${tag}-slaac`, '2001:db8:a1::/64', 'slaac');
    created.networks.push(slaac.net);
    const stateful = await makeNetwork(c, `${tag}-stateful`, '2001:db8:a2::/64', 'dhcpv6-stateful');
    created.networks.push(stateful.net);
    const sp = await c.ok(
      'POST',
      '/subnetpools',
      { subnetpool: { name: `${tag}-pool`, prefixes: ['2001:db8:b000::/36'], default_prefixlen: 64 } },
      201,
    );
    const poolId = sp.json.subnetpool.id as string;
    created.subnetpools.push(poolId);
    const rt = await c.ok('POST', '/routers', { router: { name: `${tag}-router`, ha: false } }, 201);
    const routerId = rt.json.router.id as string;
    created.routers.push(routerId);
    const fill: { net: string; subnet: string | null }[] = [];
    for (const [i, name] of FILL_NETS.entries()) {
      const existing = await lookupByName(c, 'network', name);
      if (existing) fill.push({ net: existing.id as string, subnet: (existing.subnets as string[])[0] ?? null });
      else fill.push(await makeNetwork(c, name, i === 0 ? '2001:db8:f1::/64' : '2001:db8:f2::/64', i === 0 ? 'slaac' : 'dhcpv6-stateful'));
    }

    // ---- warm-up (not measured): a few creates and deletes, and one listing
    for (let i = 0; i < 5; i++) {
      const r = await c.request('POST', '/ports', { port: { network_id: slaac.net, name: `${tag}-warmup-${i}` } });
      if (r.status === 201) await c.request('DELETE', `/ports/${r.json.port.id}`);
    }

    // ---- fill for the listing
    const have = (await c.ok('GET', '/ports?fields=id', undefined, 200)).json.ports.length as number;
    const need = Math.max(0, k.listPorts - have);
    result.fill.reused = have;
    log(`${t.name}: ${have} ports present, bulk-creating ${need} more for the listing`);
    const macSeed = Math.floor(Math.random() * 256);
    const f0 = performance.now();
    const fillDeadline = Date.now() + Math.max(k.phaseSeconds, 900) * 1000;
    for (let done = 0, b = 0; done < need && Date.now() < fillDeadline; b++) {
      const size = Math.min(100, Math.ceil(need / 2), need - done);
      const target = fill[b % 2]!;
      // Explicit MACs: Neutron Zed's bulk create on a SLAAC subnet answers 500 without them (its bulk path computes
      // the EUI-64 address before it has generated a MAC: "Bad prefix type for generating IPv6 address by EUI-64").
      const ports = Array.from({ length: size }, (_, i) => ({
        network_id: target.net,
        name: `v6bench-fill-${tag}-${done + i}`,
        mac_address: fillMac(macSeed, done + i),
      }));
      // A failed or timed-out bulk request does not end the run: count what is there and go on (bounded by time).
      try {
        const r = await c.ok('POST', '/ports', { ports }, 201);
        done += (r.json.ports as unknown[]).length;
      } catch (e) {
        log(`  ${t.name} fill: bulk request failed (${(e as Error).message.slice(0, 160)}); recounting`);
        const now = (await c.ok('GET', '/ports?fields=id', undefined, 200)).json.ports.length as number;
        done = Math.max(done, now - have);
        result.fill.failed_requests = (result.fill.failed_requests ?? 0) + 1;
      }
      result.fill.created = done;
      if (b % 5 === 4) log(`  ${t.name} fill: ${done}/${need}`);
    }
    result.fill.wall_s = round((performance.now() - f0) / 1000, 2);
    result.fill.per_s = result.fill.created ? round(result.fill.created / result.fill.wall_s, 2) : 0;

    // ---- listing
    log(`${t.name}: listing (${k.listRepeats} repeats each)`);
    await c.request('GET', '/ports');
    result.list = {};
    for (const [label, q] of [
      ['all', '/ports'],
      ['fields_id', '/ports?fields=id'],
      ['network_id', `/ports?network_id=${fill[1]!.net}`],
      ['limit_100', '/ports?limit=100'],
    ] as const) {
      const lat: number[] = [];
      const statuses: Record<string, number> = {};
      let count: number | null = null;
      let bytes = 0;
      for (let i = 0; i < k.listRepeats; i++) {
        const r = await c.request('GET', q);
        lat.push(r.ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        count = r.json?.ports ? (r.json.ports as unknown[]).length : null;
        bytes = r.bytes;
      }
      result.list[label] = { query: q, ports_returned: count, response_bytes: bytes, statuses, latency: stats(lat) };
      log(`  ${t.name} list ${label}: ${count} ports, ${bytes} B, p50 ${result.list[label]!.latency.p50_ms} ms`);
    }

    // ---- sequential SLAAC creates
    log(`${t.name}: ${k.seq} sequential port creates (SLAAC)`);
    result.seq = await timedOps(
      t,
      k.seq,
      1,
      (i) => c.request('POST', '/ports', { port: { network_id: slaac.net, name: `${tag}-seq-${i}`, fixed_ips: [{ subnet_id: slaac.subnet }] } }),
      201,
      undefined,
      'seq',
    );
    log(`  -> ${result.seq.per_s} ports/s, p50 ${result.seq.latency.p50_ms} ms, p99 ${result.seq.latency.p99_ms} ms`);

    // ---- concurrent stateful creates
    log(`${t.name}: ${k.conc} port creates (DHCPv6-stateful), ${k.concurrency} clients`);
    const ips: string[] = [];
    result.conc = await timedOps(
      t,
      k.conc,
      k.concurrency,
      (i) => c.request('POST', '/ports', { port: { network_id: stateful.net, name: `${tag}-conc-${i}`, fixed_ips: [{ subnet_id: stateful.subnet }] } }),
      201,
      (_i, json) => ips.push(json.port.fixed_ips[0].ip_address as string),
      'conc',
    );
    result.stateful_addresses = { count: ips.length, unique: new Set(ips).size, sample: ips.slice(0, 3) };
    log(`  -> ${result.conc.per_s} ports/s, p50 ${result.conc.latency.p50_ms} ms, p99 ${result.conc.latency.p99_ms} ms`);

    // ---- subnets from the pool, one network each (network creation not timed)
    log(`${t.name}: ${k.poolSubnets} subnets from a subnet pool`);
    const poolNets: string[] = [];
    for (let i = 0; i < k.poolSubnets; i++) {
      const n = await c.ok('POST', '/networks', { network: { name: `${tag}-pooled-${i}` } }, 201);
      poolNets.push(n.json.network.id as string);
      created.networks.push(n.json.network.id as string);
    }
    const poolSubnets: string[] = [];
    result.pool_subnet = await timedOps(
      t,
      k.poolSubnets,
      1,
      (i) => c.request('POST', '/subnets', { subnet: { network_id: poolNets[i], name: `${tag}-pooled-${i}`, ip_version: 6, subnetpool_id: poolId } }),
      201,
      (_i, json) => poolSubnets.push(json.subnet.id as string),
    );
    log(`  -> p50 ${result.pool_subnet.latency.p50_ms} ms, p99 ${result.pool_subnet.latency.p99_ms} ms`);

    log(`${t.name}: ${poolSubnets.length} router interface adds`);
    result.router_iface = await timedOps(
      t,
      poolSubnets.length,
      1,
      (i) => c.request('PUT', `/routers/${routerId}/add_router_interface`, { subnet_id: poolSubnets[i] }),
      200,
      (i) => ifaces.push({ router: routerId, subnet: poolSubnets[i]! }),
    );
    log(`  -> p50 ${result.router_iface.latency.p50_ms} ms, p99 ${result.router_iface.latency.p99_ms} ms`);
  } catch (e) {
    result.error = (e as Error).stack ?? String(e);
    log(`${t.name}: FAILED: ${(e as Error).message}`);
  } finally {
    if (t.cleanup) result.cleanup = await cleanup(t, tag, created, ifaces);
  }
  return result;
}

/** Deletes what this run made (and the fill networks unless they are kept). */
async function cleanup(
  t: Target,
  tag: string,
  _created: { networks: string[]; routers: string[]; subnetpools: string[] },
  _ifaces: { router: string; subnet: string }[],
): Promise<NonNullable<TargetResult['cleanup']>> {
  log(`${t.name}: cleanup`);
  return sweep(t.client, t.keepFill ? [tag] : [tag, 'v6bench-fill-'], t.keepFill, t.name);
}

/**
 * Removes everything whose name starts with one of `prefixes`: router interfaces and routers, ports (by name, or on
 * a swept network), networks (with their subnets) and subnet pools. Bounded in count and time (30 min).
 */
export async function sweep(c: Client, prefixes: string[], keepFill: boolean, label = 'sweep'): Promise<NonNullable<TargetResult['cleanup']>> {
  const t0 = performance.now();
  const deadline = Date.now() + 1800 * 1000;
  const deleted: Record<string, number> = { router_interfaces: 0, routers: 0, ports: 0, networks: 0, subnetpools: 0 };
  const kept: string[] = keepFill ? [`fill networks ${FILL_NETS.join(', ')} and their ports (--keep-neutron-fill)`] : [];
  const mine = (name: unknown): boolean => prefixes.some((p) => String(name ?? '').startsWith(p));
  const attempt = async (m: string, p: string, body?: unknown): Promise<boolean> => {
    try {
      const r = await c.request(m, p, body);
      return r.status >= 200 && r.status < 300;
    } catch {
      return false;
    }
  };
  const listOf = async (kind: string, fields: string[]): Promise<Json[]> =>
    (await c.ok('GET', `/${kind}s?${fields.map((f) => `fields=${f}`).join('&')}`, undefined, 200)).json[`${kind}s`] as Json[];
  const routers = (await listOf('router', ['id', 'name'])).filter((r) => mine(r.name));
  for (const r of routers) {
    const ports = (await c.ok('GET', `/ports?device_id=${r.id}&fields=id&fields=device_owner`, undefined, 200)).json.ports as Json[];
    for (const p of ports) {
      if (String(p.device_owner).includes('router_interface') && (await attempt('PUT', `/routers/${r.id}/remove_router_interface`, { port_id: p.id }))) {
        deleted.router_interfaces!++;
      }
    }
    if (await attempt('DELETE', `/routers/${r.id}`)) deleted.routers!++;
  }
  const nets = (await listOf('network', ['id', 'name'])).filter((n) => mine(n.name));
  const netIds = new Set(nets.map((n) => n.id as string));
  const ports = (await listOf('port', ['id', 'name', 'network_id'])).filter((p) => mine(p.name) || netIds.has(p.network_id as string));
  log(`  ${label}: deleting ${ports.length} ports (8 clients)`);
  const step = Math.max(250, Math.round(ports.length / 4));
  await pool(ports.length, 8, deadline, async (i) => {
    if (await attempt('DELETE', `/ports/${ports[i]!.id}`)) deleted.ports!++;
    if ((i + 1) % step === 0) log(`  ${label}: ${i + 1}/${ports.length} ports`);
  });
  for (const n of nets) if (await attempt('DELETE', `/networks/${n.id}`)) deleted.networks!++;
  for (const p of (await listOf('subnetpool', ['id', 'name'])).filter((x) => mine(x.name))) {
    if (await attempt('DELETE', `/subnetpools/${p.id}`)) deleted.subnetpools!++;
  }
  return { deleted, wall_s: round((performance.now() - t0) / 1000, 1), kept };
}
