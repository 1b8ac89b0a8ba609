// End to end on real processes (dev server, translator, worker, starter): results,
// concurrency, idempotency, bad input, and how failures map to HTTP statuses.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { Contract } from '../support/openapi';
import { logTails, postGreeting, startTestStack } from '../support/stack';

type TestStack = Awaited<ReturnType<typeof startTestStack>>;
let stack: TestStack;
let api: string;
let client: Client;

const contract = new Contract('starter');
/** POST /greetings; every answer must also match the starter's OpenAPI document. */
async function post(...args: Parameters<typeof postGreeting>): ReturnType<typeof postGreeting> {
  const r = await postGreeting(...args);
  contract.check('POST', '/greetings', r);
  return r;
}

before(async () => {
  stack = await startTestStack('api', { workers: 1 });
  api = `http://127.0.0.1:${stack.ports.starter}`;
  client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
});
after(async () => {
  await client?.connection.close();
  await stack?.stop();
});

async function countGreetings(): Promise<number> {
  // Visibility is eventually consistent; a short settle keeps the comparison honest.
  await new Promise((r) => setTimeout(r, 1_500));
  return (await client.workflow.count('WorkflowType = "GreetSomeone"')).count;
}

describe('POST /greetings', () => {
  test('Maria gets the exact greeting and farewell, with workflow and trace ids', async () => {
    const r = await post(api, { name: 'Maria' });
    assert.equal(r.status, 200, `${JSON.stringify(r.body)}\n${logTails(stack.runDir)}`);
    assert.equal(r.body.result, '¡Hola, Maria!\n¡Adiós, Maria!');
    assert.equal(r.body.greeting, '¡Hola, Maria!');
    assert.equal(r.body.farewell, '¡Adiós, Maria!');
    assert.match(String(r.body.workflowId), /^greet-[0-9a-f-]{36}$/);
    assert.match(String(r.body.traceId), /^[0-9a-f]{32}$/);
    assert.equal(r.headers.get('x-trace-id'), r.body.traceId);
    const described = await client.workflow.getHandle(String(r.body.workflowId)).describe();
    assert.equal(described.status.name, 'COMPLETED');
    assert.equal(described.taskQueue, 'greeting-tasks');
  });

  test('50 concurrent distinct names all come back correct', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `Persona ${i} ${['María', '李', '🙂', "O'Neil", 'a&b'][i % 5]}`);
    const answers = await Promise.all(names.map((name) => post(api, { name })));
    answers.forEach((r, i) => {
      assert.equal(r.status, 200, `greeting ${i}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.result, `¡Hola, ${names[i]}!\n¡Adiós, ${names[i]}!`);
    });
    assert.equal(new Set(answers.map((r) => r.body.workflowId)).size, 50, 'every greeting ran its own workflow');
  });

  test('a client-supplied workflowId is idempotent: a repeat starts nothing new', async () => {
    const workflowId = `idem-${randomUUID()}`;
    const first = await post(api, { name: 'Lucía', workflowId });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const second = await post(api, { name: 'Lucía', workflowId });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.result, '¡Hola, Lucía!\n¡Adiós, Lucía!');
    assert.equal(second.body.runId, first.body.runId, 'same run answered twice');
    const runs = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(w.runId);
    assert.deepEqual(runs, [first.body.runId], 'exactly one run exists for the id');
  });

  test('concurrent repeats of one workflowId join the same run', async () => {
    const workflowId = `idem-${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(api, { name: 'Pablo', workflowId })));
    for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(new Set(answers.map((a) => a.body.runId)).size, 1);
  });

  test('reusing a workflowId for another name is a 409 conflict, not the old result', async () => {
    const workflowId = `idem-${randomUUID()}`;
    assert.equal((await post(api, { name: 'Elena', workflowId })).status, 200);
    const r = await post(api, { name: 'Sofía', workflowId });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.match(String(r.body.error), /already used for the name "Elena"/);
  });
});

