// `npm run scale`: the scale experiment. Locally it starts the stack with workers as
// the bottleneck (bounded slots, translator latency), offers more load than each
// step can take and records throughput, latency, the slot-utilization signal and the
// replica count the HPA formula would pick, for 1, 2, 4 ... workers. `--mode k8s`
// (scale-k8s.ts) does the same against a cluster.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { backlogQuery, ROOT, slotUtilizationQuery, startStack, type Stack } from '@greeter/scripts/devstack';
import { machine } from './cli';
import { formatSummary, runLoad } from './driver';
import { BACKLOG_PER_WORKER, HPA_TARGET, hpaDesiredForBacklog, hpaDesiredReplicas, promValue, waitForValue } from './prom';
import { efficiency, markdownTable, svgChart, type ScaleStep } from './report';
import { parseDuration, steadyStages } from './schedule';
import { runScaleK8s } from './scale-k8s';

const HELP = `npm run scale -- [options]

  --workers LIST            worker counts to measure (default 1,2,4)
  --slots N                 activity slots per worker (default 5)
  --workflow-slots N        workflow task slots per worker (default 2)
  --latency-ms MS           translator latency per call (default 500)
  --overload F              offered rate = F x expected capacity of the step (default 1.5)
  --warmup D / --measure D  per step (default 10s / 20s)
  --tracing                 keep tracing on (default off: measure workers, not exporters)
  --port-offset N           shift the stack's ports (default 0)
  --out DIR                 report directory (default loadtest/reports)
  --mode local|k8s          k8s: see loadtest/README.md (needs kubectl and a cluster)
  -h, --help

Expected capacity per worker = slots / (2 activities x latency): with the defaults
5 / 1 s = 5 greetings/s per worker (less in practice: each activity also
spends time on HTTP, Temporal round trips and a shared CPU).`;

export interface LocalScaleOptions {
  workers: number[];
  slots: number;
  workflowSlots: number;
  latencyMs: number;
  overload: number;
  warmupMs: number;
  measureMs: number;
  tracing: boolean;
  portOffset: number;
  outDir: string;
}

/** Samples `query` every `everyMs` until `until` resolves; the values seen. */
async function sampleWhile(promUrl: string, query: string, everyMs: number, until: Promise<unknown>): Promise<number[]> {
  const values: number[] = [];
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const v = await promValue(promUrl, query).catch(() => undefined);
    if (v !== undefined && Number.isFinite(v)) values.push(v);
    await Promise.race([sleep(everyMs), until]);
  }
  return values;
}

