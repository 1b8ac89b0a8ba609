// The k6 scenarios, run by the real k6 binary: they type-check against @types/k6, each one
// runs against the real local stack sending a traceparent on every request, enforcing its
// thresholds and writing its JSON summary; their load plan equals the Node driver's (one
// definition, loadtest/k6/scenarios.ts); the TestRuns point at them and the ConfigMap
// (rendered by the real kustomize in kubectl) carries every file they import.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseDuration } from '@greeter/loadtest/k6/scenarios';
import { k6Binary } from '@greeter/loadtest/k6run';
import { ROOT, findTool, startStack, type Stack } from '@greeter/scripts/devstack';

const execFileAsync = promisify(execFile);
const K6_DIR = path.join(ROOT, 'loadtest', 'k6');
const SCENARIOS = ['smoke', 'steady', 'ramp'] as const;
const LOAD_CLI = path.join(ROOT, 'loadtest', 'dist', 'src', 'load.js');

interface TestRun {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    parallelism: number;
    arguments: string;
    script: { configMap: { name: string; file: string } };
    runner: { image: string; env: Array<{ name: string; value: string }> };
  };
}

interface Summary {
  metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
}

/** The k6 options of a scenario as k6 itself resolves them (`k6 inspect`), with -e values. */
function k6Options(scenario: string, env: Record<string, string>): { scenarios: Record<string, Record<string, unknown>> } {
  const args = ['inspect', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), path.join(K6_DIR, `${scenario}.ts`)];
  const out = execFileSync(k6Binary(), args, { encoding: 'utf8', env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } });
  return JSON.parse(out) as { scenarios: Record<string, Record<string, unknown>> };
}

/** The Node driver's plan for the same settings (`npm run load -- --dry-run`). */
function nodePlan(args: string[]): Record<string, unknown> {
  return JSON.parse(execFileSync(process.execPath, [LOAD_CLI, ...args, '--dry-run'], { encoding: 'utf8' })) as Record<string, unknown>;
}

