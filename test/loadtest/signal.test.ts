// The autoscaling signal on the real local stack: under overload one worker's slots
// are busy (slot utilization above the HPA target 0.7); four workers at the same
// offered load leave it below. Reads the exact query of k8s/queries/slot-utilization.promql.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import { slotUtilizationQuery, startStack } from '@greeter/scripts/devstack';
import { runLoad } from '@greeter/loadtest/driver';
import { HPA_TARGET, promValue, waitForValue } from '@greeter/loadtest/prom';
import { steadyStages } from '@greeter/loadtest/schedule';

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function logTails(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `--- ${f}\n${readFileSync(path.join(dir, f), 'utf8').trimEnd().split('\n').slice(-8).join('\n')}`)
    .join('\n');
}

it('slot utilization is above 0.7 for one overloaded worker and below it with four at the same load', { timeout: 90_000 }, async () => {
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'greeter-signal-'));
  // Per worker 4 activity slots, each greeting holds one for 2 × 300 ms: about 6/s at
  // best, less on a shared CPU. 6/s overloads one worker and is ~30 % of four.
  const stack = await startStack({
    runDir,
    workers: 1,
    jaeger: false,
    prometheus: true,
    tracing: false,
    translatorEnv: { TRANSLATOR_LATENCY_MS: '300' },
    workerEnv: { WORKER_MAX_CONCURRENT_ACTIVITIES: '4', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '2', LOG_LEVEL: 'warn' },
    starterEnv: { LOG_LEVEL: 'warn' },
  });
  const prom = `http://127.0.0.1:${stack.ports.prometheus}`;
  const query = slotUtilizationQuery();
  const stop = new AbortController();
  const readings = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = await promValue(prom, query);
      if (v !== undefined) out.push(v);
      await sleep(2_500);
    }
    return out;
  };
  try {
    const load = runLoad({
      url: `http://127.0.0.1:${stack.ports.starter}`,
      startRate: 6,
      stages: steadyStages(6, 80_000),
      maxInFlight: 40,
      requestTimeoutMs: 20_000,
      drainMs: 5_000,
      signal: stop.signal,
    });
    // Two scrapes into the overload.
    await sleep(12_000);
    const one = await readings(4);
    await stack.setWorkers(4);
    const seen = await waitForValue(prom, 'count(up{job="temporal-worker"} == 1)', (v) => v === 4, 15_000);
    assert.equal(seen, 4, `Prometheus should scrape 4 workers after scaling, sees ${seen}`);
    // The backlog of the overload drains in a few seconds; then the steady state.
    await sleep(10_000);
    const four = await readings(4);
    stop.abort();
    const summary = await load;
    assert.ok(one.length >= 3, `expected slot-utilization readings with 1 worker, got ${JSON.stringify(one)}`);
    assert.ok(four.length >= 3, `expected slot-utilization readings with 4 workers, got ${JSON.stringify(four)}`);
    assert.ok(summary.ok > 0, `the load should complete greetings: ${JSON.stringify(summary.errors)}`);
    assert.ok(
      median(one) > HPA_TARGET,
      `1 worker overloaded: slot utilization should be above ${HPA_TARGET}, readings ${JSON.stringify(one)}`,
    );
    assert.ok(
      median(four) < HPA_TARGET,
      `4 workers at the same 6/s: slot utilization should be below ${HPA_TARGET}, readings ${JSON.stringify(four)}`,
    );
  } catch (err) {
    stop.abort();
    throw new Error(`${(err as Error).message}\n${logTails(runDir)}`, { cause: err });
  } finally {
    await stack.stop();
  }
});
