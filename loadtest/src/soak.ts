// `npm run soak`: a steady open-model load for a long while on a local stack of its own, every
// greeting checked against Temporal at the end (faults.ts's checked load, without a fault),
// while RSS, V8 heap and event-loop lag of each service are sampled from its /metrics (and the
// dev server's RSS from /proc). Writes an SVG chart and a Markdown report with the growth of
// each series and a verdict; exits 1 when a greeting was lost or memory kept growing.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, type Stack } from '@greeter/scripts/devstack';
import {
  REPORT_OPTIONS,
  UsageError,
  durationOption,
  exitOnError,
  freshRunDir,
  machine,
  numberOption,
  reportPath,
  stopsByItself,
} from './cli';
import { checkedStackOptions, runCheckedLoad, type CheckedLoadResult, type ClientGreeting } from './faults';
import { lineChartSvg, type LineSeries } from './report';
import { chartWorkerEnv } from './workers';
import {
  GROWTH_LIMIT_PER_HOUR,
  MIN_POINTS,
  growth,
  series,
  cpuCores,
  heapAfterMajorGc,
  startSampler,
  type Growth,
  type ResourceSample,
  type SampleTarget,
} from './resources';
import { fmtMs } from './stats';

const MAX_GREETINGS = 100_000;

const HELP = `npm run soak -- [options]

A steady load on a local stack of its own (ports from the OS, loopback only; dev server on a
SQLite file, translator with 50 ms latency, no Prometheus), sampling each service's memory and
event-loop lag, every greeting checked against Temporal at the end.

  --duration D   how long (default 10m; 1m..2h)
  --rate N       greetings per second, open model (default 10; 1..100)
  --every D      sampling interval (default 5s; 1s..1m)
  --workers N    workers (default 1; 1..4)
  --chart-env    run the workers with the env the chart renders for them (helm template:
                 NODE_OPTIONS heap and semi-space flags, slots, log level), as deployed
  --report PATH  Markdown report; the chart goes beside it as .svg
                 (default loadtest/reports/soak-<date>.md); --no-report for none
  -h, --help

Verdict: a memory series of the translator, worker or starter (RSS; heap used right after
major collections) is "growing" when its least-squares slope over the second half of the
run, over one hour, exceeds ${GROWTH_LIMIT_PER_HOUR * 100} % of its second-half mean, and "inconclusive" with fewer
than ${MIN_POINTS} points in the second half (a quiet heap may not collect that often). The load counts
as sustained when the clients in flight in the last quartile average at most twice the first
quartile's plus one second of arrivals. Exit 1 when a greeting was lost or unanswered, or a
series grew; 64 for a bad option.`;

const MiB = 2 ** 20;
const COLORS: Record<string, string> = { translator: '#2ca02c', starter: '#ff7f0e', temporal: '#7f7f7f' };
const colorOf = (name: string) => COLORS[name] ?? (name.startsWith('worker') ? '#1f77b4' : '#9467bd');

interface Metric {
  key: string;
  label: string;
  unit: string;
  scale: number;
  /** The value of one sample (the chart draws these). */
  pick: (s: ResourceSample) => number | undefined;
  verdict: boolean;
  /** Decimals in the table (default 1). */
  digits?: number;
  /** The points the figures are computed on, when not every sample's value. */
  judgeOn?: (samples: readonly ResourceSample[], target: string) => Array<[number, number]>;
}

const METRICS: Metric[] = [
  { key: 'rss', label: 'RSS', unit: 'MiB', scale: MiB, pick: (s) => s.rssBytes, verdict: true },
  {
    key: 'heap',
    label: 'V8 heap used after major GCs',
    unit: 'MiB',
    scale: MiB,
    pick: (s) => s.heapUsedBytes,
    verdict: true,
    judgeOn: heapAfterMajorGc,
  },
  {
    key: 'native',
    label: 'RSS outside the V8 heap',
    unit: 'MiB',
    scale: MiB,
    pick: (s) => (s.rssBytes !== undefined && s.heapTotalBytes !== undefined ? s.rssBytes - s.heapTotalBytes : undefined),
    verdict: false,
  },
  { key: 'lag', label: 'event-loop lag p99', unit: 'ms', scale: 1e-3, pick: (s) => s.lagP99Seconds, verdict: false },
  {
    key: 'cpu',
    label: 'CPU',
    unit: 'cores',
    scale: 1,
    digits: 2,
    pick: (s) => s.cpuSeconds,
    verdict: false,
    judgeOn: (samples, target) => cpuCores(series(samples, target, (s) => s.cpuSeconds)),
  },
];

