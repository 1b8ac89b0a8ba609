// `npm run bench`: benchmark figures (not tests). (1) bare ceiling: an in-process
// worker with no-op activities, telemetry off, against the stack's dev server;
// (2) full-stack ceiling through the starter with tracing on, and its ratio to (1);
// (3) worker RSS under steady load; `--only tracing` runs the full stack with tracing
// on and off and prints the ratio; `--only workers` runs greeter's worker and the Go and Python
// peers side by side (workers.ts); `--only sandbox` replays a recorded greeting against the
// shipped workflow bundle and one without the tracing interceptors (sandbox.ts). Scaling efficiency comes from `npm run scale`.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { ROOT, startStack } from '@greeter/scripts/devstack';
import { WORKFLOW_TYPE } from '@greeter/shared/contract';
import { formatSummary, runLoad } from './driver';
import { promValue } from './prom';
import { parseDuration, steadyStages } from './schedule';
import { sandboxBench, sandboxSummary } from './sandbox';
import { parseVariant, summarize, summaryTable, workersBench, type WorkerKind } from './workers';

const WORKFLOWS = path.join(ROOT, 'services', 'worker', 'dist', 'src', 'workflows.js');

interface Common {
  portOffset: number;
  warmupMs: number;
  measureMs: number;
}

/** Closed loop: `concurrency` callers each run GreetSomeone back to back; completions per second after warm-up. */
async function bare(o: Common & { concurrency: number }): Promise<number> {
  const runDir = path.join(ROOT, '.greeter', 'bench-bare');
  rmSync(runDir, { recursive: true, force: true });
  const stack = await startStack({ runDir, ports: o.portOffset, workers: 0, jaeger: false, prometheus: false, tracing: false });
  const taskQueue = 'bench-noop';
  const nconn = await NativeConnection.connect({ address: stack.temporalAddress });
  // Stand-in no-op activities: the same workflow, nothing behind the activities.
  const worker = await Worker.create({
    connection: nconn,
    taskQueue,
    workflowsPath: WORKFLOWS,
    activities: {
      greetInSpanish: (n: string) => Promise.resolve(`¡Hola, ${n}!`),
      farewellInSpanish: (n: string) => Promise.resolve(`¡Adiós, ${n}!`),
    },
  });
  const running = worker.run();
  const conn = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection: conn });
  let done = 0;
  let measuring = false;
  let stop = false;
  const loop = async (c: number) => {
    for (let i = 0; !stop; i++) {
      await client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: `bench-${c}-${i}-${Date.now()}`, args: ['Maria'] });
      if (measuring) done++;
    }
  };
  const loops = Array.from({ length: o.concurrency }, (_, c) => loop(c));
  await sleep(o.warmupMs);
  measuring = true;
  const t0 = Date.now();
  await sleep(o.measureMs);
  const rate = done / ((Date.now() - t0) / 1000);
  stop = true;
  await Promise.allSettled(loops);
  worker.shutdown();
  await running;
  await conn.close();
  await nconn.close();
  await stack.stop();
  return rate;
}

