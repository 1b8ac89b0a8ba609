// TranslateActivities against a real translator process on a random port: URL
// encoding, and the mapping of translator answers to retryable or final failures.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { TranslateActivities } from '../src/activities';
import { TRANSLATOR_REJECTED, TRANSLATOR_UNAVAILABLE } from '../src/errors';

const MAIN = path.resolve(__dirname, '../../../translator/dist/src/main.js');

/** Starts the compiled translator on port 0 and reads the port from its start-up log line. */
async function startTranslator(env: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Keep reading stdout for the child's whole life: a closed or full pipe would block
  // its synchronous log writes (pino) and with them its shutdown.
  let buffered = '';
  proc.stdout.on('data', (chunk: Buffer) => (buffered += String(chunk)));
  for (let i = 0; i < 100; i++) {
    const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(buffered);
    if (m) return { proc, url: m[1] as string };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`translator did not start listening: ${buffered}`);
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await once(proc, 'exit');
}

let healthy: { proc: ChildProcess; url: string };
let broken: { proc: ChildProcess; url: string };
let slow: { proc: ChildProcess; url: string };

before(async () => {
  [healthy, broken, slow] = await Promise.all([
    startTranslator(),
    startTranslator({ TRANSLATOR_FAILURE_RATE: '1' }),
    // Slow enough that a test cancels the attempt long before the answer; short grace so it stops quickly.
    startTranslator({ TRANSLATOR_LATENCY_MS: '30000', SHUTDOWN_GRACE_MS: '100' }),
  ]);
});
after(async () => {
  await Promise.all([stop(healthy.proc), stop(broken.proc), stop(slow.proc)]);
});

const run = <T>(fn: () => Promise<T>) => new MockActivityEnvironment().run(fn);

describe('TranslateActivities against a real translator', () => {
  test('greets and says goodbye, URL-encoding the name', async () => {
    const a = new TranslateActivities({ baseUrl: healthy.url, fetch });
    for (const name of ['Maria', 'María', 'a&b=c', '100% #1?', 'Ana Maria', '李小龍 👋']) {
      assert.equal(await run(() => a.greetInSpanish(name)), `¡Hola, ${name}!`);
      assert.equal(await run(() => a.farewellInSpanish(name)), `¡Adiós, ${name}!`);
    }
  });

  test('a 400 from the translator is a non-retryable TranslatorRejectedName failure', async () => {
    const a = new TranslateActivities({ baseUrl: healthy.url, fetch });
    await assert.rejects(
      run(() => a.greetInSpanish('   ')),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(err)}`);
        assert.equal(err.type, TRANSLATOR_REJECTED);
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /400.*name must not be only whitespace/);
        return true;
      },
    );
  });

  test('a 503 from the translator is a retryable TranslatorUnavailable failure', async () => {
    const a = new TranslateActivities({ baseUrl: broken.url, fetch });
    await assert.rejects(
      run(() => a.farewellInSpanish('Maria')),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, TRANSLATOR_UNAVAILABLE);
        assert.equal(err.nonRetryable, false);
        assert.match(err.message, /503/);
        return true;
      },
    );
  });

  test('an unreachable translator is a plain (retryable) error naming the URL', async () => {
    const a = new TranslateActivities({ baseUrl: 'http://127.0.0.1:1', fetch });
    await assert.rejects(
      run(() => a.greetInSpanish('Maria')),
      /translator unreachable at http:\/\/127\.0\.0\.1:1\/get-spanish-greeting/,
    );
  });

  test("a cancelled attempt aborts its request and surfaces as the SDK's CancelledFailure, not as a failure", async () => {
    const a = new TranslateActivities({ baseUrl: slow.url, fetch });
    const env = new MockActivityEnvironment();
    const attempt = env.run(() => a.greetInSpanish('Maria'));
    // Cancel once the request is on the wire (the translator holds it for 30 s).
    await new Promise((r) => setTimeout(r, 300));
    env.cancel();
    await assert.rejects(attempt, (err: unknown) => {
      assert.ok(err instanceof CancelledFailure, `expected CancelledFailure, got ${(err as Error)?.constructor?.name}: ${String(err)}`);
      return true;
    });
  });
});
