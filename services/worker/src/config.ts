import { loadConfig, readCommon, type CommonConfig, type Env } from '@greeter/shared';
import { readTemporal, type TemporalConfig } from '@greeter/shared/temporal';

export interface WorkerConfig extends CommonConfig {
  temporal: TemporalConfig;
  translatorUrl: string;
  /** Temporal Core's Prometheus endpoint (temporal_* series). */
  coreMetricsPort: number;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  maxCachedWorkflows: number | undefined;
  workflowPollers: number | undefined;
  activityPollers: number | undefined;
  /** Prebundled workflow code; when unset the worker bundles at start (development). */
  workflowBundlePath: string | undefined;
}

export function readConfig(env?: Env): WorkerConfig {
  return loadConfig(
    (r) => ({
      ...readCommon(r, 9465),
      temporal: readTemporal(r),
      translatorUrl: r.httpUrl('TRANSLATOR_URL', 'http://127.0.0.1:9999'),
      coreMetricsPort: r.port('WORKER_METRICS_PORT', 9464),
      maxConcurrentActivities: r.int('WORKER_MAX_CONCURRENT_ACTIVITIES', 100, { min: 1, max: 10_000 }),
      maxConcurrentWorkflowTasks: r.int('WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 40, { min: 2, max: 10_000 }),
      maxCachedWorkflows: r.optionalInt('WORKER_MAX_CACHED_WORKFLOWS', { min: 0, max: 1_000_000 }),
      workflowPollers: r.optionalInt('WORKER_WORKFLOW_POLLERS', { min: 2, max: 1_000 }),
      activityPollers: r.optionalInt('WORKER_ACTIVITY_POLLERS', { min: 1, max: 1_000 }),
      workflowBundlePath: r.optionalString('WORKER_WORKFLOW_BUNDLE'),
    }),
    env,
  );
}
