// The scale report: a Markdown table and a hand-drawn SVG chart of throughput against workers.

export interface ScaleStep {
  workers: number;
  offeredRate: number;
  throughput: number;
  p50?: number;
  p95?: number;
  p99?: number;
  errors: number;
  dropped: number;
  /** Mean of the slot-utilization query over the measured window. */
  utilization?: number;
  /** Mean of the task-queue backlog query (waiting tasks, the Temporal server's count) over the window. */
  backlog?: number;
  /** The larger of ceil(workers × utilization / 0.7) and ceil(backlog / 10): what the HPA's two External metrics ask for. */
  hpaDesired?: number;
}

/** T(n) / (n · T(1)) for each step, relative to the first step scaled to one worker. */
export function efficiency(steps: readonly ScaleStep[]): number[] {
  const first = steps[0];
  if (!first || first.throughput <= 0) return steps.map(() => 0);
  const perWorker = first.throughput / first.workers;
  return steps.map((s) => s.throughput / (s.workers * perWorker));
}

const f1 = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1));
const f0 = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0));
const f2 = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2));

export function markdownTable(steps: readonly ScaleStep[]): string {
  const eff = efficiency(steps);
  const rows = steps.map(
    (s, i) =>
      `| ${s.workers} | ${f1(s.offeredRate)} | ${f1(s.throughput)} | ${f0(s.p50)} | ${f0(s.p95)} | ${f0(s.p99)} | ${s.errors} | ${s.dropped} | ${f2(s.utilization)} | ${f1(s.backlog)} | ${s.hpaDesired ?? '-'} | ${f2(eff[i])} |`,
  );
  return [
    '| workers | offered /s | throughput /s | p50 ms | p95 ms | p99 ms | errors | dropped | slot utilization | backlog | HPA would choose | efficiency T(n)/(n·T(1)) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

/** Text escaped for SVG. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A line chart: measured throughput per worker count, and the ideal n·T(1) dashed. */
export function svgChart(steps: readonly ScaleStep[], title: string): string {
  const W = 640;
  const H = 400;
  const m = { l: 64, r: 24, t: 48, b: 56 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const maxN = Math.max(1, ...steps.map((s) => s.workers));
  const first = steps[0];
  const perWorker = first && first.workers > 0 ? first.throughput / first.workers : 0;
  const yMaxRaw = Math.max(1, ...steps.map((s) => s.throughput), perWorker * maxN);
  const tick = niceStep(yMaxRaw / 5);
  const yMax = Math.ceil(yMaxRaw / tick) * tick;
  const x = (n: number) => m.l + (maxN === 1 ? pw / 2 : ((n - 1) / (maxN - 1)) * pw);
  const y = (v: number) => m.t + ph - (v / yMax) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  // Long titles shrink rather than run off the canvas (about 0.6 em per character).
  const titleSize = Math.min(15, Math.floor((W - 24) / (0.6 * title.length)));
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="${titleSize}" font-weight="bold">${esc(title)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += tick) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number(v.toFixed(2))}</text>`);
  }
  for (let n = 1; n <= maxN; n++) {
    parts.push(`<line x1="${x(n).toFixed(1)}" x2="${x(n).toFixed(1)}" y1="${m.t + ph}" y2="${m.t + ph + 5}" stroke="#333"/>`);
    parts.push(`<text x="${x(n).toFixed(1)}" y="${m.t + ph + 20}" text-anchor="middle">${n}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 14}" text-anchor="middle">workers</text>`);
  parts.push(`<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">greetings completed per second</text>`);
  if (perWorker > 0) {
    parts.push(
      `<line x1="${x(1).toFixed(1)}" y1="${y(perWorker).toFixed(1)}" x2="${x(maxN).toFixed(1)}" y2="${y(perWorker * maxN).toFixed(1)}" stroke="#999" stroke-width="2" stroke-dasharray="6 4"/>`,
    );
  }
  const pts = steps.map((s) => `${x(s.workers).toFixed(1)},${y(s.throughput).toFixed(1)}`).join(' ');
  parts.push(`<polyline points="${pts}" fill="none" stroke="#1f77b4" stroke-width="2.5"/>`);
  for (const s of steps) {
    parts.push(`<circle cx="${x(s.workers).toFixed(1)}" cy="${y(s.throughput).toFixed(1)}" r="4.5" fill="#1f77b4"/>`);
    parts.push(
      // The last point's label goes to its left so it stays inside the canvas.
      s.workers === maxN
        ? `<text x="${(x(s.workers) - 8).toFixed(1)}" y="${(y(s.throughput) + 26).toFixed(1)}" text-anchor="end" fill="#1f77b4">${s.throughput.toFixed(1)}/s</text>`
        : `<text x="${(x(s.workers) + 8).toFixed(1)}" y="${(y(s.throughput) + 16).toFixed(1)}" fill="#1f77b4">${s.throughput.toFixed(1)}/s</text>`,
    );
  }
  const lx = m.l + 12;
  parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${m.t + 8}" y2="${m.t + 8}" stroke="#1f77b4" stroke-width="2.5"/>`);
  parts.push(`<text x="${lx + 30}" y="${m.t + 12}">measured</text>`);
  parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${m.t + 26}" y2="${m.t + 26}" stroke="#999" stroke-width="2" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${lx + 30}" y="${m.t + 30}">ideal linear n × T(1)</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  const r = raw / p;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * p;
}

export interface LineSeries {
  label: string;
  color: string;
  dashed?: boolean;
  /** (x, y) points in x order. */
  points: ReadonlyArray<readonly [number, number]>;
}

export interface LinePanel {
  yLabel: string;
  series: readonly LineSeries[];
}

/** Panels of lines stacked over one shared x axis (e.g. memory and lag per process against time). */
export function lineChartSvg(title: string, xLabel: string, panels: readonly LinePanel[]): string {
  const W = 760;
  const panelH = 210;
  const m = { l: 64, r: 170, t: 44, b: 48, gap: 28 };
  const pw = W - m.l - m.r;
  const H = m.t + panels.length * panelH + (panels.length - 1) * m.gap + m.b;
  const xs = panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x)));
  const xMax = Math.max(1e-9, ...xs);
  const xTick = niceStep(xMax / 8);
  const x = (v: number) => m.l + (v / xMax) * pw;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="${Math.min(15, Math.floor((W - 24) / (0.6 * title.length)))}" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, i) => {
    const top = m.t + i * (panelH + m.gap);
    const ph = panelH - 20;
    const yRaw = Math.max(1e-9, ...panel.series.flatMap((s) => s.points.map(([, y]) => y)));
    const yTick = niceStep(yRaw / 4);
    const yMax = Math.ceil(yRaw / yTick) * yTick;
    const y = (v: number) => top + ph - (v / yMax) * ph;
    for (let v = 0; v <= yMax + 1e-9; v += yTick) {
      parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${m.l - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number(v.toFixed(2))}</text>`);
    }
    for (let v = 0; v <= xMax + 1e-9; v += xTick) {
      parts.push(`<text x="${x(v).toFixed(1)}" y="${top + ph + 16}" text-anchor="middle">${Number(v.toFixed(2))}</text>`);
    }
    parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${top}" y2="${top + ph}" stroke="#333"/>`);
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${top + ph}" y2="${top + ph}" stroke="#333"/>`);
    parts.push(`<text transform="translate(18 ${top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(panel.yLabel)}</text>`);
    panel.series.forEach((s, j) => {
      if (s.points.length > 0) {
        const pts = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
        parts.push(
          `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
        );
      }
      const ly = top + 10 + j * 18;
      parts.push(
        `<line x1="${m.l + pw + 12}" x2="${m.l + pw + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      parts.push(`<text x="${m.l + pw + 42}" y="${ly + 4}">${esc(s.label)}</text>`);
    });
  });
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export interface Bar {
  label: string;
  value: number;
  /** A second figure printed under the value (e.g. the throughput). */
  note?: string;
}

/** A vertical bar chart, one bar per label, its value above it (the workers bench). */
export function barChart(bars: readonly Bar[], title: string, yLabel: string): string {
  const W = 640;
  const H = 400;
  const m = { l: 64, r: 24, t: 48, b: 56 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const yMaxRaw = Math.max(1, ...bars.map((b) => b.value)) * 1.15;
  const tick = niceStep(yMaxRaw / 5);
  const yMax = Math.ceil(yMaxRaw / tick) * tick;
  const y = (v: number) => m.t + ph - (v / yMax) * ph;
  const slot = pw / Math.max(1, bars.length);
  const bw = Math.min(80, slot * 0.6);
  const titleSize = Math.min(15, Math.floor((W - 24) / (0.6 * title.length)));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="${titleSize}" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let v = 0; v <= yMax + 1e-9; v += tick) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number(v.toFixed(2))}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  bars.forEach((b, i) => {
    const cx = m.l + slot * (i + 0.5);
    const top = y(b.value);
    parts.push(
      `<rect x="${(cx - bw / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${(m.t + ph - top).toFixed(1)}" fill="#1f77b4"/>`,
    );
    parts.push(`<text x="${cx.toFixed(1)}" y="${(top - 20).toFixed(1)}" text-anchor="middle">${b.value.toFixed(1)}</text>`);
    if (b.note) parts.push(`<text x="${cx.toFixed(1)}" y="${(top - 6).toFixed(1)}" text-anchor="middle" fill="#666">${esc(b.note)}</text>`);
    parts.push(`<text x="${cx.toFixed(1)}" y="${m.t + ph + 20}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
