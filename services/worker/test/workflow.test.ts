// GreetSomeone on a real Temporal dev server, with the real TranslateActivities class
// driven by a scripted stand-in translator: result format, activity order, and the
// retry policy (4xx fails at once, 5xx is retried until it succeeds).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, ActivityFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOW_TYPE } from '@greeter/shared/contract';
import { createActivities, type FetchFn } from '../src/activities';
import { TRANSLATOR_REJECTED } from '../src/errors';

const temporalPath = execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalPath }, ip: '127.0.0.1' },
  });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: quietLogger() });
});
after(async () => {
  await env?.teardown();
});

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
}

type Script = (path: string, name: string, attempt: number) => { status: number; body: string };

/** A stand-in translator: records each call and answers as the script says. */
function scriptedFetch(script: Script): { fetch: FetchFn; calls: string[] } {
  const calls: string[] = [];
  const attempts = new Map<string, number>();
  const fetch: FetchFn = (input) => {
    const url = new URL(input);
    const name = url.searchParams.get('name') ?? '';
    const n = (attempts.get(url.pathname) ?? 0) + 1;
    attempts.set(url.pathname, n);
    calls.push(`${url.pathname}#${n}`);
    const { status, body } = script(url.pathname, name, n);
    return Promise.resolve(new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
  };
  return { fetch, calls };
}

const happy: Script = (path, name) => ({ status: 200, body: path.includes('greeting') ? `¡Hola, ${name}!` : `¡Adiós, ${name}!` });

async function runGreeting(script: Script, name: string): Promise<{ result?: string; error?: unknown; calls: string[] }> {
  const taskQueue = `test-${randomUUID()}`;
  const { fetch, calls } = scriptedFetch(script);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createActivities({ baseUrl: 'http://translator.test', fetch }),
  });
  return worker.runUntil(async () => {
    try {
      const result = await env.client.workflow.execute<(n: string) => Promise<string>>(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: `wf-${randomUUID()}`,
        args: [name],
      });
      return { result, calls };
    } catch (error) {
      return { error, calls };
    }
  });
}

describe('GreetSomeone', () => {
  test('returns "<greeting>\\n<farewell>" from greetInSpanish then farewellInSpanish', async () => {
    const r = await runGreeting(happy, 'Maria');
    assert.equal(r.result, '¡Hola, Maria!\n¡Adiós, Maria!');
    // The original example called the greeting twice; the farewell must come from its own activity.
    assert.deepEqual(r.calls, ['/get-spanish-greeting#1', '/get-spanish-farewell#1']);
  });

  test('passes the name through unchanged, whatever its characters', async () => {
    const name = "María & 李小龍 👩‍🚀 O'Brien";
    const r = await runGreeting(happy, name);
    assert.equal(r.result, `¡Hola, ${name}!\n¡Adiós, ${name}!`);
  });

  test('a translator 4xx fails the workflow at once, without retries', async () => {
    const r = await runGreeting(
      (path, name) => (path.includes('greeting') ? { status: 400, body: 'name must not be empty' } : happy(path, name, 1)),
      'x',
    );
    assert.ok(r.error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(r.error)}`);
    const activity = r.error.cause;
    assert.ok(activity instanceof ActivityFailure, `expected ActivityFailure cause, got ${String(activity)}`);
    const app = activity.cause;
    assert.ok(app instanceof ApplicationFailure);
    assert.equal(app.type, TRANSLATOR_REJECTED);
    assert.equal(app.nonRetryable, true);
    assert.match(app.message, /translator answered 400/);
    assert.deepEqual(r.calls, ['/get-spanish-greeting#1'], 'one attempt only, and no farewell');
  });

  test('a translator 5xx is retried until it succeeds', async () => {
    const flaky: Script = (path, name, attempt) => (attempt <= 2 ? { status: 503, body: 'busy' } : happy(path, name, attempt));
    const r = await runGreeting(flaky, 'Ana');
    assert.equal(r.result, '¡Hola, Ana!\n¡Adiós, Ana!');
    assert.deepEqual(r.calls, [
      '/get-spanish-greeting#1',
      '/get-spanish-greeting#2',
      '/get-spanish-greeting#3',
      '/get-spanish-farewell#1',
      '/get-spanish-farewell#2',
      '/get-spanish-farewell#3',
    ]);
  });

  for (const status of [408, 429]) {
    test(`a translator ${status} ("not now", not "bad name") is retried until it succeeds`, async () => {
      const busy: Script = (path, name, attempt) =>
        path.includes('greeting') && attempt === 1 ? { status, body: 'try again later' } : happy(path, name, attempt);
      const r = await runGreeting(busy, 'Eva');
      assert.equal(r.error, undefined, `expected success, got ${String(r.error)}`);
      assert.equal(r.result, '¡Hola, Eva!\n¡Adiós, Eva!');
      assert.deepEqual(r.calls, ['/get-spanish-greeting#1', '/get-spanish-greeting#2', '/get-spanish-farewell#1']);
    });
  }

  test('the other 4xx answers are final', async () => {
    for (const status of [401, 403, 404, 413, 422]) {
      const r = await runGreeting((path, name) => (path.includes('greeting') ? { status, body: 'no' } : happy(path, name, 1)), 'x');
      const app = (r.error as { cause?: { cause?: unknown } } | undefined)?.cause?.cause;
      assert.ok(app instanceof ApplicationFailure, `${status}: expected an ApplicationFailure, got ${String(r.error)}`);
      assert.equal(app.type, TRANSLATOR_REJECTED, `${status}`);
      assert.deepEqual(r.calls, ['/get-spanish-greeting#1'], `${status}: one attempt only`);
    }
  });
});
