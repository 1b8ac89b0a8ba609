// Temporal's OpenTelemetry plugin, fed the process's span processor and resource so
// workflow spans (exported through a sink, outside the NodeSDK provider) land in
// the same pipeline and carry the same service identity as everything else.
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry-v2';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Telemetry } from '@greeter/shared/telemetry';

export function otelPlugin(telemetry: Telemetry): OpenTelemetryPlugin {
  return new OpenTelemetryPlugin({ resource: telemetry.resource, spanProcessor: telemetry.spanProcessor });
}

/** For bundling only the plugin's workflow interceptor modules matter; no spans are exported. */
export function bundlerPlugins(): OpenTelemetryPlugin[] {
  return [new OpenTelemetryPlugin({ resource: resourceFromAttributes({}), spanProcessor: new NoopSpanProcessor() })];
}
