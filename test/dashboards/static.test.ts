// Offline checks of the generated Grafana dashboards: in sync with the generator, every panel
// documented and unit-bearing, counters only through rate(), the HPA query used verbatim.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CHART_DIR,
  GENERATOR,
  JSON_DIR,
  SLOT_UTILIZATION_FILE,
  allTargets,
  isCounterName,
  loadDashboards,
  metricUses,
  substitute,
} from './dashboard-files';

const EXPECTED_FILES = ['greeter-overview.json', 'greeter-worker-internals.json'];

describe('generated dashboards', () => {
  let fresh: string;
  before(() => {
    assert.ok(existsSync(GENERATOR), `the dashboard generator ${GENERATOR} is not built (run npx tsc -b dashboards)`);
    fresh = mkdtempSync(path.join(os.tmpdir(), 'greeter-dashboards-'));
    execFileSync(process.execPath, [GENERATOR, '--out', fresh], { stdio: 'pipe' });
  });
  after(() => rmSync(fresh, { recursive: true, force: true }));

  for (const [name, dir] of [
    ['dashboards/json', JSON_DIR],
    ['charts/greeter/dashboards', CHART_DIR],
  ] as const) {
    it(`${name} holds exactly what the generator produces now (run npm run dashboards after editing dashboards/src)`, () => {
      const committed = readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
      assert.deepEqual(committed, readdirSync(fresh).sort(), `JSON files in ${name}`);
      for (const f of committed) {
        const want = readFileSync(path.join(fresh, f), 'utf8');
        const got = readFileSync(path.join(dir, f), 'utf8');
        assert.ok(got === want, `${name}/${f} is stale: it differs from the generator's output (regenerate with npm run dashboards)`);
      }
    });
  }

  it('are the overview and the worker internals, with stable unique uids', () => {
    const dashboards = loadDashboards();
    assert.deepEqual(
      dashboards.map((d) => d.file),
      EXPECTED_FILES,
    );
    assert.deepEqual(
      dashboards.map((d) => d.dashboard.uid),
      ['greeter-overview', 'greeter-worker-internals'],
    );
    assert.deepEqual(
      dashboards.map((d) => d.dashboard.title),
      ['Greeter overview', 'Greeter worker internals'],
    );
  });

  it('have the datasource, namespace and task_queue variables read from Temporal Core series, and the server spelling of the queue', () => {
    for (const d of loadDashboards()) {
      const vars = d.dashboard.templating.list;
      assert.deepEqual(
        vars.map((v) => v.name),
        ['datasource', 'namespace', 'task_queue', 'server_task_queue'],
        `${d.file} variables`,
      );
      assert.equal(vars[0]?.type, 'datasource');
      assert.equal(vars[0]?.query, 'prometheus', `${d.file}: the datasource variable must list Prometheus datasources`);
      for (const v of vars.slice(1, 3)) {
        assert.equal(v.type, 'query', `${d.file} variable ${v.name}`);
        assert.match(String(v.query), new RegExp(`^label_values\\(temporal_\\w+.*, ${v.name}\\)$`), `${d.file} variable ${v.name} query`);
      }
      // The server labels the queue `taskqueue` (with - and . written as _), so it has its own variable.
      assert.equal(vars[3]?.type, 'query');
      assert.match(String(vars[3]?.query), /^label_values\(approximate_backlog_count\{namespace="\$namespace"\}, taskqueue\)$/);
    }
  });

  it('give every panel a title, a description, a unit, queries, unique ids and the ${datasource} variable', () => {
    for (const d of loadDashboards()) {
      const ids = d.dashboard.panels.flatMap((p) => [p.id, ...(p.panels ?? []).map((c) => c.id)]);
      assert.equal(new Set(ids).size, ids.length, `${d.file}: panel ids must be unique, got ${ids.join(', ')}`);
      assert.ok(d.panels.length >= 8, `${d.file}: expected a real dashboard, got ${d.panels.length} panels`);
      for (const p of d.panels) {
        const where = `${d.file} panel ${p.id} "${p.title ?? ''}"`;
        assert.ok(p.title?.trim(), `${where}: no title`);
        assert.ok(
          (p.description ?? '').trim().length >= 20,
          `${where}: description missing or too short: ${JSON.stringify(p.description)}`,
        );
        assert.ok(p.fieldConfig?.defaults?.unit, `${where}: no unit in fieldConfig.defaults.unit`);
        assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${where}: panel datasource`);
        assert.ok((p.targets ?? []).length > 0, `${where}: no queries`);
        for (const t of p.targets ?? []) {
          assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${datasource}' }, `${where} query ${t.refId}: datasource`);
          assert.ok(t.expr.trim(), `${where} query ${t.refId}: empty expression`);
        }
      }
    }
  });

  it('use counters only inside rate(), irate() or increase()', () => {
    const bare: string[] = [];
    for (const { where, target } of allTargets()) {
      for (const use of metricUses(target.expr)) {
        if (isCounterName(use.name) && !use.inCounterFunction) bare.push(`${where}: ${use.name} in ${target.expr}`);
      }
    }
    assert.deepEqual(bare, [], 'counters outside rate()/irate()/increase()');
  });

  it('select every Temporal Core series by the namespace variable', () => {
    const unfiltered: string[] = [];
    for (const { where, target } of allTargets()) {
      for (const m of target.expr.matchAll(/\btemporal_[a-z_]+(\{[^}]*\})?/g)) {
        if (!(m[1] ?? '').includes('namespace="$namespace"')) unfiltered.push(`${where}: ${m[0]}`);
      }
    }
    assert.deepEqual(unfiltered, [], 'Temporal Core selectors without namespace="$namespace"');
  });

  it('link latency histograms to traces through exemplars', () => {
    const exemplarExprs = allTargets()
      .filter((t) => t.target.exemplar)
      .map((t) => t.target.expr);
    for (const histogram of ['greeter_workflow_duration_seconds_bucket', 'http_server_request_duration_seconds_bucket']) {
      assert.ok(
        exemplarExprs.some((e) => e.includes(histogram)),
        `no query with exemplar: true over ${histogram}; got ${exemplarExprs.join(' | ')}`,
      );
    }
  });

  it('show worker slot utilization with exactly the query in k8s/queries/slot-utilization.promql', () => {
    const file = readFileSync(SLOT_UTILIZATION_FILE, 'utf8').trim();
    const panels = allTargets().filter((t) => t.panel.title?.toLowerCase().includes('slot utilization'));
    assert.equal(panels.length, 1, `expected one slot utilization query, found ${panels.map((p) => p.where).join('; ')}`);
    const expr = panels[0]?.target.expr ?? '';
    assert.ok(expr.includes('namespace="$namespace"') && expr.includes('task_queue="$task_queue"'), `variables not substituted: ${expr}`);
    assert.equal(substitute(expr), file, 'slot utilization panel with $namespace=default and $task_queue=greeting-tasks');
    assert.equal(panels[0]?.panel.fieldConfig?.defaults?.unit, 'percentunit');
  });
});

describe('PromQL scanner used by these checks', () => {
  it('finds metric names and whether rate() encloses them', () => {
    assert.deepEqual(
      metricUses(
        'histogram_quantile(0.95, sum by (le, service_name) (rate(foo_bucket{a="x{y}", b=~"5.."}[$__rate_interval]))) / bar_total offset 5m',
      ),
      [
        { name: 'foo_bucket', inCounterFunction: true },
        { name: 'bar_total', inCounterFunction: false },
      ],
    );
    assert.deepEqual(
      metricUses('max(kube_x{deployment="d"}) or count(on (instance) temporal_y == 1)').map((u) => u.name),
      ['kube_x', 'temporal_y'],
    );
    assert.deepEqual(
      metricUses('sum without (pod) (increase(a[5m])) > bool 0').map((u) => u.inCounterFunction),
      [true],
    );
  });

  it('flags the counters Temporal exports without a _total suffix', () => {
    for (const name of ['temporal_workflow_completed', 'temporal_request_failure', 'x_total', 'y_count', 'z_sum', 'w_bucket'])
      assert.ok(isCounterName(name), name);
    for (const name of ['temporal_worker_task_slots_used', 'temporal_sticky_cache_size', 'process_resident_memory_bytes'])
      assert.ok(!isCounterName(name), name);
  });
});
