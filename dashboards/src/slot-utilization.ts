// The autoscaling signal as a dashboard query: k8s/queries/slot-utilization.promql (the single
// source prometheus-adapter also serves) with its namespace/task-queue literals made variables.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const SLOT_UTILIZATION_FILE = path.join(ROOT, 'k8s', 'queries', 'slot-utilization.promql');

/** The literals in the .promql file and the dashboard variables that replace them. */
export const SLOT_UTILIZATION_LITERALS = [
  { literal: 'namespace="default"', variable: 'namespace="$namespace"' },
  { literal: 'task_queue="greeting-tasks"', variable: 'task_queue="$task_queue"' },
] as const;

export function slotUtilizationQuery(file = SLOT_UTILIZATION_FILE): string {
  let expr = readFileSync(file, 'utf8').trim();
  for (const { literal, variable } of SLOT_UTILIZATION_LITERALS) {
    // A file without the literal would silently pin the panel to one queue: refuse.
    if (!expr.includes(literal)) throw new Error(`${file}: expected the literal ${literal} to turn into ${variable}`);
    expr = expr.split(literal).join(variable);
  }
  return expr;
}
