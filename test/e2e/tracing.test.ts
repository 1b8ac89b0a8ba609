// One trace per greeting, read back from a real Jaeger: every parent→child edge from
// the caller's traceparent through starter, Temporal, worker and translator; and a
// failed translator call shows as an errored attempt followed by a retry in the same trace.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHAIN, describeTrace, fetchTrace as fetchTraceFrom, newTraceparent, tag, type JaegerSpan } from '../support/jaeger';
import { logTails, postGreeting, startTestStack } from '../support/stack';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: string;

before(async () => {
  // A third of translator calls fail, so some greetings need retries (all still succeed).
  stack = await startTestStack('tracing', { workers: 1, jaeger: true, translatorEnv: { TRANSLATOR_FAILURE_RATE: '0.3' } });
  api = `http://127.0.0.1:${stack.ports.starter}`;
});
after(async () => {
  await stack?.stop();
});

const fetchTrace = (traceId: string, minSpans: number) =>
  fetchTraceFrom(`http://127.0.0.1:${stack.ports.jaegerQuery}`, traceId, minSpans, () => logTails(stack.runDir));

describe('tracing', () => {
  test('one POST /greetings is one trace from the caller to the translator', async () => {
    // Find a greeting whose activities succeeded first time (the failure knob is on).
    for (let attempt = 0; attempt < 15; attempt++) {
      const tp = newTraceparent();
      const r = await postGreeting(api, { name: 'Maria' }, { headers: { traceparent: tp.header } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.traceId, tp.traceId, 'the incoming traceparent is honoured and its trace id returned');
      const trace = await fetchTrace(tp.traceId, 14);
      const d = describeTrace(trace);
      const runs = trace.spans.filter((s) => s.operationName.startsWith('RunActivity:'));
      if (runs.length !== 2) continue; // a retry happened; the next test covers that shape

      assert.ok(
        trace.spans.every((s) => s.traceID === tp.traceId),
        "every span is in the caller's trace",
      );
      const server = trace.spans.find((s) => s.operationName === 'POST /greetings');
      assert.ok(server, `starter server span missing; edges:\n${d.edges.join('\n')}`);
      assert.equal(server.references[0]?.spanID, tp.parentId, "the starter span is a child of the caller's span");
      assert.equal(tag(server, 'span.kind'), 'server');
      const start = trace.spans.find((s) => s.operationName === 'StartWorkflow:GreetSomeone');
      assert.ok(start);
      // StartWorkflow sits under the starter's request (directly or under the koa router span).
      let up = d.parentOf(start);
      while (up && up !== server) up = d.parentOf(up);
      assert.equal(up, server, `StartWorkflow must descend from the starter's server span; edges:\n${d.edges.join('\n')}`);

      for (const expected of [
        ...CHAIN('greetInSpanish', '/get-spanish-greeting'),
        ...CHAIN('farewellInSpanish', '/get-spanish-farewell'),
      ]) {
        assert.ok(d.edges.includes(expected), `missing edge ${expected}; edges:\n${d.edges.join('\n')}`);
      }
      for (const route of ['/get-spanish-greeting', '/get-spanish-farewell']) {
        const s = trace.spans.find((x) => x.operationName === `GET ${route}`);
        assert.ok(s);
        assert.equal(tag(s, 'span.kind'), 'server');
        assert.equal(tag(s, 'http.route'), route);
        assert.equal(String(tag(s, 'http.status_code') ?? tag(s, 'http.response.status_code')), '200');
        const client = d.parentOf(s);
        assert.ok(client);
        assert.equal(tag(client, 'span.kind'), 'client');
      }
      const services = new Set(trace.spans.map((s) => trace.processes[s.processID]?.serviceName));
      assert.deepEqual([...services].sort(), ['starter', 'translator', 'worker']);

      // Logs written while a span is active carry its ids: provoke a warning (a 409) inside a traced request.
      const logged = newTraceparent();
      const workflowId = String(r.body.workflowId);
      const conflict = await postGreeting(api, { name: 'Otra', workflowId }, { headers: { traceparent: logged.header } });
      assert.equal(conflict.status, 409);
      await new Promise((res) => setTimeout(res, 300));
      const lines = readFileSync(path.join(stack.runDir, 'starter.log'), 'utf8')
        .split('\n')
        .filter((l) => l.includes(logged.traceId));
      assert.ok(lines.length > 0, `expected starter log lines with trace_id ${logged.traceId}`);
      for (const line of lines) {
        const entry = JSON.parse(line) as { trace_id?: string; span_id?: string; workflow_id?: string };
        assert.equal(entry.trace_id, logged.traceId);
        assert.match(entry.span_id ?? '', /^[0-9a-f]{16}$/);
      }
      return;
    }
    assert.fail('no greeting without retries in 15 tries (TRANSLATOR_FAILURE_RATE=0.3)');
  });

  test('a failed translator call is an errored attempt, and its retry is a second attempt in the same trace', async () => {
    for (let attempt = 0; attempt < 15; attempt++) {
      const tp = newTraceparent();
      const r = await postGreeting(api, { name: 'Reintento' }, { headers: { traceparent: tp.header } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const trace = await fetchTrace(tp.traceId, 14);
      const d = describeTrace(trace);
      const failedServer = trace.spans.find(
        (s) =>
          s.operationName.startsWith('GET /get-spanish-') &&
          String(tag(s, 'http.status_code') ?? tag(s, 'http.response.status_code')) === '503',
      );
      if (!failedServer) continue;
      const activity = failedServer.operationName.includes('greeting') ? 'greetInSpanish' : 'farewellInSpanish';
      const runs = trace.spans.filter((s) => s.operationName === `RunActivity:${activity}`).sort((a, b) => a.startTime - b.startTime);
      assert.ok(runs.length >= 2, `expected a retry of ${activity}; edges:\n${d.edges.join('\n')}`);
      const first = runs[0] as JaegerSpan;
      assert.equal(tag(first, 'error'), true, `the failed attempt is marked as an error; tags ${JSON.stringify(first.tags)}`);
      const last = runs[runs.length - 1] as JaegerSpan;
      assert.notEqual(tag(last, 'error'), true, 'the final attempt succeeded');
      // All attempts hang off the same StartActivity span.
      const parents = new Set(runs.map((s) => d.parentOf(s)?.spanID));
      assert.equal(parents.size, 1, 'retries share their StartActivity parent');
      return;
    }
    assert.fail('no translator failure in 15 greetings (TRANSLATOR_FAILURE_RATE=0.3)');
  });
});
