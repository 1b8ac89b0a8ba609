// Unit tests of the soak's arithmetic and parsing: the exposition parser that reads /metrics,
// the growth figures and verdict, and the line chart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineChartSvg } from '@greeter/loadtest/report';
import { GROWTH_LIMIT_PER_HOUR, cpuCores, growth, heapAfterMajorGc, series, slope } from '@greeter/loadtest/resources';
import { parseExposition, sampleValue } from '@greeter/loadtest/scrape';

describe('/metrics parsing', () => {
  const text = [
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    'process_resident_memory_bytes{service="worker"} 220352512',
    'nodejs_eventloop_lag_p99_seconds{service="worker"} 0.0169',
    'temporal_worker_task_slots_used{namespace="default",worker_type="ActivityWorker",task_queue="q"} 3',
    'temporal_worker_task_slots_used{namespace="default",worker_type="WorkflowWorker",task_queue="q"} 1',
    'temporal_worker_task_slots_used{namespace="default",worker_type="ActivityWorker",task_queue="r"} 2',
    'http_server_request_duration_seconds_bucket{route="/a \\"b\\"",le="0.1"} 7 # {trace_id="abc"} 0.05 1700000000',
    'up 1',
    '# EOF',
  ].join('\n');
  const samples = parseExposition(text);

  it('reads names, labels (unescaped) and values, and skips comments and exemplars', () => {
    assert.equal(samples.length, 7);
    assert.deepEqual(samples[0], { name: 'process_resident_memory_bytes', labels: { service: 'worker' }, value: 220352512 });
    assert.deepEqual(samples[5], { name: 'http_server_request_duration_seconds_bucket', labels: { route: '/a "b"', le: '0.1' }, value: 7 });
    assert.deepEqual(samples[6], { name: 'up', labels: {}, value: 1 });
  });

  it('sums the samples matching a label subset; undefined when none matches', () => {
    assert.equal(sampleValue(samples, 'temporal_worker_task_slots_used', { worker_type: 'ActivityWorker' }), 5);
    assert.equal(sampleValue(samples, 'nodejs_eventloop_lag_p99_seconds'), 0.0169);
    assert.equal(sampleValue(samples, 'nodejs_heap_size_used_bytes'), undefined);
  });
});

describe('growth figures', () => {
  it('slope is the least-squares fit', () => {
    assert.equal(slope([]), 0);
    assert.equal(slope([[0, 5]]), 0);
    assert.ok(
      Math.abs(
        slope([
          [0, 1],
          [1, 3],
          [2, 5],
        ]) - 2,
      ) < 1e-12,
    );
    // A symmetric sawtooth around a flat line (a GC'd heap): no slope.
    assert.ok(
      Math.abs(
        slope([
          [0, 10],
          [1, 12],
          [2, 10],
          [3, 12],
          [4, 10],
          [5, 12],
          [6, 10],
          [7, 12],
          [8, 10],
        ]),
      ) < 1e-12,
    );
  });

  const minutes = (n: number, f: (t: number) => number) => Array.from({ length: n * 12 + 1 }, (_, i) => [i * 5, f(i * 5)] as const);

  it('a series that warms up and then stays flat is bounded, with its quartiles and change', () => {
    // 100 MiB rising to 200 MiB in the first 2 minutes, then flat, over 10 minutes.
    const pts = minutes(10, (t) => (t < 120 ? 100 + (100 * t) / 120 : 200));
    const g = growth('worker-0', 'rss', pts, 600);
    assert.equal(g.verdict, 'bounded');
    assert.equal(g.lastQuartileMean, 200);
    assert.ok(g.firstQuartileMean > 100 && g.firstQuartileMean < 200, `first quartile mean ${g.firstQuartileMean}`);
    assert.ok(Math.abs(g.secondHalfSlopePerMin) < 1e-9);
    assert.ok(g.change > 0);
  });

  it('a series still climbing in the second half faster than the limit is growing', () => {
    // +1 % of 200 per minute is 60 % per hour, above the limit.
    const pts = minutes(10, (t) => 200 + (2 * t) / 60);
    const g = growth('starter', 'heap', pts, 600);
    assert.ok(Math.abs(g.secondHalfSlopePerMin - 2) < 1e-9, `slope ${g.secondHalfSlopePerMin}`);
    assert.ok(g.secondHalfPerHour > GROWTH_LIMIT_PER_HOUR);
    assert.equal(g.verdict, 'growing');
  });

  it('too few points in the second half: inconclusive, whatever the slope', () => {
    const g = growth(
      'translator',
      'heap',
      [
        [10, 20],
        [100, 21],
        [400, 40],
      ],
      600,
    );
    assert.equal(g.verdict, 'inconclusive');
  });

  it('the retained heap is read in the samples right after a major collection', () => {
    const mib = 2 ** 20;
    const s = [
      { t: 0, target: 'w', heapUsedBytes: 50 * mib, majorGcs: 0 },
      { t: 5, target: 'w', heapUsedBytes: 70 * mib, majorGcs: 0 },
      { t: 10, target: 'w', heapUsedBytes: 40 * mib, majorGcs: 1 },
      { t: 10, target: 'x', heapUsedBytes: 1, majorGcs: 9 },
      { t: 15, target: 'w', heapUsedBytes: 60 * mib, majorGcs: 1 },
      { t: 20, target: 'w', heapUsedBytes: 42 * mib, majorGcs: 3 },
    ];
    assert.deepEqual(heapAfterMajorGc(s, 'w'), [
      [10, 40 * mib],
      [20, 42 * mib],
    ]);
  });

  it('CPU seconds become cores between samples', () => {
    assert.deepEqual(
      cpuCores([
        [0, 10],
        [5, 11],
        [10, 13.5],
      ]),
      [
        [5, 0.2],
        [10, 0.5],
      ],
    );
  });

  it('series() picks one target and leaves out missing values', () => {
    const s = [
      { t: 0, target: 'a', rssBytes: 1 },
      { t: 0, target: 'b', rssBytes: 2 },
      { t: 5, target: 'a' },
      { t: 10, target: 'a', rssBytes: 3 },
    ];
    assert.deepEqual(
      series(s, 'a', (x) => x.rssBytes),
      [
        [0, 1],
        [10, 3],
      ],
    );
  });
});

describe('line chart', () => {
  it('draws one polyline per series and a legend entry per series, with the text escaped', () => {
    const svg = lineChartSvg('a < b', 'minutes', [
      {
        yLabel: 'RSS, MiB',
        series: [
          {
            label: 'worker-0',
            color: '#1f77b4',
            points: [
              [0, 100],
              [1, 120],
              [2, 121],
            ],
          },
          {
            label: 'worker-0 non-heap',
            color: '#1f77b4',
            dashed: true,
            points: [
              [0, 50],
              [2, 60],
            ],
          },
        ],
      },
      {
        yLabel: 'lag, ms',
        series: [
          {
            label: 'starter & co',
            color: '#ff7f0e',
            points: [
              [0, 12],
              [2, 15],
            ],
          },
        ],
      },
    ]);
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 3);
    assert.match(svg, /a &lt; b/);
    assert.match(svg, /starter &amp; co/);
    assert.equal((svg.match(/stroke-dasharray="6 4"/g) ?? []).length, 2, 'the dashed series and its legend line');
    assert.doesNotMatch(svg, /NaN|undefined/);
  });
});
