// Wires the worker: Temporal runtime (Core metrics, logs), connection, Worker,
// a small HTTP server for health and prom-client, and graceful shutdown.
import { setTimeout as sleep } from 'node:timers/promises';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel as TemporalLogLevel } from '@temporalio/worker';
import {
  Gauge,
  Readiness,
  createApp,
  createHttpMetrics,
  createLogger,
  createRegistry,
  errorFields,
  installShutdown,
  listen,
  requireFiles,
  type Logger,
} from '@greeter/shared';
import { temporalConnectionOptions, temporalFiles, watchTemporal, type TemporalWatch } from '@greeter/shared/temporal';
import type { Telemetry } from '@greeter/shared/telemetry';
import { createActivities } from './activities';
import { readConfig, type WorkerConfig } from './config';
import { workerProblem } from './health';
import { otelPlugin } from './tracing';

const TEMPORAL_LEVELS: Record<WorkerConfig['logLevel'], TemporalLogLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

function installRuntime(config: WorkerConfig, log: Logger): void {
  const level = TEMPORAL_LEVELS[config.logLevel];
  Runtime.install({
    // We handle SIGTERM ourselves so the drain order (readiness, worker, telemetry) is ours.
    shutdownSignals: [],
    logger: new DefaultLogger(level, ({ level: l, message, meta }) => {
      const fields = { temporal: true, ...(meta ?? {}) };
      if (l === 'ERROR') log.error(fields, message);
      else if (l === 'WARN') log.warn(fields, message);
      else if (l === 'INFO') log.info(fields, message);
      else log.debug(fields, message);
    }),
    telemetryOptions: {
      logging: { filter: { core: level === 'DEBUG' ? 'DEBUG' : 'WARN', other: 'ERROR' }, forward: {} },
      metrics: { prometheus: { bindAddress: `${config.host}:${config.coreMetricsPort}` } },
    },
  });
}

/** Connects to Temporal, retrying with backoff: in a cluster the server may start after the worker. */
async function connect(config: WorkerConfig, log: Logger, readiness: Readiness, stopping: () => boolean): Promise<NativeConnection> {
  const options = temporalConnectionOptions(config.temporal);
  for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 10_000)) {
    try {
      return await NativeConnection.connect(options);
    } catch (err) {
      if (stopping()) throw err;
      readiness.setNotReady(`connecting to Temporal at ${config.temporal.address}`);
      log.warn({ address: config.temporal.address, attempt, retry_in_ms: delay, ...errorFields(err) }, 'Temporal not reachable yet');
      await sleep(delay);
    }
  }
}

export async function run(telemetry: Telemetry): Promise<void> {
  const config = readConfig();
  // The bundle is written by `npm run build` (and baked into the image).
  requireFiles({ ...temporalFiles(config.temporal), WORKER_WORKFLOW_BUNDLE: config.workflowBundlePath });
  const log = createLogger('worker', config.logLevel);
  installRuntime(config, log);

  const registry = createRegistry('worker');
  const readiness = new Readiness();
  const slots = new Gauge({
    name: 'greeter_worker_slots',
    help: 'Configured task slots of this worker, by worker_type (as Temporal Core labels them)',
    labelNames: ['worker_type', 'task_queue'] as const,
    registers: [registry],
  });
  slots.set({ worker_type: 'ActivityWorker', task_queue: config.temporal.taskQueue }, config.maxConcurrentActivities);
  slots.set({ worker_type: 'WorkflowWorker', task_queue: config.temporal.taskQueue }, config.maxConcurrentWorkflowTasks);
  const app = createApp({ log, registry, metrics: createHttpMetrics(registry), readiness, jsonErrors: true });
  const http = await listen(app, config.host, config.port);

  let stopping = false;
  // Filled in as start-up progresses; shutdown may arrive at any point of it.
  const state: { worker?: Worker; connection?: NativeConnection; temporal?: TemporalWatch; running?: Promise<void> } = {};

  const { shutdown } = installShutdown({
    log,
    // Temporal's grace time for in-flight activities, plus room to flush telemetry.
    timeoutMs: config.shutdownGraceMs + 10_000,
    steps: [
      {
        name: 'drain',
        run: () => {
          stopping = true;
          readiness.drain();
        },
      },
      {
        name: 'worker',
        run: async () => {
          if (state.worker?.getState() === 'RUNNING') state.worker.shutdown();
          await state.running;
        },
      },
      {
        name: 'connection',
        run: () => {
          state.temporal?.stop();
          return state.connection?.close();
        },
      },
      { name: 'telemetry', run: () => telemetry.shutdown() },
      { name: 'http', run: () => http.close(1_000) },
    ],
  });

  const connection = await connect(config, log, readiness, () => stopping);
  state.connection = connection;
  if (stopping) return;
  const w = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(config.workflowBundlePath
      ? { workflowBundle: { codePath: config.workflowBundlePath } }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: createActivities({ baseUrl: config.translatorUrl, fetch }),
    plugins: [otelPlugin(telemetry)],
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTasks,
    ...(config.maxCachedWorkflows !== undefined && { maxCachedWorkflows: config.maxCachedWorkflows }),
    ...(config.workflowPollers !== undefined && { maxConcurrentWorkflowTaskPolls: config.workflowPollers }),
    ...(config.activityPollers !== undefined && { maxConcurrentActivityTaskPolls: config.activityPollers }),
    shutdownGraceTime: config.shutdownGraceMs,
  });
  state.worker = w;
  // Liveness (/healthz) never looks at Temporal: an outage must not restart every worker.
  const temporal = watchTemporal({ connection, address: config.temporal.address, timeoutMs: 5_000, everyMs: 2_000, log });
  state.temporal = temporal;
  void temporal.check();
  temporal.start();
  readiness.setCheck(() => workerProblem(w.getStatus()) ?? temporal.problem());
  readiness.setReady();
  // Resolves when a requested shutdown has drained. A worker that stops on its own takes the
  // process down through the same steps (connection closed, telemetry flushed), exiting 1.
  state.running = w.run().then(
    () => {
      if (!stopping) {
        log.error('worker stopped unexpectedly');
        void shutdown('worker stopped unexpectedly', 1);
      }
    },
    (err: unknown) => {
      log.fatal(errorFields(err), 'worker failed');
      void shutdown('worker failed', 1);
    },
  );
  log.info(
    {
      http: http.url,
      core_metrics: `http://${config.host}:${config.coreMetricsPort}/metrics`,
      temporal: config.temporal.address,
      temporal_config: config.temporal.source,
      namespace: config.temporal.namespace,
      task_queue: config.temporal.taskQueue,
      translator: config.translatorUrl,
      slots: { activity: config.maxConcurrentActivities, workflow: config.maxConcurrentWorkflowTasks },
      bundle: config.workflowBundlePath ?? 'bundled at start',
      tracing: telemetry.exporting ? 'exporting' : telemetry.enabled ? 'local only' : 'disabled',
    },
    'worker polling',
  );
}
