// Checked load and the fault cases of `npm run chaos` and test/e2e/chaos.test.ts: open-model
// load through the starter whose clients retry with their workflow ids, a fault injected into
// the local stack mid-load, and every greeting checked at the end against the real Temporal
// server. "Lost" is an accepted greeting (the starter answered with its workflow id, or
// Temporal knows the id) whose workflow did not complete with the exact result.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RestartEvent, Stack, StackOptions } from '@greeter/scripts/devstack';
import { auditWorkflows, startedBetween, withTemporal, type WorkflowRecord } from './audit';
import { NAMES, checkBody, errorKey, expectedResult, postJson, runLoad, type IterationContext, type IterationOutcome } from './driver';
import { steadyStages } from './schedule';
import { activitySlotsUsed } from './scrape';
import { Tally, summarize, type LatencySummary } from './stats';

/**
 * Where a client's workflow id comes from: 'starter' — the first POST has none and the id is
 * taken from the starter's answer (a 503 or 504 carries it); 'client' — chosen before the
 * first POST (an idempotency key), so an attempt whose connection breaks loses nothing.
 */
export type ClientIds = 'starter' | 'client';

/** One client's greeting: its attempts and what it was told. */
export interface ClientGreeting {
  name: string;
  workflowId?: string;
  /** The starter answered at least one attempt with the workflow id. */
  answered: boolean;
  attempts: number;
  /** Per attempt: the HTTP status or the network error. */
  trail: string[];
  /** 503 answers that carried the workflow id. */
  unavailableWithId: number;
  /** ms since the load started. */
  start: number;
  end?: number;
  /** The client got a 200 with the exact greeting. */
  ok: boolean;
  error?: string;
}

export interface CheckedLoadOptions {
  stack: Stack;
  /** Greetings per second, open model. */
  rate: number;
  durationMs: number;
  clientIds: ClientIds;
  /** How long one client keeps retrying its greeting (default 120 s). */
  clientBudgetMs?: number;
  /** Arrivals beyond this many clients in flight are dropped and counted (default 1000). */
  maxInFlight?: number;
  /** How long to wait for workflows still running after the clients are done (default 30 s). */
  settleMs?: number;
  /** Prefix of client-chosen ids. */
  idPrefix?: string;
  /** A one-line status about once per second. */
  onProgress?: (line: string) => void;
  /** Runs while the load runs (the fault); its error fails the run. */
  during?: (ctx: LoadContext) => Promise<void>;
}

export interface LoadContext {
  stack: Stack;
  durationMs: number;
  /** ms since the load started. */
  elapsed(): number;
  /** Resolves at `fraction` (0..1) of the load's duration. */
  at(fraction: number): Promise<void>;
  /** A timeline entry, printed through onProgress. */
  note(text: string): void;
  greetings: readonly ClientGreeting[];
  /** Facts about the fault for callers (the test's assertions, the report). */
  details: Record<string, unknown>;
  /** Remembers the greetings in flight now (the moment of the fault); returns how many. */
  markInFlight(): number;
}

export interface CheckedLoadResult {
  rate: number;
  durationMs: number;
  clientIds: ClientIds;
  /** Clients started (arrivals not dropped). */
  greetings: number;
  dropped: number;
  /** Got a workflow id from the starter, or Temporal knows the id. */
  accepted: number;
  /** Accepted, and Temporal says COMPLETED with the exact result. */
  completed: number;
  /** Accepted but not completed exactly, plus workflows no client knew of that did not complete exactly. */
  lost: number;
  /** Clients that never got their exact greeting back (gave up, or a wrong answer). */
  unanswered: number;
  /** Workflows started in the window whose id no client knew (a start whose answer was lost). */
  orphans: number;
  /** Clients that needed more than one attempt, and all attempts. */
  retriedClients: number;
  attempts: number;
  /** Attempt outcomes other than 200, e.g. {"503": 12, "ECONNRESET": 3}. */
  answers: Record<string, number>;
  /** Clients answered 503 with their workflow id, and how many of them then got the result with it. */
  unavailableWithId: number;
  unavailableThenCompleted: number;
  /** Temporal's record: activities retried after a timed-out or a failed attempt. */
  activityRetriesAfterTimeout: number;
  activityRetriesAfterFailure: number;
  /** Per client, first attempt to final answer, ms. */
  latencyMs: LatencySummary;
  /** Greetings in flight at the fault (markInFlight), and how many of them completed exactly. */
  inFlightAtFault: number;
  inFlightCompleted: number;
  events: Array<{ atS: number; text: string }>;
  details: Record<string, unknown>;
  /** The first few lost or unanswered greetings, described. */
  problems: string[];
  elapsedS: number;
}

