// The API contracts as documents: services/starter/openapi.json and services/translator/openapi.json
// are valid OpenAPI 3.1, served unchanged at GET /openapi.json, their examples match their
// schemas, the Name schema says exactly what validateName says, and the real answers of the
// running services (ops endpoints, translations, the starter without Temporal) match them.
// The happy path and every error of POST /greetings are checked in api.test.ts and
// lifecycle.test.ts; fuzz.test.ts lets schemathesis loose on both documents.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_NAME_LENGTH, validateName } from '@greeter/shared';
import { ROOT, freePort, startService, type RunningService } from '@greeter/scripts/devstack';
import { Contract, readDocument, type Service } from '../support/openapi';

const SERVICES: Service[] = ['starter', 'translator'];
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('the documents', () => {
  for (const service of SERVICES) {
    test(`${service}: valid OpenAPI 3.1, versioned like the package, every operation named and every response described`, async () => {
      const { Validator } = await import('@seriousme/openapi-schema-validator');
      const doc = readDocument(service);
      const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
      assert.equal(result.valid, true, `${service}/openapi.json: ${JSON.stringify(result.errors, null, 2)}`);
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(doc.info.version, pkg.version);
      const ids = new Set<string>();
      for (const [route, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          assert.ok(op.operationId, `${method} ${route}: operationId`);
          assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} twice`);
          ids.add(op.operationId);
          for (const [status, r] of Object.entries(op.responses)) assert.ok(r.description, `${method} ${route} ${status}: description`);
        }
      }
    });

    test(`${service}: every example matches its schema`, () => {
      const c = new Contract(service);
      const examples = c.examples();
      assert.ok(examples.length >= 5, `only ${examples.length} examples`);
      for (const e of examples) assert.equal(c.problem(e.schemaAt, e.value), undefined, `${e.where}: ${JSON.stringify(e.value)}`);
    });
  }

  test('both documents carry the same Name schema, and it accepts exactly what validateName accepts', () => {
    const [starter, translator] = SERVICES.map((s) => new Contract(s));
    assert.deepEqual(starter!.doc.components?.schemas?.Name, translator!.doc.components?.schemas?.Name);
    const accepts = (name: string) => starter!.problem('/components/schemas/Name', name) === undefined;
    const disagreements: string[] = [];
    const compare = (name: string) => {
      if (accepts(name) !== (validateName(name) === undefined))
        disagreements.push(
          `${JSON.stringify(name)}: schema ${accepts(name) ? 'accepts' : 'refuses'}, validateName says ${validateName(name) ?? 'ok'}`,
        );
    };
    // Every code point alone and in company (lone surrogates are outside what JSON Schema can
    // say; the schema's description names them, and the fuzzer never sends one).
    for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x3100 ? 1 : 97) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      for (const name of [c, `a${c}`, ` ${c} `, `${c}${c}`]) compare(name);
    }
    for (const name of ['', 'Maria', 'a'.repeat(MAX_NAME_LENGTH), 'a'.repeat(MAX_NAME_LENGTH + 1), '😀'.repeat(MAX_NAME_LENGTH)])
      compare(name);
    compare('😀'.repeat(MAX_NAME_LENGTH + 1));
    compare(' \t\n\u00a0\u2003\u3000\ufeff');
    assert.deepEqual(disagreements.slice(0, 20), [], `${disagreements.length} disagreements`);
  });
});

describe('the running services answer as documented', () => {
  let starter: RunningService;
  let translator: RunningService;
  let failing: RunningService;
  const contracts = { starter: new Contract('starter'), translator: new Contract('translator') };

  before(async () => {
    [starter, translator, failing] = await Promise.all([
      // No Temporal behind it: the starter is up, not ready, and answers POST /greetings with 503.
      startService('starter', { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, STARTER_RPC_TIMEOUT_MS: '500' }),
      startService('translator'),
      startService('translator', { TRANSLATOR_FAILURE_RATE: '1' }),
    ]);
  });
  after(async () => {
    await Promise.all([starter, translator, failing].map((s) => s?.proc.stop()));
  });

  async function call(service: Service, svc: RunningService, method: string, route: string, init: RequestInit & { query?: string } = {}) {
    const res = await fetch(`${svc.base}${route}${init.query ?? ''}`, { ...init, method });
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').startsWith('application/json');
    const answer = { status: res.status, headers: res.headers, body: json ? (JSON.parse(text) as unknown) : text };
    contracts[service].check(method, route, answer);
    return answer;
  }

  test('GET /openapi.json serves the committed document', async () => {
    for (const [service, svc] of [
      ['starter', () => starter],
      ['translator', () => translator],
    ] as const) {
      const r = await call(service, svc(), 'GET', '/openapi.json');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, readDocument(service));
    }
  });

  test('/healthz, /readyz (200 and 503) and /metrics', async () => {
    for (const [service, svc] of [
      ['starter', starter],
      ['translator', translator],
    ] as const) {
      assert.equal((await call(service, svc, 'GET', '/healthz')).status, 200);
      assert.equal((await call(service, svc, 'GET', '/metrics')).status, 200);
    }
    assert.equal((await call('translator', translator, 'GET', '/readyz')).status, 200);
    const notReady = await call('starter', starter, 'GET', '/readyz');
    assert.equal(notReady.status, 503);
  });

  test('translations: 200, each 400, and the injected 503', async () => {
    for (const route of ['/get-spanish-greeting', '/get-spanish-farewell']) {
      assert.equal((await call('translator', translator, 'GET', route, { query: '?name=Mar%C3%ADa' })).status, 200);
      for (const query of ['', '?name=', '?name=%20', '?name=a&name=b', '?name=%E0%A4%A', `?name=${'x'.repeat(101)}`, '?name=%07']) {
        assert.equal((await call('translator', translator, 'GET', route, { query })).status, 400, query);
      }
      assert.equal((await call('translator', failing, 'GET', route, { query: '?name=Maria' })).status, 503);
    }
  });

  test('POST /greetings: 400, 413, 415 and, without Temporal, 503', async () => {
    const post = (body: string, type = 'application/json') =>
      call('starter', starter, 'POST', '/greetings', { body, headers: { 'content-type': type } });
    assert.equal((await post('{"name":')).status, 400);
    assert.equal((await post(JSON.stringify({ name: 'x', pad: 'y'.repeat(20_000) }))).status, 413);
    assert.equal((await post('name=Maria', 'application/x-www-form-urlencoded')).status, 415);
    assert.equal((await post('{"name":"Maria","workflowId":"sin-temporal"}')).status, 503);
  });
});