export async function runScaleLocal(o: LocalScaleOptions): Promise<ScaleStep[]> {
  const started = Date.now();
  const perWorker = o.slots / ((2 * o.latencyMs) / 1000);
  const runDir = path.join(ROOT, '.greeter', 'scale-run');
  // A fresh Prometheus every run: old series in its lookback window would skew the signal.
  rmSync(runDir, { recursive: true, force: true });
  console.error(`[scale] starting the stack (logs in ${path.relative(process.cwd(), runDir)}/) ...`);
  const stack: Stack = await startStack({
    runDir,
    ports: o.portOffset,
    workers: o.workers[0] ?? 1,
    translatorEnv: { TRANSLATOR_LATENCY_MS: String(o.latencyMs) },
    workerEnv: {
      WORKER_MAX_CONCURRENT_ACTIVITIES: String(o.slots),
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: String(o.workflowSlots),
      LOG_LEVEL: 'warn',
    },
    starterEnv: { LOG_LEVEL: 'warn' },
    tracing: o.tracing,
    jaeger: o.tracing ? 'auto' : false,
    prometheus: true,
  });
  // Ctrl-C stops the stack in order instead of leaving processes behind.
  const interrupted = () => void stack.stop().then(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const promUrl = `http://127.0.0.1:${stack.ports.prometheus}`;
  const starterUrl = `http://127.0.0.1:${stack.ports.starter}`;
  const query = slotUtilizationQuery();
  const backlogSignal = backlogQuery();
  const steps: ScaleStep[] = [];
  try {
    for (const n of o.workers) {
      await stack.setWorkers(n);
      // The signal is only meaningful once Prometheus scrapes every worker of this step.
      const seen = await waitForValue(promUrl, 'count(up{job="temporal-worker"} == 1)', (v) => v === n, 20_000);
      if (seen !== n) console.error(`[scale] warning: Prometheus sees ${seen ?? 0} of ${n} workers`);
      const rate = Math.round(perWorker * n * o.overload * 10) / 10;
      console.error(
        `[scale] ${n} worker(s): offering ${rate}/s (expected capacity ${(perWorker * n).toFixed(1)}/s), warm-up ${o.warmupMs / 1000}s + measure ${o.measureMs / 1000}s`,
      );
      const load = runLoad({
        url: starterUrl,
        startRate: rate,
        stages: steadyStages(rate, o.warmupMs + o.measureMs),
        warmupMs: o.warmupMs,
        // Enough in flight for the step's capacity × a few seconds of queueing; the rest is dropped.
        maxInFlight: Math.max(20, Math.ceil(perWorker * n * 3)),
        requestTimeoutMs: 30_000,
        drainMs: 30_000,
        onProgress: (line) => console.error(line),
      });
      // Utilization: the exact query, sampled through the measured window only.
      const measureStart = sleep(o.warmupMs + 5_000); // + one scrape interval
      await measureStart;
      const window = Promise.race([load, sleep(o.measureMs - 5_000)]);
      const [util, waiting] = await Promise.all([
        sampleWhile(promUrl, query, 2_500, window),
        sampleWhile(promUrl, backlogSignal, 2_500, window),
      ]);
      const s = await load;
      console.error(formatSummary(`[scale] ${n} worker(s)`, s));
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
      const utilization = mean(util);
      const backlog = mean(waiting);
      steps.push({
        workers: n,
        offeredRate: s.offeredRate,
        throughput: s.throughput,
        p50: s.latencyMs.p50,
        p95: s.latencyMs.p95,
        p99: s.latencyMs.p99,
        errors: s.failed,
        dropped: s.dropped,
        ...(backlog !== undefined && { backlog }),
        ...(utilization !== undefined && {
          utilization,
          hpaDesired: Math.max(hpaDesiredReplicas(n, utilization), backlog === undefined ? 1 : hpaDesiredForBacklog(backlog)),
        }),
      });
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await stack.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  writeReport(o, steps, seconds);
  return steps;
}

function writeReport(o: LocalScaleOptions, steps: ScaleStep[], seconds: number): void {
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(o.outDir, { recursive: true });
  const base = path.join(o.outDir, `scale-${date}`);
  const eff = efficiency(steps);
  const title = `greeter: throughput vs workers (${o.slots} activity slots, ${o.latencyMs} ms translator latency)`;
  writeFileSync(`${base}.svg`, svgChart(steps, title));
  const md = [
    `# Scale experiment, ${date}`,
    '',
    `Throughput of GreetSomeone against the number of worker processes, on the local stack`,
    `(Temporal dev server with in-memory SQLite, translator, starter, Prometheus; tracing ${o.tracing ? 'on' : 'off'}).`,
    `Workers are made the bottleneck: ${o.slots} activity slots and ${o.workflowSlots} workflow task slots per worker, translator latency`,
    `${o.latencyMs} ms per call, so one worker can finish at most ${o.slots} / (2 × ${o.latencyMs / 1000} s) = ${(o.slots / ((2 * o.latencyMs) / 1000)).toFixed(1)} greetings/s.`,
    `Each step offers ${o.overload}× its expected capacity (open model, Node driver) for ${o.warmupMs / 1000} s warm-up + ${o.measureMs / 1000} s measured.`,
    `Slot utilization and backlog are the means of k8s/queries/slot-utilization.promql and task-queue-backlog.promql`,
    `sampled every 2.5 s in the measured window (the server recomputes the backlog about once a minute);`,
    `"HPA would choose" is the larger of ceil(workers × utilization / ${HPA_TARGET}) and ceil(backlog / ${BACKLOG_PER_WORKER}) (the HPA's formula without its 10 % tolerance).`,
    '',
    markdownTable(steps),
    '',
    `![throughput vs workers](./${path.basename(base)}.svg)`,
    '',
    `Scaling efficiency T(n)/(n·T(1)): ${steps.map((s, i) => `${s.workers} → ${(eff[i] ?? 0).toFixed(2)}`).join(', ')}.`,
    `Total run time ${seconds.toFixed(0)} s. Machine: ${machine()}.`,
    '',
    '## Reproduce',
    '',
    '```sh',
    `npm run scale -- --workers ${o.workers.join(',')} --slots ${o.slots} --workflow-slots ${o.workflowSlots} --latency-ms ${o.latencyMs} --overload ${o.overload} --warmup ${o.warmupMs / 1000}s --measure ${o.measureMs / 1000}s${o.tracing ? ' --tracing' : ''}`,
    '```',
    '',
  ].join('\n');
  writeFileSync(`${base}.md`, md);
  console.error(`[scale] report: ${path.relative(process.cwd(), base)}.md and .svg`);
}

function list(v: string): number[] {
  const ns = v.split(',').map((x) => Number(x.trim()));
  if (ns.length === 0 || ns.some((n) => !Number.isInteger(n) || n < 1 || n > 32))
    throw new Error(`--workers must be a list like 1,2,4 (1..32), got ${JSON.stringify(v)}`);
  return ns;
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '1,2,4' },
      slots: { type: 'string', default: '5' },
      'workflow-slots': { type: 'string', default: '2' },
      'latency-ms': { type: 'string', default: '500' },
      overload: { type: 'string', default: '1.5' },
      warmup: { type: 'string', default: '10s' },
      measure: { type: 'string', default: '20s' },
      tracing: { type: 'boolean', default: false },
      'port-offset': { type: 'string', default: '0' },
      out: { type: 'string', default: path.join(ROOT, 'loadtest', 'reports') },
      mode: { type: 'string', default: 'local' },
      // k8s mode only
      url: { type: 'string' },
      prometheus: { type: 'string' },
      namespace: { type: 'string', default: 'greeter' },
      rate: { type: 'string' },
      hpa: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const started = Date.now();
  let steps: ScaleStep[];
  if (values.mode === 'k8s') {
    if (!values.url || !values.prometheus || !values.rate) throw new Error('--mode k8s needs --url (the starter), --prometheus and --rate');
    steps = await runScaleK8s({
      workers: list(values.workers),
      url: values.url,
      prometheusUrl: values.prometheus,
      namespace: values.namespace,
      rate: Number(values.rate),
      warmupMs: parseDuration(values.warmup),
      measureMs: parseDuration(values.measure),
      hpa: values.hpa,
    });
  } else if (values.mode === 'local') {
    const overload = Number(values.overload);
    if (!(overload > 0)) throw new Error(`--overload must be a positive number, got ${JSON.stringify(values.overload)}`);
    steps = await runScaleLocal({
      workers: list(values.workers),
      slots: int('slots', values.slots, 1),
      workflowSlots: int('workflow-slots', values['workflow-slots'], 2),
      latencyMs: int('latency-ms', values['latency-ms'], 1),
      overload,
      warmupMs: parseDuration(values.warmup),
      measureMs: parseDuration(values.measure),
      tracing: values.tracing,
      portOffset: int('port-offset', values['port-offset'], 0),
      outDir: path.resolve(values.out),
    });
  } else {
    throw new Error(`--mode must be local or k8s, got ${JSON.stringify(values.mode)}`);
  }
  console.log(markdownTable(steps));
  const eff = efficiency(steps);
  console.log(`\nscaling efficiency T(n)/(n·T(1)): ${steps.map((s, i) => `${s.workers}: ${(eff[i] ?? 0).toFixed(2)}`).join(', ')}`);
  console.log(`total run time ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`[scale] ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });
}
