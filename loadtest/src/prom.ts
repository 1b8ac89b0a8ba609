// Reads figures from Prometheus' HTTP API. The autoscaling signal's query comes from its
// single reader, slotUtilizationQuery() in scripts/devstack/prometheus.ts.
import { setTimeout as sleep } from 'node:timers/promises';

/** The HPA's target for greeter_worker_slot_utilization. */
export const HPA_TARGET = 0.7;

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

interface QueryResponse {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> | [number, string] };
}

/** An instant query; the vector's samples (a scalar comes back as one sample without labels). */
export async function promQuery(baseUrl: string, query: string): Promise<Sample[]> {
  const res = await fetch(`${baseUrl}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as QueryResponse;
  if (body.status !== 'success' || !body.data)
    throw new Error(`Prometheus query failed (${res.status}): ${body.error ?? 'no data'} for ${query}`);
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return [{ metric: {}, value: Number((result as [number, string])[1]) }];
  if (resultType !== 'vector') throw new Error(`expected a vector from ${query}, got ${resultType}`);
  return (result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({
    metric: r.metric,
    value: Number(r.value[1]),
  }));
}

/** The first sample's value, or undefined when the result is empty. */
export async function promValue(baseUrl: string, query: string): Promise<number | undefined> {
  return (await promQuery(baseUrl, query))[0]?.value;
}

/** Waits (bounded) until `query` has a value satisfying `ok`; returns the last value seen. */
export async function waitForValue(
  baseUrl: string,
  query: string,
  ok: (v: number) => boolean,
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: number | undefined;
  for (;;) {
    last = await promValue(baseUrl, query).catch(() => undefined);
    if (last !== undefined && ok(last)) return last;
    if (Date.now() > deadline) return last;
    await sleep(1_000);
  }
}

/** Backlog per worker the HPA aims for (worker.autoscaling.backlog.perWorker). */
export const BACKLOG_PER_WORKER = 10;

/** The replica count the HPA's formula picks for a backlog: ceil(backlog / per-worker target). */
export function hpaDesiredForBacklog(backlog: number, perWorker = BACKLOG_PER_WORKER): number {
  return Math.max(1, Math.ceil(backlog / perWorker - 1e-9));
}

/** The replica count the HPA's formula picks for this utilization: ceil(current × utilization / target). */
export function hpaDesiredReplicas(current: number, utilization: number, target = HPA_TARGET): number {
  return Math.max(1, Math.ceil(current * (utilization / target) - 1e-9));
}
