// Turns a results object into the plain table on stdout, the target verdicts, the markdown tables of
// docs/benchmarks.md and the SVG charts.

import type { Ceiling } from './ceiling.js';
import type { IpamScaleResult, PrefixWindow } from './ipam-scale.js';
import type { OpResult, TargetResult } from './workload.js';
import { barChartSvg, fmt } from './svg.js';

export interface Results {
  started: string;
  finished?: string;
  machine: { cores: number; cpu_model: string; memory_gib: number; kernel: string; node: string };
  config: Record<string, unknown>;
  ceiling?: Ceiling;
  targets: Partial<Record<'sqlite' | 'pg' | 'neutron', TargetResult & { server?: Record<string, unknown> }>>;
  ipam?: IpamScaleResult;
  notes: string[];
}

type Better = 'higher' | 'lower' | 'none';
interface Row {
  figure: string;
  sqlite: number | null;
  pg: number | null;
  neutron: number | null;
  better: Better;
}

const v = (x: number | undefined | null): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

function opRows(label: string, get: (t: TargetResult) => OpResult | undefined, r: Results, throughput: boolean): Row[] {
  const pick = (k: 'sqlite' | 'pg' | 'neutron', f: (o: OpResult) => number): number | null => {
    const t = r.targets[k];
    const o = t ? get(t) : undefined;
    return o && o.ok > 0 ? v(f(o)) : null;
  };
  const row = (figure: string, f: (o: OpResult) => number, better: Better): Row => ({
    figure,
    sqlite: pick('sqlite', f),
    pg: pick('pg', f),
    neutron: pick('neutron', f),
    better,
  });
  const rows: Row[] = [];
  if (throughput) rows.push(row(`${label}: ports/s`, (o) => o.per_s, 'higher'));
  rows.push(row(`${label}: p50 ms`, (o) => o.latency.p50_ms, 'lower'));
  rows.push(row(`${label}: p90 ms`, (o) => o.latency.p90_ms, 'lower'));
  rows.push(row(`${label}: p99 ms`, (o) => o.latency.p99_ms, 'lower'));
  if (throughput) rows.push(row(`${label}: server CPU ms/op`, (o) => o.server_cpu_ms_per_op, 'lower'));
  return rows;
}

export function rows(r: Results): Row[] {
  const out: Row[] = [];
  const c = r.ceiling;
  if (c) {
    out.push({ figure: 'ceiling: SQLite durable 1-row commits/s', sqlite: c.sqlite_single_commits_per_s, pg: null, neutron: null, better: 'none' });
    out.push({ figure: 'ceiling: SQLite rows/s in 50-row commits', sqlite: c.sqlite_group50_rows_per_s, pg: null, neutron: null, better: 'none' });
    if (c.postgres && 'commits_per_s' in c.postgres) {
      out.push({ figure: `ceiling: PostgreSQL durable commits/s, ${c.postgres.conns} conns`, sqlite: null, pg: c.postgres.commits_per_s, neutron: null, better: 'none' });
      out.push({ figure: 'ceiling: PostgreSQL durable commits/s, 1 conn', sqlite: null, pg: c.postgres.single_conn_commits_per_s, neutron: null, better: 'none' });
    }
  }
  const seqN = r.targets.sqlite?.counts.seq;
  const concC = r.targets.sqlite?.counts.concurrency ?? r.targets.neutron?.counts.concurrency ?? 8;
  out.push(...opRows('port create, sequential, SLAAC', (t) => t.seq, r, true));
  out.push(...opRows(`port create, ${concC} clients, stateful`, (t) => t.conc, r, true));
  for (const [k, label] of [
    ['all', 'list ~2,000 ports'],
    ['fields_id', 'list ?fields=id'],
    ['network_id', 'list ?network_id= (~1,000)'],
    ['limit_100', 'list ?limit=100'],
  ] as const) {
    for (const p of ['p50_ms', 'p99_ms'] as const) {
      const get = (t?: TargetResult): number | null => v(t?.list?.[k]?.latency[p]);
      out.push({ figure: `${label}: ${p.replace('_ms', '')} ms`, sqlite: get(r.targets.sqlite), pg: get(r.targets.pg), neutron: get(r.targets.neutron), better: 'lower' });
    }
  }
  out.push(...opRows('subnet from pool', (t) => t.pool_subnet, r, false).filter((x) => !x.figure.includes('p90')));
  out.push(...opRows('router interface add', (t) => t.router_iface, r, false).filter((x) => !x.figure.includes('p90')));
  const fill = (t?: TargetResult): number | null => (t && t.fill.created > 0 ? t.fill.per_s : null);
  out.push({ figure: 'bulk port create (100/POST): ports/s', sqlite: fill(r.targets.sqlite), pg: fill(r.targets.pg), neutron: fill(r.targets.neutron), better: 'higher' });
  void seqN;
  return out;
}