const RETRY_STATUSES = new Set([503, 504]);

/** Open-model load whose every greeting is checked at the end against Temporal. */
export async function runCheckedLoad(o: CheckedLoadOptions): Promise<CheckedLoadResult> {
  const budget = o.clientBudgetMs ?? 120_000;
  const greetings: ClientGreeting[] = [];
  const events: Array<{ atS: number; text: string }> = [];
  const details: Record<string, unknown> = {};
  const run = `${Date.now().toString(36)}`;
  const startedAt = Date.now();
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  const say = (line: string) => o.onProgress?.(line);
  let retrying = 0;

  const iteration = async (ctx: IterationContext): Promise<IterationOutcome> => {
    const i = greetings.length;
    const g: ClientGreeting = {
      name: `${NAMES[i % NAMES.length] as string} ${i}`,
      ...(o.clientIds === 'client' && { workflowId: `${o.idPrefix ?? 'chaos'}-${run}-${i}` }),
      answered: false,
      attempts: 0,
      trail: [],
      unavailableWithId: 0,
      start: elapsed(),
      ok: false,
    };
    greetings.push(g);
    const deadline = Date.now() + budget;
    let backoff = 200;
    let retried = false;
    try {
      for (;;) {
        g.attempts++;
        const verdict = await attempt(ctx, g, Math.max(1_000, deadline - Date.now()));
        if (verdict === 'done') return g.ok ? { ok: true } : { ok: false, error: g.error ?? 'failed' };
        if (Date.now() + backoff > deadline) {
          g.error = `gave up after ${g.attempts} attempts: ${g.trail.join(' ')}`;
          return { ok: false, error: 'gave up' };
        }
        if (!retried) retrying++;
        retried = true;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2_000);
      }
    } finally {
      g.end = elapsed();
      if (retried) retrying--;
    }
  };

  const ctx: LoadContext = {
    stack: o.stack,
    durationMs: o.durationMs,
    elapsed,
    at: (fraction) => sleep(Math.max(0, fraction * o.durationMs - elapsed())).then(() => undefined),
    note(text) {
      events.push({ atS: elapsed() / 1000, text });
      say(`[fault] ${(elapsed() / 1000).toFixed(1)}s ${text}`);
    },
    greetings,
    details,
    markInFlight() {
      markedInFlight = greetings.filter((g) => g.end === undefined);
      return markedInFlight.length;
    },
  };
  let markedInFlight: ClientGreeting[] = [];
  const starter = `http://127.0.0.1:${o.stack.ports.starter}`;
  const load = runLoad({
    url: starter,
    startRate: o.rate,
    stages: steadyStages(o.rate, o.durationMs),
    maxInFlight: o.maxInFlight ?? 1_000,
    // One attempt; the starter itself answers 504 after STARTER_RESULT_TIMEOUT_MS (60 s).
    requestTimeoutMs: 65_000,
    drainMs: budget + 5_000,
    iteration,
    onProgress: (line) => say(`${line}  clients retrying ${retrying}`),
  });
  let faultError: Error | undefined;
  const fault = o.during?.(ctx).catch((err: unknown) => {
    faultError = err instanceof Error ? err : new Error(String(err));
    ctx.note(`fault failed: ${faultError.message}`);
  });
  const summary = await load;
  await fault;
  const endedAt = Date.now();
  if (faultError) throw faultError;

  say(`[check] ${greetings.length} greetings: reading each one's workflow back from Temporal`);
  const { records, missing } = await withTemporal(o.stack.temporalAddress, async (client) => {
    // From the moment the load started (same clock as the server's): the case before may have started its last workflows a moment earlier.
    const query = startedBetween(startedAt, endedAt);
    // Workflows still running now have no client waiting for them: give them a bounded while.
    const settleUntil = Date.now() + (o.settleMs ?? 30_000);
    while (Date.now() < settleUntil) {
      const open = await client.workflow.count(`${query} AND ExecutionStatus = 'Running'`);
      if (open.count === 0) break;
      await sleep(1_000);
    }
    return auditWorkflows(client, { query, ids: greetings.flatMap((g) => (g.workflowId ? [g.workflowId] : [])) });
  });
  const byId = new Map(records.map((r) => [r.workflowId, r]));
  const missingIds = new Set(missing);
  const completedExactly = (r: WorkflowRecord | undefined, name: string) => r?.status === 'COMPLETED' && r.result === expectedResult(name);

  const problems: string[] = [];
  const answers = new Tally();
  let accepted = 0;
  let completed = 0;
  let lost = 0;
  let unanswered = 0;
  let unavailableWithId = 0;
  let unavailableThenCompleted = 0;
  const known = new Set<string>();
  for (const g of greetings) {
    for (const a of g.trail) if (a !== '200') answers.add(a);
    if (g.unavailableWithId > 0) unavailableWithId++;
    const r = g.workflowId ? byId.get(g.workflowId) : undefined;
    if (g.workflowId) known.add(g.workflowId);
    const isAccepted = g.answered || (g.workflowId !== undefined && !missingIds.has(g.workflowId) && r !== undefined);
    const done = completedExactly(r, g.name);
    if (isAccepted) accepted++;
    if (isAccepted && done) completed++;
    if (isAccepted && !done) {
      lost++;
      problems.push(
        `lost: ${g.name} (${g.workflowId}): Temporal says ${r ? `${r.status} ${JSON.stringify(r.result)}` : 'no such workflow'}`,
      );
    }
    if (g.unavailableWithId > 0 && g.ok && done) unavailableThenCompleted++;
    if (!g.ok) {
      unanswered++;
      problems.push(`unanswered: ${g.name} (${g.workflowId ?? 'no id'}): ${g.error ?? 'no answer'}; attempts ${g.trail.join(' ')}`);
    }
  }
  const orphans = records.filter((r) => !known.has(r.workflowId));
  for (const r of orphans) {
    if (r.name !== undefined && completedExactly(r, r.name)) continue;
    lost++;
    problems.push(`lost: workflow ${r.workflowId} no client knew of (${r.name ?? 'no name'}): ${r.status} ${JSON.stringify(r.result)}`);
  }
  const latencies = greetings.map((g) => (g.end ?? elapsed()) - g.start);
  return {
    rate: o.rate,
    durationMs: o.durationMs,
    clientIds: o.clientIds,
    greetings: greetings.length,
    dropped: summary.dropped,
    accepted,
    completed,
    lost,
    unanswered,
    orphans: orphans.length,
    retriedClients: greetings.filter((g) => g.attempts > 1).length,
    attempts: greetings.reduce((n, g) => n + g.attempts, 0),
    answers: answers.toJSON(),
    unavailableWithId,
    unavailableThenCompleted,
    activityRetriesAfterTimeout: records.reduce((n, r) => n + r.retriedAfterTimeout, 0),
    activityRetriesAfterFailure: records.reduce((n, r) => n + r.retriedAfterFailure, 0),
    latencyMs: summarize(latencies),
    inFlightAtFault: markedInFlight.length,
    inFlightCompleted: markedInFlight.filter((g) => g.ok && completedExactly(g.workflowId ? byId.get(g.workflowId) : undefined, g.name))
      .length,
    events,
    details,
    problems: problems.slice(0, 10),
    elapsedS: elapsed() / 1000,
  };

  /** One POST; 'retry' when the answer says "not now" (503/504) or none came, else 'done'. */
  async function attempt(ictx: IterationContext, g: ClientGreeting, timeoutMs: number): Promise<'retry' | 'done'> {
    let reply;
    try {
      const payload = g.workflowId ? { name: g.name, workflowId: g.workflowId } : { name: g.name };
      reply = await postJson(ictx.agent, ictx.url, payload, Math.min(ictx.requestTimeoutMs, timeoutMs));
    } catch (err) {
      g.trail.push(errorKey(err));
      return 'retry';
    }
    g.trail.push(String(reply.status));
    let body: { workflowId?: unknown };
    try {
      body = JSON.parse(reply.body) as { workflowId?: unknown };
    } catch {
      g.error = `${reply.status} answer is not JSON: ${reply.body.slice(0, 120)}`;
      return 'done';
    }
    if (typeof body.workflowId === 'string') {
      if (g.workflowId !== undefined && body.workflowId !== g.workflowId) {
        g.error = `answered for workflow ${body.workflowId}, not ${g.workflowId}`;
        return 'done';
      }
      g.workflowId = body.workflowId;
      g.answered = true;
    }
    if (reply.status === 200) {
      const wrong = checkBody(g.name, reply.body, reply.sentTrace);
      g.ok = wrong === undefined;
      if (wrong) g.error = wrong;
      return 'done';
    }
    if (reply.status === 503 && typeof body.workflowId === 'string') g.unavailableWithId++;
    if (RETRY_STATUSES.has(reply.status)) return 'retry';
    g.error = `${reply.status}: ${reply.body.slice(0, 200)}`;
    return 'done';
  }
}

