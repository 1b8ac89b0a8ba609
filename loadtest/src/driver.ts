// The Node load driver: the k6 scenarios' open model against POST /greetings.
// Arrivals follow the schedule whatever the responses do; when `maxInFlight`
// requests are already waiting, an arrival is dropped and counted, like k6's
// dropped_iterations when no VU is free.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { newTraceparent } from '../k6/traceparent';
import { arrivalOffsets, totalDurationMs, type Stage } from './schedule';
import { Tally, fmtMs, summarize, type LatencySummary } from './stats';

export const NAMES = ['Maria', 'José', 'Zoë', 'Ana', 'Łukasz', 'Chloé', 'Nuño', 'Wei'];

/** A sampled W3C traceparent with random ids (loadtest/k6/traceparent.ts), so each trace starts here. */
export function traceparent(): { header: string; traceId: string; parentId: string } {
  return newTraceparent(randomBytes);
}

export interface LoadOptions {
  /** Starter base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Open model: rate profile. Closed model (smoke): `iterations` one after another. */
  startRate?: number;
  stages?: Stage[];
  iterations?: number;
  /** Arrivals beyond this many requests in flight are dropped (k6: maxVUs). */
  maxInFlight: number;
  requestTimeoutMs: number;
  /** Requests that start before this offset warm up and are left out of the figures. */
  warmupMs?: number;
  /** Called about once per second with a one-line status. */
  onProgress?: (line: string) => void;
  /** How long to wait for in-flight requests after the schedule ends (default: the request timeout). */
  drainMs?: number;
  /** Ends the schedule early (the run then drains and summarizes as usual). */
  signal?: AbortSignal;
  /**
   * One iteration (default: POST one greeting for a random name and check its body). A custom
   * one may retry, as the fault runs' clients do; its whole duration is the iteration's latency.
   */
  iteration?: (ctx: IterationContext) => Promise<IterationOutcome>;
}

export interface IterationContext {
  agent: http.Agent;
  /** The starter's POST /greetings URL. */
  url: URL;
  requestTimeoutMs: number;
}

export interface IterationOutcome {
  ok: boolean;
  /** Why not, tallied in the summary's errors. */
  error?: string;
}

export interface LoadSummary {
  url: string;
  scheduledSeconds: number;
  measuredSeconds: number;
  /** Arrivals in the measured window, per second. */
  offeredRate: number;
  /** Successful responses that completed inside the measured window, per second. */
  throughput: number;
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  errors: Record<string, number>;
  /** Of the requests sent in the measured window that got a response, in ms. */
  latencyMs: LatencySummary;
  /** Requests still unanswered when the drain time ran out. */
  unfinished: number;
  elapsedSeconds: number;
}

interface Outcome {
  start: number;
  end: number;
  ok: boolean;
  error?: string;
  measured: boolean;
}

export interface Reply {
  status: number;
  body: string;
  /** The trace id of the traceparent sent with the request. */
  sentTrace: string;
}

/** POST `payload` as JSON with a fresh traceparent; rejects on a network error or after `timeoutMs`. */
export function postJson(agent: http.Agent, url: URL, payload: unknown, timeoutMs: number): Promise<Reply> {
  const text = JSON.stringify(payload);
  const tp = traceparent();
  return new Promise<Reply>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), traceparent: tp.header },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), sentTrace: tp.traceId }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(text);
  });
}

/** The default iteration: one greeting for a random name, its body checked. */
async function greetOnce(ctx: IterationContext): Promise<IterationOutcome> {
  const name = NAMES[Math.floor(Math.random() * NAMES.length)] as string;
  const r = await postJson(ctx.agent, ctx.url, { name }, ctx.requestTimeoutMs);
  const error = r.status === 200 ? checkBody(name, r.body, r.sentTrace) : String(r.status);
  return error === undefined ? { ok: true } : { ok: false, error };
}