function ratio(x: number | null, n: number | null, better: Better): string {
  if (x === null || n === null || better === 'none' || x <= 0 || n <= 0) return '';
  const q = better === 'higher' ? x / n : n / x;
  return `${fmt(q)}x`;
}

function cell(x: number | null): string {
  return x === null ? '-' : fmt(x);
}

export function tableRows(r: Results): string[][] {
  return rows(r).map((row) => {
    const rs = ratio(row.sqlite, row.neutron, row.better);
    const rp = ratio(row.pg, row.neutron, row.better);
    const rat = rs || rp ? `${rs || '-'} / ${rp || '-'}` : '';
    return [row.figure, cell(row.sqlite), cell(row.pg), cell(row.neutron), rat];
  });
}

const HEAD = ['figure', 'v6stack sqlite', 'v6stack pg', 'neutron', 'ratio (sqlite / pg vs neutron)'];

export function textTable(r: Results): string {
  const body = tableRows(r);
  const w = HEAD.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ');
  return [line(HEAD), w.map((n) => '-'.repeat(n)).join('-|-'), ...body.map(line)].join('\n');
}

export function markdownTable(r: Results): string {
  const body = tableRows(r);
  return [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...body.map((b) => `| ${b.join(' | ')} |`)].join('\n');
}

export function verdicts(r: Results): string[] {
  const out: string[] = [];
  const n = r.targets.neutron;
  const check = (name: string, ok: boolean | null, detail: string): void => {
    out.push(`${ok === null ? 'n/a ' : ok ? 'MET ' : 'MISS'}  ${name}: ${detail}`);
  };
  const nConc = n?.conc && n.conc.ok ? n.conc.per_s : null;
  for (const [k, need] of [
    ['sqlite', 300],
    ['pg', 100],
  ] as const) {
    const t = r.targets[k];
    const x = t?.conc && t.conc.ok ? t.conc.per_s : null;
    if (x === null || nConc === null) check(`concurrent port creates >= ${need}x Neutron (${k})`, null, 'not measured');
    else {
      const q = x / nConc;
      check(
        `concurrent port creates >= ${need}x Neutron (${k})`,
        q >= need,
        `${fmt(x)} vs ${fmt(nConc)} ports/s = ${fmt(q)}x${q < need ? ` (short by ${fmt(need * nConc - x)} ports/s, ${fmt((100 * (need * nConc - x)) / (need * nConc))}%)` : ''}`,
      );
    }
    for (const [phase, o] of [
      ['sequential', t?.seq],
      ['concurrent', t?.conc],
    ] as const) {
      if (!o || !o.ok) check(`p99 < 20 ms, ${phase} (${k})`, null, 'not measured');
      else check(`p99 < 20 ms, ${phase} (${k})`, o.latency.p99_ms < 20, `p99 ${fmt(o.latency.p99_ms)} ms`);
    }
    const l = t?.list?.all?.latency.p50_ms;
    const nl = n?.list?.all?.latency.p50_ms;
    if (!l || !nl) check(`listing 2,000 ports >= 50x faster (${k})`, null, 'not measured');
    else check(`listing 2,000 ports >= 50x faster (${k})`, nl / l >= 50, `p50 ${fmt(l)} vs ${fmt(nl)} ms = ${fmt(nl / l)}x`);
  }
  return out;
}

const COLORS = { sqlite: '#2b7bb9', pg: '#6aa84f', neutron: '#cc4125' };

