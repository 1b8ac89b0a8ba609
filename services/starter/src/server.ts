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
import { temporalFiles, watchTemporal } from '@greeter/shared/temporal';
import type { Telemetry } from '@greeter/shared/telemetry';
import { createStarterApp } from './app';
import { readConfig } from './config';
import { createClient } from './temporal';

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
  const temporal = watchTemporal({
    connection: client.connection,
    address: config.temporal.address,
    timeoutMs: config.rpcTimeoutMs,
    everyMs: 2_000,
    log,
  });
  installShutdown({
    log,
    timeoutMs: config.shutdownDelayMs + config.shutdownGraceMs + 5_000,
    steps: [
      ...httpDrainSteps(readiness, server, config.shutdownDelayMs, config.shutdownGraceMs),
      {
        name: 'temporal',
        run: () => {
          temporal.stop();
          return client.connection.close();
        },
      },
      { name: 'telemetry', run: () => telemetry.shutdown() },
    ],
  });

  // Ready only while Temporal answers; checked in the background so probes stay cheap.
  await temporal.check();
  if (readiness.isDraining) return;
  temporal.start();
  readiness.setCheck(() => temporal.problem());
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
