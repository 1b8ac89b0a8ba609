// The worker's readiness as its SDK reports it: the run state and both pollers of
// Worker.getStatus(). The SDK keeps saying POLLING while its polls retry against a
// Temporal that is down, so server.ts adds a reachability probe of the connection.
import type { WorkerStatus } from '@temporalio/worker';

/** Why the worker is not ready, or undefined when it runs with both pollers polling. */
export function workerProblem(s: Pick<WorkerStatus, 'runState' | 'workflowPollerState' | 'activityPollerState'>): string | undefined {
  if (s.runState !== 'RUNNING') return `worker ${s.runState.toLowerCase()}`;
  if (s.workflowPollerState !== 'POLLING') return `workflow task poller ${s.workflowPollerState.toLowerCase()}`;
  if (s.activityPollerState !== 'POLLING') return `activity task poller ${s.activityPollerState.toLowerCase()}`;
  return undefined;
}
