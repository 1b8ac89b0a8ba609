// The autoscaling report: greetings/s, latency and worker replicas over time, a table of
// throughput per replica count with the scaling efficiency, and an SVG chart of both lines.
import type { Greeting } from './k6run';
import { esc } from './report';
import { percentile } from './stats';

export interface ReplicaSample {
  at: number;
  /** Ready pods of the worker Deployment. */
  ready: number;
  /** spec.replicas, as set by the HPA. */
  desired: number;
  /** The HPA's current CPU utilization in percent of requests, when it has one. */
  cpu?: number;
  /** The HPA's External metrics, when it has them: fleet slot utilization (0..1) and backlog per worker. */
  slots?: number;
  backlogPerWorker?: number;
}

export interface Window {
  /** Seconds since the start of the run (window start). */
  t: number;
  throughput: number;
  p50?: number;
  p99?: number;
  failed: number;
  ready: number;
  desired: number;
  cpu?: number;
}

export interface PerReplicas {
  replicas: number;
  windows: number;
  throughput: number;
  p50?: number;
  p99?: number;
  efficiency: number;
}

/** The sample in force at time `at` (the last one taken at or before it). */
function sampleAt(samples: readonly ReplicaSample[], at: number): ReplicaSample | undefined {
  let found: ReplicaSample | undefined;
  for (const s of samples) if (s.at <= at) found = s;
  return found ?? samples[0];
}

export function windows(
  greetings: readonly Greeting[],
  samples: readonly ReplicaSample[],
  start: number,
  end: number,
  windowMs = 10_000,
): Window[] {
  const out: Window[] = [];
  for (let w = start; w + windowMs <= end + 1; w += windowMs) {
    const inside = greetings.filter((g) => g.at >= w && g.at < w + windowMs);
    const ok = inside
      .filter((g) => g.ok)
      .map((g) => g.ms)
      .sort((a, b) => a - b);
    const s = sampleAt(samples, w + windowMs / 2);
    out.push({
      t: Math.round((w - start) / 1000),
      throughput: ok.length / (windowMs / 1000),
      p50: percentile(ok, 50),
      p99: percentile(ok, 99),
      failed: inside.length - ok.length,
      ready: s?.ready ?? 0,
      desired: s?.desired ?? 0,
      cpu: s?.cpu,
    });
  }
  return out;
}

/**
 * Throughput per ready-replica count over the given windows (only windows whose replica count
 * held steady for the whole window count, so a pod that is starting does not blur the figure).
 */
export function perReplicas(ws: readonly Window[], greetings: readonly Greeting[], start: number, windowMs = 10_000): PerReplicas[] {
  const groups = new Map<number, Window[]>();
  for (const w of ws) {
    if (w.ready !== w.desired || w.ready === 0) continue;
    groups.set(w.ready, [...(groups.get(w.ready) ?? []), w]);
  }
  const rows = [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([replicas, list]) => {
      const lat = list
        .flatMap((w) => greetings.filter((g) => g.ok && g.at >= start + w.t * 1000 && g.at < start + w.t * 1000 + windowMs))
        .map((g) => g.ms)
        .sort((a, b) => a - b);
      return {
        replicas,
        windows: list.length,
        throughput: list.reduce((s, w) => s + w.throughput, 0) / list.length,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        efficiency: 0,
      };
    });
  const first = rows[0];
  const perReplica = first ? first.throughput / first.replicas : 0;
  for (const r of rows) r.efficiency = perReplica > 0 ? r.throughput / (r.replicas * perReplica) : 0;
  return rows;
}

const f = (v: number | undefined, d = 0) => (v === undefined ? '-' : v.toFixed(d));

export function perReplicasTable(rows: readonly PerReplicas[]): string {
  return [
    '| ready workers | 10 s windows | greetings/s | p50 ms | p99 ms | efficiency T(n)/(n·T(1)) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.replicas} | ${r.windows} | ${f(r.throughput, 1)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.efficiency, 2)} |`),
  ].join('\n');
}

