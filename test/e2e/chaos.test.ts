// Faults under load on the real local stack (two workers, a dev server on a SQLite file), the
// cases of `npm run chaos` in short: every greeting a client started is checked at the end
// against Temporal (describe and history by workflow id), and none may be lost or left
// without its exact answer. The worker case also checks the supervisor like a kubelet: the
// killed worker is restarted once and counted, every other process keeps its pid.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { caseLine, faultCase, checkedStackOptions, runFaultCase, type CaseResult } from '@greeter/loadtest/faults';
import type { RestartEvent } from '@greeter/scripts/devstack';
import { logTails, startTestStack } from '../support/stack';

const RATE = 8;
const DURATION_MS = 12_000;

describe('faults under load: no accepted greeting is lost', { timeout: 600_000 }, () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let dbDir: string;
  before(async () => {
    dbDir = mkdtempSync(path.join(os.tmpdir(), 'greeter-chaos-db-'));
    stack = await startTestStack('chaos', checkedStackOptions(path.join(dbDir, 'temporal.db')));
  });
  after(async () => {
    await stack?.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  /** Runs the case and asserts what every case promises: all greetings accepted, completed exactly, none lost. */
  async function runCase(t: TestContext, name: string): Promise<CaseResult> {
    const r = await runFaultCase(stack, faultCase(name), {
      rate: RATE,
      durationMs: DURATION_MS,
      // Fault notes and the check; the per-second lines are for `npm run chaos`.
      onProgress: (line) => {
        if (!line.startsWith('[load]')) console.error(`[chaos] ${line}`);
      },
    });
    const figures = caseLine(r);
    t.diagnostic(figures);
    console.log(`[chaos] ${figures}`);
    const logs = () => `\n${logTails(stack.runDir)}`;
    assert.deepEqual(r.problems, [], `lost or unanswered greetings (${r.lost} lost, ${r.unanswered} unanswered)${logs()}`);
    assert.equal(r.dropped, 0, 'no arrival dropped (in-flight cap)');
    assert.ok(
      r.greetings >= (RATE * DURATION_MS) / 1000 - 1,
      `expected about ${(RATE * DURATION_MS) / 1000} greetings, got ${r.greetings}`,
    );
    assert.deepEqual(
      { accepted: r.accepted, completed: r.completed, lost: r.lost, unanswered: r.unanswered },
      { accepted: r.greetings, completed: r.greetings, lost: 0, unanswered: 0 },
      'every greeting accepted and completed with its exact result, checked against Temporal',
    );
    assert.ok(r.inFlightAtFault > 0, 'greetings were in flight when the fault hit');
    assert.equal(r.inFlightCompleted, r.inFlightAtFault, 'every greeting in flight at the fault completed');
    return r;
  }

  test('kill -9 of one of two workers: restarted once and counted, the rest keeps running, nothing lost', async (t) => {
    const pidsBefore = new Map([...stack.procs].map(([name, p]) => [name, p.pid]));
    const r = await runCase(t, 'worker-kill');
    const event = r.details.restart as RestartEvent;
    const victimPid = r.details.victimPid as number;
    assert.ok((r.details.busySlotsAtKill as number) > 0, 'activities were running on worker-1 when it was killed');
    assert.deepEqual(
      { name: event.name, restarts: event.restarts, signal: event.signal },
      { name: 'worker-1', restarts: 1, signal: 'SIGKILL' },
    );
    assert.deepEqual(stack.restarts(), { 'worker-1': 1 }, 'exactly one restart, of worker-1');
    const w1 = stack.worker(1);
    assert.ok(w1?.running && w1.pid !== victimPid, `worker-1 runs again under a new pid (was ${victimPid}, now ${w1?.pid})`);
    assert.equal((await fetch(`http://127.0.0.1:${stack.ports.worker(1).http}/readyz`)).status, 200, 'the restarted worker is ready');
    for (const [name, pid] of pidsBefore) {
      if (name === 'worker-1') continue;
      assert.equal(stack.procs.get(name)?.pid, pid, `${name} kept running under the same pid`);
    }
  });

  test('translator answering 20 % 503s, then latency spikes beyond the activity timeout: retried, nothing lost', async (t) => {
    const r = await runCase(t, 'translator');
    assert.ok(r.activityRetriesAfterFailure > 0, `Temporal records activities retried after a 503 (got ${r.activityRetriesAfterFailure})`);
    assert.ok(
      r.activityRetriesAfterTimeout > 0,
      `Temporal records activities retried after a timeout (got ${r.activityRetriesAfterTimeout})`,
    );
  });

  test('dev server restarted on its file database: in-flight greetings resume, 503s carry the id, retries with it complete', async (t) => {
    const r = await runCase(t, 'temporal-restart');
    assert.ok(
      r.unavailableWithId > 0,
      `the starter answered 503 with the workflow id during the outage (answers: ${JSON.stringify(r.answers)})`,
    );
    assert.equal(r.unavailableThenCompleted, r.unavailableWithId, 'every client told 503 got its result by retrying with that id');
  });

  test('starter killed and restarted: clients retrying with their workflow ids get their results', async (t) => {
    const r = await runCase(t, 'starter-restart');
    const broken = Object.entries(r.answers).filter(([k]) => !/^\d+$/.test(k));
    assert.ok(broken.length > 0, `some attempts lost their connection to the killed starter (answers: ${JSON.stringify(r.answers)})`);
    assert.ok(r.retriedClients > 0, 'clients retried');
    assert.equal((r.details.restart as RestartEvent).name, 'starter');
    assert.equal(r.orphans, 0, 'every workflow started belongs to a client (client-chosen ids)');
  });
});
