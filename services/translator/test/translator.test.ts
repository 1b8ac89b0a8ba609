// Translator HTTP behaviour: every route, every bad input, UTF-8 round trips, 404/405, ops endpoints.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Readiness, createHttpMetrics, createLogger, createRegistry, listen, type RunningServer } from '@greeter/shared';
import { createTranslatorApp } from '../src/app';
import { sampleLatency, shouldFail } from '../src/translate';

let server: RunningServer;
const readiness = new Readiness();

before(async () => {
  const registry = createRegistry('translator');
  const app = createTranslatorApp({
    log: createLogger('translator', 'error'),
    registry,
    metrics: createHttpMetrics(registry),
    readiness,
    jsonErrors: false,
    knobs: { latencyMs: 0, latencyJitterMs: 0, latencyDistribution: 'uniform', failureRate: 0 },
  });
  server = await listen(app, '127.0.0.1', 0);
  readiness.setReady();
});
after(() => server.close(100));

async function get(path: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: string; headers: Headers }> {
  const res = await fetch(server.url + path, init);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text(), headers: res.headers };
}

const q = (name: string) => `?name=${encodeURIComponent(name)}`;

describe('translations', () => {
  for (const [name, greeting, farewell] of [
    ['Maria', '¡Hola, Maria!', '¡Adiós, Maria!'],
    ['María', '¡Hola, María!', '¡Adiós, María!'],
    ['李小龍', '¡Hola, 李小龍!', '¡Adiós, 李小龍!'],
    ['👩‍🚀 Ana', '¡Hola, 👩‍🚀 Ana!', '¡Adiós, 👩‍🚀 Ana!'],
    ["O'Brien", "¡Hola, O'Brien!", "¡Adiós, O'Brien!"],
    ['a&b=c?d#e', '¡Hola, a&b=c?d#e!', '¡Adiós, a&b=c?d#e!'],
    ['  padded  ', '¡Hola,   padded  !', '¡Adiós,   padded  !'],
    ['a+b %20', '¡Hola, a+b %20!', '¡Adiós, a+b %20!'],
  ] as const) {
    test(`greeting and farewell round-trip ${JSON.stringify(name)} exactly`, async () => {
      const g = await get(`/get-spanish-greeting${q(name)}`);
      assert.equal(g.status, 200, g.body);
      assert.equal(g.type, 'text/plain; charset=utf-8');
      assert.equal(g.body, greeting);
      const f = await get(`/get-spanish-farewell${q(name)}`);
      assert.equal(f.status, 200, f.body);
      assert.equal(f.body, farewell);
    });
  }

  test('a "+" in the raw query means a space, as in form encoding', async () => {
    assert.equal((await get('/get-spanish-greeting?name=Ana+Maria')).body, '¡Hola, Ana Maria!');
  });

  test('a name of exactly 100 code points is accepted (astral characters count once)', async () => {
    const name = '😀'.repeat(100);
    const r = await get(`/get-spanish-greeting${q(name)}`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, `¡Hola, ${name}!`);
  });
});

describe('bad input answers 400 with a clear text message', () => {
  for (const [label, query, message] of [
    ['missing name', '', 'name is required'],
    ['other parameter only', '?nombre=Maria', 'name is required'],
    ['empty name', '?name=', 'name must not be empty'],
    ['name without =', '?name', 'name must not be empty'],
    ['whitespace-only name', `?name=${encodeURIComponent(' \t ')}`, 'name must not be only whitespace'],
    ['101 characters', q('x'.repeat(101)), 'name is too long: 101 characters, at most 100 allowed'],
    ['newline', q('Ma\nria'), 'name must not contain control characters'],
    ['NUL', q('Ma\u0000ria'), 'name must not contain control characters'],
    ['DEL', q('Ma\u007fria'), 'name must not contain control characters'],
    ['malformed percent-encoding', '?name=%E0%A4%A', 'name is not valid percent-encoded UTF-8'],
    ['invalid UTF-8 bytes', '?name=%FF%FE', 'name is not valid percent-encoded UTF-8'],
    ['lone surrogate', '?name=%ED%A0%80', 'name is not valid percent-encoded UTF-8'],
    ['name given twice', '?name=a&name=b', 'name must be given once'],
  ] as const) {
    for (const route of ['/get-spanish-greeting', '/get-spanish-farewell']) {
      test(`${route}: ${label}`, async () => {
        const r = await get(route + query);
        assert.equal(r.status, 400, `expected 400 for ${label}, got ${r.status}: ${r.body}`);
        assert.equal(r.type, 'text/plain; charset=utf-8');
        assert.equal(r.body, message);
      });
    }
  }
});

