// The metrics and dashboards against the real local stack and a real Prometheus: every target
// is scraped, the series the dashboards rely on exist, exemplars carry trace ids, and every
// panel query of both dashboards parses and returns data.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE, WORKFLOW_TYPE } from '@greeter/shared/contract';
import { startStack, type Stack } from '@greeter/scripts/stack';
import { allTargets, loadDashboards, metricUses, substitute } from '../dashboards/dashboard-files';
import { logTails } from '../support/stack';

/** This area's port range: every default port + 30000. */
const PORT_OFFSET = 30_000;
const GREETINGS = 60;
const TRAFFIC_MS = 15_000;
/** Upper bound for Prometheus to have two scrapes of everything after the traffic. */
const SCRAPE_WAIT_MS = 40_000;

/** Series each scrape job must expose (the list the dashboards and the HPA rely on). */
const EXPECTED_SERIES: Record<string, string[]> = {
  starter: [
    'greeter_greetings_total',
    'greeter_workflow_duration_seconds_bucket',
    'http_server_request_duration_seconds_bucket',
    'http_server_request_duration_seconds_count',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
  ],
  translator: [
    'translator_translations_total',
    'http_server_request_duration_seconds_bucket',
    'http_server_request_duration_seconds_count',
    'process_cpu_seconds_total',
  ],
  worker: [
    'greeter_worker_slots',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_p50_seconds',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_heap_size_used_bytes',
    'nodejs_heap_size_total_bytes',
    'nodejs_gc_duration_seconds_sum',
  ],
  'temporal-worker': [
    'temporal_workflow_completed',
    'temporal_workflow_failed',
    'temporal_workflow_endtoend_latency_bucket',
    'temporal_workflow_task_schedule_to_start_latency_bucket',
    'temporal_workflow_task_execution_latency_bucket',
    'temporal_activity_execution_latency_bucket',
    'temporal_activity_schedule_to_start_latency_bucket',
    'temporal_activity_execution_failed',
    'temporal_activity_task_received',
    'temporal_worker_task_slots_available',
    'temporal_worker_task_slots_used',
    'temporal_sticky_cache_size',
    'temporal_sticky_cache_hit',
    'temporal_num_pollers',
    'temporal_request',
    'temporal_long_request',
  ],
  'temporal-server': [
    'service_requests',
    'service_latency_bucket',
    'persistence_requests',
    'persistence_latency_bucket',
    'state_transition_count_sum',
  ],
};

/**
 * Series the dashboards read that need not exist here: kube-state-metrics runs only in a
 * cluster (the replicas panel falls back to counting polling workers), and Temporal Core
 * creates these counters at their first increment (the panels show 0 until then).
 */
const OPTIONAL_SERIES = new Set([
  'kube_deployment_status_replicas',
  'temporal_request_failure',
  'temporal_long_request_failure',
  'temporal_sticky_cache_miss',
]);

interface PromResponse<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}
interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}
interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
  lastError: string;
}
interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

