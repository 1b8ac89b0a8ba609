// The metrics and dashboards against the real local stack and a real Prometheus: every target
// is scraped, the series the dashboards rely on exist, exemplars carry trace ids, and every
// panel query of both dashboards parses and returns data.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '@greeter/scripts/devstack';
import { allTargets, loadDashboards, metricUses } from '../dashboards/dashboard-files';
import { OPTIONAL_SERIES, driveDashboardTraffic, promApi, type DashboardTraffic, type ExemplarSeries } from '../support/prometheus';
import { logTails } from '../support/stack';

const GREETINGS = 60;
const TRAFFIC_MS = 15_000;
/**
 * Upper bound for Prometheus to have two scrapes of everything after the traffic; the server
 * recomputes its backlog gauge about once a minute after a queue is first used.
 */
const SCRAPE_WAIT_MS = 90_000;

describe('metrics and dashboards on the live stack', { timeout: 150_000 }, () => {
  let stack: Stack | undefined;
  let runDir = '';
  let prom: ReturnType<typeof promApi>;
  let traffic: DashboardTraffic = { completed: 0, other: [], badStarter: [], badTranslator: [], failedWorkflow: '' };
  const api = <T>(q: string) => prom.api<T>(q);

  before(async () => {
    runDir = mkdtempSync(path.join(os.tmpdir(), 'greeter-metrics-live-'));
    stack = await startStack({
      runDir,
      workers: 1,
      jaeger: false,
      prometheus: true,
      // Injected 503s give the error panels data; the activities' retries still complete every greeting.
      translatorEnv: { TRANSLATOR_FAILURE_RATE: '0.2' },
    });
    prom = promApi(`http://127.0.0.1:${stack.ports.prometheus}`);
    traffic = await driveDashboardTraffic({
      starter: `http://127.0.0.1:${stack.ports.starter}`,
      translator: `http://127.0.0.1:${stack.ports.translator}`,
      temporalAddress: stack.temporalAddress,
      greetings: GREETINGS,
      spreadMs: TRAFFIC_MS,
    });
    await prom.waitForPanels(SCRAPE_WAIT_MS);
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
    const targets = await prom.targets();
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
    assert.deepEqual(await prom.missingExpectedSeries(), [], 'series missing from Prometheus');
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
        // A histogram's _bucket/_count/_sum are counters too; a gauge may end in _count (approximate_backlog_count).
        if (!use.inCounterFunction && (type === 'counter' || (type !== 'gauge' && /_(bucket|count|sum)$/.test(use.name))))
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
    const failures = await prom.failingPanelQueries();
    assert.deepEqual(failures, [], 'panel queries with errors or no data');
    t.diagnostic(`${allTargets().length} queries in ${loadDashboards().length} dashboards answered`);
  });
});
