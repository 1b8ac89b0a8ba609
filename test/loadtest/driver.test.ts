// Unit tests of the load driver: arrival scheduling, percentile math, body checks,
// the HPA formula and the report, plus the open model against a tiny local server.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { checkBody, runLoad, traceparent } from '@greeter/loadtest/driver';
import { hpaDesiredForBacklog, hpaDesiredReplicas } from '@greeter/loadtest/prom';
import { efficiency, markdownTable, svgChart } from '@greeter/loadtest/report';
import { arrivalOffsets, parseDuration, rampStages, steadyStages } from '@greeter/loadtest/schedule';
import { percentile, summarize } from '@greeter/loadtest/stats';

/** Free port inside this area's range (44318-56686) for the stand-in starter. */
const PORT = 44_400;

describe('arrival schedule', () => {
  it('steady: rate × duration arrivals, evenly spaced, the first at 0', () => {
    const t = [...arrivalOffsets(50, steadyStages(50, 2_000))];
    assert.equal(t.length, 100, `expected 100 arrivals for 50/s over 2 s, got ${t.length}`);
    assert.equal(t[0], 0);
    for (let i = 1; i < t.length; i++)
      assert.ok(
        Math.abs((t[i] as number) - (t[i - 1] as number) - 20) < 1e-6,
        `gap ${i} is ${(t[i] as number) - (t[i - 1] as number)} ms, expected 20`,
      );
    assert.ok((t.at(-1) as number) < 2_000);
  });

  it('ramp: arrivals follow the integral of a linearly rising rate', () => {
    // 0 → 10/s over 10 s: 50 arrivals in total, 12.5 in the first half... so 13 (k = 0..12) start before 5 s.
    const t = [...arrivalOffsets(0, [{ durationMs: 10_000, target: 10 }])];
    assert.equal(t.length, 50, `expected 50 arrivals, got ${t.length}`);
    assert.equal(t.filter((x) => x < 5_000).length, 13);
    for (let i = 1; i < t.length; i++) assert.ok((t[i] as number) > (t[i - 1] as number), 'arrivals must be increasing');
    // The rate rises, so gaps shrink.
    assert.ok((t[2] as number) - (t[1] as number) > (t[49] as number) - (t[48] as number));
  });

  it('ramp stages: four steps to the peak, a hold, then down to 0 (loadtest/k6/scenarios.ts)', () => {
    const s = rampStages(10, 50, 10_000, 10_000);
    assert.deepEqual(
      s.map((x) => x.target),
      [20, 30, 40, 50, 50, 0],
    );
    assert.ok(s.every((x) => x.durationMs === 10_000));
    const n = [...arrivalOffsets(10, s)].length;
    // Integral: 10 s each of (10+20)/2, (20+30)/2, (30+40)/2, (40+50)/2, 50, (50+0)/2 = 150+250+350+450+500+250.
    assert.equal(n, 1_950);
  });

  it('parses k6-style durations and rejects others', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.throws(() => parseDuration('30'), /not a duration/);
    assert.throws(() => parseDuration('5x'), /not a duration/);
  });
});

describe('percentiles', () => {
  it('interpolates between the closest ranks', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(v, 50), 50.5);
    assert.ok(Math.abs((percentile(v, 99) as number) - 99.01) < 1e-9, `p99 of 1..100 is ${percentile(v, 99)}, expected 99.01`);
    assert.equal(percentile(v, 100), 100);
    assert.equal(percentile([7], 95), 7);
    assert.equal(percentile([], 50), undefined);
  });

  it('summarize sorts its input and reports max and mean', () => {
    const s = summarize([30, 10, 20]);
    assert.deepEqual([s.count, s.p50, s.max, s.mean], [3, 20, 30, 20]);
  });
});