/** A fault injected while checked load runs. */
export interface FaultCase {
  name: string;
  /** What is done, for the report. */
  title: string;
  clientIds: ClientIds;
  inject(ctx: LoadContext, o: FaultOptions): Promise<void>;
  /** Puts the stack back as it was, after the load. */
  restore?(stack: Stack): Promise<void>;
}

export interface FaultOptions {
  /** How long the dev server stays down (default 6 s, longer than the starter's 5 s RPC deadline). */
  outageMs?: number;
}

/** The process's next 'ready' after a supervisor restart. */
function readyAgain(stack: Stack, name: string, timeoutMs: number): Promise<RestartEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stack.events.off('ready', on);
      reject(new Error(`${name} was not ready again within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const on = (ev: RestartEvent) => {
      if (ev.name !== name) return;
      clearTimeout(timer);
      stack.events.off('ready', on);
      resolve(ev);
    };
    stack.events.on('ready', on);
  });
}

/** Polls `cond` until it holds; throws `what` when time runs out. */
async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(25);
  }
}

const inFlight = (gs: readonly ClientGreeting[]) => gs.filter((g) => g.end === undefined).length;
const answeredOk = (gs: readonly ClientGreeting[]) => gs.filter((g) => g.ok).length;

/** Translator settings of the stack's own start (restored after the translator case). */
export const TRANSLATOR_BASELINE = {
  TRANSLATOR_LATENCY_MS: '50',
  TRANSLATOR_LATENCY_JITTER_MS: '0',
  TRANSLATOR_LATENCY_DISTRIBUTION: 'uniform',
  TRANSLATOR_FAILURE_RATE: '0',
};

export const FAULT_CASES: readonly FaultCase[] = [
  {
    name: 'worker-kill',
    title: 'kill -9 of one of two workers mid-load (activities in flight on it); the supervisor restarts it',
    clientIds: 'starter',
    async inject(ctx) {
      const victim = ctx.stack.worker(1);
      if (!victim?.pid) throw new Error('worker-1 is not running (the case needs two workers)');
      await ctx.at(0.3);
      const port = ctx.stack.ports.worker(1).metrics;
      let slots = 0;
      await until('activities in flight on worker-1', async () => (slots = await activitySlotsUsed(port)) > 0, 30_000);
      const pid = victim.pid;
      const back = readyAgain(ctx.stack, victim.name, 90_000);
      process.kill(pid, 'SIGKILL');
      const n = ctx.markInFlight();
      Object.assign(ctx.details, { victimPid: pid, busySlotsAtKill: slots });
      ctx.note(`kill -9 worker-1 (pid ${pid}, ${slots} activity slots busy, ${n} greetings in flight)`);
      const event = await back;
      ctx.details.restart = event;
      ctx.note(`worker-1 ready again (restart #${event.restarts}, pid ${victim.pid})`);
    },
  },
  {
    name: 'translator',
    title:
      'translator restarted answering 20 % of requests 503, then restarted with latency spikes (50 ms + exponential, mean 2.5 s: about 14 % of calls beyond the 5 s activity timeout)',
    clientIds: 'starter',
    async inject(ctx) {
      const translator = ctx.stack.procs.get('translator');
      if (!translator) throw new Error('the stack has no translator');
      await ctx.at(0.15);
      await translator.restartWith({ TRANSLATOR_FAILURE_RATE: '0.2' });
      ctx.note(`translator answers 20 % 503s (${ctx.markInFlight()} greetings in flight)`);
      await ctx.at(0.55);
      await translator.restartWith({
        TRANSLATOR_FAILURE_RATE: '0',
        TRANSLATOR_LATENCY_MS: '50',
        TRANSLATOR_LATENCY_JITTER_MS: '2500',
        TRANSLATOR_LATENCY_DISTRIBUTION: 'exponential',
      });
      ctx.note('translator latency 50 ms + exponential(mean 2.5 s): spikes beyond the 5 s activity timeout');
    },
    async restore(stack) {
      await stack.procs.get('translator')?.restartWith(TRANSLATOR_BASELINE);
    },
  },
  {
    name: 'temporal-restart',
    title:
      'the Temporal dev server killed (-9) mid-load and started again on its SQLite file after an outage longer than the starter’s RPC deadline; clients retry with the id from the 503',
    clientIds: 'starter',
    async inject(ctx, o) {
      const temporal = ctx.stack.procs.get('temporal');
      if (!temporal?.pid) throw new Error('the stack runs no dev server of its own');
      await ctx.at(0.3);
      await until('greetings in flight', () => Promise.resolve(inFlight(ctx.greetings) >= 1 && answeredOk(ctx.greetings) >= 3), 30_000);
      const outage = o.outageMs ?? 6_000;
      temporal.kill();
      const n = ctx.markInFlight();
      Object.assign(ctx.details, { killedAtMs: ctx.elapsed(), outageMs: outage });
      await temporal.waitExit();
      ctx.note(`dev server killed (-9) with ${n} greetings in flight; down for ${outage / 1000} s`);
      await sleep(outage);
      temporal.start();
      await temporal.waitReady(120_000);
      ctx.details.backAtMs = ctx.elapsed();
      ctx.note('dev server up again on the same database');
    },
  },
  {
    name: 'starter-restart',
    title: 'the starter killed (-9) mid-load and restarted by the supervisor; clients retry with the workflow ids they chose',
    clientIds: 'client',
    async inject(ctx) {
      const starter = ctx.stack.procs.get('starter');
      if (!starter?.pid) throw new Error('the stack has no starter');
      await ctx.at(0.4);
      await until('greetings in flight', () => Promise.resolve(inFlight(ctx.greetings) >= 1), 30_000);
      const pid = starter.pid;
      const back = readyAgain(ctx.stack, 'starter', 90_000);
      process.kill(pid, 'SIGKILL');
      const n = ctx.markInFlight();
      ctx.details.starterPid = pid;
      ctx.note(`kill -9 starter (pid ${pid}) with ${n} greetings in flight`);
      const event = await back;
      ctx.details.restart = event;
      ctx.note(`starter ready again (restart #${event.restarts}, pid ${starter.pid})`);
    },
  },
];