export function portsSvg(r: Results): string {
  const get = (k: 'sqlite' | 'pg' | 'neutron', f: (t: TargetResult) => OpResult | undefined): number | null => {
    const t = r.targets[k];
    const o = t ? f(t) : undefined;
    return o && o.ok ? o.per_s : null;
  };
  const conc = r.targets.sqlite?.counts.concurrency ?? 8;
  const nConc = get('neutron', (t) => t.conc);
  const lines: { value: number; label: string; color: string }[] = [];
  if (nConc) lines.push({ value: nConc * 300, label: `target: 300x Neutron (${fmt(nConc * 300)}/s)`, color: '#444' });
  return barChartSvg({
    title: 'Port creation throughput, every write durable',
    subtitle: `${r.machine.cores} cores, ${r.machine.memory_gib} GiB, ${r.started.slice(0, 10)}; load generator on the same machine`,
    unit: 'ports/s',
    series: [
      { name: 'v6stack (SQLite, embedded)', color: COLORS.sqlite },
      { name: 'v6stack (PostgreSQL 15)', color: COLORS.pg },
      { name: 'Neutron Zed (PostgreSQL 15)', color: COLORS.neutron },
    ],
    groups: [
      { label: 'sequential, SLAAC', values: [get('sqlite', (t) => t.seq), get('pg', (t) => t.seq), get('neutron', (t) => t.seq)] },
      { label: `${conc} clients, DHCPv6-stateful`, values: [get('sqlite', (t) => t.conc), get('pg', (t) => t.conc), get('neutron', (t) => t.conc)] },
    ],
    lines,
  });
}

export function listSvg(r: Results): string {
  const get = (k: 'sqlite' | 'pg' | 'neutron', q: string): number | null => v(r.targets[k]?.list?.[q]?.latency.p50_ms);
  const qs: [string, string][] = [
    ['all', 'all (~2,000)'],
    ['fields_id', '?fields=id'],
    ['network_id', '?network_id='],
    ['limit_100', '?limit=100'],
  ];
  return barChartSvg({
    title: 'Listing ports: p50 latency (lower is better)',
    subtitle: `${r.machine.cores} cores, ${r.started.slice(0, 10)}; ~2,000 ports in the server`,
    unit: 'ms',
    series: [
      { name: 'v6stack (SQLite)', color: COLORS.sqlite },
      { name: 'v6stack (PostgreSQL)', color: COLORS.pg },
      { name: 'Neutron Zed', color: COLORS.neutron },
    ],
    groups: qs.map(([k, label]) => ({ label, values: [get('sqlite', k), get('pg', k), get('neutron', k)] })),
  });
}

export function ipamText(i: IpamScaleResult | undefined): string[] {
  if (!i) return [];
  const out: string[] = [];
  if (i.error) out.push(`IPAM at scale: error ${i.error}`);
  const a = i.addresses;
  if (a) {
    out.push(
      `IPAM addresses: ${a.done.toLocaleString('en-US')} stateful allocations in one /64 (allocateAny, ${a.batch} writes per group commit) in ${a.wall_s} s = ${a.per_s.toLocaleString('en-US')}/s`,
      `  cost per allocation: start ${a.start_us} µs, middle ${a.middle_us} µs, end ${a.end_us} µs`,
      `  per allocation: ${a.disk_bytes_per_allocation} bytes on disk, ${a.rss_bytes_per_allocation} bytes RSS growth, ${a.heap_bytes_per_allocation} bytes JS heap growth; last address ${a.last_address}`,
    );
  }
  const p = i.prefixes;
  if (p && 'error' in p) out.push(`IPAM prefixes: error ${p.error.split('\n')[0]}`);
  else if (p) {
    const w = (x: PrefixWindow): string =>
      `${x.us_per_op} µs per /64 (p50 network ${x.network_p50_ms} ms, subnet ${x.subnet_p50_ms} ms) at ${x.at.toLocaleString('en-US')}`;
    out.push(
      `IPAM prefixes: ${p.done.toLocaleString('en-US')} of ${p.target.toLocaleString('en-US')} /64s from one /32 pool in ${p.wall_s} s = ${p.per_s}/s, ${p.concurrency} clients (${p.how})`,
      `  start:  ${w(p.start)}`,
      `  middle: ${w(p.middle)}`,
      `  end:    ${w(p.end)}`,
      `  ${p.distinct_cidrs.toLocaleString('en-US')} distinct cidrs, ${p.first_cidr} .. ${p.last_cidr}; errors ${JSON.stringify(p.errors)}`,
      `  per /64 (network + subnet): ${p.disk_bytes_per_allocation} bytes on disk, ${p.server_rss_bytes_per_allocation} bytes server RSS growth`,
    );
  }
  return out;
}
