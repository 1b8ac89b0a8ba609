// Process lifecycle on real processes: graceful worker shutdown with workflows in
// flight, start-up refusal on bad configuration, the starter without Temporal, and the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, serviceMain as main, startService, type ServiceName } from '@greeter/scripts/devstack';
import { Contract } from '../support/openapi';
import { activitySlotsUsed, eventually, logTails, postGreeting, startTestStack } from '../support/stack';

/** Runs a service with an env and returns how it ended (it must end by itself). */
function runToExit(svc: ServiceName, env: Record<string, string>): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [main(svc)], {
    env: { PATH: process.env.PATH ?? '', OTEL_SDK_DISABLED: 'true', PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('a bad environment value stops start-up, naming the variable', () => {
  const cases: [ServiceName, Record<string, string>, RegExp][] = [
    ['translator', { TRANSLATOR_FAILURE_RATE: '1.5' }, /TRANSLATOR_FAILURE_RATE="1\.5" is invalid: expected a number from 0 to 1/],
    ['translator', { TRANSLATOR_LATENCY_MS: 'fast' }, /TRANSLATOR_LATENCY_MS="fast" is invalid: expected an integer/],
    [
      'translator',
      { TRANSLATOR_LATENCY_DISTRIBUTION: 'gaussian' },
      /TRANSLATOR_LATENCY_DISTRIBUTION="gaussian" is invalid: expected one of uniform, normal, exponential/,
    ],
    ['translator', { PORT: '70000' }, /PORT="70000" is invalid: expected an integer from 0 to 65535/],
    ['translator', { LOG_LEVEL: 'verbose' }, /LOG_LEVEL="verbose" is invalid: expected one of debug, info, warn, error/],
    ['worker', { TEMPORAL_ADDRESS: 'localhost' }, /TEMPORAL_ADDRESS="localhost" is invalid: expected host:port/],
    ['worker', { TRANSLATOR_URL: 'ftp://x' }, /TRANSLATOR_URL="ftp:\/\/x" is invalid: expected an http\(s\) URL/],
    ['worker', { WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }, /WORKER_MAX_CONCURRENT_ACTIVITIES="0" is invalid: expected an integer from 1/],
    ['worker', { TEMPORAL_TLS_CLIENT_CERT_PATH: '/tmp/cert.pem' }, /TEMPORAL_TLS_CLIENT_KEY_PATH is required/],
    [
      'worker',
      { TEMPORAL_TLS_CERT_PATH: '/tmp/cert.pem' },
      /TEMPORAL_TLS_CERT_PATH="\/tmp\/cert\.pem" is invalid: .*TEMPORAL_TLS_CLIENT_CERT_PATH/,
    ],
    ['worker', { TEMPORAL_PROFILE: 'nowhere' }, /TEMPORAL_PROFILE="nowhere" is invalid: expected a profile defined in/],
    ['starter', { TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' }, /TEMPORAL_CONFIG_FILE="\/nonexistent\/temporal\.toml" is invalid/],
    [
      'worker',
      { WORKER_WORKFLOW_BUNDLE: '/nonexistent/bundle.js' },
      /WORKER_WORKFLOW_BUNDLE="\/nonexistent\/bundle\.js" is invalid: expected an existing file/,
    ],
    [
      'starter',
      { TEMPORAL_API_KEY: 'k', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' },
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH="\/nonexistent\/ca\.pem" is invalid: expected an existing file/,
    ],
    ['starter', { STARTER_MAX_BODY_BYTES: '-1' }, /STARTER_MAX_BODY_BYTES="-1" is invalid/],
    ['starter', { TEMPORAL_TLS: 'maybe' }, /TEMPORAL_TLS="maybe" is invalid: expected true, false, 1, 0/],
  ];
  for (const [svc, env, message] of cases) {
    test(`${svc} with ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`, () => {
      const r = runToExit(svc, env);
      assert.equal(r.status, 78, `expected exit 78 (EX_CONFIG), got ${r.status}; stderr: ${r.stderr}`);
      assert.match(r.stderr, message);
    });
  }

  test('every bad variable is reported at once', () => {
    const r = runToExit('worker', { TEMPORAL_ADDRESS: 'nope', WORKER_METRICS_PORT: 'x', LOG_LEVEL: 'loud' });
    assert.equal(r.status, 78);
    for (const v of ['TEMPORAL_ADDRESS', 'WORKER_METRICS_PORT', 'LOG_LEVEL']) assert.match(r.stderr, new RegExp(v));
  });
});

describe('translator shutdown', () => {
  test('SIGTERM: /readyz turns 503, in-flight requests finish, new connections are refused, exit 0', async () => {
    const svc = await startService('translator', { TRANSLATOR_LATENCY_MS: '800', SHUTDOWN_DELAY_MS: '300' });
    const { base } = svc;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);

    const inFlight = fetch(`${base}/get-spanish-greeting?name=Maria`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await new Promise((r) => setTimeout(r, 100));
    svc.proc.child?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    // Draining: still answering, but not ready, so a load balancer stops sending traffic.
    const ready = await fetch(`${base}/readyz`, { headers: { connection: 'close' } });
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { reason: string }).reason, 'draining');

    assert.deepEqual(await inFlight, { status: 200, body: '¡Hola, Maria!' }, 'the in-flight request completes');
    await svc.proc.waitExit();
    assert.equal(svc.proc.exitCode, 0, `exit code; output: ${svc.proc.output()}`);
    await assert.rejects(fetch(`${base}/healthz`), 'the port is closed after exit');
  });
});

describe('starter without Temporal', () => {
  test('is alive but not ready, and answers 503 JSON instead of hanging or crashing', async () => {
    const svc = await startService('starter', { TEMPORAL_ADDRESS: '127.0.0.1:1', STARTER_RPC_TIMEOUT_MS: '1000' });
    try {
      const { base } = svc;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /Temporal unreachable/);
      const r = await postGreeting(base, { name: 'Maria' });
      assert.equal(r.status, 503, JSON.stringify(r.body));
      new Contract('starter').check('POST', '/greetings', r);
      assert.match(String(r.body.error), /Temporal is unreachable/);
    } finally {
      assert.equal(await svc.proc.stop(), 0, `starter should exit 0 on SIGTERM; output: ${svc.proc.output()}`);
    }
  });
});

describe('with the stack running', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let api: string;
  before(async () => {
    // Slow translations keep workflows in flight long enough to interrupt them.
    stack = await startTestStack('lifecycle', {
      workers: 1,
      translatorEnv: { TRANSLATOR_LATENCY_MS: '400' },
      workerEnv: { SHUTDOWN_GRACE_MS: '5000' },
    });
    api = `http://127.0.0.1:${stack.ports.starter}`;
  });
  after(async () => {
    await stack?.stop();
  });

  test('SIGTERM to the worker with workflows in flight: it exits 0 and every workflow completes after a restart', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `Vuelo ${i}`);
    let settled = 0;
    const answers = Promise.all(names.map((name) => postGreeting(api, { name }).finally(() => settled++)));
    const worker = stack.worker(0);
    assert.ok(worker);
    // SIGTERM only once activities are running on this worker (each holds a slot for 400 ms).
    const busy = await eventually(async () => (await activitySlotsUsed(stack.ports.worker(0).metrics)) > 0, 20_000);
    const slotsAtSigterm = await activitySlotsUsed(stack.ports.worker(0).metrics);
    const settledAtSigterm = settled;
    const code = await worker.stop(20_000);
    assert.ok(busy && slotsAtSigterm > 0, `expected activities in flight on the worker at SIGTERM, got ${slotsAtSigterm} busy slots`);
    assert.ok(
      settledAtSigterm < names.length,
      `expected greetings still unanswered at SIGTERM, got ${settledAtSigterm} of ${names.length} answered`,
    );
    assert.equal(code, 0, `worker exit code\n${logTails(stack.runDir)}`);
    await stack.startWorker(0);
    const results = await answers;
    results.forEach((r, i) => {
      assert.equal(r.status, 200, `greeting ${i}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.result, `¡Hola, ${names[i]}!\n¡Adiós, ${names[i]}!`);
    });
  });

  test('a greeting slower than STARTER_RESULT_TIMEOUT_MS answers 504 and its workflow still completes', async () => {
    // A second starter with a short wait; the translator's 400 ms latency makes each greeting take > 800 ms.
    const svc = await startService('starter', {
      TEMPORAL_ADDRESS: stack.temporalAddress,
      STARTER_RESULT_TIMEOUT_MS: '300',
    });
    try {
      const r = await postGreeting(svc.base, { name: 'Paciencia' });
      assert.equal(r.status, 504, JSON.stringify(r.body));
      new Contract('starter').check('POST', '/greetings', r);
      assert.match(String(r.body.error), /no result within 300 ms; the workflow is still running/);
      // The workflow goes on: the main starter, given the same id, joins it and gets the result.
      const joined = await postGreeting(api, { name: 'Paciencia', workflowId: String(r.body.workflowId) });
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      assert.equal(joined.body.result, '¡Hola, Paciencia!\n¡Adiós, Paciencia!');
    } finally {
      await svc.proc.stop();
    }
  });

  test('the greet CLI prints the result like the example client', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'services/starter/dist/src/cli.js'), 'Maria'], {
      env: { ...process.env, OTEL_SDK_DISABLED: 'true', TEMPORAL_ADDRESS: stack.temporalAddress },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'Workflow result:\n¡Hola, Maria!\n¡Adiós, Maria!\n');
  });

  test('the greet CLI refuses bad usage with exit 2', () => {
    const cli = path.join(ROOT, 'services/starter/dist/src/cli.js');
    const none = spawnSync(process.execPath, [cli], { encoding: 'utf8', env: { ...process.env, OTEL_SDK_DISABLED: 'true' } });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /NAME is required/);
    const empty = spawnSync(process.execPath, [cli, '  '], { encoding: 'utf8', env: { ...process.env, OTEL_SDK_DISABLED: 'true' } });
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /only whitespace/);
  });
});
