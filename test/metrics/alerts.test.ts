// greeter's alerts fired for real: the local stack's Prometheus loads the chart's rule file, and
// the faults the alerts are written for are made to happen under load — the translator failing a
// share of its requests, then every worker gone while greetings keep arriving. Each alert must go
// pending and then firing; the time from the fault to firing is printed (a figure, not a pass/fail
// threshold). Nothing is lost along the way: every greeting started completes with its result.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE, WORKFLOW_TYPE } from '@greeter/shared/contract';
import { ALERT_RULES, startStack, type Stack } from '@greeter/scripts/devstack';
import { parse } from 'yaml';
import { metricUses } from '../dashboards/dashboard-files';
import { promApi } from '../support/prometheus';
import { logTails } from '../support/stack';

const RULES = parse(readFileSync(ALERT_RULES, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
/** Share of translator requests answered 503 (the activities retry them). */
const FAILURE_RATE = '0.3';
/** Bounds for each alert to fire: its rate window, its `for:` and a margin for two cores. */
const TRANSLATOR_ALERT_WAIT_MS = 240_000;
const BACKLOG_ALERT_WAIT_MS = 300_000;
/** Workflows started per second while no worker runs (each adds a workflow task to the backlog). */
const OUTAGE_STARTS_PER_S = 1;
/** The task queue as the Temporal server's Prometheus reporter labels it. */
const SERVER_TASK_QUEUE = DEFAULT_TASK_QUEUE.replace(/[^a-zA-Z0-9_]/g, '_');
/**
 * Counters Temporal Core and the server create at their first increment: a healthy run need not
 * have them. Every other name the rules use must be in the live Prometheus.
 */
const FIRST_FAILURE_SERIES = new Set([
  'temporal_request_failure',
  'temporal_long_request_failure',
  'temporal_workflow_task_execution_failed',
  'temporal_sticky_cache_total_forced_eviction',
  'no_poller_tasks',
]);

interface AlertState {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt?: string;
}

const expected = (name: string) => `¡Hola, ${name}!\n¡Adiós, ${name}!`;

describe('alerts fire on the live stack', { timeout: 900_000 }, () => {
  let stack: Stack | undefined;
  let runDir = '';
  let prom: ReturnType<typeof promApi>;
  let connection: Connection | undefined;
  let client: Client;

  const alerts = async (): Promise<AlertState[]> => (await prom.api<{ alerts: AlertState[] }>('/api/v1/alerts')).data.alerts;
  /** Waits until `name` fires; returns when it was first seen pending and firing (ms since `since`). */
  const untilFiring = async (name: string, since: number, ms: number) => {
    let pendingAt: number | undefined;
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const mine = (await alerts()).filter((a) => a.labels.alertname === name);
      if (pendingAt === undefined && mine.some((a) => a.state === 'pending' || a.state === 'firing')) pendingAt = Date.now() - since;
      const firing = mine.find((a) => a.state === 'firing');
      if (firing) return { pendingMs: pendingAt ?? Date.now() - since, firingMs: Date.now() - since, labels: firing.labels };
      await sleep(2_000);
    }
    const all = (await alerts()).map((a) => `${a.labels.alertname}=${a.state}`).join(', ');
    throw new Error(`${name} did not fire within ${ms / 1000} s (alerts now: ${all || 'none'}; logs:\n${logTails(runDir)})`);
  };

  before(async () => {
    runDir = mkdtempSync(path.join(os.tmpdir(), 'greeter-alerts-'));
    stack = await startStack({
      runDir,
      workers: 1,
      jaeger: false,
      prometheus: true,
      translatorEnv: { TRANSLATOR_FAILURE_RATE: FAILURE_RATE },
    });
    prom = promApi(`http://127.0.0.1:${stack.ports.prometheus}`);
    connection = await Connection.connect({ address: stack.temporalAddress });
    client = new Client({ connection, namespace: 'default' });
  });

  after(async () => {
    await connection?.close();
    await stack?.stop();
  });

  it('loads every rule of the chart rule file, all inactive on an idle stack', async () => {
    const r = await prom.api<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>(
      '/api/v1/rules',
    );
    const rules = r.data.groups.flatMap((g) => g.rules);
    assert.ok(rules.length >= 10, `expected the chart's rules in Prometheus, got ${rules.length}`);
    const unhealthy = rules.filter((x) => x.health === 'err').map((x) => `${x.name}: ${x.lastError}`);
    assert.deepEqual(unhealthy, [], 'rules Prometheus fails to evaluate');
    assert.deepEqual(
      (await alerts()).map((a) => a.labels.alertname),
      [],
      'no alert should be active before any fault',
    );
  });

  it(`fires GreeterTranslatorErrors and GreeterActivityFailures while the translator fails ${FAILURE_RATE} of requests; every greeting completes`, async (t) => {
    const started = Date.now();
    const results: string[] = [];
    const bad: string[] = [];
    let stop = false;
    const user = async (u: number) => {
      for (let i = 0; !stop; i++) {
        const name = `Alerta ${u}-${i}`;
        const res = await fetch(`http://127.0.0.1:${stack!.ports.starter}/greetings`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name }),
          signal: AbortSignal.timeout(60_000),
        });
        const body = (await res.json()) as { result?: string };
        if (res.status === 200 && body.result === expected(name)) results.push(name);
        else bad.push(`${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      }
    };
    const users = Array.from({ length: 4 }, (_, u) => user(u));
    try {
      const translator = await untilFiring('GreeterTranslatorErrors', started, TRANSLATOR_ALERT_WAIT_MS);
      const activity = await untilFiring('GreeterActivityFailures', started, TRANSLATOR_ALERT_WAIT_MS);
      t.diagnostic(
        `GreeterTranslatorErrors pending after ${(translator.pendingMs / 1000).toFixed(0)} s, firing after ${(translator.firingMs / 1000).toFixed(0)} s; ` +
          `GreeterActivityFailures (${activity.labels.activity_type}) firing after ${(activity.firingMs / 1000).toFixed(0)} s of load`,
      );
      assert.equal(activity.labels.task_queue, DEFAULT_TASK_QUEUE);
    } finally {
      stop = true;
      await Promise.all(users);
    }
    t.diagnostic(`greetings: ${results.length} exact, ${bad.length} other`);
    assert.deepEqual(bad, [], 'every greeting should complete despite the failures (the activities retry)');
    assert.ok(results.length > 0, 'the load ran');
    const active = (await alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
    assert.ok(
      !active.includes('GreeterGreetingErrors'),
      `greetings did not fail, so GreeterGreetingErrors must not fire (firing: ${active.join(', ')})`,
    );
  });

  it('every series the rules use exists in a real scrape, with the label values and units the rules assume', async (t) => {
    const names = new Set((await prom.api<string[]>('/api/v1/label/__name__/values')).data);
    const used = new Set(RULES.groups.flatMap((g) => g.rules.flatMap((r) => metricUses(r.expr).map((u) => u.name))));
    const missing = [...used].filter((n) => !names.has(n) && !FIRST_FAILURE_SERIES.has(n)).sort();
    assert.deepEqual(missing, [], 'metric names in greeter.rules.yaml that the live stack does not emit');
    const values = async (label: string, series: string) =>
      (await prom.api<string[]>(`/api/v1/label/${label}/values?match[]=${encodeURIComponent(series)}`)).data.sort();
    // The rules select the two non-sticky poller types; Core spells the sticky one two ways
    // (sticky_workflow_task and workflow_sticky_task were both seen in one scrape).
    const pollerTypes = await values('poller_type', 'temporal_num_pollers');
    for (const p of ['activity_task', 'workflow_task']) assert.ok(pollerTypes.includes(p), `poller_type ${p} in ${pollerTypes.join(', ')}`);
    assert.deepEqual(
      pollerTypes.filter((p) => !['activity_task', 'workflow_task'].includes(p)).every((p) => p.includes('sticky')),
      true,
      `only sticky variants besides the two the rules use, got ${pollerTypes.join(', ')}`,
    );
    assert.deepEqual(await values('taskqueue', `approximate_backlog_count{namespace="default"}`), [SERVER_TASK_QUEUE]);
    // Core histograms in milliseconds: buckets well above 1000 exist (seconds would stop near 10..60).
    const le = (await values('le', 'temporal_activity_schedule_to_start_latency_bucket')).filter((v) => v !== '+Inf').map(Number);
    assert.ok(
      Math.max(...le) >= 10_000,
      `expected millisecond buckets on temporal_activity_schedule_to_start_latency, got le ${le.join(', ')}`,
    );
    assert.ok(!names.has('temporal_request_total') && names.has('temporal_request'), 'Core counters carry no _total suffix');
    t.diagnostic(`poller_type values: ${pollerTypes.join(', ')}; largest Core latency bucket ${Math.max(...le)} ms`);
  });

  it('fires GreeterTaskQueueNoPollers and GreeterTaskQueueBacklog when every worker stops under load; the backlog completes once a worker is back', async (t) => {
    await stack!.setWorkers(0);
    const stopped = Date.now();
    const handles: { name: string; result: () => Promise<unknown> }[] = [];
    let stop = false;
    const starting = (async () => {
      for (let i = 0; !stop; i++) {
        const name = `Cola ${i}`;
        const h = await client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: DEFAULT_TASK_QUEUE,
          workflowId: `alerts-backlog-${stopped}-${i}`,
          args: [name],
        });
        handles.push({ name, result: () => h.result() });
        await sleep(1_000 / OUTAGE_STARTS_PER_S);
      }
    })();
    let noPollers;
    let backlog;
    try {
      // Watched side by side: each one's pending and firing times are its own.
      [noPollers, backlog] = await Promise.all([
        untilFiring('GreeterTaskQueueNoPollers', stopped, BACKLOG_ALERT_WAIT_MS),
        untilFiring('GreeterTaskQueueBacklog', stopped, BACKLOG_ALERT_WAIT_MS),
      ]);
    } finally {
      stop = true;
      await starting;
    }
    const s = (ms: number) => (ms / 1000).toFixed(0);
    t.diagnostic(
      `after the last worker stopped: GreeterTaskQueueNoPollers pending ${s(noPollers.pendingMs)} s, firing ${s(noPollers.firingMs)} s; ` +
        `GreeterTaskQueueBacklog pending ${s(backlog.pendingMs)} s, firing ${s(backlog.firingMs)} s (${handles.length} greetings started meanwhile)`,
    );
    // The server's Prometheus reporter writes greeting-tasks as greeting_tasks.
    assert.equal(backlog.labels.taskqueue, SERVER_TASK_QUEUE);
    assert.equal(noPollers.labels.taskqueue, SERVER_TASK_QUEUE);

    const back = Date.now();
    await stack!.setWorkers(1);
    const results = await Promise.all(handles.map(async (h) => ({ name: h.name, got: await h.result() })));
    const wrong = results.filter((r) => r.got !== expected(r.name)).map((r) => `${r.name}: ${JSON.stringify(r.got)}`);
    assert.deepEqual(wrong, [], 'every greeting started during the outage completes with its exact result');
    t.diagnostic(
      `${results.length} greetings started without a worker completed ${((Date.now() - back) / 1000).toFixed(0)} s after a worker returned; 0 lost`,
    );
  });
});
