// greeter's alert rules as code: the rule file is valid for Prometheus, every alert has a promtool
// unit test that makes it fire (and one that keeps it quiet), and the chart's PrometheusRule
// carries exactly the same groups as the file the local Prometheus loads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { ALERT_RULES as RULES_FILE } from '@greeter/scripts/devstack';
import { ROOT, parseObjects, profiles, render, run } from '../chart/support';

const RULES_TESTS = path.join(ROOT, 'test', 'alerts', 'greeter.rules.test.yaml');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface PromtoolTests {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

function promtool(args: string[]) {
  const r = run('promtool', args, { cwd: path.dirname(RULES_TESTS) });
  if (r.status !== 0 && /ENOENT/.test(r.stderr))
    throw new Error('promtool not found on PATH: it ships with the Prometheus package (npm run bootstrap installs Debian\'s "prometheus")');
  return r;
}

const rules = parse(readFileSync(RULES_FILE, 'utf8')) as RuleFile;
const alertNames = rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((a): a is string => a !== undefined);

describe('alert rules (charts/greeter/alerts/greeter.rules.yaml)', () => {
  test('promtool check rules accepts the file', () => {
    const r = promtool(['check', 'rules', RULES_FILE]);
    assert.equal(r.status, 0, `promtool check rules failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${alertNames.length} rules found`));
  });

  test('promtool test rules passes every unit test', () => {
    const r = promtool(['test', 'rules', RULES_TESTS]);
    assert.equal(r.status, 0, `promtool test rules failed:\n${r.stdout}${r.stderr}`);
  });

  test('every alert has a unit test where it fires and one where it stays quiet', () => {
    const tests = parse(readFileSync(RULES_TESTS, 'utf8')) as PromtoolTests;
    const checks = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const fires = new Set(checks.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname));
    const quiet = new Set(checks.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname));
    assert.deepEqual(
      alertNames.filter((a) => !fires.has(a)),
      [],
      'alerts without a unit test that makes them fire',
    );
    assert.deepEqual(
      alertNames.filter((a) => !quiet.has(a)),
      [],
      'alerts without a unit test that keeps them quiet',
    );
  });

  test('every alert has a severity, a summary and a for: duration', () => {
    const bad = rules.groups
      .flatMap((g) => g.rules)
      .filter((r) => r.alert !== undefined && (!r.for || !['warning', 'critical'].includes(r.labels?.severity ?? '')))
      .map((r) => r.alert);
    assert.deepEqual(bad, [], 'alerts missing for: or severity warning|critical');
  });

  test('no Core counter is queried with a _total suffix and no Core histogram in seconds', () => {
    // Temporal Core (the TypeScript SDK's metrics) exports counters without _total and
    // histograms in milliseconds; generic Temporal alert examples get both wrong.
    const wrong = rules.groups
      .flatMap((g) => g.rules)
      .flatMap((r) => [...r.expr.matchAll(/\btemporal_[a-z_]+(_total|_seconds_bucket)\b/g)].map((m) => `${r.alert}: ${m[0]}`));
    assert.deepEqual(wrong, []);
  });

  test("the chart's PrometheusRule carries exactly the file's groups", () => {
    const kind = profiles().find((p) => p.name === 'kind');
    assert.ok(kind, 'charts/greeter/ci/kind-values.yaml is missing');
    const objects = parseObjects(render(kind));
    const pr = objects.filter((o) => o.kind === 'PrometheusRule');
    assert.equal(pr.length, 1, `expected one PrometheusRule in the kind profile, got ${pr.length}`);
    assert.deepEqual((pr[0] as unknown as { spec: RuleFile }).spec.groups, rules.groups);
    assert.equal(pr[0]?.metadata.labels?.release, 'kube-prometheus-stack', 'the rule carries the label the Prometheus selects by');
  });

  test('no PrometheusRule renders where the cluster lacks the CRD or rules are off', () => {
    const def = profiles().find((p) => p.name === 'default');
    assert.ok(def);
    const without = parseObjects(render(def, { set: ['monitoring.prometheusRules.enabled=true'], apis: [] }));
    assert.equal(without.filter((o) => o.kind === 'PrometheusRule').length, 0, 'rendered without the monitoring.coreos.com CRDs');
    const off = parseObjects(render(def));
    assert.equal(off.filter((o) => o.kind === 'PrometheusRule').length, 0, 'rendered with prometheusRules.enabled=false');
  });
});
