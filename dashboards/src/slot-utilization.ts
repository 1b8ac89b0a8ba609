// The autoscaling signals as dashboard queries: k8s/queries/*.promql (the single source
// prometheus-adapter, the local cluster's adapter and the scale experiment also use) with their
// namespace/task-queue literals made variables.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const SLOT_UTILIZATION_FILE = path.join(ROOT, 'k8s', 'queries', 'slot-utilization.promql');
export const BACKLOG_FILE = path.join(ROOT, 'k8s', 'queries', 'task-queue-backlog.promql');

/** The literals in the .promql files and the dashboard variables that replace them. */
export const SLOT_UTILIZATION_LITERALS = [
  { literal: 'namespace="default"', variable: 'namespace="$namespace"' },
  { literal: 'task_queue="greeting-tasks"', variable: 'task_queue="$task_queue"' },
] as const;
/**
 * The Temporal server labels its task queue `taskqueue`, and its Prometheus reporter turns every
 * character but [a-zA-Z0-9_] of a label value into `_` (greeting-tasks -> greeting_tasks), hence
 * its own variable.
 */
export const BACKLOG_LITERALS = [
  { literal: 'namespace="default"', variable: 'namespace="$namespace"' },
  { literal: 'taskqueue="greeting_tasks"', variable: 'taskqueue="$server_task_queue"' },
] as const;

function queryFromFile(file: string, literals: readonly { literal: string; variable: string }[]): string {
  let expr = readFileSync(file, 'utf8').trim();
  for (const { literal, variable } of literals) {
    // A file without the literal would silently pin the panel to one queue: refuse.
    if (!expr.includes(literal)) throw new Error(`${file}: expected the literal ${literal} to turn into ${variable}`);
    expr = expr.split(literal).join(variable);
  }
  return expr;
}

export function slotUtilizationQuery(file = SLOT_UTILIZATION_FILE): string {
  return queryFromFile(file, SLOT_UTILIZATION_LITERALS);
}

export function backlogQuery(file = BACKLOG_FILE): string {
  return queryFromFile(file, BACKLOG_LITERALS);
}
