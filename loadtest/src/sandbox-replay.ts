// One run of the sandbox bench (sandbox.ts), in its own process so that its CPU time and its
// V8 profile are the replay's alone: `node sandbox-replay.js BUNDLE COUNT WARMUP [otel]`
// replays the recorded greeting history COUNT times (distinct workflow ids) with one replay
// worker and prints a JSON line: the process's CPU (all threads) per workflow after the first
// WARMUP replays. `otel` registers Temporal's OpenTelemetry plugin (its sinks), as the worker does.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry-v2';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { ROOT } from '@greeter/scripts/devstack';

export const GREETING_HISTORY = path.join(ROOT, 'services', 'worker', 'test', 'histories', 'greeting.json');

export interface ReplayRun {
  workflows: number;
  failed: number;
  cpuMsPerWorkflow: number;
}

async function main(): Promise<void> {
  const [bundle, countArg, warmupArg, otel] = process.argv.slice(2);
  const count = Number(countArg);
  const warmup = Number(warmupArg);
  if (!bundle || !Number.isInteger(count) || !Number.isInteger(warmup) || warmup < 0 || count <= warmup) {
    throw new Error('usage: sandbox-replay.js BUNDLE COUNT WARMUP [otel] (COUNT > WARMUP >= 0)');
  }
  // The replay worker logs every workflow at INFO; only problems matter here.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const { history } = JSON.parse(readFileSync(GREETING_HISTORY, 'utf8')) as { history: unknown };
  const plugins =
    otel === 'otel' ? [new OpenTelemetryPlugin({ resource: resourceFromAttributes({}), spanProcessor: new NoopSpanProcessor() })] : [];
  function* histories() {
    for (let i = 0; i < count; i++) yield { history, workflowId: `sandbox-bench-${i}` };
  }
  let done = 0;
  let failed = 0;
  let cpu0 = process.cpuUsage();
  for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: bundle }, plugins }, histories())) {
    if (r.error) {
      failed++;
      if (failed === 1) console.error(`[sandbox] replay failed: ${String(r.error)}`);
    }
    if (++done === warmup) cpu0 = process.cpuUsage();
  }
  const cpu = process.cpuUsage(cpu0);
  const n = count - warmup;
  const run: ReplayRun = {
    workflows: n,
    failed,
    cpuMsPerWorkflow: (cpu.user + cpu.system) / 1000 / n,
  };
  console.log(JSON.stringify(run));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`[sandbox] ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });
}
