// The sandbox bench's parts: the replay child replays the recorded greeting against the shipped
// workflow bundle for real and refuses bad arguments; the profile categories that its report
// (and the workers bench's) group V8 samples by; and the bench refusing an unknown --only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '@greeter/scripts/devstack';
import { category, STACK_TRACES } from '@greeter/loadtest/profile';
import type { ReplayRun } from '@greeter/loadtest/sandbox-replay';

const LOADTEST = path.join(ROOT, 'loadtest', 'dist', 'src');
const BUNDLE = path.join(ROOT, 'services', 'worker', 'dist', 'workflow-bundle.js');
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

describe('sandbox replay', () => {
  test('replays the recorded greeting against the shipped bundle with the tracing plugin and reports CPU per workflow', () => {
    const r = node([path.join(LOADTEST, 'sandbox-replay.js'), BUNDLE, '12', '2', 'otel']);
    assert.equal(r.status, 0, r.stderr);
    const run = JSON.parse(r.stdout.trim()) as ReplayRun;
    assert.equal(run.workflows, 10);
    assert.equal(run.failed, 0, r.stderr);
    assert.ok(run.cpuMsPerWorkflow > 0 && run.cpuMsPerWorkflow < 10_000, JSON.stringify(run));
  });

  test('refuses a count not above the warm-up with its usage', () => {
    const r = node([path.join(LOADTEST, 'sandbox-replay.js'), BUNDLE, '5', '5']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /usage: sandbox-replay\.js BUNDLE COUNT WARMUP/);
  });
});

describe('profile categories', () => {
  const vmShared = 'file:///x/node_modules/@temporalio/worker/lib/workflow/vm-shared.js';
  test("the SDK's promise-hook stack capture is its own category", () => {
    for (const fn of ['init', 'getActivator', 'formatCallsiteName', 'Error.prepareStackTrace', ''])
      assert.equal(category(fn, vmShared), STACK_TRACES, fn);
    assert.equal(category('originalPositionFor', 'file:///x/node_modules/source-map/lib/source-map-consumer.js'), STACK_TRACES);
    assert.equal(category('RegExp: (?:\\s+at (Activity\\.)?execute \\(.*)', ''), STACK_TRACES);
    // The rest of vm-shared.js is the SDK driving the workflow, not stack traces.
    assert.equal(category('activate', vmShared), 'Temporal SDK (JS side, calls into the Rust core)');
  });
  test('calls into the sandbox, per-workflow module evaluation and workflow code are told apart', () => {
    assert.equal(category('runInContext', ''), 'calls into the workflow context (vm.runInContext)');
    assert.equal(
      category('__webpack_require__', 'file:///app/services/worker/dist/workflow-bundle.js'),
      "evaluating the bundle's modules for each workflow",
    );
    assert.equal(category('greet', 'file:///app/services/worker/dist/workflow-bundle.js'), 'workflow code + SDK in the isolate');
    assert.equal(category('(garbage collector)', ''), 'GC');
  });
});

describe('npm run bench', () => {
  test('refuses an unknown --only before starting anything', () => {
    const r = node([path.join(LOADTEST, 'bench.js'), '--only', 'bare,sandbx']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--only: unknown "sandbx" \(one or more of bare, full, tracing, rss, workers, sandbox\)/);
  });
});