export function faultCase(name: string): FaultCase {
  const c = FAULT_CASES.find((x) => x.name === name);
  if (!c) throw new Error(`no fault case ${JSON.stringify(name)}; cases: ${FAULT_CASES.map((x) => x.name).join(', ')}`);
  return c;
}

export interface CaseResult extends CheckedLoadResult {
  name: string;
  title: string;
}

/** Runs one fault case under checked load on `stack` (which needs two workers and its own dev server on a file). */
export async function runFaultCase(
  stack: Stack,
  c: FaultCase,
  o: Omit<CheckedLoadOptions, 'stack' | 'clientIds' | 'during' | 'idPrefix'> & FaultOptions,
): Promise<CaseResult> {
  try {
    const r = await runCheckedLoad({ ...o, stack, clientIds: c.clientIds, idPrefix: `chaos-${c.name}`, during: (ctx) => c.inject(ctx, o) });
    return { name: c.name, title: c.title, ...r };
  } finally {
    await c.restore?.(stack);
  }
}

/** The stack of a checked run: two workers (a fault case needs them), a dev server on a SQLite file (fresh), the baseline translator, no Prometheus (its scrapes would reset the event-loop histograms the soak reads). */
export function checkedStackOptions(temporalDb: string, workers = 2): Omit<StackOptions, 'runDir'> {
  return {
    workers,
    ports: 'allocate',
    temporalDb,
    temporalFresh: true,
    jaeger: false,
    prometheus: false,
    translatorEnv: { ...TRANSLATOR_BASELINE, LOG_LEVEL: 'warn' },
    workerEnv: { LOG_LEVEL: 'warn' },
    starterEnv: { LOG_LEVEL: 'warn' },
  };
}

