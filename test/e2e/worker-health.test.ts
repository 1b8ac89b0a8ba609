// The worker's probes on real processes: /readyz follows the SDK's Worker.getStatus() and
// whether Temporal answers, /healthz (liveness) never looks at Temporal. A dev-server outage
// turns readiness off with a reason while liveness stays 200 and the process keeps running;
// the server's return turns it back on; SIGTERM turns it to 'draining' while activities finish.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Proc, WORKFLOW_BUNDLE, freePort, removeDatabase, serviceMain } from '@greeter/scripts/devstack';
import { activitySlotsUsed, eventually, logTails, postGreeting, startTestStack } from '../support/stack';

interface Probe {
  status: number;
  body: { status?: string; reason?: string };
}

async function probe(url: string): Promise<Probe> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000), headers: { connection: 'close' } });
  return { status: res.status, body: (await res.json()) as Probe['body'] };
}

describe('a worker that cannot reach Temporal at start', () => {
  test('is alive (/healthz 200) but not ready, saying it is connecting', async () => {
    const [http, metrics, closed] = [await freePort(), await freePort(), await freePort()];
    const worker = new Proc({
      name: 'worker',
      cmd: process.execPath,
      args: [serviceMain('worker')],
      env: {
        OTEL_SDK_DISABLED: 'true',
        PORT: String(http),
        WORKER_METRICS_PORT: String(metrics),
        TEMPORAL_ADDRESS: `127.0.0.1:${closed}`,
        WORKER_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE,
      },
    });
    worker.start();
    try {
      const base = `http://127.0.0.1:${http}`;
      assert.ok(await eventually(async () => (await probe(`${base}/healthz`)).status === 200, 20_000), worker.output());
      const ready = await probe(`${base}/readyz`);
      assert.equal(ready.status, 503, JSON.stringify(ready.body));
      assert.equal(ready.body.status, 'not ready');
      assert.equal(ready.body.reason, `connecting to Temporal at 127.0.0.1:${closed}`);
    } finally {
      assert.equal(await worker.stop(), 0, `a worker still connecting exits 0 on SIGTERM; output:\n${worker.output()}`);
    }
  });
});

describe('a running worker', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let base: string;
  let api: string;
  const db = path.join(os.tmpdir(), `greeter-worker-health-${randomUUID()}.db`);

  before(async () => {
    // Slow translations keep an activity in flight long enough to watch the drain.
    stack = await startTestStack('worker-health', {
      workers: 1,
      temporalDb: db,
      translatorEnv: { TRANSLATOR_LATENCY_MS: '1500' },
      workerEnv: { SHUTDOWN_GRACE_MS: '10000' },
    });
    base = `http://127.0.0.1:${stack.ports.worker(0).http}`;
    api = `http://127.0.0.1:${stack.ports.starter}`;
  });
  after(async () => {
    await stack?.stop();
    await removeDatabase(db);
  });

  test('is ready while the SDK says RUNNING with both pollers polling', async () => {
    assert.deepEqual(await probe(`${base}/readyz`), { status: 200, body: { status: 'ready', reason: 'ready' } });
    assert.deepEqual(await probe(`${base}/healthz`), { status: 200, body: { status: 'ok' } });
  });

  test('a Temporal outage turns /readyz 503 with the reason, /healthz stays 200, and the worker recovers without a restart', async () => {
    const temporal = stack.procs.get('temporal');
    const worker = stack.worker(0);
    assert.ok(temporal && worker);
    const pid = worker.pid;
    // Killed, not stopped: a crash, and no graceful stop to wait for (its SQLite file survives).
    await temporal.stop(0, 'SIGKILL');
    try {
      let notReady: Probe | undefined;
      assert.ok(
        await eventually(async () => {
          const r = await probe(`${base}/readyz`);
          if (r.status === 503) notReady = r;
          return r.status === 503;
        }, 20_000),
        `readyz stayed 200 with Temporal down\n${logTails(stack.runDir)}`,
      );
      assert.equal(notReady?.body.status, 'not ready');
      assert.match(notReady?.body.reason ?? '', new RegExp(`^Temporal unreachable at ${stack.temporalAddress.replace(/\./g, '\\.')}: `));
      // Liveness through the outage: answered on every probe, like a kubelet would send them.
      for (let i = 0; i < 10; i++) {
        assert.deepEqual(await probe(`${base}/healthz`), { status: 200, body: { status: 'ok' } }, `healthz probe ${i} in the outage`);
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      temporal.start();
    }
    assert.ok(
      await eventually(async () => (await probe(`${base}/readyz`)).status === 200, 60_000, 200),
      `readyz did not recover after Temporal came back\n${logTails(stack.runDir)}`,
    );
    assert.equal(worker.pid, pid, 'the same worker process throughout');
    assert.equal(stack.restarts()['worker-0'], undefined, 'the worker was never restarted');
    // The starter watches Temporal on its own cadence; the greeting needs it back too.
    assert.ok(await eventually(async () => (await probe(`${api}/readyz`)).status === 200, 30_000, 200), 'the starter is ready again');
    const r = await postGreeting(api, { name: 'Vuelta' });
    assert.equal(r.status, 200, `a greeting after the outage: ${JSON.stringify(r.body)}\n${logTails(stack.runDir)}`);
    assert.equal(r.body.result, '¡Hola, Vuelta!\n¡Adiós, Vuelta!');
  });

  test("SIGTERM turns /readyz 503 'draining' while an activity finishes, then the worker exits 0", async () => {
    const worker = stack.worker(0);
    assert.ok(worker);
    const answer = postGreeting(api, { name: 'Drenaje' });
    assert.ok(
      await eventually(async () => (await activitySlotsUsed(stack.ports.worker(0).metrics)) > 0, 20_000),
      'an activity is running on the worker',
    );
    const exited = worker.stop(20_000);
    const seen: Probe[] = [];
    await eventually(async () => {
      const r = await probe(`${base}/readyz`);
      seen.push(r);
      return r.status === 503;
    }, 5_000);
    const last = seen.at(-1);
    assert.deepEqual(last, { status: 503, body: { status: 'not ready', reason: 'draining' } }, `readyz answers: ${JSON.stringify(seen)}`);
    assert.deepEqual(await probe(`${base}/healthz`), { status: 200, body: { status: 'ok' } }, 'still alive while draining');
    assert.equal(await exited, 0, `worker exit code\n${logTails(stack.runDir)}`);
    await stack.startWorker(0);
    const r = await answer;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.result, '¡Hola, Drenaje!\n¡Adiós, Drenaje!');
  });
});
