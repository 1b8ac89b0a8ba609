// `npm run bench -- --only workers`: greeter's worker (with the chart's flags), its variants
// and the Go and Python peers (loadtest/peers/) against one dev server, translator and
// starter, driven by the same load driver in alternating windows. Only one worker polls at a
// time; each is started fresh for its window, so its peak RSS (VmHWM) is that window's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Proc, ROOT, startStack, type Stack } from '@greeter/scripts/devstack';
import { cpuProfileSection, cpuProfiles, perfRecord, perfSection } from './profile';
import { DEFAULT_TASK_QUEUE } from '@greeter/shared/contract';
import { runLoad, type LoadSummary } from './driver';
import { cpuMs, peakRssMiB } from './procstat';
import { barChart, type Bar } from './report';
import { steadyStages } from './schedule';

export interface WorkerKind {
  /** Short name used in tables and with --workers. */
  name: string;
  /** greeter's own worker (with `env` on top of the chart's), or a peer. */
  kind: 'greeter' | 'go' | 'python';
  /** Extra environment (greeter variants). */
  env: Record<string, string>;
}

export interface WindowResult {
  worker: string;
  round: number;
  throughput: number;
  greetings: number;
  p50?: number;
  p99?: number;
  failed: number;
  cpuMsPerGreeting: number;
  /** Worker CPU over the measured window, in cores. */
  cores: number;
  peakRssMiB: number;
}

export interface WorkersOptions {
  workers: WorkerKind[];
  rounds: number;
  warmupMs: number;
  measureMs: number;
  concurrency: number;
  rate: number;
  portOffset: number;
  /** One more window of greeter's worker under `--cpu-prof` and `perf record`, summarised in the report. */
  profile: boolean;
}

/** Parses `--variant name:K=V,K=V` (NODE_OPTIONS values may hold spaces, not commas). */
export function parseVariant(spec: string): WorkerKind {
  const i = spec.indexOf(':');
  if (i <= 0) throw new Error(`--variant ${JSON.stringify(spec)}: expected name:KEY=VALUE,KEY=VALUE`);
  const env: Record<string, string> = {};
  for (const kv of spec
    .slice(i + 1)
    .split(',')
    .filter(Boolean)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--variant ${JSON.stringify(spec)}: ${JSON.stringify(kv)} is not KEY=VALUE`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { name: spec.slice(0, i), kind: 'greeter', env };
}

// The chart's worker variables that tune the process (not addresses, ports or telemetry wiring).
const CHART_TUNING = /^(NODE_OPTIONS|LOG_LEVEL|SHUTDOWN_GRACE_MS|UV_\w+|WORKER_(?!METRICS_PORT$|WORKFLOW_BUNDLE$)\w+)$/;

/** The worker's tuning env as `helm template charts/greeter` renders it with the default values. */
export function chartWorkerEnv(): Record<string, string> {
  const out = execFileSync('helm', ['template', 'greeter', path.join(ROOT, 'charts', 'greeter'), '--kube-version', '1.33.0'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  type Env = Array<{ name: string; value?: string }>;
  for (const doc of parseAllDocuments(out)) {
    const o = doc.toJSON() as {
      kind?: string;
      metadata?: { name?: string };
      spec?: { template?: { spec?: { containers?: Array<{ env?: Env }> } } };
    };
    if (o?.kind !== 'Deployment' || !o.metadata?.name?.endsWith('-worker')) continue;
    const env = o.spec?.template?.spec?.containers?.[0]?.env ?? [];
    return Object.fromEntries(
      env.filter((e) => CHART_TUNING.test(e.name) && e.value !== undefined).map((e) => [e.name, e.value as string]),
    );
  }
  throw new Error('helm template charts/greeter rendered no worker Deployment');
}

/** Builds (or finds in the tools cache) the Go and Python peers: loadtest/peers/peers.sh. */
export function peerBinaries(): { go: string; python: string } {
  const out = execFileSync('bash', [path.join(ROOT, 'loadtest', 'peers', 'peers.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const get = (name: string) => {
    const m = new RegExp(`^export ${name}=(.+)$`, 'm').exec(out);
    if (!m?.[1]) throw new Error(`loadtest/peers/peers.sh printed no ${name}`);
    return m[1].replace(/^'(.*)'$/, '$1');
  };
  return { go: get('GREETER_PEER_GO'), python: get('GREETER_PEER_PYTHON') };
}

/** A peer worker as a process of the stack's run folder, polling the stack's task queue with `slots` (WORKER_MAX_CONCURRENT_*). */
export function peerProc(
  stack: Stack,
  runDir: string,
  kind: 'go' | 'python',
  bins: { go: string; python: string },
  name: string,
  slots: Record<string, string> = {},
): Proc {
  const env = {
    ...slots,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: DEFAULT_TASK_QUEUE,
    TRANSLATOR_URL: `http://127.0.0.1:${stack.ports.translator}`,
  };
  const [cmd, args] = kind === 'go' ? [bins.go, []] : [bins.python, [path.join(ROOT, 'loadtest', 'peers', 'python', 'worker.py')]];
  return new Proc({ name, cmd, args, env, logDir: runDir });
}

