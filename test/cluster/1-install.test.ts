// greeter installed on a real cluster (scripts/cluster/deploy.sh ran before this file): every pod
// Ready, `helm test` green, the exact greeting through the starter Service, one trace across the
// pods in Jaeger, every scrape target up and every dashboard panel answering from the in-cluster
// Prometheus, and a `helm upgrade` to a changed worker image with no failed greeting.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runK6 } from '@greeter/loadtest/k6run';
import { allTargets } from '../dashboards/dashboard-files';
import { CHAIN, describeTrace, fetchTrace, newTraceparent } from '../support/jaeger';
import { driveDashboardTraffic, EXPECTED_SERIES, promApi } from '../support/prometheus';
import { postGreeting } from '../support/stack';
import {
  helm,
  isReady,
  K6_OUT,
  kubectl,
  NS,
  pods,
  RELEASE,
  ROOT,
  serviceUrl,
  stopForwards,
  until,
  upgradeRelease,
  WORKER,
} from './support';

const UPGRADE_TAG = 'dev-upgrade';

describe('greeter on the cluster', { timeout: 900_000 }, () => {
  let starter = '';
  let translator = '';
  let jaeger = '';
  let prom: ReturnType<typeof promApi>;
  let temporalAddress = '';

  before(async () => {
    starter = await serviceUrl(NS, 'greeter-starter', 8080);
    translator = await serviceUrl(NS, 'greeter-translator', 9999);
    jaeger = await serviceUrl('observability', 'jaeger', 16686);
    prom = promApi(await serviceUrl('observability', 'prometheus', 9090));
    temporalAddress = (await serviceUrl(NS, 'greeter-temporal', 7233)).replace(/^http:\/\//, '');
  });
  after(() => stopForwards());

  it('runs every pod of the release Ready', () => {
    // Pods on their way out (an earlier rollout or scale-down) are not part of the release any more.
    const all = pods(NS, `app.kubernetes.io/instance=${RELEASE}`).filter((p) => !p.metadata.deletionTimestamp);
    const components = new Set(all.map((p) => p.metadata.labels?.['app.kubernetes.io/component']));
    assert.deepEqual([...components].sort(), ['starter', 'temporal', 'translator', 'worker']);
    const notReady = all.filter((p) => p.status.phase !== 'Succeeded' && !isReady(p)).map((p) => `${p.metadata.name}: ${p.status.phase}`);
    assert.deepEqual(notReady, [], 'pods not Ready');
  });

  it('passes helm test', () => {
    // No --logs: the hook pod is deleted once it succeeds (hook-delete-policy), so there are none to read.
    const r = helm('test', RELEASE, '-n', NS, '--timeout', '3m');
    assert.equal(r.status, 0, `helm test failed:\n${r.out}`);
    assert.match(r.out, /Phase:\s+Succeeded/);
  });

  it('answers POST /greetings through the starter Service with exactly the greeting and the farewell, as one trace across the pods', async () => {
    const tp = newTraceparent();
    const r = await postGreeting(starter, { name: 'María' }, { headers: { traceparent: tp.header } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.result, '¡Hola, María!\n¡Adiós, María!');
    assert.equal(r.body.traceId, tp.traceId, 'the caller traceparent is honoured');

    const trace = await fetchTrace(jaeger, tp.traceId, 14, () => kubectl('-n', NS, 'logs', `deployment/${WORKER}`, '--tail=20'), 120);
    const d = describeTrace(trace);
    for (const edge of [...CHAIN('greetInSpanish', '/get-spanish-greeting'), ...CHAIN('farewellInSpanish', '/get-spanish-farewell')]) {
      assert.ok(d.edges.includes(edge), `missing edge ${edge}; edges:\n${d.edges.join('\n')}`);
    }
    // Across pods: each service's spans carry its own pod name (resource attribute from the downward API).
    const podOf = new Map<string, Set<string>>();
    for (const s of trace.spans) {
      const proc = trace.processes[s.processID];
      const pod = proc?.tags?.find((t) => t.key === 'k8s.pod.name')?.value;
      if (proc && typeof pod === 'string') podOf.set(proc.serviceName, new Set([...(podOf.get(proc.serviceName) ?? []), pod]));
    }
    assert.deepEqual(
      [...podOf.keys()].sort(),
      ['starter', 'translator', 'worker'],
      'spans from the three services, each with k8s.pod.name',
    );
    const allPods = [...podOf.values()].flatMap((s) => [...s]);
    assert.equal(
      new Set(allPods).size,
      allPods.length,
      `each service ran in its own pod: ${JSON.stringify(Object.fromEntries([...podOf].map(([k, v]) => [k, [...v]])))}`,
    );
  });

  it('scrapes every target and answers every dashboard panel query from the in-cluster Prometheus', async (t) => {
    const traffic = await driveDashboardTraffic({ starter, translator, temporalAddress, greetings: 40, spreadMs: 15_000 });
    assert.equal(traffic.completed, 40, `greetings that did not complete: ${traffic.other.join(' | ')}`);
    assert.equal(traffic.failedWorkflow, 'WorkflowFailedError');
    await prom.waitForPanels(90_000);
    const targets = await prom.targets();
    const jobs = new Set(targets.map((x) => x.job));
    for (const job of [...Object.keys(EXPECTED_SERIES), 'kube-state-metrics']) assert.ok(jobs.has(job), `no scrape target for job ${job}`);
    assert.deepEqual(
      targets.filter((x) => x.health !== 'up'),
      [],
      'targets not up',
    );
    assert.deepEqual(await prom.missingExpectedSeries(), [], 'series missing');
    assert.deepEqual(await prom.failingPanelQueries(), [], 'panel queries with errors or no data');
    t.diagnostic(`${targets.length} targets up; ${allTargets().length} panel queries answered`);
  });

  it("evaluates the chart's alert rules in the in-cluster Prometheus, none failing", async (t) => {
    const r = await prom.api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>('/api/v1/rules');
    const rules = r.data.groups.flatMap((g) => g.rules);
    assert.ok(rules.length >= 10, `expected greeter's alert rules in Prometheus, got ${rules.length}`);
    assert.deepEqual(
      rules.filter((x) => x.health === 'err').map((x) => `${x.name}: ${x.lastError}`),
      [],
      'rules the in-cluster Prometheus fails to evaluate',
    );
    t.diagnostic(`${rules.length} alert rules loaded`);
  });

  it('serves both Temporal autoscaling signals as External metrics, and the worker HPA reads them', async (t) => {
    const hpa = JSON.parse(kubectl('-n', NS, 'get', 'hpa', WORKER, '-o', 'json')) as {
      spec: { metrics: { type: string; external?: { metric: { name: string; selector?: { matchLabels?: Record<string, string> } } } }[] };
    };
    const external = hpa.spec.metrics.filter((m) => m.type === 'External').map((m) => m.external!);
    assert.deepEqual(
      external.map((e) => e.metric.name).sort(),
      ['greeter_slot_utilization', 'greeter_task_queue_backlog'],
      'the local profile scales on slot utilization and backlog',
    );
    const values: string[] = [];
    for (const e of external) {
      const selector = Object.entries(e.metric.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const raw = kubectl(
        'get',
        '--raw',
        `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NS}/${e.metric.name}?labelSelector=${encodeURIComponent(selector)}`,
      );
      const list = JSON.parse(raw) as { items: { metricName: string; value: string }[] };
      assert.equal(list.items.length, 1, `${e.metric.name}: expected one value, got ${raw}`);
      values.push(`${e.metric.name}=${list.items[0]?.value}`);
    }
    // The HPA controller has fetched them (a metric it cannot read would show up as ScalingActive=False).
    await until(
      'the HPA reports current values for both External metrics',
      120_000,
      () => {
        const status = JSON.parse(kubectl('-n', NS, 'get', 'hpa', WORKER, '-o', 'json')) as {
          status: { currentMetrics?: { type: string }[]; conditions?: { type: string; status: string; message: string }[] };
        };
        const active = status.status.conditions?.find((c) => c.type === 'ScalingActive');
        return (status.status.currentMetrics ?? []).filter((m) => m.type === 'External').length === 2 && active?.status === 'True';
      },
      5_000,
    );
    t.diagnostic(`external metrics: ${values.join(', ')}`);
  });

  it('rolls the worker to a changed image with helm upgrade while greetings keep completing', async (t) => {
    // A changed image: the same build with one more label, so its id differs from :dev.
    execFileSync('bash', [path.join(ROOT, 'scripts', 'cluster', 'images.sh'), 'variant', 'greeter-worker', UPGRADE_TAG], {
      stdio: 'inherit',
    });
    const load = runK6('phases', { BASE_URL: starter, PHASES: '8:75s', P95_MS: '60000', P99_MS: '60000' }, K6_OUT);
    await new Promise((r) => setTimeout(r, 10_000));
    const up = upgradeRelease([`worker.image.tag=${UPGRADE_TAG}`]);
    assert.equal(up.status, 0, `helm upgrade failed:\n${up.out}`);
    const run = await load;
    const failed = run.greetings.filter((g) => !g.ok);
    assert.ok(run.greetings.length > 50, `expected a steady flow of greetings, got ${run.greetings.length}`);
    assert.deepEqual(failed, [], `greetings failed during the rollout:\n${run.stderr.slice(-2000)}`);
    await until('old worker pods gone', 120_000, () =>
      pods(NS, `app.kubernetes.io/component=worker`).every((p) => p.spec.containers[0]?.image.endsWith(`:${UPGRADE_TAG}`)),
    );
    const worst = Math.max(...run.greetings.map((g) => g.ms));
    t.diagnostic(`${run.greetings.length} greetings during the upgrade, 0 failed, worst latency ${worst.toFixed(0)} ms`);
  });
});