describe('metrics and dashboards on the live stack', { timeout: 150_000 }, () => {
  let stack: Stack | undefined;
  let runDir = '';
  let prom = '';
  /** Outcomes of the traffic phase, reported by the tests that depend on them. */
  const traffic = { completed: 0, other: [] as string[], badStarter: [] as number[], badTranslator: [] as number[], failedWorkflow: '' };

  const api = async <T>(pathAndQuery: string): Promise<PromResponse<T>> => {
    const res = await fetch(`${prom}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as PromResponse<T>;
  };
  const instant = (expr: string) => api<{ resultType: string; result: VectorSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);

  /** Panel queries with Grafana's variables filled in that error or come back empty. */
  const failingPanelQueries = async (): Promise<string[]> => {
    const failures: string[] = [];
    for (const { where, target } of allTargets()) {
      const expr = substitute(target.expr);
      const r = await instant(expr);
      if (r.status !== 'success') failures.push(`${where}: Prometheus rejected ${expr}: ${r.errorType}: ${r.error}`);
      else if (r.data.result.length === 0) failures.push(`${where}: no series for ${expr}`);
    }
    return failures;
  };

  /** Expected series (job: name) that Prometheus does not have yet. */
  const missingExpectedSeries = async (): Promise<string[]> => {
    const missing: string[] = [];
    for (const [job, names] of Object.entries(EXPECTED_SERIES)) {
      const r = await instant(`count by (__name__) ({job="${job}"})`);
      const found = new Set(r.data.result.map((s) => s.metric.__name__));
      for (const name of names) if (!found.has(name)) missing.push(`${job}: ${name}`);
    }
    return missing;
  };

  before(async () => {
    runDir = mkdtempSync(path.join(os.tmpdir(), 'greeter-metrics-live-'));
    stack = await startStack({
      runDir,
      portOffset: PORT_OFFSET,
      workers: 1,
      jaeger: false,
      prometheus: true,
      // Injected 503s give the error panels data; the activities' retries still complete every greeting.
      translatorEnv: { TRANSLATOR_FAILURE_RATE: '0.2' },
    });
    prom = `http://127.0.0.1:${stack.ports.prometheus}`;
    const starter = `http://127.0.0.1:${stack.ports.starter}`;
    const translator = `http://127.0.0.1:${stack.ports.translator}`;

    // ~60 greetings spread over ~15 s, so rate() windows see a steady flow rather than one burst.
    const greet = async (i: number) => {
      const res = await fetch(`${starter}/greetings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Dashboard ${i}` }),
        signal: AbortSignal.timeout(60_000),
      });
      const body = await res.text();
      if (res.status === 200) traffic.completed++;
      else traffic.other.push(`${res.status} ${body.slice(0, 200)}`);
    };
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < GREETINGS; i++) {
      inFlight.push(greet(i).catch((err: unknown) => void traffic.other.push(String(err))));
      await sleep(TRAFFIC_MS / GREETINGS);
    }
    // Rejected input on both HTTP services: 400s for the error-ratio panels.
    for (const body of ['{}', '{"name":""}', '{"name":"   "}']) {
      const res = await fetch(`${starter}/greetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      traffic.badStarter.push(res.status);
    }
    for (const query of ['', '?name=', `?name=${'x'.repeat(101)}`]) {
      const res = await fetch(`${translator}/get-spanish-greeting${query}`);
      await res.arrayBuffer();
      traffic.badTranslator.push(res.status);
    }
    // A workflow that fails for real (the starter refuses this input, so go through Temporal
    // directly): the translator's 400 is non-retryable, so temporal_workflow_failed appears.
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: DEFAULT_TASK_QUEUE,
        workflowId: `metrics-live-failing-${Date.now()}`,
        args: [''],
        workflowExecutionTimeout: '30 seconds',
      });
      traffic.failedWorkflow = await handle.result().then(
        (r: unknown) => `completed unexpectedly with ${JSON.stringify(r)}`,
        (err: unknown) => (err instanceof Error ? err.name : String(err)),
      );
    } finally {
      await connection.close();
    }
    await Promise.all(inFlight);

    // Bounded wait until every expected series is scraped and every panel query has data
    // (rate() needs two scrapes after a series appears). The tests below report what is missing.
    const deadline = Date.now() + SCRAPE_WAIT_MS;
    const ready = async () => (await missingExpectedSeries()).length === 0 && (await failingPanelQueries()).length === 0;
    while (Date.now() < deadline && !(await ready())) await sleep(2_000);
  });

  after(async () => {
    await stack?.stop();
  });

  it('drove the traffic the panels need (greetings completed despite injected translator failures)', () => {
    assert.equal(
      traffic.completed,
      GREETINGS,
      `expected all ${GREETINGS} greetings to complete; other answers: ${traffic.other.join(' | ')}`,
    );
    assert.deepEqual(traffic.badStarter, [400, 400, 400], 'starter answers to invalid names');
    assert.deepEqual(traffic.badTranslator, [400, 400, 400], 'translator answers to invalid names');
    assert.equal(traffic.failedWorkflow, 'WorkflowFailedError', 'a workflow whose name the translator rejects fails');
  });

  it('scrapes every target successfully', async () => {
    const r = await api<{ activeTargets: Target[] }>('/api/v1/targets?state=active');
    const targets = r.data.activeTargets.map((t) => ({ job: t.labels.job, url: t.scrapeUrl, health: t.health, error: t.lastError }));
    assert.deepEqual([...new Set(targets.map((t) => t.job))].sort(), [
      'starter',
      'temporal-server',
      'temporal-worker',
      'translator',
      'worker',
    ]);
    const down = targets.filter((t) => t.health !== 'up');
    assert.deepEqual(down, [], `targets not up (logs:\n${logTails(runDir)})`);
  });

  it('has every expected series, per scrape job', async () => {
    assert.deepEqual(await missingExpectedSeries(), [], 'series missing from Prometheus');
  });

  it('has every series the dashboards query, apart from the documented optional ones', async (t) => {
    const r = await api<string[]>('/api/v1/label/__name__/values');
    const known = new Set(r.data);
    const used = new Set(allTargets().flatMap(({ target }) => metricUses(target.expr).map((u) => u.name)));
    const missing = [...used].filter((n) => !known.has(n) && !OPTIONAL_SERIES.has(n)).sort();
    assert.deepEqual(missing, [], 'metric names used by the dashboards that Prometheus does not have');
    t.diagnostic(
      `dashboards use ${used.size} metric names; optional and absent here: ${[...OPTIONAL_SERIES].filter((n) => !known.has(n)).join(', ') || 'none'}`,
    );
  });

  it('uses no counter (by Prometheus metadata) outside rate(), irate() or increase()', async () => {
    const r = await api<Record<string, Array<{ type: string }>>>('/api/v1/metadata');
    // OpenMetrics counters are listed under their family name, without _total.
    const typeOf = (name: string) => (r.data[name] ?? r.data[name.replace(/_total$/, '')])?.[0]?.type;
    const bare: string[] = [];
    for (const { where, target } of allTargets()) {
      for (const use of metricUses(target.expr)) {
        const type = typeOf(use.name);
        if (!use.inCounterFunction && (type === 'counter' || /_(bucket|count|sum)$/.test(use.name)))
          bare.push(`${where}: ${use.name} (${type})`);
      }
    }
    assert.deepEqual(bare, [], 'counters used without rate()');
  });

  it('stores exemplars with a trace_id on the latency histograms', async () => {
    const end = Date.now() / 1000;
    const start = end - 600;
    for (const selector of [
      'http_server_request_duration_seconds_bucket{service="translator"}',
      'http_server_request_duration_seconds_bucket{service="starter"}',
      'greeter_workflow_duration_seconds_bucket',
    ]) {
      const r = await api<ExemplarSeries[]>(`/api/v1/query_exemplars?query=${encodeURIComponent(selector)}&start=${start}&end=${end}`);
      assert.equal(r.status, 'success', `query_exemplars for ${selector}: ${r.error}`);
      const exemplars = r.data.flatMap((s) => s.exemplars);
      assert.ok(exemplars.length > 0, `no exemplars stored for ${selector}`);
      const bad = exemplars.filter((e) => !/^[0-9a-f]{32}$/.test(e.labels.trace_id ?? ''));
      assert.deepEqual(bad, [], `exemplars of ${selector} without a 32-hex trace_id label`);
    }
  });

  it('answers every panel query of both dashboards with at least one series', async (t) => {
    const failures = await failingPanelQueries();
    assert.deepEqual(failures, [], 'panel queries with errors or no data');
    t.diagnostic(`${allTargets().length} queries in ${loadDashboards().length} dashboards answered`);
  });
});
