// Shared by the k6 scenarios: settings from __ENV, the greeting request (with a fresh
// W3C traceparent so each trace starts at the load generator), thresholds and the summary.
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { randomBytes } from 'k6/crypto';
import http from 'k6/http';
import type { Options } from 'k6/options';
import { newTraceparent } from './traceparent.ts';

/** Starter base URL; in-cluster the TestRun sets http://greeter-starter.greeter.svc:8080. */
export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

const NAMES = ['Maria', 'José', 'Zoë', 'Ana', 'Łukasz', 'Chloé', 'Nuño', 'Wei'];

/** A positive number from __ENV, or the fallback; a typo fails the run at init instead of testing the wrong load. */
export function envNumber(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** A non-negative integer from __ENV (counts such as tolerated dropped iterations), or the fallback. */
export function envCount(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

/** A k6 duration like 30s, 2m or 500ms from __ENV, or the fallback. */
export function envDuration(name: string, fallback: string): string {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^(\d+(ms|s|m|h))+$/.test(raw)) throw new Error(`${name} must be a k6 duration like 30s or 2m, got ${JSON.stringify(raw)}`);
  return raw;
}

/** A sampled W3C traceparent (loadtest/k6/traceparent.ts) from k6's random source. */
export function traceparent(): { header: string; traceId: string } {
  return newTraceparent((n) => new Uint8Array(randomBytes(n)));
}

interface GreetingBody {
  result?: unknown;
  greeting?: unknown;
  farewell?: unknown;
  workflowId?: unknown;
  traceId?: unknown;
}

function parse(body: unknown): GreetingBody {
  if (typeof body !== 'string') return {};
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}

/**
 * Every greeting's latency tagged with its outcome (ok: 200 with the exact result), so a run's
 * JSON output (k6 --out json=...) gives per-second throughput, percentiles and every failure.
 */
const greetingDuration = new Trend('greeting_duration', true);
// k6 provides console (its log goes to stderr); @types/k6 leaves it to the DOM lib, which this project does not load.
declare const console: { warn(...args: unknown[]): void };
const greetingsFailed = new Counter('greetings_failed');

/** One POST /greetings; the checks hold the body to the API contract. */
export function greet(): void {
  const name = NAMES[Math.floor(Math.random() * NAMES.length)] ?? 'Maria';
  const tp = traceparent();
  const res = http.post(`${BASE_URL}/greetings`, JSON.stringify({ name }), {
    headers: { 'content-type': 'application/json', traceparent: tp.header },
    // One metric series for every request, whatever the name.
    tags: { name: 'POST /greetings' },
    timeout: envDuration('REQUEST_TIMEOUT', '60s'),
  });
  const body = parse(res.body);
  const ok = res.status === 200 && body.result === `¡Hola, ${name}!\n¡Adiós, ${name}!`;
  greetingDuration.add(res.timings.duration, { outcome: ok ? 'ok' : 'failed', status: String(res.status) });
  if (!ok) {
    greetingsFailed.add(1, { status: String(res.status) });
    console.warn(
      `greeting for ${name} failed: ${res.status} ${(res.error || (typeof res.body === 'string' ? res.body : '')).slice(0, 200)}`,
    );
  }
  check(res, {
    'status is 200': (r) => r.status === 200,
    'result is the greeting and the farewell': () => body.result === `¡Hola, ${name}!\n¡Adiós, ${name}!`,
    'workflowId is present': () => typeof body.workflowId === 'string' && body.workflowId.length > 0,
    // Without tracing the starter answers no traceId; with it, the trace must be ours.
    'trace continues the caller traceparent': () => body.traceId === undefined || body.traceId === null || body.traceId === tp.traceId,
  });
}

/** Error rate and tail latency gates; exceeded thresholds make k6 exit 99. */
export function thresholds(): NonNullable<Options['thresholds']> {
  const p95 = envNumber('P95_MS', 2_000);
  const p99 = envNumber('P99_MS', 5_000);
  return {
    http_req_failed: [`rate<${envNumber('MAX_ERROR_RATE', 0.01)}`],
    checks: [`rate>${1 - envNumber('MAX_ERROR_RATE', 0.01)}`],
    'http_req_duration{name:POST /greetings}': [`p(95)<${p95}`, `p(99)<${p99}`],
  };
}

/** The shape of the data k6 hands to handleSummary, as far as we read it. */
export interface SummaryData {
  metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  state?: { testRunDurationMs?: number };
}

function fmt(v: number | undefined, digits = 1): string {
  return v === undefined ? '-' : v.toFixed(digits);
}

/**
 * handleSummary: a short text summary on stdout and the full data as JSON in
 * SUMMARY_PATH (default <scenario>-summary.json); no remote jslib import, so it
 * also works in clusters without internet access.
 */
export function summary(scenario: string, data: SummaryData): Record<string, string> {
  const m = data.metrics;
  const d = m['http_req_duration{name:POST /greetings}']?.values ?? m.http_req_duration?.values ?? {};
  const seconds = (data.state?.testRunDurationMs ?? 0) / 1000;
  const reqs = m.http_reqs?.values.count ?? 0;
  const failed = m.http_req_failed?.values.rate ?? 0;
  const dropped = m.dropped_iterations?.values.count ?? 0;
  const broken = Object.entries(m).flatMap(([name, metric]) =>
    Object.entries(metric.thresholds ?? {})
      .filter(([, t]) => !t.ok)
      .map(([expr]) => `${name} ${expr}`),
  );
  const text = [
    `greeter k6 ${scenario}: ${reqs} requests in ${fmt(seconds)} s (${fmt(seconds > 0 ? reqs / seconds : 0)} req/s), ` +
      `errors ${fmt(failed * 100, 2)} %, dropped iterations ${dropped}`,
    `latency ms: p50 ${fmt(d.med)} p90 ${fmt(d['p(90)'])} p95 ${fmt(d['p(95)'])} p99 ${fmt(d['p(99)'])} max ${fmt(d.max)}`,
    broken.length ? `thresholds crossed: ${broken.join('; ')}` : 'thresholds: all passed',
    '',
  ].join('\n');
  return { stdout: text, [__ENV.SUMMARY_PATH || `${scenario}-summary.json`]: JSON.stringify(data, null, 2) };
}

/** Trend stats the summary and the thresholds need (p99 is not in k6's default set). */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];
