// A grouped bar chart as a standalone SVG, on a log10 axis, in plain TypeScript (no plotting dependency).

export interface Series {
  name: string;
  color: string;
}

export interface Group {
  label: string;
  /** One value per series, in series order; null or non-positive values draw no bar. */
  values: (number | null)[];
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  unit: string;
  series: Series[];
  groups: Group[];
  /** Horizontal reference lines (for example a target), drawn dashed. */
  lines?: { value: number; label: string; color: string }[];
  width?: number;
  height?: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function fmt(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

export function barChartSvg(spec: ChartSpec): string {
  const W = spec.width ?? 760;
  const H = spec.height ?? 420;
  const m = { top: 64, right: 20, bottom: 70, left: 78 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = [...spec.groups.flatMap((g) => g.values), ...(spec.lines ?? []).map((l) => l.value)].filter(
    (v): v is number => typeof v === 'number' && v > 0,
  );
  const lo = Math.floor(Math.log10(Math.min(...all, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...all, 10)) + 0.15);
  const y = (v: number): number => m.top + ph - ((Math.log10(v) - lo) / (hi - lo)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(spec.subtitle)}</text>`);
  // grid and axis labels, one per decade
  for (let d = lo; d <= hi; d++) {
    const v = 10 ** d;
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#333">${esc(fmt(v))}</text>`);
  }
  out.push(
    `<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(spec.unit)} (log scale)</text>`,
  );
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#333"/>`);
  const gw = pw / Math.max(1, spec.groups.length);
  const bw = Math.min(70, (gw * 0.8) / Math.max(1, spec.series.length));
  spec.groups.forEach((g, gi) => {
    const gx = m.left + gi * gw + (gw - bw * spec.series.length) / 2;
    g.values.forEach((v, si) => {
      const x = gx + si * bw;
      if (typeof v !== 'number' || !(v > 0)) {
        out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${m.top + ph - 6}" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      const top = y(Math.max(v, 10 ** lo));
      out.push(
        `<rect x="${(x + 2).toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${(m.top + ph - top).toFixed(1)}" fill="${spec.series[si]!.color}"><title>${esc(`${spec.series[si]!.name}: ${fmt(v)} ${spec.unit}`)}</title></rect>`,
      );
      out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle" fill="#222">${esc(fmt(v))}</text>`);
    });
    out.push(`<text x="${(m.left + gi * gw + gw / 2).toFixed(1)}" y="${m.top + ph + 18}" text-anchor="middle" fill="#222">${esc(g.label)}</text>`);
  });
  for (const l of spec.lines ?? []) {
    const yy = y(l.value).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${yy}" y2="${yy}" stroke="${l.color}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.left + pw - 4}" y="${(Number(yy) - 4).toFixed(1)}" text-anchor="end" fill="${l.color}">${esc(l.label)}</text>`);
  }
  // legend
  let lx = m.left;
  const ly = H - 22;
  for (const s of spec.series) {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}" fill="#222">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 7;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