/** Open-model load far above capacity through the starter, tracing on; also reads worker RSS. */
async function full(
  o: Common & { rate: number; maxInFlight: number; tracing: boolean },
): Promise<{ throughput: number; p99Ms: number; rssMiB?: number }> {
  // One folder per run, so the logs of an odd run survive the runs after it.
  const runDir = path.join(ROOT, '.greeter', `bench-full-${o.tracing ? 'traced' : 'untraced'}-${o.rate}`);
  rmSync(runDir, { recursive: true, force: true });
  const stack = await startStack({
    runDir,
    ports: o.portOffset,
    workers: 1,
    tracing: o.tracing,
    jaeger: o.tracing ? 'auto' : false,
    prometheus: true,
    workerEnv: { LOG_LEVEL: 'warn' },
    starterEnv: { LOG_LEVEL: 'warn' },
    translatorEnv: { LOG_LEVEL: 'warn' },
  });
  try {
    const s = await runLoad({
      url: `http://127.0.0.1:${stack.ports.starter}`,
      startRate: o.rate,
      stages: steadyStages(o.rate, o.warmupMs + o.measureMs),
      warmupMs: o.warmupMs,
      maxInFlight: o.maxInFlight,
      requestTimeoutMs: 30_000,
      onProgress: (l) => console.error(l),
    });
    console.error(formatSummary('[bench] full stack', s));
    if (s.failed > 0) {
      // A ceiling measured with failing requests is not a ceiling: say so next to the figure.
      console.error(`[bench] WARNING: ${s.failed} requests failed (${JSON.stringify(s.errors)}); logs in ${runDir}`);
    }
    await sleep(5_000); // one more scrape
    const rss = await promValue(
      `http://127.0.0.1:${stack.ports.prometheus}`,
      `max(max_over_time(process_resident_memory_bytes{job="worker"}[${Math.ceil((o.warmupMs + o.measureMs) / 1000) + 5}s]))`,
    );
    return { throughput: s.throughput, p99Ms: s.latencyMs.p99 ?? Number.NaN, ...(rss !== undefined && { rssMiB: rss / 2 ** 20 }) };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: 'bare,full,rss' },
      warmup: { type: 'string', default: '5s' },
      measure: { type: 'string', default: '20s' },
      concurrency: { type: 'string', default: '32' },
      rate: { type: 'string', default: '150' },
      'rss-rate': { type: 'string', default: '20' },
      'port-offset': { type: 'string', default: '0' },
      rounds: { type: 'string', default: '2' },
      workers: { type: 'string', default: 'greeter,go,python' },
      variant: { type: 'string', multiple: true, default: [] },
      profile: { type: 'boolean', default: false },
      replays: { type: 'string', default: '400' },
    },
  });
  const common: Common = {
    portOffset: Number(values['port-offset']),
    warmupMs: parseDuration(values.warmup),
    measureMs: parseDuration(values.measure),
  };
  const only = new Set(values.only.split(','));
  const known = ['bare', 'full', 'tracing', 'rss', 'workers', 'sandbox'];
  const unknown = [...only].filter((o) => !known.includes(o));
  if (unknown.length > 0)
    throw new Error(`--only: unknown ${unknown.map((u) => JSON.stringify(u)).join(', ')} (one or more of ${known.join(', ')})`);
  const results: Record<string, string> = {};
  let bareRate: number | undefined;
  if (only.has('bare')) {
    bareRate = await bare({ ...common, concurrency: Number(values.concurrency) });
    results['(1) bare ceiling, no-op activities, telemetry off'] =
      `${bareRate.toFixed(1)} workflows/s (${values.concurrency} concurrent callers)`;
  }
  if (only.has('full')) {
    const r = await full({ ...common, rate: Number(values.rate), maxInFlight: Number(values.concurrency), tracing: true });
    results['(2) full-stack ceiling, tracing on'] =
      `${r.throughput.toFixed(1)} greetings/s (offered ${values.rate}/s, ${values.concurrency} in flight; worker RSS max ${r.rssMiB?.toFixed(0) ?? '-'} MiB)`;
    if (bareRate) results['(2)/(1)'] = (r.throughput / bareRate).toFixed(2);
  }
  if (only.has('tracing')) {
    // The same saturating load twice in one run: what does tracing cost?
    const common2 = { ...common, rate: Number(values.rate), maxInFlight: Number(values.concurrency) };
    const on = await full({ ...common2, tracing: true });
    const off = await full({ ...common2, tracing: false });
    results['tracing on'] = `${on.throughput.toFixed(1)} greetings/s, p99 ${on.p99Ms.toFixed(0)} ms`;
    results['tracing off'] = `${off.throughput.toFixed(1)} greetings/s, p99 ${off.p99Ms.toFixed(0)} ms`;
    results['throughput on/off'] =
      `${(on.throughput / off.throughput).toFixed(2)} (tracing costs ${((1 - on.throughput / off.throughput) * 100).toFixed(0)} %)`;
    results['p99 on/off'] = (on.p99Ms / off.p99Ms).toFixed(2);
  }
  if (only.has('rss')) {
    const r = await full({ ...common, rate: Number(values['rss-rate']), maxInFlight: 100, tracing: true });
    results['(4) worker RSS under steady load'] =
      `${r.rssMiB?.toFixed(0) ?? '-'} MiB max (${values['rss-rate']}/s, tracing on; ${r.throughput.toFixed(1)} greetings/s)`;
  }
  if (only.has('workers')) {
    const variants = values.variant.map(parseVariant);
    const kinds: WorkerKind[] = [
      ...values.workers.split(',').map((name): WorkerKind => {
        if (name === 'go' || name === 'python') return { name, kind: name, env: {} };
        if (name === 'greeter') return { name, kind: 'greeter', env: {} };
        throw new Error(`--workers: unknown worker ${JSON.stringify(name)} (greeter, go, python; variants come from --variant)`);
      }),
      ...variants,
    ];
    const { results: windows, report } = await workersBench({
      ...common,
      workers: kinds,
      rounds: Number(values.rounds),
      concurrency: Number(values.concurrency),
      rate: Number(values.rate),
      profile: values.profile,
    });
    console.log(summaryTable(summarize(windows)));
    console.log(`report: ${path.relative(ROOT, report)}`);
  }
  if (only.has('sandbox')) {
    const replays = Number(values.replays);
    if (!Number.isInteger(replays) || replays < 100) throw new Error(`--replays: ${values.replays} is not a whole number of at least 100`);
    const { rows, report } = await sandboxBench({ rounds: Number(values.rounds), workflows: replays, warmup: 50, profile: values.profile });
    for (const s of sandboxSummary(rows))
      results[`sandbox, ${s.variant}`] = `${s.mean.toFixed(2)} CPU ms per workflow (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
    console.log(`report: ${path.relative(ROOT, report)}`);
  }
  for (const [k, v] of Object.entries(results)) console.log(`${k}: ${v}`);
}

main().catch((err: unknown) => {
  console.error(`[bench] ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