describe('routing', () => {
  test('unknown path answers 404', async () => {
    const r = await get('/get-french-greeting?name=Marie');
    assert.equal(r.status, 404);
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    test(`${method} on a translation route answers 405 with Allow`, async () => {
      const r = await get('/get-spanish-greeting?name=Maria', { method });
      assert.equal(r.status, 405, r.body);
      assert.match(r.headers.get('allow') ?? '', /GET/);
    });
  }
});

describe('ops endpoints', () => {
  test('/healthz answers 200', async () => {
    assert.equal((await get('/healthz')).status, 200);
  });

  test('/readyz follows readiness and turns 503 while draining', async () => {
    // An app of its own: draining is one-way and the other tests share `readiness`.
    const own = new Readiness();
    const registry = createRegistry('translator');
    const app = createTranslatorApp({
      log: createLogger('translator', 'error'),
      registry,
      metrics: createHttpMetrics(registry),
      readiness: own,
      jsonErrors: false,
      knobs: { latencyMs: 0, latencyJitterMs: 0, latencyDistribution: 'uniform', failureRate: 0 },
    });
    const srv = await listen(app, '127.0.0.1', 0);
    try {
      const readyz = async () => {
        const res = await fetch(`${srv.url}/readyz`);
        return { status: res.status, body: (await res.json()) as { reason: string } };
      };
      assert.equal((await readyz()).status, 503, 'not ready before setReady()');
      own.setReady();
      assert.equal((await readyz()).status, 200, 'ready after setReady()');
      own.drain();
      const draining = await readyz();
      assert.deepEqual(
        { status: draining.status, reason: draining.body.reason },
        { status: 503, reason: 'draining' },
        'GET /readyz while draining',
      );
      const greeting = await fetch(`${srv.url}/get-spanish-greeting${q('Maria')}`);
      assert.equal(await greeting.text(), '¡Hola, Maria!', 'a draining translator still answers requests');
    } finally {
      await srv.close(100);
    }
  });

  test('/metrics is OpenMetrics with route-templated request durations', async () => {
    await get(`/get-spanish-greeting${q('Maria')}`);
    await get('/get-spanish-greeting');
    const r = await get('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.type ?? '', /application\/openmetrics-text/);
    assert.match(r.body, /http_server_request_duration_seconds_count\{[^}]*route="\/get-spanish-greeting"[^}]*status_code="200"/);
    assert.match(r.body, /http_server_request_duration_seconds_count\{[^}]*status_code="400"/);
    assert.match(r.body, /translator_translations_total\{[^}]*kind="greeting"[^}]*outcome="ok"/);
    assert.match(r.body, /process_resident_memory_bytes/);
  });
});

describe('experiment knobs', () => {
  const off = { latencyMs: 0, latencyJitterMs: 0, latencyDistribution: 'uniform' as const, failureRate: 0 };

  test('are off by default: no latency, no failures', () => {
    assert.equal(sampleLatency(off), 0);
    assert.equal(
      shouldFail(off, () => 0),
      false,
    );
  });

  test('uniform latency lies in [base, base + jitter]', () => {
    const k = { ...off, latencyMs: 50, latencyJitterMs: 20 };
    assert.equal(
      sampleLatency(k, () => 0),
      50,
    );
    assert.equal(
      sampleLatency(k, () => 0.5),
      60,
    );
  });

  test('normal latency is never negative', () => {
    const k = { ...off, latencyMs: 1, latencyJitterMs: 1000, latencyDistribution: 'normal' as const };
    for (let i = 0; i < 1000; i++) assert.ok(sampleLatency(k) >= 0);
  });

  test('failure rate 1 always fails, 0.25 fails below the draw', () => {
    assert.equal(
      shouldFail({ ...off, failureRate: 1 }, () => 0.999),
      true,
    );
    assert.equal(
      shouldFail({ ...off, failureRate: 0.25 }, () => 0.2),
      true,
    );
    assert.equal(
      shouldFail({ ...off, failureRate: 0.25 }, () => 0.3),
      false,
    );
  });
});
