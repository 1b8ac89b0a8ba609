// OpenTelemetry setup shared by every service. Start it before the application's
// modules load so http, undici (fetch) and koa are instrumented. The span
// processor and resource are exposed so Temporal's OpenTelemetryPlugin exports
// workflow spans through the same pipeline as everything else.
import { diag, DiagLogLevel, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
  type Resource,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface Telemetry {
  /** False when OTEL_SDK_DISABLED=true: no spans, no trace ids. */
  readonly enabled: boolean;
  /** True when spans leave the process (an OTLP endpoint is configured). */
  readonly exporting: boolean;
  readonly resource: Resource;
  readonly spanProcessor: SpanProcessor;
  readonly tracer: Tracer;
  /** Flushes pending spans and stops the SDK; safe to call twice. */
  shutdown(): Promise<void>;
}

const OPS_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

let current: Telemetry | undefined;

function isTrue(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
}

/**
 * Starts tracing for this process. Export is on when OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; without one, spans are still created so
 * trace ids propagate and appear in responses and logs.
 */
export function startTelemetry(defaults: { serviceName: string; serviceVersion: string }, env = process.env): Telemetry {
  if (current) return current;
  if (env.OTEL_LOG_LEVEL?.toLowerCase() === 'debug') diag.setLogger({ ...console, verbose: console.debug }, DiagLogLevel.DEBUG);

  const attributes: Record<string, string> = {
    [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || defaults.serviceName,
    [ATTR_SERVICE_VERSION]: defaults.serviceVersion,
  };
  // Set by the chart through the downward API.
  if (env.K8S_POD_NAME) attributes['k8s.pod.name'] = env.K8S_POD_NAME;
  if (env.K8S_NAMESPACE_NAME) attributes['k8s.namespace.name'] = env.K8S_NAMESPACE_NAME;
  if (env.K8S_NODE_NAME) attributes['k8s.node.name'] = env.K8S_NODE_NAME;
  // OTEL_RESOURCE_ATTRIBUTES (env detector) wins over our defaults, as the spec says.
  const resource = resourceFromAttributes(attributes).merge(detectResources({ detectors: [hostDetector, processDetector, envDetector] }));

  const enabled = !isTrue(env.OTEL_SDK_DISABLED);
  const exporting = enabled && Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
  const spanProcessor: SpanProcessor = exporting ? new BatchSpanProcessor(new OTLPTraceExporter()) : new NoopSpanProcessor();

  let sdk: NodeSDK | undefined;
  if (enabled) {
    sdk = new NodeSDK({
      resource,
      autoDetectResources: false,
      spanProcessors: [spanProcessor],
      // Metrics are served by prom-client and logs go to stdout: traces only here.
      metricReaders: [],
      logRecordProcessors: [],
      instrumentations: [
        new HttpInstrumentation({
          ignoreIncomingRequestHook: (req) => OPS_PATHS.test(req.url ?? ''),
        }),
        new UndiciInstrumentation(),
        new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] }),
      ],
    });
    sdk.start();
  }

  let stopped: Promise<void> | undefined;
  current = {
    enabled,
    exporting,
    resource,
    spanProcessor,
    tracer: trace.getTracer(defaults.serviceName, defaults.serviceVersion),
    shutdown: () => (stopped ??= sdk ? sdk.shutdown() : Promise.resolve()),
  };
  return current;
}

/** The current trace id, if a sampled-or-not span is active. */
export function activeTraceId(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && ctx.traceId !== '00000000000000000000000000000000' ? ctx.traceId : undefined;
}

/**
 * The entry point of every service: start telemetry, then load the service's
 * modules (so instrumentation sees koa and http first) and run it. A bad
 * configuration exits with status 78 (EX_CONFIG) and names every bad variable.
 */
export function bootService(
  defaults: { serviceName: string; serviceVersion: string },
  load: () => { run(t: Telemetry): Promise<void> },
): void {
  const t = startTelemetry(defaults);
  const fail = (err: unknown): void => {
    const isConfig = err instanceof Error && (err.name === 'ConfigErrors' || err.name === 'ConfigError');
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service: defaults.serviceName, msg: isConfig ? message : 'start-up failed', err: isConfig ? undefined : ((err as Error)?.stack ?? message) })}\n`,
    );
    if (isConfig) process.stderr.write(`${defaults.serviceName}: ${message}\n`);
    void t.shutdown().finally(() => process.exit(isConfig ? 78 : 1));
  };
  try {
    load().run(t).catch(fail);
  } catch (err) {
    fail(err);
  }
}
