// The worker HPA on a real cluster: closed-model load (k6 from this host through the starter
// Service) saturates the CPU-capped worker, the HPA (CPU via metrics-server, slot utilization and
// backlog per worker via the External metrics adapter) grows the Deployment from 1 to at least 3
// replicas, and when the load drops it scales down under the
// remaining load without losing a greeting or timing out an activity. Writes the report
// (greetings/s, p50/p99 and replicas over time; throughput per replica count; an SVG chart).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runK6 } from '@greeter/loadtest/k6run';
import { perReplicas, perReplicasTable, timelineSvg, windows, windowsTable } from '@greeter/loadtest/timeline';
import {
  auditActivities,
  K6_OUT,
  kubectl,
  NS,
  serviceUrl,
  stopForwards,
  until,
  watchReplicas,
  WORKER,
  workerField,
  writeReport,
} from './support';

const HIGH_VUS = 40;
const HIGH_S = 240;
// Few enough that the remaining load needs fewer pods than the peak (4 users kept 4 pods at 53 %).
const LOW_VUS = 2;
const LOW_S = 150;

interface HpaSpec {
  spec: {
    minReplicas: number;
    maxReplicas: number;
    metrics: Array<{
      type?: string;
      resource?: { name: string; target: { averageUtilization?: number } };
      external?: { metric: { name: string }; target: { value?: string; averageValue?: string } };
    }>;
    behavior?: { scaleUp?: { stabilizationWindowSeconds?: number }; scaleDown?: { stabilizationWindowSeconds?: number } };
  };
}