describe('k6 scenarios', () => {
  it('type-check with @types/k6 (npx tsc -p loadtest/k6/tsconfig.json --noEmit exits 0)', () => {
    const r = spawnSync('npx', ['tsc', '-p', 'loadtest/k6/tsconfig.json', '--noEmit'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc should exit 0, got ${r.status}:\n${r.stdout}${r.stderr}`);
  });

  it('k6 and the Node driver plan the same load for every scenario (defaults and overrides)', () => {
    const stages = (v: unknown) =>
      (v as Array<{ duration: string; target: number }>).map((x) => ({ ms: parseDuration(x.duration), target: x.target }));
    const nodeStages = (v: unknown) =>
      (v as Array<{ durationMs: number; target: number }>).map((x) => ({ ms: x.durationMs, target: x.target }));
    for (const [env, args] of [
      [{}, []],
      [
        { START_RATE: '3', PEAK_RATE: '41', STAGE_DURATION: '7s', RAMP_DOWN: '4s' },
        ['--start-rate', '3', '--rate', '41', '--stage-duration', '7s', '--ramp-down', '4s'],
      ],
    ] as Array<[Record<string, string>, string[]]>) {
      const k6 = k6Options('ramp', env).scenarios.ramp as Record<string, unknown>;
      const node = nodePlan(['--scenario', 'ramp', ...args]);
      const what = `ramp with ${JSON.stringify(env)}`;
      assert.equal(k6.startRate, node.startRate, `${what}: start rate, k6 vs Node`);
      assert.deepEqual(stages(k6.stages), nodeStages(node.stages), `${what}: stages, k6 vs Node`);
      assert.equal(k6.maxVUs, node.maxInFlight, `${what}: k6 maxVUs vs Node max in flight`);
    }
    for (const [env, args] of [
      [{}, []],
      [{ RATE: '7', DURATION: '13s' }, ['--rate', '7', '--duration', '13s']],
    ] as Array<[Record<string, string>, string[]]>) {
      const k6 = k6Options('steady', env).scenarios.steady as Record<string, unknown>;
      const node = nodePlan(['--scenario', 'steady', ...args]);
      const what = `steady with ${JSON.stringify(env)}`;
      assert.deepEqual(
        { rate: k6.rate, ms: parseDuration(String(k6.duration)), cap: k6.maxVUs },
        { rate: node.startRate, ms: (node.stages as Array<{ durationMs: number }>)[0]?.durationMs, cap: node.maxInFlight },
        `${what}: k6 vs Node`,
      );
    }
    const smoke = k6Options('smoke', {}).scenarios.smoke as Record<string, unknown>;
    assert.equal(smoke.iterations, nodePlan(['--scenario', 'smoke']).iterations, 'smoke iterations, k6 vs Node');
  });

  it('TestRuns read their scenario from the greeter-k6-scripts ConfigMap and target the in-cluster starter', () => {
    for (const s of SCENARIOS) {
      const tr = parse(readFileSync(path.join(ROOT, 'loadtest', 'k8s', `testrun-${s}.yaml`), 'utf8')) as TestRun;
      assert.equal(tr.apiVersion, 'k6.io/v1alpha1');
      assert.equal(tr.kind, 'TestRun');
      assert.equal(tr.metadata.namespace, 'greeter');
      assert.deepEqual(tr.spec.script.configMap, { name: 'greeter-k6-scripts', file: `${s}.ts` });
      const env = Object.fromEntries(tr.spec.runner.env.map((e) => [e.name, e.value]));
      assert.equal(env.BASE_URL, 'http://greeter-starter.greeter.svc:8080');
      assert.match(env.K6_PROMETHEUS_RW_SERVER_URL ?? '', /^http:\/\/.+\/api\/v1\/write$/);
      assert.match(tr.spec.arguments, /experimental-prometheus-rw/);
    }
  });

  it('the kustomization ships every k6 file (scenarios and what they import) in the ConfigMap', () => {
    const k = parse(readFileSync(path.join(ROOT, 'loadtest', 'kustomization.yaml'), 'utf8')) as {
      namespace: string;
      configMapGenerator: Array<{ name: string; files: string[] }>;
    };
    const cm = k.configMapGenerator.find((g) => g.name === 'greeter-k6-scripts');
    assert.ok(cm, 'configMapGenerator greeter-k6-scripts missing');
    const shipped = cm.files.map((f) => path.basename(f)).sort();
    const onDisk = readdirSync(K6_DIR)
      .filter((f) => f.endsWith('.ts'))
      .sort();
    assert.deepEqual(shipped, onDisk, 'ConfigMap files must equal loadtest/k6/*.ts');
    assert.equal(k.namespace, 'greeter');
    // kubectl from PATH or the tools cache (scripts/cluster/tools.sh); a missing one fails, never skips.
    const kubectl = findTool('kubectl');
    assert.ok(kubectl, 'kubectl is not on PATH nor in the tools cache: install it or run `npm run cluster -- up` once');
    // Render it the way `kubectl apply -k loadtest` would.
    const out = execFileSync(kubectl, ['kustomize', path.join(ROOT, 'loadtest')], { encoding: 'utf8' });
    const rendered = parse(out) as { kind: string; metadata: { name: string }; data: Record<string, string> };
    assert.equal(rendered.kind, 'ConfigMap');
    assert.equal(rendered.metadata.name, 'greeter-k6-scripts', 'no hash suffix: the TestRuns name the ConfigMap');
    assert.deepEqual(Object.keys(rendered.data).sort(), onDisk);
    for (const f of onDisk) assert.equal(rendered.data[f], readFileSync(path.join(K6_DIR, f), 'utf8'), `${f} ships unchanged`);
  });

  describe('against the real local stack', () => {
    let stack: Stack;
    let runDir: string;
    before(async () => {
      runDir = mkdtempSync(path.join(os.tmpdir(), 'greeter-k6-'));
      // Tracing on (no backend needed): the starter then answers the trace id it continued.
      stack = await startStack({ runDir, workers: 1, jaeger: false, prometheus: false });
    });
    after(async () => {
      await stack?.stop();
    });

    const tiny: Record<string, Record<string, string>> = {
      smoke: { ITERATIONS: '3' },
      steady: { RATE: '3', DURATION: '2s' },
      ramp: { START_RATE: '1', PEAK_RATE: '4', STAGE_DURATION: '1s', RAMP_DOWN: '1s' },
      phases: { PHASES: '2:2s' },
    };
    for (const scenario of [...SCENARIOS, 'phases']) {
      it(
        `${scenario}: every request carries a traceparent the starter continues, thresholds pass, the JSON summary is written`,
        { timeout: 120_000 },
        async () => {
          const summaryPath = path.join(runDir, `${scenario}-summary.json`);
          const env = { ...tiny[scenario], BASE_URL: `http://127.0.0.1:${stack.ports.starter}`, SUMMARY_PATH: summaryPath };
          const args = [
            'run',
            '--no-color',
            '--http-debug=full',
            ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
            path.join(K6_DIR, `${scenario}.ts`),
          ];
          let stdout = '';
          let stderr = '';
          let code = 0;
          try {
            ({ stdout, stderr } = await execFileAsync(k6Binary(), args, {
              cwd: runDir,
              env: { ...process.env, K6_NO_USAGE_REPORT: 'true' },
              timeout: 90_000,
              maxBuffer: 64 << 20,
            }));
          } catch (err) {
            const e = err as { code?: number; stdout?: string; stderr?: string };
            code = e.code ?? -1;
            stdout = e.stdout ?? '';
            stderr = e.stderr ?? '';
          }
          const tail = `\nstdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`;
          assert.equal(code, 0, `k6 ${scenario} should exit 0 (thresholds passed), got ${code}${tail}`);
          assert.match(stdout, /thresholds: all passed/, `handleSummary's text on stdout${tail}`);

          // What went over the wire (k6 --http-debug dumps every request and response).
          const dump = stdout + stderr;
          const sent = [...dump.matchAll(/POST \/greetings HTTP\/1\.1[\s\S]*?Traceparent: (00-([0-9a-f]{32})-[0-9a-f]{16}-01)/g)].map(
            (m) => m[2],
          );
          const posts = [...dump.matchAll(/POST \/greetings HTTP\/1\.1/g)].length;
          const answered = [...dump.matchAll(/\\?"traceId\\?":\\?"([0-9a-f]{32})/g)].map((m) => m[1]);
          assert.ok(posts > 0, `expected POST /greetings requests in the debug dump${tail}`);
          assert.equal(sent.length, posts, `every POST /greetings carries a W3C traceparent: ${sent.length} of ${posts}`);
          assert.equal(answered.length, posts, `every answer carries a trace id: ${answered.length} of ${posts}`);
          assert.deepEqual(
            [...answered].sort(),
            [...sent].sort(),
            'the starter continued each caller trace (answered trace ids = sent ones)',
          );

          assert.ok(existsSync(summaryPath), `handleSummary wrote ${summaryPath}`);
          const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as Summary;
          assert.equal(summary.metrics.http_reqs?.values.count, posts, 'the JSON summary counts every request');
          assert.equal(summary.metrics.checks?.values.rate, 1, 'every body check passed');
          const thresholds = Object.entries(summary.metrics).flatMap(([m, v]) =>
            Object.entries(v.thresholds ?? {}).map(([t, r]) => ({ m, t, ok: r.ok })),
          );
          for (const m of ['http_req_failed', 'checks', 'http_req_duration{name:POST /greetings}'])
            assert.ok(
              thresholds.some((t) => t.m === m),
              `${scenario} has a threshold on ${m}; got ${JSON.stringify(thresholds)}`,
            );
          assert.ok(
            thresholds.every((t) => t.ok),
            `every threshold passed: ${JSON.stringify(thresholds)}`,
          );
        },
      );
    }
  });
});