describe('checks, trace ids and the HPA formula', () => {
  it('traceparent is a sampled W3C header with random non-zero ids', () => {
    const a = traceparent();
    assert.match(a.header, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(a.header.slice(3, 35), a.traceId);
    assert.notEqual(traceparent().traceId, a.traceId);
  });

  it('checkBody accepts the API answer and names what is wrong otherwise', () => {
    const good = JSON.stringify({ result: '¡Hola, Zoë!\n¡Adiós, Zoë!', workflowId: 'greet-1', traceId: 'abc' });
    assert.equal(checkBody('Zoë', good, 'abc'), undefined);
    assert.equal(checkBody('Zoë', good, 'def'), 'bad body: trace not continued');
    assert.equal(checkBody('Ana', good, 'abc'), 'bad body: wrong result');
    assert.equal(checkBody('Ana', 'oops', 'abc'), 'bad body: not JSON');
  });

  it('desired replicas = ceil(current × utilization / 0.7)', () => {
    assert.equal(hpaDesiredReplicas(1, 1.0), 2);
    assert.equal(hpaDesiredReplicas(2, 1.0), 3);
    assert.equal(hpaDesiredReplicas(4, 0.35), 2);
    assert.equal(hpaDesiredReplicas(4, 0.7), 4);
    assert.equal(hpaDesiredReplicas(3, 0), 1);
  });

  it('desired replicas for a backlog = ceil(backlog / 10 per worker)', () => {
    assert.equal(hpaDesiredForBacklog(0), 1);
    assert.equal(hpaDesiredForBacklog(10), 1);
    assert.equal(hpaDesiredForBacklog(11), 2);
    assert.equal(hpaDesiredForBacklog(45), 5);
  });

  it('efficiency and the report use T(n)/(n·T(1))', () => {
    const steps = [
      { workers: 1, offeredRate: 15, throughput: 5, errors: 0, dropped: 0 },
      { workers: 2, offeredRate: 30, throughput: 9, errors: 0, dropped: 0 },
      { workers: 4, offeredRate: 60, throughput: 16, errors: 0, dropped: 0 },
    ];
    assert.deepEqual(
      efficiency(steps).map((e) => e.toFixed(2)),
      ['1.00', '0.90', '0.80'],
    );
    assert.match(markdownTable(steps), /\| 4 \| 60\.0 \| 16\.0 \|/);
    const svg = svgChart(steps, 'a < b');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.match(svg, /a &lt; b/);
    assert.equal((svg.match(/<circle /g) ?? []).length, 3);
  });
});

describe('open model against a stand-in starter', () => {
  it('keeps the schedule when responses are slow: arrivals over the in-flight cap are dropped and counted', async () => {
    let seen = 0;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen++;
        const { name } = JSON.parse(body) as { name: string };
        const trace = String(req.headers.traceparent ?? '').slice(3, 35);
        // Every third request fails, the rest answer like the starter, slowly.
        setTimeout(() => {
          if (seen % 3 === 0) {
            res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ result: `¡Hola, ${name}!\n¡Adiós, ${name}!`, workflowId: `w-${seen}`, traceId: trace }));
        }, 300);
      });
    });
    await new Promise<void>((resolve) => server.listen(PORT, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const s = await runLoad({ url, startRate: 40, stages: steadyStages(40, 1_000), maxInFlight: 4, requestTimeoutMs: 5_000 });
      assert.equal(s.sent + s.dropped, 40, `every scheduled arrival is either sent or dropped: sent ${s.sent} + dropped ${s.dropped}`);
      assert.ok(s.dropped > 0, `with 300 ms answers and 4 in flight, 40/s must drop arrivals; dropped ${s.dropped}`);
      assert.equal(s.ok + s.failed, s.sent, 'every sent request has an outcome');
      assert.ok((s.errors['503'] ?? 0) > 0, `503 answers are counted by status: ${JSON.stringify(s.errors)}`);
      assert.deepEqual(
        Object.keys(s.errors),
        ['503'],
        `only 503 errors expected (bodies and traces are right): ${JSON.stringify(s.errors)}`,
      );
      assert.equal(s.latencyMs.count, s.sent);
    } finally {
      server.close();
    }
  });
});
