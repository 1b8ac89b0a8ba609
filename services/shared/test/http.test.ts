// The HTTP shell every service is built on, served for real on a loopback port: error
// mapping, the bounded route label of the request metric, ops endpoints, readiness while
// draining, and a close that lets in-flight requests finish.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Router } from '@koa/router';
import { HttpError, Readiness, UNMATCHED_ROUTE, createApp, httpDrainSteps, listen, mountRouter, type RunningServer } from '../src/http';
import { createLogger } from '../src/log';
import { createHttpMetrics, createRegistry } from '../src/metrics';

function shell(jsonErrors: boolean): { readiness: Readiness; start: () => Promise<RunningServer> } {
  const registry = createRegistry('shell-test');
  const readiness = new Readiness();
  const app = createApp({
    log: createLogger('shell-test', 'error'),
    registry,
    metrics: createHttpMetrics(registry),
    readiness,
    jsonErrors,
  });
  const router = new Router();
  router.get('/items/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  router.get('/refuse', () => {
    throw new HttpError(429, 'slow down', { 'retry-after': '2' });
  });
  router.get('/koa-throw', (ctx) => ctx.throw(422, 'unprocessable thing'));
  router.get('/bug', () => {
    throw new Error('secret internals');
  });
  router.get('/slow', async (ctx) => {
    await new Promise((r) => setTimeout(r, 500));
    ctx.body = 'done';
  });
  mountRouter(app, router);
  return { readiness, start: () => listen(app, '127.0.0.1', 0) };
}

describe('HTTP shell (JSON errors)', () => {
  const s = shell(true);
  let server: RunningServer;
  before(async () => {
    server = await s.start();
    s.readiness.setReady();
  });
  after(() => server.close(100));
  const get = (p: string, init?: RequestInit) => fetch(server.url + p, init);

  test('HttpError answers its status, headers and a JSON message', async () => {
    const r = await get('/refuse');
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '2');
    assert.deepEqual(await r.json(), { error: 'slow down' });
  });

  test("koa's exposed errors keep their status and message; any other error is a 500 that hides its message", async () => {
    const k = await get('/koa-throw');
    assert.equal(k.status, 422);
    assert.deepEqual(await k.json(), { error: 'unprocessable thing' });
    const b = await get('/bug');
    assert.equal(b.status, 500);
    assert.deepEqual(await b.json(), { error: 'internal error' });
  });

  test('404 for unknown paths, 405 for a known path with the wrong method', async () => {
    assert.equal((await get('/nope')).status, 404);
    assert.equal((await get('/items/1', { method: 'DELETE' })).status, 405);
  });

  test('a method the router has no verb for (TRACE, PROPFIND) is 405 with Allow on a known path, 404 elsewhere: never a 5xx', async () => {
    // fetch refuses TRACE, so node:http sends these.
    const send = (method: string, path: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(server.url + path, { method }, (res) => resolve(res.resume()));
        req.on('error', reject).end();
      });
    for (const method of ['TRACE', 'PROPFIND']) {
      for (const path of ['/items/1', '/healthz']) {
        const r = await send(method, path);
        assert.equal(r.statusCode, 405, `${method} ${path}`);
        assert.equal(r.headers.allow, 'HEAD, GET', `${method} ${path}: Allow`);
      }
      const unknown = await send(method, '/nope');
      assert.equal(unknown.statusCode, 404, `${method} /nope`);
      assert.equal(unknown.headers.allow, undefined);
    }
  });

  test('the route label is the template or "unmatched": random paths with unknown methods add no series', async () => {
    const junk = `/scan-${randomUUID()}`;
    assert.equal((await get('/items/42')).status, 200);
    for (const method of ['PROPFIND', 'MKCOL']) {
      const r = await get(`${junk}/${method}`, { method });
      assert.equal(r.status, 404, `${method} ${junk}: expected 404, got ${r.status}`);
    }
    assert.equal((await get(`${junk}/404`)).status, 404);
    const metrics = await (await get('/metrics')).text();
    const routes = new Set([...metrics.matchAll(/^http_server_request_duration_seconds_count\{[^}]*route="([^"]*)"/gm)].map((m) => m[1]));
    assert.ok(
      !metrics.includes(junk),
      `a raw path became a label value:\n${metrics
        .split('\n')
        .filter((l) => l.includes(junk))
        .join('\n')}`,
    );
    assert.ok(routes.has('/items/:id'), `route template missing from ${[...routes].join(', ')}`);
    assert.ok(routes.has(UNMATCHED_ROUTE), `no "${UNMATCHED_ROUTE}" series in ${[...routes].join(', ')}`);
    assert.match(metrics, /route="unmatched",status_code="404"/);
  });

  test('/healthz, /readyz and /metrics (OpenMetrics) answer, and are not themselves measured', async () => {
    assert.deepEqual(await (await get('/healthz')).json(), { status: 'ok' });
    assert.deepEqual(await (await get('/readyz')).json(), { status: 'ready', reason: 'ready' });
    const m = await get('/metrics');
    assert.match(m.headers.get('content-type') ?? '', /application\/openmetrics-text/);
    assert.doesNotMatch(await m.text(), /route="\/(healthz|readyz|metrics)"/);
  });
});

describe('HTTP shell (text errors) and draining', () => {
  test('text/plain error bodies when jsonErrors is off', async () => {
    const s = shell(false);
    const server = await s.start();
    try {
      const r = await fetch(`${server.url}/refuse`);
      assert.equal(r.status, 429);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await r.text(), 'slow down');
    } finally {
      await server.close(100);
    }
  });

  test('readiness: not ready before setReady, a live check can make it not ready, and draining is final', () => {
    const r = new Readiness();
    assert.deepEqual(r.status(), { ready: false, reason: 'starting' });
    r.setReady();
    let problem: string | undefined = 'Temporal unreachable';
    r.setCheck(() => problem);
    assert.deepEqual(r.status(), { ready: false, reason: 'Temporal unreachable' });
    problem = undefined;
    assert.deepEqual(r.status(), { ready: true, reason: 'ready' });
    r.drain();
    r.setReady();
    assert.deepEqual(r.status(), { ready: false, reason: 'draining' });
  });

  test('the drain steps: /readyz answers 503 "draining" during the delay, the in-flight request finishes, then the port closes', async () => {
    const s = shell(true);
    const server = await s.start();
    s.readiness.setReady();
    const inFlight = fetch(`${server.url}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await new Promise((r) => setTimeout(r, 50));
    const [drain, delay, close] = httpDrainSteps(s.readiness, server, 300, 5_000);
    await drain!.run();
    const delaying = delay!.run();
    const ready = await fetch(`${server.url}/readyz`, { headers: { connection: 'close' } });
    assert.equal(ready.status, 503, 'readyz while draining');
    assert.deepEqual(await ready.json(), { status: 'not ready', reason: 'draining' });
    await delaying;
    await close!.run();
    assert.deepEqual(await inFlight, { status: 200, body: 'done' }, 'the in-flight request completes');
    await assert.rejects(fetch(`${server.url}/healthz`), 'the port is closed after close()');
  });
});