describe('worker autoscaling on the cluster', { timeout: 1_200_000 }, () => {
  let starter = '';
  let temporalAddress = '';
  before(async () => {
    starter = await serviceUrl(NS, 'greeter-starter', 8080);
    temporalAddress = (await serviceUrl(NS, 'greeter-temporal', 7233)).replace(/^http:\/\//, '');
  });
  after(() => stopForwards());

  it('scales the worker from 1 to at least 3 replicas under load, then down under the remaining load with nothing lost', async (t) => {
    // Start from one worker (the HPA's minimum, once earlier load has drained).
    await until(
      'worker Deployment back at 1 ready replica',
      300_000,
      () => {
        const [ready, desired] = workerField('{.status.readyReplicas} {.spec.replicas}').split(' ');
        return ready === '1' && desired === '1';
      },
      5_000,
    );
    const hpa = JSON.parse(kubectl('-n', NS, 'get', 'hpa', WORKER, '-o', 'json')) as HpaSpec;
    const limits = workerField('{.spec.template.spec.containers[0].resources.limits.cpu}');
    const nodeCpus = kubectl('get', 'nodes', '-o', 'jsonpath={.items[0].status.capacity.cpu}');

    const watcher = watchReplicas(5_000);
    const start = Date.now();
    const run = await runK6(
      'phases',
      { BASE_URL: starter, PHASES: `${HIGH_VUS}:${HIGH_S}s,${LOW_VUS}:${LOW_S}s`, P95_MS: '120000', P99_MS: '120000' },
      K6_OUT,
    );
    const samples = await watcher.stop();
    const end = Math.max(start + (HIGH_S + LOW_S) * 1000, samples.at(-1)?.at ?? 0);
    const highEnd = start + HIGH_S * 1000;
    // The server's record of every greeting started after the load dropped (scale-down happened then).
    const lowAudit = await auditActivities(temporalAddress, highEnd, end);
    const highAudit = await auditActivities(temporalAddress, start, highEnd);

    const ws = windows(run.greetings, samples, start, end);
    const high = ws.filter((w) => w.t < HIGH_S);
    // The first window is warm-up (k6 starting its users, the worker's JIT), not one worker's capacity.
    const table = perReplicas(
      high.filter((w) => w.t >= 10),
      run.greetings,
      start,
    );
    const firstUp = samples.find((s) => s.desired > 1);
    const firstUpReady = samples.find((s) => s.ready > 1);
    // What each HPA signal said whenever the HPA changed its mind (and at the start).
    const changes = samples.filter((s, i) => i === 0 || s.desired !== samples[i - 1]?.desired);
    const n = (v: number | undefined, digits = 2) => (v === undefined ? '-' : v.toFixed(digits));
    const signalsTable = [
      '| t s | HPA replicas | ready | CPU % of request | slot utilization | backlog per worker |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
      ...changes.map(
        (s) =>
          `| ${((s.at - start) / 1000).toFixed(0)} | ${s.desired} | ${s.ready} | ${n(s.cpu, 0)} | ${n(s.slots)} | ${n(s.backlogPerWorker, 1)} |`,
      ),
    ].join('\n');
    const external = hpa.spec.metrics
      .filter((m) => m.type === 'External')
      .map((m) => `${m.external?.metric.name} (target ${m.external?.target.value ?? `${m.external?.target.averageValue} per worker`})`);
    const maxDuringHigh = Math.max(...samples.filter((s) => s.at <= highEnd + 5_000).map((s) => s.ready));
    const peakDesired = Math.max(...samples.map((s) => s.desired));
    const lowSamples = samples.filter((s) => s.at > highEnd);
    const lowest = Math.min(...lowSamples.map((s) => s.desired));
    const firstDown = lowSamples.find((s) => s.desired < peakDesired);
    const failed = run.greetings.filter((g) => !g.ok);
    const lowGreetings = run.greetings.filter((g) => g.at > highEnd);
    const worst = Math.max(...run.greetings.map((g) => g.ms));
    const cpuTarget = hpa.spec.metrics.find((m) => m.resource?.name === 'cpu')?.resource?.target.averageUtilization;

    const date = new Date().toISOString().slice(0, 10);
    const md = [
      `# greeter worker autoscaling on a real cluster (${date})`,
      '',
      `Kubernetes ${
        (JSON.parse(kubectl('version', '-o', 'json')) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion ?? '?'
      }, one node with ${nodeCpus} CPUs (everything co-located: Temporal dev server, starter, translator, workers, Prometheus, Jaeger, the control plane and the k6 load generator on this host).`,
      `Worker pods: CPU request = limit = ${limits} (so CPU is the bottleneck). HPA: CPU target ${cpuTarget} % of request${external.length ? ` plus ${external.join(' and ')}` : ''}, ${hpa.spec.minReplicas}-${hpa.spec.maxReplicas} replicas, scale-up stabilization ${hpa.spec.behavior?.scaleUp?.stabilizationWindowSeconds ?? '?'} s, scale-down ${hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? '?'} s; metrics-server resolution 15 s.`,
      `Load: k6 closed model from the host through the starter Service: ${HIGH_VUS} users for ${HIGH_S} s, then ${LOW_VUS} users for ${LOW_S} s (loadtest/k6/phases.ts). Each answer is checked for the exact greeting.`,
      '',
      '## Result',
      '',
      `- greetings: ${run.greetings.length} answered, ${run.greetings.length - failed.length} exact, **${failed.length} failed**; worst latency ${worst.toFixed(0)} ms`,
      `- **load step to first added replica: decided ${firstUp ? ((firstUp.at - start) / 1000).toFixed(0) : '-'} s, ready ${firstUpReady ? ((firstUpReady.at - start) / 1000).toFixed(0) : '-'} s** after the load started (samples every 5 s); ${maxDuringHigh} worker pods ready at most under load (HPA peak ${peakDesired})`,
      `- after the load dropped: first scale-down at ${firstDown ? ((firstDown.at - highEnd) / 1000).toFixed(0) : '-'} s, down to ${lowest} replicas; ${lowGreetings.length} greetings completed meanwhile, ${lowGreetings.filter((g) => !g.ok).length} failed`,
      `- workflow histories read back from Temporal: load phase ${highAudit.workflows} workflows, ${highAudit.retried} activity retries, ${highAudit.timedOut} activity timeouts; scale-down phase ${lowAudit.workflows} workflows, **${lowAudit.retried} retries, ${lowAudit.timedOut} timeouts**, ${lowAudit.open + highAudit.open} still open`,
      '',
      '## What the HPA saw when it changed the replica count',
      '',
      `The HPA takes the largest replica count any metric asks for: CPU, ${external.join(', ') || 'no External metric'}.`,
      '',
      signalsTable,
      '',
      '## Throughput per ready worker count (load phase after the first 10 s of warm-up, windows with a steady replica count)',
      '',
      perReplicasTable(table),
      '',
      `![greetings/s and worker pods over time](autoscale-${date}.svg)`,
      '',
      '## Timeline (10 s windows)',
      '',
      windowsTable(ws),
      '',
    ].join('\n');
    const svg = timelineSvg(
      ws,
      `greeter on Kubernetes: HPA ${hpa.spec.minReplicas}-${hpa.spec.maxReplicas} workers, ${HIGH_VUS} then ${LOW_VUS} users`,
      [
        { t: 0, label: `${HIGH_VUS} users` },
        { t: HIGH_S, label: `${LOW_VUS} users` },
      ],
    );
    const files = writeReport(`autoscale-${date}`, { md, svg });
    t.diagnostic(`report: ${files.join(', ')}`);
    for (const r of table)
      t.diagnostic(
        `${r.replicas} workers: ${r.throughput.toFixed(1)} greetings/s, p50 ${r.p50?.toFixed(0)} ms, p99 ${r.p99?.toFixed(0)} ms, efficiency ${r.efficiency.toFixed(2)}`,
      );

    assert.ok(
      run.greetings.length > 100,
      `expected a steady flow of greetings, got ${run.greetings.length}; k6: ${run.stderr.slice(-1500)}`,
    );
    assert.deepEqual(failed.slice(0, 10), [], `greetings failed (${failed.length}); k6 said:\n${run.stderr.slice(-2000)}`);
    assert.ok(
      maxDuringHigh >= 3,
      `expected the HPA to reach at least 3 ready workers under load, got ${maxDuringHigh} (samples: ${JSON.stringify(samples.map((s) => s.desired))})`,
    );
    assert.ok(firstDown, `expected a scale-down after the load dropped (desired stayed at ${peakDesired})`);
    assert.ok(lowGreetings.length > 0, 'greetings kept flowing while the HPA scaled down');
    assert.ok(lowAudit.workflows > 0, 'greetings were started while the HPA scaled down');
    assert.deepEqual(
      { retried: lowAudit.retried, timedOut: lowAudit.timedOut, open: lowAudit.open },
      { retried: 0, timedOut: 0, open: 0 },
      'scale-down: no activity attempt lost to a removed pod (no retry, no timeout), no workflow left open',
    );
  });
});