function targetsOf(stack: Stack): SampleTarget[] {
  const pid = (name: string) => () => stack.procs.get(name)?.pid;
  const workers = Array.from({ length: stack.workerCount() }, (_, i) => ({
    name: `worker-${i}`,
    metricsUrl: `http://127.0.0.1:${stack.ports.worker(i).http}/metrics`,
    pid: pid(`worker-${i}`),
  }));
  return [
    { name: 'translator', metricsUrl: `http://127.0.0.1:${stack.ports.translator}/metrics`, pid: pid('translator') },
    ...workers,
    { name: 'starter', metricsUrl: `http://127.0.0.1:${stack.ports.starter}/metrics`, pid: pid('starter') },
    { name: 'temporal', pid: pid('temporal') },
  ];
}

/** Greeter's own services' memory is judged; the dev server, lag and non-heap memory are reported. */
const judged = (g: Growth) => g.target !== 'temporal' && (METRICS.find((m) => m.key === g.metric) as Metric).verdict;

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const pct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %` : '-');

function growthTable(rows: readonly Growth[]): string {
  const metric = (key: string) => METRICS.find((m) => m.key === key) as Metric;
  return [
    '| process | series | first quartile mean | last quartile mean | change | second-half slope per min | second half, per hour | verdict |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((g) => {
      const m = metric(g.metric);
      const v = (x: number) => `${Number.isFinite(x) ? (x / m.scale).toFixed(m.digits ?? 1) : '-'} ${m.unit}`;
      return `| ${g.target} | ${m.label} | ${v(g.firstQuartileMean)} | ${v(g.lastQuartileMean)} | ${pct(g.change)} | ${v(g.secondHalfSlopePerMin)} | ${pct(g.secondHalfPerHour)} | ${judged(g) ? g.verdict : '(reported)'} |`;
    }),
  ].join('\n');
}

function chart(
  samples: readonly ResourceSample[],
  targets: readonly SampleTarget[],
  inFlight: ReadonlyArray<readonly [number, number]>,
  machineLoad: ReadonlyArray<readonly [number, number]>,
  title: string,
): string {
  const line = (target: string, m: Metric, dashed = false): LineSeries => ({
    label: dashed ? `${target} non-heap` : target,
    color: colorOf(target),
    dashed,
    points: series(samples, target, m.pick).map(([t, v]) => [t / 60, v / m.scale] as const),
  });
  const [rss, heap, native, lag, cpu] = METRICS as [Metric, Metric, Metric, Metric, Metric];
  const minutes = (pts: ReadonlyArray<readonly [number, number]>) => pts.map(([t, v]) => [t / 60, v] as const);
  const node = targets.filter((t) => t.metricsUrl);
  return lineChartSvg(title, 'minutes', [
    {
      yLabel: 'RSS, MiB',
      series: [
        ...targets.map((t) => line(t.name, rss)),
        ...node.filter((t) => t.name.startsWith('worker')).map((t) => line(t.name, native, true)),
      ],
    },
    { yLabel: 'V8 heap used, MiB', series: node.map((t) => line(t.name, heap)) },
    { yLabel: 'event-loop lag p99, ms', series: node.map((t) => line(t.name, lag)) },
    {
      yLabel: 'CPU, cores',
      series: [
        ...targets.map((t) => ({ label: t.name, color: colorOf(t.name), points: minutes(cpuCores(series(samples, t.name, cpu.pick))) })),
      ],
    },
    {
      yLabel: 'machine load average',
      series: [
        { label: '1-minute load', color: '#000000', points: minutes(machineLoad) },
        {
          label: `${os.cpus().length} CPUs`,
          color: '#999999',
          dashed: true,
          points: minutes(machineLoad).map(([t]) => [t, os.cpus().length] as const),
        },
      ],
    },
    { yLabel: 'clients in flight', series: [{ label: 'in flight', color: '#9467bd', points: minutes(inFlight) }] },
  ]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10m' },
      rate: { type: 'string', default: '10' },
      every: { type: 'string', default: '5s' },
      workers: { type: 'string', default: '1' },
      'chart-env': { type: 'boolean', default: false },
      ...REPORT_OPTIONS,
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const durationMs = durationOption('duration', values.duration, 60_000, 7_200_000);
  const rate = numberOption('rate', values.rate, 1, 100);
  const everyMs = durationOption('every', values.every, 1_000, 60_000);
  const workers = numberOption('workers', values.workers, 1, 4, true);
  if (rate * (durationMs / 1000) > MAX_GREETINGS)
    throw new UsageError(`--rate × --duration is ${rate * (durationMs / 1000)} greetings; at most ${MAX_GREETINGS}`);
  // The worker's tuning env exactly as `helm template charts/greeter` renders it (workers.ts).
  const chartEnv = values['chart-env'] ? chartWorkerEnv() : undefined;
  const date = new Date().toISOString().slice(0, 10);
  const report = reportPath(values, 'soak');
  const runDir = freshRunDir('soak');
  let stack: Stack | undefined;
  // Stops by itself: start-up, the load, the clients' retry budget and the check.
  const disarm = stopsByItself('soak', durationMs + 120_000 + 300_000 + 120_000, () => stack);

  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  let result: CheckedLoadResult;
  let samples: ResourceSample[];
  let targets: SampleTarget[];
  let restarts: Record<string, number>;
  const inFlight: Array<[number, number]> = [];
  const machineLoad: Array<[number, number]> = [];
  try {
    console.error(`[soak] starting the stack (${workers} worker(s)); logs in ${runDir}`);
    const base = checkedStackOptions(path.join(runDir, 'temporal.db'), workers);
    if (chartEnv) console.error(`[soak] workers with the chart's env: ${JSON.stringify(chartEnv)}`);
    stack = await startStack({ ...base, runDir, ...(chartEnv && { workerEnv: { ...base.workerEnv, ...chartEnv } }) });
    targets = targetsOf(stack);
    let lastResources = '';
    let clients: readonly ClientGreeting[] = [];
    const sampler = startSampler(targets, everyMs, (batch) => {
      const t = batch[0]?.t ?? 0;
      inFlight.push([t, clients.filter((g) => g.end === undefined).length]);
      machineLoad.push([t, os.loadavg()[0] ?? 0]);
      lastResources = batch
        .map(
          (s) =>
            `${s.target} ${s.rssBytes === undefined ? '-' : (s.rssBytes / MiB).toFixed(0)}${s.heapUsedBytes === undefined ? '' : `/${(s.heapUsedBytes / MiB).toFixed(0)}`}`,
        )
        .join(', ');
    });
    let lines = 0;
    result = await runCheckedLoad({
      stack,
      rate,
      durationMs,
      clientIds: 'starter',
      idPrefix: 'soak',
      onProgress: (line) => {
        // Every 10th load line with the latest memory figures; every other line as it comes.
        if (!line.startsWith('[load]')) console.error(`[soak] ${line}`);
        else if (lines++ % 10 === 0) console.error(`[soak] ${line}\n[soak]        RSS/heap MiB: ${lastResources}`);
      },
      // Nothing is injected: the hook only hands over the clients, to count those in flight.
      during: (ctx) => {
        clients = ctx.greetings;
        return Promise.resolve();
      },
    });
    samples = await sampler.stop();
    restarts = stack.restarts();
  } finally {
    disarm();
    await stack?.stop();
  }

  // Growth over the load's duration only (sampling went on through the drain and the check).
  const endS = durationMs / 1000;
  const loaded = samples.filter((s) => s.t <= endS);
  const rows: Growth[] = [];
  for (const t of targets) {
    for (const m of METRICS) {
      const pts = m.judgeOn ? m.judgeOn(loaded, t.name) : series(loaded, t.name, m.pick);
      if (pts.length > 0) rows.push(growth(t.name, m.key, pts, endS));
    }
  }
  const growing = rows.filter((g) => judged(g) && g.verdict === 'growing');
  const inconclusive = rows.filter((g) => judged(g) && g.verdict === 'inconclusive');
  const lostOrUnanswered = result.lost + result.unanswered;
  const l = result.latencyMs;
  const minutes = durationMs / 60_000;
  // Sustained: clients in flight in the last quartile at most twice the first's plus one second of arrivals.
  const backlog = growth(
    'clients',
    'inflight',
    inFlight.filter(([t]) => t <= endS),
    endS,
  );
  const sustained = backlog.lastQuartileMean <= 2 * backlog.firstQuartileMean + rate;
  const verdict =
    `${lostOrUnanswered === 0 ? 'nothing lost' : `${result.lost} LOST, ${result.unanswered} unanswered`}; ` +
    (sustained
      ? ''
      : `the load was NOT sustained (clients in flight ${f1(backlog.firstQuartileMean)} → ${f1(backlog.lastQuartileMean)} on average, first to last quartile), so memory holding work in flight grew with the backlog; `) +
    (growing.length === 0
      ? `no unbounded growth: every judged RSS and heap series bounded (second-half slope under ${GROWTH_LIMIT_PER_HOUR * 100} % of its mean per hour)`
      : `GROWING: ${growing.map((g) => `${g.target} ${g.metric} ${pct(g.secondHalfPerHour)}/h`).join(', ')}`) +
    (inconclusive.length === 0
      ? ''
      : `; inconclusive: ${inconclusive.map((g) => `${g.target} ${g.metric} (${g.samples} points, too few in the second half)`).join(', ')}`);
  const lagMax = (name: string) => Math.max(...series(loaded, name, (s) => s.lagMaxSeconds).map(([, v]) => v * 1000));

  console.log(growthTable(rows));
  console.log(
    `\ngreetings ${result.greetings}, accepted ${result.accepted}, completed ${result.completed}, lost ${result.lost}, unanswered ${result.unanswered}; ` +
      `latency p50 ${fmtMs(l.p50)} ms, p99 ${fmtMs(l.p99)} ms, max ${fmtMs(l.max)} ms; restarts ${JSON.stringify(restarts)}`,
  );
  console.log(`verdict: ${verdict}`);
  if (report) {
    const svgPath = report.replace(/\.md$/, '') + '.svg';
    mkdirSync(path.dirname(report), { recursive: true });
    writeFileSync(
      svgPath,
      chart(loaded, targets, inFlight, machineLoad, `greeter soak: ${rate}/s for ${minutes} min, sampled every ${everyMs / 1000} s`),
    );
    const md = [
      `# Soak: ${rate} greetings/s for ${minutes} min (${date})`,
      '',
      `\`npm run soak -- --duration ${values.duration} --rate ${rate} --every ${values.every} --workers ${workers}${chartEnv ? ' --chart-env' : ''}\` on a local stack of its own: ` +
        `the Temporal dev server on a SQLite file, translator (50 ms latency), ${workers} worker(s)${
          chartEnv
            ? ` with the chart's worker env (${Object.entries(chartEnv)
                .map(([k, v]) => `\`${k}=${v}\``)
                .join(', ')})`
            : ''
        }, starter; no Prometheus, no Jaeger (tracing on, no exporter). ` +
        `Open-model load at a steady ${rate}/s, a distinct name per greeting, every greeting read back from Temporal at the end (as in \`npm run chaos\`). ` +
        `Every ${everyMs / 1000} s each service's /metrics is read: \`process_resident_memory_bytes\`, \`nodejs_heap_size_used_bytes\`, \`nodejs_heap_size_total_bytes\` and ` +
        `\`nodejs_eventloop_lag_p99_seconds\` / \`_max_seconds\` (prom-client resets its event-loop histogram at each scrape, so each sample covers the interval since the last; ` +
        `its 10 ms sampling resolution is included, an idle loop reads about 10 ms). The worker's Temporal Core (Rust) runs inside the worker process: ` +
        `it is part of the worker's RSS, and "RSS outside the V8 heap" (RSS − heap total) is the Core plus Node's native memory. The dev server's RSS and every process's CPU time come from /proc; ` +
        `the machine's 1-minute load average is drawn beside the CPU, because the machine is shared and a starved stack falls behind whatever greeter does.`,
      '',
      `![RSS, heap, event-loop lag and clients in flight over time](./${path.basename(svgPath)})`,
      '',
      '## Greetings',
      '',
      `- ${result.greetings} greetings, accepted ${result.accepted}, completed ${result.completed}, **lost ${result.lost}**, unanswered ${result.unanswered}, dropped arrivals ${result.dropped}`,
      `- latency (first attempt to final answer) p50 ${fmtMs(l.p50)} ms, p99 ${fmtMs(l.p99)} ms, max ${fmtMs(l.max)} ms; attempts other than 200: ${JSON.stringify(result.answers)}; process restarts: ${JSON.stringify(restarts)}`,
      '',
      '## Growth',
      '',
      `Quartiles of the ${minutes} min run (the first includes warm-up); slope by least squares over the second half. ` +
        `A memory series (RSS; V8 heap used in the samples right after a major collection, what the heap retains: between major collections it only climbs) is **growing** when that slope, over one hour, exceeds ${GROWTH_LIMIT_PER_HOUR * 100} % of its second-half mean, **inconclusive** with fewer than ${MIN_POINTS} points in the second half. ` +
        'The translator, worker and starter are judged; event-loop lag, the memory outside the heap, CPU and the dev server are reported, not judged. ' +
        `The load counts as sustained when the clients in flight in the last quartile average at most twice the first quartile's plus one second of arrivals (${rate}): ` +
        `here ${f1(backlog.firstQuartileMean)} → ${f1(backlog.lastQuartileMean)}, ${sustained ? 'sustained' : '**not sustained**'}.`,
      '',
      growthTable(rows),
      '',
      `Worst event-loop lag in any ${everyMs / 1000} s window: ${targets
        .filter((t) => t.metricsUrl)
        .map((t) => `${t.name} ${f1(lagMax(t.name))} ms`)
        .join(', ')}.`,
      '',
      `**Verdict: ${verdict}.**`,
      '',
      `Run time ${((Date.now() - started) / 1000).toFixed(0)} s. Machine: ${machine()}; load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0]?.toFixed(1)} at the end.`,
      '',
    ].join('\n');
    writeFileSync(report, md);
    console.error(`[soak] report: ${path.relative(process.cwd(), report)} and ${path.basename(svgPath)}`);
  }
  if (lostOrUnanswered > 0 || growing.length > 0) process.exitCode = 1;
}

main().catch(exitOnError('soak'));
