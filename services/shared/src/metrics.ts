// prom-client registry per process, served as OpenMetrics so that latency
// histograms can carry exemplars (trace_id) that Grafana links to Jaeger.
import { trace } from '@opentelemetry/api';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type OpenMetricsContentType } from 'prom-client';

export type OpenMetricsRegistry = Registry<OpenMetricsContentType>;

/** Seconds; spans sub-millisecond translator answers up to multi-second workflow runs. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createRegistry(service: string): OpenMetricsRegistry {
  // The typings lack the constructor argument; setContentType is the typed route.
  const registry = new Registry() as unknown as OpenMetricsRegistry;
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The trace id of the active span as exemplar labels, or none when nothing is traced. */
export function traceExemplar(): Record<string, string> {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || ctx.traceFlags === 0) return {};
  return { trace_id: ctx.traceId };
}

export interface HttpMetrics {
  duration: Histogram<'method' | 'route' | 'status_code'>;
}

export function createHttpMetrics(registry: OpenMetricsRegistry): HttpMetrics {
  return {
    duration: new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP server requests, by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
      enableExemplars: true,
    }),
  };
}

export { Counter, Gauge, Histogram };