const f0 = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0));

/** One table row per case: accepted, completed, lost, worst latency, and what the faults caused. */
export function casesTable(results: readonly CaseResult[]): string {
  return [
    '| case | greetings | accepted | completed | lost | unanswered | in flight at the fault → completed | clients retrying | 503 with id → completed | activity retries (timeout / failure) | p50 ms | p99 ms | worst ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.greetings} | ${r.accepted} | ${r.completed} | **${r.lost}** | ${r.unanswered} | ${r.inFlightAtFault} → ${r.inFlightCompleted} | ${r.retriedClients} | ${r.unavailableWithId} → ${r.unavailableThenCompleted} | ${r.activityRetriesAfterTimeout} / ${r.activityRetriesAfterFailure} | ${f0(r.latencyMs.p50)} | ${f0(r.latencyMs.p99)} | ${f0(r.latencyMs.max)} |`,
    ),
  ].join('\n');
}

/** The one-line figures of a case, for progress output and test diagnostics. */
export function caseLine(r: CaseResult): string {
  return (
    `${r.name}: greetings ${r.greetings}, accepted ${r.accepted}, completed ${r.completed}, lost ${r.lost}, unanswered ${r.unanswered}, ` +
    `orphans ${r.orphans}, worst ${f0(r.latencyMs.max)} ms; in flight at the fault ${r.inFlightAtFault} → completed ${r.inFlightCompleted}; ` +
    `attempts other than 200: ${JSON.stringify(r.answers)}; activity retries after timeout ${r.activityRetriesAfterTimeout}, after failure ${r.activityRetriesAfterFailure}`
  );
}
