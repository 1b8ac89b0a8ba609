// The stack's supervisor behaves like a kubelet: a worker killed with SIGKILL under load is
// restarted (with backoff) and counted, the other processes keep running, and every greeting
// the starter accepted completes with its exact result.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { RestartEvent } from '@greeter/scripts/devstack';
import { activitySlotsUsed, eventually, logTails, postGreeting, startTestStack, type ApiAnswer } from '../support/stack';

const GREETINGS = 200;
const CONCURRENCY = 16;

describe('supervised stack: kill -9 of a worker under load', { timeout: 240_000 }, () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let api: string;
  before(async () => {
    // A little translator latency keeps activities in flight on both workers.
    stack = await startTestStack('supervisor', {
      workers: 2,
      translatorEnv: { TRANSLATOR_LATENCY_MS: '50' },
      restart: { initialDelayMs: 500 },
    });
    api = `http://127.0.0.1:${stack.ports.starter}`;
  });
  after(async () => {
    await stack?.stop();
  });

  test('the killed worker is restarted and counted, the rest keeps running, every accepted greeting completes', async (t) => {
    const pidsBefore = new Map([...stack.procs].map(([name, p]) => [name, p.pid]));
    const victim = stack.worker(1);
    assert.ok(victim?.pid, 'worker-1 runs');
    const victimPid = victim.pid;
    const restarted = once(stack.events, 'ready') as Promise<[RestartEvent]>;

    const names = Array.from({ length: GREETINGS }, (_, i) => `Persona ${i}`);
    const answers: Array<ApiAnswer | Error> = Array.from({ length: GREETINGS }, () => new Error('not answered'));
    let next = 0;
    let done = 0;
    const caller = async () => {
      for (let i = next++; i < GREETINGS; i = next++) {
        answers[i] = await postGreeting(api, { name: names[i] }).catch((err: unknown) => err as Error);
        done++;
      }
    };
    const load = Promise.all(Array.from({ length: CONCURRENCY }, caller));

    // Mid-load, with activities running on the victim: SIGKILL, no chance to drain.
    const busy = await eventually(async () => done >= 20 && (await activitySlotsUsed(stack.ports.worker(1).metrics)) > 0, 60_000);
    const doneAtKill = done;
    const slotsAtKill = await activitySlotsUsed(stack.ports.worker(1).metrics);
    process.kill(victimPid, 'SIGKILL');
    assert.ok(busy, `expected activities in flight on worker-1 before the kill (answered so far: ${doneAtKill})`);
    assert.ok(doneAtKill < GREETINGS, `expected greetings still in flight at the kill, got ${doneAtKill} of ${GREETINGS} answered`);

    const [event] = await Promise.race([
      restarted,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`worker-1 not ready again within 60 s\n${logTails(stack.runDir)}`)), 60_000),
      ),
    ]);
    await load;

    const accepted = answers.filter((a) => !(a instanceof Error) && a.status < 500).length;
    const completed = answers.filter(
      (a, i) => !(a instanceof Error) && a.status === 200 && a.body.result === `¡Hola, ${names[i]}!\n¡Adiós, ${names[i]}!`,
    ).length;
    const figures = {
      greetings: GREETINGS,
      concurrency: CONCURRENCY,
      answeredAtKill: doneAtKill,
      victimBusySlotsAtKill: slotsAtKill,
      accepted,
      completed,
      lost: accepted - completed,
      restarts: stack.restarts(),
    };
    t.diagnostic(`figures: ${JSON.stringify(figures)}`);
    console.log(`[supervisor] ${JSON.stringify(figures)}`);

    answers.forEach((a, i) => {
      assert.ok(!(a instanceof Error), `greeting ${i}: request failed: ${a instanceof Error ? a.message : ''}`);
      assert.equal(a.status, 200, `greeting ${i}: expected 200, got ${a.status} ${JSON.stringify(a.body)}`);
      assert.equal(a.body.result, `¡Hola, ${names[i]}!\n¡Adiós, ${names[i]}!`, `greeting ${i}: exact result`);
    });
    assert.equal(completed, GREETINGS, 'every greeting completed');

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
});
