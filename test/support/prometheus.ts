// Prometheus as the metrics tests read it (the local stack's and the cluster's): the series the
// dashboards rely on, the query API, every panel query, and the traffic that gives each panel data.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE, WORKFLOW_TYPE } from '@greeter/shared/contract';
import { allTargets, substitute } from '../dashboards/dashboard-files';

/** Series each scrape job must expose (the list the dashboards and the HPA rely on). */
export const EXPECTED_SERIES: Record<string, string[]> = {
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
    // The backlog signal, the sync-match and actions panels (matching and frontend services).
    'approximate_backlog_count',
    'poll_success',
    'poll_success_sync',
    'action',
  ],
};

/**
 * Series the dashboards read that need not exist here: kube-state-metrics runs only in a
 * cluster (the replicas panel falls back to counting polling workers), and Temporal Core
 * creates these counters at their first increment (the panels show 0 until then). ALERTS
 * exists only while an alert is pending or firing (the alerts panel shows 0 otherwise).
 */
export const OPTIONAL_SERIES = new Set([
  'ALERTS',
  'kube_deployment_status_replicas',
  'temporal_request_failure',
  'temporal_long_request_failure',
  'temporal_sticky_cache_miss',
]);

export interface PromResponse<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}
export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}
export interface ScrapeTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
  lastError: string;
  /** RFC 3339 time of the last scrape. */
  lastScrape: string;
}
export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

/** The query API of one Prometheus, with the checks the metrics tests share. */
export function promApi(base: string) {
  const api = async <T>(pathAndQuery: string): Promise<PromResponse<T>> => {
    const res = await fetch(`${base}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
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

  const targets = async () => {
    const r = await api<{ activeTargets: ScrapeTarget[] }>('/api/v1/targets?state=active');
    return r.data.activeTargets.map((t) => ({ job: t.labels.job ?? '', url: t.scrapeUrl, health: t.health, error: t.lastError }));
  };

  /** Bounded wait until every expected series is scraped and every panel query has data (rate() needs two scrapes). */
  const waitForPanels = async (ms: number) => {
    const deadline = Date.now() + ms;
    const ready = async () => (await missingExpectedSeries()).length === 0 && (await failingPanelQueries()).length === 0;
    while (Date.now() < deadline && !(await ready())) await sleep(2_000);
  };

  return { api, instant, failingPanelQueries, missingExpectedSeries, targets, waitForPanels };
}

export interface DashboardTraffic {
  completed: number;
  other: string[];
  badStarter: number[];
  badTranslator: number[];
  failedWorkflow: string;
}

/**
 * The traffic every panel needs: `greetings` greetings spread over `spreadMs` (rate() windows
 * see a steady flow), rejected input on both HTTP services (400s for the error panels), and
 * one workflow that really fails (the translator's 400 is non-retryable), started through
 * Temporal directly because the starter refuses that input.
 */
export async function driveDashboardTraffic(o: {
  starter: string;
  translator: string;
  temporalAddress: string;
  greetings: number;
  spreadMs: number;
}): Promise<DashboardTraffic> {
  const traffic: DashboardTraffic = { completed: 0, other: [], badStarter: [], badTranslator: [], failedWorkflow: '' };
  const greet = async (i: number) => {
    const res = await fetch(`${o.starter}/greetings`, {
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
  for (let i = 0; i < o.greetings; i++) {
    inFlight.push(greet(i).catch((err: unknown) => void traffic.other.push(String(err))));
    await sleep(o.spreadMs / o.greetings);
  }
  for (const body of ['{}', '{"name":""}', '{"name":"   "}']) {
    const res = await fetch(`${o.starter}/greetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    traffic.badStarter.push(res.status);
  }
  for (const query of ['', '?name=', `?name=${'x'.repeat(101)}`]) {
    const res = await fetch(`${o.translator}/get-spanish-greeting${query}`);
    await res.arrayBuffer();
    traffic.badTranslator.push(res.status);
  }
  const connection = await Connection.connect({ address: o.temporalAddress });
  try {
    const client = new Client({ connection, namespace: 'default' });
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: DEFAULT_TASK_QUEUE,
      workflowId: `metrics-failing-${Date.now()}`,
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
  return traffic;
}
