// Wires the starter: config, Temporal client, HTTP API, readiness and shutdown.
import {
  Readiness,
  httpDrainSteps,
  createHttpMetrics,
  createLogger,
  createRegistry,
  installShutdown,
  listen,
  requireFiles,
} from '@greeter/shared';
import { temporalFiles } from '@greeter/shared/temporal';
import type { Telemetry } from '@greeter/shared/telemetry';
import { createStarterApp } from './app';
import { readConfig } from './config';
import { createClient, temporalReachable } from './temporal';

export async function run(telemetry: Telemetry): Promise<void> {
  const config = readConfig();
  requireFiles(temporalFiles(config.temporal));
  const log = createLogger('starter', config.logLevel);
  const registry = createRegistry('starter');
  const readiness = new Readiness();
  const client = createClient(config.temporal, telemetry);
  const app = createStarterApp({
    log,
    registry,
    metrics: createHttpMetrics(registry),
    readiness,
    jsonErrors: true,
    client,
    greet: { taskQueue: config.temporal.taskQueue, resultTimeoutMs: config.resultTimeoutMs, rpcTimeoutMs: config.rpcTimeoutMs },
    maxBodyBytes: config.maxBodyBytes,
  });
  const server = await listen(app, config.host, config.port);

  // The SIGTERM handler comes before the first Temporal check, which can take up to
  // STARTER_RPC_TIMEOUT_MS: a pod stopped during start-up drains instead of being killed.
  let timer: NodeJS.Timeout | undefined = undefined;
  installShutdown({
    log,
    timeoutMs: config.shutdownDelayMs + config.shutdownGraceMs + 5_000,
    steps: [
      ...httpDrainSteps(readiness, server, config.shutdownDelayMs, config.shutdownGraceMs),
      {
        name: 'temporal',
        run: () => {
          clearInterval(timer);
          return client.connection.close();
        },
      },
      { name: 'telemetry', run: () => telemetry.shutdown() },
    ],
  });

  // Ready only while Temporal answers; checked in the background so probes stay cheap.
  let lastProblem: string | undefined = 'Temporal not checked yet';
  let lastLogged: string | undefined;
  const check = async () => {
    lastProblem = await temporalReachable(client, config.rpcTimeoutMs);
    if (lastProblem !== lastLogged) {
      if (lastProblem) log.warn({ temporal: config.temporal.address, problem: lastProblem }, 'not ready');
      else log.info({ temporal: config.temporal.address }, 'Temporal reachable: ready');
      lastLogged = lastProblem;
    }
  };
  await check();
  if (readiness.isDraining) return;
  timer = setInterval(() => void check(), 2_000);
  timer.unref();
  readiness.setCheck(() => lastProblem);
  readiness.setReady();

  log.info(
    {
      url: server.url,
      temporal: config.temporal.address,
      temporal_config: config.temporal.source,
      namespace: config.temporal.namespace,
      task_queue: config.temporal.taskQueue,
      tracing: telemetry.exporting ? 'exporting' : telemetry.enabled ? 'local only' : 'disabled',
    },
    'starter listening',
  );
}
