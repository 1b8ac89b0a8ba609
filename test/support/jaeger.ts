// Reading traces back from a real Jaeger query API (/api/traces/<id>): used by the local
// tracing tests and by the cluster suite against the in-cluster Jaeger.

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
  startTime: number;
}
export interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags?: { key: string; value: unknown }[] }>;
}

export const tag = (s: JaegerSpan, key: string): unknown => s.tags.find((t) => t.key === key)?.value;

/**
 * Polls Jaeger until the trace holds `minSpans` spans (export is batched), bounded by
 * `attempts` × 250 ms; `diagnostics` is appended to the error when it never does.
 */
export async function fetchTrace(
  queryUrl: string,
  traceId: string,
  minSpans: number,
  diagnostics = () => '',
  attempts = 60,
): Promise<JaegerTrace> {
  let last = 'nothing yet';
  const get = async () => {
    const res = await fetch(`${queryUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(5_000) });
    return { res, body: res.ok ? ((await res.json()) as { data: JaegerTrace[] }) : undefined };
  };
  for (let i = 0; i < attempts; i++) {
    const { res, body } = await get().catch((err: unknown) => ({ res: { status: String(err) }, body: undefined }));
    const t = body?.data[0];
    if (t && t.spans.length >= minSpans) {
      // Give stragglers (the workflow's last spans) one more batch to arrive.
      await new Promise((r) => setTimeout(r, 700));
      return (await get()).body?.data[0] ?? t;
    }
    last = body ? `${t?.spans.length ?? 0} spans` : `HTTP ${res.status}`;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`trace ${traceId} did not reach ${minSpans} spans in Jaeger (last: ${last})\n${diagnostics()}`);
}

/** A readable view: each span as "service: name" with its parent's view and kind. */
export function describeTrace(t: JaegerTrace) {
  const byId = new Map(t.spans.map((s) => [s.spanID, s]));
  const label = (s: JaegerSpan) => `${t.processes[s.processID]?.serviceName}: ${s.operationName}`;
  const parentOf = (s: JaegerSpan) => {
    const ref = s.references.find((r) => r.refType === 'CHILD_OF');
    return ref ? byId.get(ref.spanID) : undefined;
  };
  const edges = t.spans.map((s) => {
    const p = parentOf(s);
    return `${p ? label(p) : '(root)'} -> ${label(s)}`;
  });
  return { label, parentOf, edges, byId };
}

/** A sampled W3C traceparent with random ids (the one definition, loadtest/k6/traceparent.ts, as the Node driver binds it). */
export { traceparent as newTraceparent } from '@greeter/loadtest/driver';

/** The parent -> child edges one activity adds to a greeting's trace. */
export const CHAIN = (activity: string, route: string): string[] => [
  'starter: StartWorkflow:GreetSomeone -> worker: RunWorkflow:GreetSomeone',
  `worker: RunWorkflow:GreetSomeone -> worker: StartActivity:${activity}`,
  `worker: StartActivity:${activity} -> worker: RunActivity:${activity}`,
  `worker: RunActivity:${activity} -> worker: GET`,
  `worker: GET -> translator: GET ${route}`,
];