export function windowsTable(ws: readonly Window[]): string {
  return [
    '| t s | greetings/s | p50 ms | p99 ms | failed | ready workers | HPA replicas | worker CPU % of request |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...ws.map(
      (w) => `| ${w.t} | ${f(w.throughput, 1)} | ${f(w.p50)} | ${f(w.p99)} | ${w.failed} | ${w.ready} | ${w.desired} | ${f(w.cpu)} |`,
    ),
  ].join('\n');
}

/** Throughput (left axis) and ready replicas (right axis, stepped) against time. */
export function timelineSvg(ws: readonly Window[], title: string, marks: ReadonlyArray<{ t: number; label: string }> = []): string {
  const W = 720;
  const H = 400;
  const m = { l: 60, r: 60, t: 48, b: 56 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const tMax = Math.max(10, ...ws.map((w) => w.t + 10));
  const yMax = Math.max(1, Math.ceil(Math.max(...ws.map((w) => w.throughput)) / 5) * 5);
  const rMax = Math.max(1, ...ws.map((w) => Math.max(w.ready, w.desired)));
  const x = (t: number) => m.l + (t / tMax) * pw;
  const y = (v: number) => m.t + ph - (v / yMax) * ph;
  const yr = (v: number) => m.t + ph - (v / rMax) * ph;
  const p: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="${Math.min(15, Math.floor((W - 24) / (0.6 * title.length)))}" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    p.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    p.push(`<text x="${m.l - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number(v.toFixed(1))}</text>`);
  }
  for (let r = 0; r <= rMax; r++) p.push(`<text x="${m.l + pw + 8}" y="${(yr(r) + 4).toFixed(1)}" fill="#d62728">${r}</text>`);
  const tickEvery = tMax > 400 ? 60 : 30;
  for (let t = 0; t <= tMax; t += tickEvery) p.push(`<text x="${x(t).toFixed(1)}" y="${m.t + ph + 18}" text-anchor="middle">${t}</text>`);
  p.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#333"/>`);
  p.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#333"/>`);
  p.push(`<line x1="${m.l + pw}" x2="${m.l + pw}" y1="${m.t}" y2="${m.t + ph}" stroke="#d62728"/>`);
  p.push(`<text x="${m.l + pw / 2}" y="${H - 14}" text-anchor="middle">seconds</text>`);
  p.push(`<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">greetings completed per second</text>`);
  p.push(`<text transform="translate(${W - 14} ${m.t + ph / 2}) rotate(90)" text-anchor="middle" fill="#d62728">ready worker pods</text>`);
  for (const mark of marks) {
    p.push(
      `<line x1="${x(mark.t).toFixed(1)}" x2="${x(mark.t).toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="#999" stroke-dasharray="4 4"/>`,
    );
    p.push(`<text x="${(x(mark.t) + 4).toFixed(1)}" y="${m.t + 12}" fill="#666">${esc(mark.label)}</text>`);
  }
  const mid = (w: Window) => x(w.t + 5).toFixed(1);
  p.push(
    `<polyline points="${ws.map((w) => `${mid(w)},${y(w.throughput).toFixed(1)}`).join(' ')}" fill="none" stroke="#1f77b4" stroke-width="2.5"/>`,
  );
  const steps = ws.flatMap((w) => [
    `${x(w.t).toFixed(1)},${yr(w.ready).toFixed(1)}`,
    `${x(w.t + 10).toFixed(1)},${yr(w.ready).toFixed(1)}`,
  ]);
  p.push(`<polyline points="${steps.join(' ')}" fill="none" stroke="#d62728" stroke-width="2"/>`);
  const lx = m.l + 12;
  p.push(`<line x1="${lx}" x2="${lx + 24}" y1="${m.t + 26}" y2="${m.t + 26}" stroke="#1f77b4" stroke-width="2.5"/>`);
  p.push(`<text x="${lx + 30}" y="${m.t + 30}">greetings/s (10 s windows)</text>`);
  p.push(`<line x1="${lx}" x2="${lx + 24}" y1="${m.t + 44}" y2="${m.t + 44}" stroke="#d62728" stroke-width="2"/>`);
  p.push(`<text x="${lx + 30}" y="${m.t + 48}">ready worker pods</text>`);
  p.push('</svg>');
  return p.join('\n') + '\n';
}
