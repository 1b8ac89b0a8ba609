// The Temporal client of the starter and the CLI, traced with Temporal's OpenTelemetry plugin.
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry-v2';
import { temporalConnectionOptions, type TemporalConfig } from '@greeter/shared/temporal';
import type { Telemetry } from '@greeter/shared/telemetry';

/** A lazily connecting client: the starter comes up (not ready) even while Temporal is down. */
export function createClient(cfg: TemporalConfig, telemetry: Telemetry): Client {
  const connection = Connection.lazy(temporalConnectionOptions(cfg));
  return new Client({
    connection,
    namespace: cfg.namespace,
    plugins: [new OpenTelemetryPlugin({ resource: telemetry.resource, spanProcessor: telemetry.spanProcessor })],
  });
}
