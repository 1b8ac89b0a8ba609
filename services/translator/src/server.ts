// Wires the translator: config, logs, metrics, HTTP server and graceful shutdown.
import { Readiness, httpDrainSteps, createHttpMetrics, createLogger, createRegistry, installShutdown, listen } from '@greeter/shared';
import type { Telemetry } from '@greeter/shared/telemetry';
import { createTranslatorApp } from './app';
import { readConfig } from './config';

export async function run(telemetry: Telemetry): Promise<void> {
  const config = readConfig();
  const log = createLogger('translator', config.logLevel);
  const registry = createRegistry('translator');
  const readiness = new Readiness();
  const app = createTranslatorApp({
    log,
    registry,
    metrics: createHttpMetrics(registry),
    readiness,
    jsonErrors: false,
    knobs: config,
  });
  const server = await listen(app, config.host, config.port);
  readiness.setReady();
  installShutdown({
    log,
    timeoutMs: config.shutdownDelayMs + config.shutdownGraceMs + 5_000,
    steps: [
      ...httpDrainSteps(readiness, server, config.shutdownDelayMs, config.shutdownGraceMs),
      { name: 'telemetry', run: () => telemetry.shutdown() },
    ],
  });
  log.info(
    {
      url: server.url,
      knobs: {
        latency_ms: config.latencyMs,
        latency_jitter_ms: config.latencyJitterMs,
        latency_distribution: config.latencyDistribution,
        failure_rate: config.failureRate,
      },
      tracing: telemetry.exporting ? 'exporting' : telemetry.enabled ? 'local only' : 'disabled',
    },
    'translator listening',
  );
}
