// Reading a process's /metrics directly (Prometheus text or OpenMetrics), without a
// Prometheus server: the fault runs wait for busy activity slots, the soak samples memory.

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of an exposition (comments and exemplars skipped; label values unescaped). */
export function parseExposition(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*?)\})?\s+(\S+)/.exec(line.replace(/\s#\s.*$/, ''));
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** GET `url` (a /metrics endpoint) and parse it; rejects on a non-2xx answer or after `timeoutMs`. */
export async function scrape(url: string, timeoutMs = 2_000): Promise<MetricSample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return parseExposition(text);
}

/** The sum of the samples named `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(samples: readonly MetricSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  let found: number | undefined;
  for (const s of samples) {
    if (s.name !== name || !Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    found = (found ?? 0) + s.value;
  }
  return found;
}

/**
 * Activity task slots in use on one worker right now, from its Temporal Core metrics
 * (temporal_worker_task_slots_used{worker_type="ActivityWorker"}).
 */
export async function activitySlotsUsed(coreMetricsPort: number): Promise<number> {
  const samples = await scrape(`http://127.0.0.1:${coreMetricsPort}/metrics`);
  return sampleValue(samples, 'temporal_worker_task_slots_used', { worker_type: 'ActivityWorker' }) ?? 0;
}
