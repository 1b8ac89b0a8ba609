// Shared by the dashboard tests: reads the generated dashboard JSON and finds which metric
// names a PromQL expression uses and whether each sits inside rate()/irate()/increase().
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, SLOT_UTILIZATION_FILE } from '@greeter/scripts/devstack';

export { ROOT, SLOT_UTILIZATION_FILE };
export const JSON_DIR = path.join(ROOT, 'dashboards', 'json');
export const CHART_DIR = path.join(ROOT, 'charts', 'greeter', 'dashboards');
export const GENERATOR = path.join(ROOT, 'dashboards', 'dist', 'src', 'build.js');

export interface Target {
  refId: string;
  expr: string;
  exemplar?: boolean;
  datasource?: { type?: string; uid?: string };
}

export interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
}

export interface LoadedDashboard {
  file: string;
  dashboard: Dashboard;
  /** Every non-row panel, including those nested in collapsed rows. */
  panels: Panel[];
}

export function loadDashboards(dir = JSON_DIR): LoadedDashboard[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Dashboard;
      const panels = dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
      return { file, dashboard, panels };
    });
}

/** Grafana's variables as the tests substitute them (one namespace, one queue, fixed windows). */
export const TEST_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '15m',
  namespace: 'default',
  task_queue: 'greeting-tasks',
  server_task_queue: 'greeting_tasks',
};

export function substitute(expr: string, vars: Record<string, string> = TEST_VARIABLES): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = vars[name];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
    return value;
  });
}

/** Functions whose argument turns a counter into something meaningful to plot. */
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase']);
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
/** Keywords whose parenthesis holds label names, not expressions. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OPERATORS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

export interface MetricUse {
  name: string;
  /** Inside the argument of rate(), irate() or increase(). */
  inCounterFunction: boolean;
}

/**
 * A small PromQL scanner (not a full parser): enough to find metric names outside label
 * matchers, range selectors, strings and label lists, with the functions enclosing them.
 * Prometheus itself parses every expression in the live test.
 */
export function metricUses(expr: string): MetricUse[] {
  const uses: MetricUse[] = [];
  const stack: string[] = [];
  let pending = '';
  let i = 0;
  const skipTo = (close: string) => {
    i++;
    while (i < expr.length && expr[i] !== close) {
      if (expr[i] === '"' || expr[i] === "'") skipString();
      else i++;
    }
    i++;
  };
  const skipString = () => {
    const quote = expr[i];
    i++;
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' ? 2 : 1;
    i++;
  };
  while (i < expr.length) {
    const c = expr[i] as string;
    if (c === '"' || c === "'" || c === '`') skipString();
    else if (c === '{') skipTo('}');
    else if (c === '[') skipTo(']');
    else if (c === '#') while (i < expr.length && expr[i] !== '\n') i++;
    else if (/[0-9.]/.test(c)) {
      // Numbers, including exponents and duration units after `offset` (5m, 1e3).
      while (i < expr.length && /[0-9a-zA-Z.]/.test(expr[i] as string)) i++;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const start = i;
      while (i < expr.length && /[a-zA-Z0-9_:]/.test(expr[i] as string)) i++;
      const ident = expr.slice(start, i);
      let j = i;
      while (j < expr.length && /\s/.test(expr[j] as string)) j++;
      const lower = ident.toLowerCase();
      if (expr[j] === '(') pending = lower;
      else if (AGGREGATIONS.has(lower) || LABEL_LISTS.has(lower) || OPERATORS.has(lower)) continue;
      else if (LABEL_LISTS.has(stack[stack.length - 1] ?? '')) continue;
      else uses.push({ name: ident, inCounterFunction: stack.some((f) => COUNTER_FUNCTIONS.has(f)) });
    } else if (c === '(') {
      stack.push(pending);
      pending = '';
      i++;
    } else if (c === ')') {
      stack.pop();
      i++;
    } else i++;
  }
  return uses;
}

/**
 * Series that only make sense through rate()/increase(): counters by naming convention
 * (_total, and the _count/_sum/_bucket of histograms) and the counters Temporal Core and the
 * Temporal server export without a suffix. The live test cross-checks the rest against
 * Prometheus' metadata.
 */
const UNSUFFIXED_COUNTERS = new Set([
  'temporal_workflow_completed',
  'temporal_workflow_failed',
  'temporal_workflow_canceled',
  'temporal_workflow_continue_as_new',
  'temporal_request',
  'temporal_request_failure',
  'temporal_long_request',
  'temporal_long_request_failure',
  'temporal_sticky_cache_hit',
  'temporal_sticky_cache_miss',
  'temporal_sticky_cache_total_forced_eviction',
  'temporal_activity_execution_failed',
  'temporal_activity_execution_cancelled',
  'temporal_activity_task_received',
  'temporal_activity_poll_no_task',
  'temporal_workflow_task_queue_poll_succeed',
  'temporal_workflow_task_queue_poll_empty',
  'temporal_workflow_task_execution_failed',
  'temporal_worker_start',
  'service_requests',
  'service_errors',
  'persistence_requests',
  'persistence_errors',
  'workflow_success',
  'workflow_failed',
  'action',
  'poll_success',
  'poll_success_sync',
  'no_poller_tasks',
]);

/** Gauges whose names end like a histogram part. */
const SUFFIXED_GAUGES = new Set(['approximate_backlog_count']);

export function isCounterName(name: string): boolean {
  return (/(_total|_count|_sum|_bucket)$/.test(name) && !SUFFIXED_GAUGES.has(name)) || UNSUFFIXED_COUNTERS.has(name);
}

/** Every (dashboard, panel, target) triple, for failure messages that say where a query lives. */
export function allTargets(dashboards = loadDashboards()): Array<{ where: string; dashboard: string; panel: Panel; target: Target }> {
  return dashboards.flatMap((d) =>
    d.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        where: `dashboard "${d.dashboard.title}" (${d.file}), panel ${panel.id} "${panel.title ?? ''}", query ${target.refId}`,
        dashboard: d.dashboard.title,
        panel,
        target,
      })),
    ),
  );
}