describe('bad input is refused before any workflow starts', () => {
  const cases: { label: string; status: number; error: RegExp; body?: unknown; raw?: string; contentType?: string }[] = [
    { label: 'invalid JSON', status: 400, raw: '{"name": "Maria"', error: /body is not valid JSON/ },
    { label: 'empty body', status: 400, raw: '', error: /body is not valid JSON/ },
    { label: 'JSON array', status: 400, body: ['Maria'], error: /body must be a JSON object/ },
    { label: 'JSON string', status: 400, body: 'Maria', error: /body must be a JSON object/ },
    { label: 'JSON null', status: 400, body: null, error: /body must be a JSON object/ },
    { label: 'missing name', status: 400, body: {}, error: /name is required/ },
    { label: 'name null', status: 400, body: { name: null }, error: /name is required/ },
    { label: 'name a number', status: 400, body: { name: 42 }, error: /name must be a string/ },
    { label: 'empty name', status: 400, body: { name: '' }, error: /name must not be empty/ },
    { label: 'whitespace name', status: 400, body: { name: ' \t\n ' }, error: /only whitespace/ },
    { label: 'name too long', status: 400, body: { name: 'x'.repeat(101) }, error: /too long: 101 characters, at most 100/ },
    { label: 'control character', status: 400, body: { name: 'Ma\u0007ria' }, error: /control characters/ },
    { label: 'lone surrogate', status: 400, raw: '{"name":"\\ud800"}', error: /valid Unicode/ },
    { label: 'unknown field', status: 400, body: { name: 'Maria', nmae: 'x' }, error: /unknown field\(s\): nmae/ },
    { label: 'bad workflowId', status: 400, body: { name: 'Maria', workflowId: 'has space' }, error: /workflowId must be/ },
    { label: 'workflowId not a string', status: 400, body: { name: 'Maria', workflowId: 7 }, error: /workflowId must be/ },
    {
      label: 'text/plain content type',
      status: 415,
      raw: '{"name":"Maria"}',
      contentType: 'text/plain',
      error: /content-type must be application\/json/,
    },
    {
      label: 'form content type',
      status: 415,
      raw: 'name=Maria',
      contentType: 'application/x-www-form-urlencoded',
      error: /content-type must be application\/json/,
    },
    { label: 'oversized body', status: 413, body: { name: 'Maria', pad: 'x'.repeat(20_000) }, error: /larger than 16384 bytes/ },
  ];

  test('each bad request gets its 4xx JSON error and the workflow count does not move', async () => {
    const before = await countGreetings();
    for (const c of cases) {
      const r = await post(api, c.body, {
        ...(c.raw !== undefined && { raw: c.raw }),
        ...(c.contentType && { contentType: c.contentType }),
      });
      assert.equal(r.status, c.status, `${c.label}: expected ${c.status}, got ${r.status} ${JSON.stringify(r.body)}`);
      assert.match(String(r.body.error), c.error, `${c.label}: error message`);
    }
    assert.equal(await countGreetings(), before, 'no workflow was started by a bad request');
  });

  test('other methods and paths: 405 with Allow, 404', async () => {
    const get = await fetch(`${api}/greetings`);
    assert.equal(get.status, 405);
    assert.match(get.headers.get('allow') ?? '', /POST/);
    assert.equal((await fetch(`${api}/greeting`, { method: 'POST' })).status, 404);
  });
});

describe('failures map to HTTP statuses', () => {
  test('a workflow that fails answers 502 with the failure message', async () => {
    const translator = stack.procs.get('translator');
    assert.ok(translator);
    // With the translator down the activity retries; terminating the workflow then fails it.
    await translator.stop();
    try {
      const workflowId = `fail-${randomUUID()}`;
      const pending = post(api, { name: 'Maria', workflowId });
      const handle = client.workflow.getHandle(workflowId);
      for (let i = 0; i < 50; i++) {
        try {
          await handle.describe();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await handle.terminate('test: simulated failure');
      const r = await pending;
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.match(String(r.body.error), /terminated|simulated failure/i);
      assert.equal(r.body.workflowId, workflowId);
    } finally {
      translator.start();
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const again = await post(api, { name: 'Maria' });
    assert.equal(again.status, 200, `translator back: ${JSON.stringify(again.body)}`);
  });
});