/** The error key of a failed request: the errno code (ECONNRESET, ...) or the message ("timeout"). */
export function errorKey(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** The workflow result the API promises for `name`. */
export const expectedResult = (name: string): string => `¡Hola, ${name}!\n¡Adiós, ${name}!`;

/** Returns undefined when the body is the greeting the API promises for `name`, else why not. */
export function checkBody(name: string, body: string, sentTrace: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return 'bad body: not JSON';
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (o.result !== expectedResult(name)) return 'bad body: wrong result';
  if (typeof o.workflowId !== 'string' || o.workflowId === '') return 'bad body: no workflowId';
  if (o.traceId !== undefined && o.traceId !== null && o.traceId !== sentTrace) return 'bad body: trace not continued';
  return undefined;
}

export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const url = new URL('/greetings', opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxInFlight });
  const warmup = opts.warmupMs ?? 0;
  const iteration = opts.iteration ?? greetOnce;
  const outcomes: Outcome[] = [];
  const errors = new Tally();
  let inFlight = 0;
  let sent = 0;
  let dropped = 0;
  let droppedMeasured = 0;
  let arrivalsMeasured = 0;
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  const now = () => performance.now() - t0;

  const fire = (at: number) => {
    const measured = at >= warmup;
    if (measured) arrivalsMeasured++;
    if (inFlight >= opts.maxInFlight) {
      dropped++;
      if (measured) droppedMeasured++;
      return;
    }
    inFlight++;
    sent++;
    const start = now();
    const p = iteration({ agent, url, requestTimeoutMs: opts.requestTimeoutMs }).then(
      (r) => {
        outcomes.push({ start, end: now(), ok: r.ok, ...(r.error !== undefined && { error: r.error }), measured });
      },
      (e: unknown) => {
        outcomes.push({ start, end: now(), ok: false, error: errorKey(e), measured });
      },
    );
    const tracked = p.finally(() => {
      inFlight--;
      pending.delete(tracked);
    });
    pending.add(tracked);
  };

  // Progress: once per second, figures of the last second.
  let lastIdx = 0;
  let lastDropped = 0;
  const progress = opts.onProgress
    ? setInterval(() => {
        const fresh = outcomes.slice(lastIdx);
        lastIdx = outcomes.length;
        const okN = fresh.filter((o) => o.ok).length;
        const lat = summarize(fresh.map((o) => o.end - o.start));
        const phase = now() < warmup ? 'warm-up' : 'measure';
        opts.onProgress?.(
          `[load] ${(now() / 1000).toFixed(0).padStart(4)}s ${phase}  done ${String(okN).padStart(4)}/s  errors ${fresh.length - okN}  ` +
            `in-flight ${inFlight}  p50 ${fmtMs(lat.p50)} ms  p95 ${fmtMs(lat.p95)} ms  dropped +${dropped - lastDropped}`,
        );
        lastDropped = dropped;
      }, 1_000)
    : undefined;

  let scheduleMs: number;
  if (opts.iterations !== undefined) {
    // Smoke: one virtual user, one request after another.
    for (let i = 0; i < opts.iterations; i++) {
      fire(now());
      await Promise.all(pending);
    }
    scheduleMs = now();
  } else {
    const stages = opts.stages ?? [];
    scheduleMs = totalDurationMs(stages);
    const aborted = new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
    for (const at of arrivalOffsets(opts.startRate ?? 0, stages)) {
      const wait = at - now();
      // Timers are coarse: sleep only for gaps worth it and fire every arrival that is due.
      if (wait > 1) await Promise.race([sleep(wait), aborted]);
      if (opts.signal?.aborted) break;
      fire(at);
    }
    const rest = scheduleMs - now();
    if (rest > 0 && !opts.signal?.aborted) await Promise.race([sleep(rest), aborted]);
    if (opts.signal?.aborted) scheduleMs = Math.max(warmup + 1, now());
  }
  const endOfSchedule = now();
  // Let in-flight requests finish (they are part of the measured load), bounded.
  const drain = opts.drainMs ?? opts.requestTimeoutMs;
  let unfinished = 0;
  if (pending.size > 0) {
    const settled = Promise.all(pending).then(() => true);
    // The drain timer is cancelled once everything settled, so it does not hold the process.
    const drained = new AbortController();
    const timedOut = sleep(drain, false, { signal: drained.signal }).catch(() => false);
    const done = await Promise.race([settled, timedOut]);
    drained.abort();
    if (!done) unfinished = pending.size;
  }
  if (progress) clearInterval(progress);
  agent.destroy();

  const measuredSeconds = opts.iterations !== undefined ? endOfSchedule / 1000 : Math.max(0.001, (scheduleMs - warmup) / 1000);
  const windowStart = opts.iterations !== undefined ? 0 : warmup;
  const windowEnd = opts.iterations !== undefined ? Infinity : scheduleMs;
  let ok = 0;
  let failed = 0;
  let okInWindow = 0;
  const latencies: number[] = [];
  for (const o of outcomes) {
    if (o.ok && o.end >= windowStart && o.end <= windowEnd) okInWindow++;
    if (!o.measured) continue;
    latencies.push(o.end - o.start);
    if (o.ok) ok++;
    else {
      failed++;
      errors.add(o.error ?? 'unknown');
    }
  }
  if (unfinished > 0) errors.add('unfinished', unfinished);
  return {
    url: url.href,
    scheduledSeconds: scheduleMs / 1000,
    measuredSeconds,
    offeredRate: opts.iterations !== undefined ? sent / measuredSeconds : arrivalsMeasured / measuredSeconds,
    throughput: (opts.iterations !== undefined ? ok : okInWindow) / measuredSeconds,
    sent,
    ok,
    failed,
    dropped: opts.iterations !== undefined ? dropped : droppedMeasured,
    errors: errors.toJSON(),
    latencyMs: summarize(latencies),
    unfinished,
    elapsedSeconds: now() / 1000,
  };
}

/** The human-readable end-of-run report. */
export function formatSummary(title: string, s: LoadSummary): string {
  const l = s.latencyMs;
  const errs = Object.entries(s.errors);
  return [
    `${title}: ${s.url}`,
    `  offered      ${s.offeredRate.toFixed(1)} req/s over ${s.measuredSeconds.toFixed(1)} s measured (${s.scheduledSeconds.toFixed(1)} s scheduled)`,
    `  throughput   ${s.throughput.toFixed(1)} greetings/s (${s.ok} ok of ${s.ok + s.failed} measured requests)`,
    `  latency ms   p50 ${fmtMs(l.p50)}  p90 ${fmtMs(l.p90)}  p95 ${fmtMs(l.p95)}  p99 ${fmtMs(l.p99)}  max ${fmtMs(l.max)}`,
    `  errors       ${errs.length ? errs.map(([k, v]) => `${k}: ${v}`).join(', ') : 'none'}`,
    `  dropped      ${s.dropped} iterations (in-flight cap reached)`,
  ].join('\n');
}