/** One window: `concurrency` greetings in flight through the starter (arrivals above the cap are dropped). */
function saturate(o: WorkersOptions, stack: Stack, tag: string): Promise<LoadSummary> {
  return runLoad({
    url: `http://127.0.0.1:${stack.ports.starter}`,
    startRate: o.rate,
    stages: steadyStages(o.rate, o.warmupMs + o.measureMs),
    warmupMs: o.warmupMs,
    maxInFlight: o.concurrency,
    requestTimeoutMs: 60_000,
    onProgress: (l) => console.error(`${tag} ${l}`),
  });
}

const loadAvg = () =>
  os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(', ');

/** Runs the alternating windows and writes loadtest/reports/workers-<date>.{md,svg}. */
export async function workersBench(o: WorkersOptions): Promise<{ results: WindowResult[]; report: string }> {
  const runDir = path.join(ROOT, '.greeter', 'bench-workers');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const needPeers = o.workers.some((w) => w.kind !== 'greeter');
  const bins = needPeers ? peerBinaries() : { go: '', python: '' };
  const chartEnv = chartWorkerEnv();
  const greeters = o.workers.filter((w) => w.kind === 'greeter');
  const profDir = path.join(runDir, 'cpu-profiles');
  // The profiled worker is one more greeter index: the chart's flags plus the profilers'.
  const profiled: WorkerKind = {
    name: 'greeter (profiled)',
    kind: 'greeter',
    env: { NODE_OPTIONS: `${chartEnv.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim() },
  };
  if (o.profile) greeters.push(profiled);
  console.error(`[workers] chart worker env: ${JSON.stringify(chartEnv)}`);
  const loadBefore = loadAvg();
  // Tracing on, not exported (no Jaeger): every span is made, none leaves the process.
  const stack = await startStack({
    runDir,
    ports: o.portOffset,
    workers: 0,
    jaeger: false,
    prometheus: false,
    tracing: true,
    workerEnv: chartEnv,
    workerEnvAt: (i) => greeters[i]?.env ?? {},
    starterEnv: { LOG_LEVEL: 'warn' },
    translatorEnv: { LOG_LEVEL: 'warn' },
  });
  const results: WindowResult[] = [];
  const started = Date.now();
  const total = o.rounds * o.workers.length;
  let extra = '';
  try {
    for (let round = 1; round <= o.rounds; round++) {
      for (const w of o.workers) {
        const n = results.length + 1;
        const tag = `[workers ${n}/${total}] round ${round} ${w.name}`;
        let proc: Proc;
        if (w.kind === 'greeter') {
          proc = await stack.startWorker(greeters.indexOf(w));
        } else {
          // The same slot counts as greeter's worker, so each SDK gets the same concurrency.
          const slots = Object.fromEntries(Object.entries(chartEnv).filter(([k]) => k.startsWith('WORKER_MAX_CONCURRENT_')));
          proc = peerProc(stack, runDir, w.kind, bins, `peer-${w.name}`, slots);
          proc.start();
          await proc.waitForOutput(/peer polling/, 30_000);
        }
        const pid = proc.pid;
        if (pid === undefined) throw new Error(`${w.name} is not running`);
        console.error(`${tag}: pid ${pid}, ${((Date.now() - started) / 1000).toFixed(0)} s into the run, load average ${loadAvg()}`);
        const cpu: number[] = [];
        const marks = [o.warmupMs, o.warmupMs + o.measureMs].map((at) => setTimeout(() => cpu.push(cpuMs(pid)), at));
        const s = await saturate(o, stack, tag);
        marks.forEach(clearTimeout);
        const rss = peakRssMiB(pid);
        await proc.stop();
        const greetings = Math.round(s.throughput * s.measuredSeconds);
        const used = (cpu[1] ?? Number.NaN) - (cpu[0] ?? Number.NaN);
        const r: WindowResult = {
          worker: w.name,
          round,
          throughput: s.throughput,
          greetings,
          ...(s.latencyMs.p50 !== undefined && { p50: s.latencyMs.p50 }),
          ...(s.latencyMs.p99 !== undefined && { p99: s.latencyMs.p99 }),
          failed: s.failed,
          // No greeting completed in the window: no figure rather than the whole window's CPU.
          cpuMsPerGreeting: greetings > 0 ? used / greetings : Number.NaN,
          cores: used / o.measureMs,
          peakRssMiB: rss,
        };
        results.push(r);
        console.error(
          `${tag}: ${r.throughput.toFixed(1)} greetings/s, ${num(r.cpuMsPerGreeting, 1)} CPU ms/greeting (${r.cores.toFixed(2)} cores), ` +
            `p50 ${r.p50?.toFixed(0) ?? '-'} ms, p99 ${r.p99?.toFixed(0) ?? '-'} ms, peak RSS ${rss.toFixed(0)} MiB` +
            (s.failed ? `, ${s.failed} FAILED (${JSON.stringify(s.errors)})` : ''),
        );
      }
    }
    if (o.profile) extra = await profileWindow(o, stack, greeters.indexOf(profiled), runDir, profDir);
  } finally {
    await stack.stop();
  }
  const report = writeReport(o, results, { chartEnv, loadBefore, loadAfter: loadAvg(), minutes: (Date.now() - started) / 60_000, extra });
  return { results, report };
}

/** A window of greeter's worker under both profilers: the report's "where the CPU goes". */
async function profileWindow(o: WorkersOptions, stack: Stack, index: number, runDir: string, profDir: string): Promise<string> {
  const tag = '[workers profile]';
  const proc = await stack.startWorker(index);
  const pid = proc.pid as number;
  console.error(`${tag} greeter's worker under --cpu-prof and perf: pid ${pid}`);
  let perf: Promise<{ file?: string; error?: string }> = Promise.resolve({ error: 'not started' });
  let cpuWindow = Number.NaN;
  const startMark = setTimeout(() => {
    const c0 = cpuMs(pid);
    perf = perfRecord(pid, o.measureMs / 1000, path.join(runDir, 'perf.data'));
    setTimeout(() => (cpuWindow = cpuMs(pid) - c0), o.measureMs).unref();
  }, o.warmupMs);
  const s = await saturate(o, stack, tag);
  clearTimeout(startMark);
  const lifeCpu = cpuMs(pid);
  // The V8 profiles are written when each thread exits: a clean stop is needed.
  await proc.stop();
  const perfResult = await perf;
  const windowGreetings = Math.round(s.throughput * s.measuredSeconds);
  const threads = cpuProfiles(profDir);
  const jsBusy = threads.reduce((a, t) => a + t.busyMs, 0);
  const lines = [
    "## Where greeter's worker spends its CPU",
    '',
    `One more window of greeter's worker with the chart's flags plus \`--cpu-prof\` (JIT frames stay unnamed in perf):`,
    `${s.throughput.toFixed(1)} greetings/s, ${(cpuWindow / Math.max(1, windowGreetings)).toFixed(1)} CPU ms per greeting in the measured window.`,
    `Over the process's whole life (start-up, warm-up, window, drain: ${s.sent} greetings) it used ${(lifeCpu / 1000).toFixed(1)} s of CPU`,
    `(${(lifeCpu / Math.max(1, s.sent)).toFixed(1)} ms per greeting); V8 sampled its JS threads outside idle for ${(jsBusy / 1000).toFixed(1)} s`,
    "(wall time, so it includes time spent waiting for a core on a loaded machine). The Rust core (tokio threads), V8's GC",
    'and compiler helpers and libuv run on threads V8 does not sample: the native profile below covers every thread.',
    "Both profilers add their own cost (`v8:ProfEvntProc` is the V8 profiler's thread), so shares matter here, not totals.",
    '',
    cpuProfileSection(threads, s.sent),
    '',
    perfResult.file ? perfSection(perfResult.file) : `perf did not work here: ${perfResult.error ?? 'unknown'}`,
  ];
  return lines.join('\n');
}

export interface Summary {
  worker: string;
  throughput: number[];
  cpuMsPerGreeting: number;
  p50: number[];
  p99: number[];
  peakRssMiB: number;
  failed: number;
}

/** Per worker over its windows: CPU per greeting is total CPU over total greetings. */
export function summarize(results: readonly WindowResult[]): Summary[] {
  const names = [...new Set(results.map((r) => r.worker))];
  return names.map((worker) => {
    const rs = results.filter((r) => r.worker === worker);
    const counted = rs.filter((r) => r.greetings > 0);
    const cpu = counted.reduce((a, r) => a + r.cpuMsPerGreeting * r.greetings, 0);
    const greetings = counted.reduce((a, r) => a + r.greetings, 0);
    return {
      worker,
      throughput: rs.map((r) => r.throughput),
      cpuMsPerGreeting: greetings > 0 ? cpu / greetings : Number.NaN,
      p50: rs.flatMap((r) => (r.p50 === undefined ? [] : [r.p50])),
      p99: rs.flatMap((r) => (r.p99 === undefined ? [] : [r.p99])),
      peakRssMiB: Math.max(...rs.map((r) => r.peakRssMiB)),
      failed: rs.reduce((a, r) => a + r.failed, 0),
    };
  });
}

const range = (vs: readonly number[], digits: number) => {
  if (vs.length === 0) return '-';
  const lo = Math.min(...vs).toFixed(digits);
  const hi = Math.max(...vs).toFixed(digits);
  return lo === hi ? lo : `${lo}-${hi}`;
};
/** A figure, or '-' where there is none (NaN: no greeting completed). */
const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
export const mean = (vs: readonly number[]) => vs.reduce((a, v) => a + v, 0) / Math.max(1, vs.length);

/** The summary table; ratios are to the Go peer when it ran. */
export function summaryTable(sums: readonly Summary[]): string {
  const go = sums.find((s) => s.worker === 'go');
  const rows = sums.map((s) => {
    const cpuRatio = go ? num(s.cpuMsPerGreeting / go.cpuMsPerGreeting, 2) : '-';
    const tputRatio = go ? (mean(s.throughput) / mean(go.throughput)).toFixed(2) : '-';
    return `| ${s.worker} | ${range(s.throughput, 1)} | ${range(s.p50, 0)} | ${range(s.p99, 0)} | ${num(s.cpuMsPerGreeting, 1)} | ${s.peakRssMiB.toFixed(0)} | ${tputRatio} | ${cpuRatio} | ${s.failed} |`;
  });
  return [
    '| worker | greetings/s | p50 ms | p99 ms | CPU ms per greeting | peak RSS MiB | throughput / Go | CPU per greeting / Go | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

function windowTable(results: readonly WindowResult[]): string {
  return [
    '| round | worker | greetings/s | p50 ms | p99 ms | CPU ms per greeting | worker cores | peak RSS MiB | failed |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.round} | ${r.worker} | ${r.throughput.toFixed(1)} | ${r.p50?.toFixed(0) ?? '-'} | ${r.p99?.toFixed(0) ?? '-'} | ${num(r.cpuMsPerGreeting, 1)} | ${r.cores.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} | ${r.failed} |`,
    ),
  ].join('\n');
}

function toolVersion(cmd: string, args: string[]): string {
  try {
    return (
      execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .trim()
        .split('\n')[0] ?? ''
    );
  } catch {
    return 'unknown';
  }
}

function writeReport(
  o: WorkersOptions,
  results: readonly WindowResult[],
  meta: { chartEnv: Record<string, string>; loadBefore: string; loadAfter: string; minutes: number; extra: string },
): string {
  const date = new Date().toISOString().slice(0, 10);
  const dir = path.join(ROOT, 'loadtest', 'reports');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `workers-${date}`);
  const sums = summarize(results);
  const bars: Bar[] = sums
    .filter((s) => Number.isFinite(s.cpuMsPerGreeting))
    .map((s) => ({ label: s.worker, value: s.cpuMsPerGreeting, note: `${mean(s.throughput).toFixed(1)}/s` }));
  writeFileSync(`${base}.svg`, barChart(bars, 'Worker CPU per greeting (ms), greetings/s above each bar', 'CPU ms per greeting'));
  const variants = o.workers
    .filter((w) => w.kind === 'greeter' && Object.keys(w.env).length > 0)
    .map(
      (w) =>
        `- \`${w.name}\`: ${Object.entries(w.env)
          .map(([k, v]) => `\`${k}=${v}\``)
          .join(', ')}`,
    );
  const md = [
    `# Workers side by side, ${date}`,
    '',
    `One Temporal dev server (in memory), one translator (latency 0) and one starter; the load driver`,
    `(loadtest/src/driver.ts) keeps ${o.concurrency} greetings in flight (offered ${o.rate}/s, arrivals beyond the cap dropped)`,
    `through the starter. One worker polls at a time, started fresh for its window: ${(o.warmupMs / 1000).toFixed(0)} s warm-up, then`,
    `${(o.measureMs / 1000).toFixed(0)} s measured; ${o.rounds} rounds of alternating windows. CPU is the worker process's own`,
    'utime + stime (all threads, children included) from /proc/PID/stat over the measured window, divided by the greetings',
    "completed in it; peak RSS is VmHWM. Tracing is on in greeter's services, not exported. The peers get the same",
    "slot counts as greeter's worker (`WORKER_MAX_CONCURRENT_*` from the chart).",
    '',
    `greeter's worker runs with the chart's worker env (\`helm template\`, default values): ${Object.entries(meta.chartEnv)
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ')}.`,
    ...(variants.length ? ['', "Variants of greeter's worker (on top of the chart env):", '', ...variants] : []),
    '',
    `Machine: ${os.cpus().length} cores (shared), load average (1, 5, 15 min) ${meta.loadBefore} before and ${meta.loadAfter} after;`,
    `${process.version}, ${toolVersion('go', ['version'])}, ${toolVersion('python3', ['--version'])}; ${meta.minutes.toFixed(1)} min.`,
    '',
    summaryTable(sums),
    '',
    `![CPU per greeting](workers-${date}.svg)`,
    '',
    '## Windows',
    '',
    windowTable(results),
    '',
    `Command: \`npm run bench -- --only workers --rounds ${o.rounds} --warmup ${o.warmupMs / 1000}s --measure ${o.measureMs / 1000}s --concurrency ${o.concurrency}\`` +
      (o.workers.length ? ` (workers: ${o.workers.map((w) => w.name).join(', ')})` : ''),
    ...(meta.extra ? ['', meta.extra] : []),
    '',
  ].join('\n');
  writeFileSync(`${base}.md`, md);
  return `${base}.md`;
}
