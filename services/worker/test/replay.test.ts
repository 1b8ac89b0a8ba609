// Workflow determinism: histories recorded from real runs (services/worker/test/histories,
// re-recorded by `npm run histories:record`) replay against the current, shipped workflow
// bundle. A change that alters the commands the workflow issues fails here, before it
// reaches workers with histories in flight; the reordered fixture proves the check bites.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { DEFAULT_BUNDLE_PATH } from '../src/build-workflow-bundle';
import { TRANSLATOR_REJECTED } from '../src/errors';
import { bundlerPlugins } from '../src/tracing';
import { RECORDINGS, historyFile, type RecordedHistory, type Recording } from './histories';

const load = (r: Recording): RecordedHistory => JSON.parse(readFileSync(historyFile(r), 'utf8')) as RecordedHistory;
const recordings = Object.keys(RECORDINGS) as Recording[];
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };
const types = (h: RecordedHistory) => h.history.events.map((e) => e.eventType.replace(/^EVENT_TYPE_/, ''));

describe('recorded histories', () => {
  test('are there and show what their names say', () => {
    for (const r of recordings) assert.ok(existsSync(historyFile(r)), `${historyFile(r)} missing: run npm run histories:record`);
    const greeting = types(load('greeting'));
    assert.equal(greeting.filter((t) => t === 'ACTIVITY_TASK_COMPLETED').length, 2, `greeting: ${greeting.join(' ')}`);
    assert.equal(greeting.at(-1), 'WORKFLOW_EXECUTION_COMPLETED');
    const retried = load('retried-5xx').history.events;
    const attempts = retried.map((e) => (e.activityTaskStartedEventAttributes as { attempt?: number } | undefined)?.attempt ?? 0);
    assert.ok(Math.max(...attempts) > 1, `retried-5xx: no activity attempt above 1 (${attempts.join(',')})`);
    assert.equal(types(load('retried-5xx')).at(-1), 'WORKFLOW_EXECUTION_COMPLETED');
    const rejected = load('rejected-name');
    assert.equal(types(rejected).at(-1), 'WORKFLOW_EXECUTION_FAILED');
    assert.match(JSON.stringify(rejected.history.events.at(-1)), new RegExp(TRANSLATOR_REJECTED));
  });
});

describe('replay', () => {
  test('every recorded history replays against the shipped workflow bundle', async () => {
    assert.ok(existsSync(DEFAULT_BUNDLE_PATH), `${DEFAULT_BUNDLE_PATH} missing: npm run build writes it`);
    for (const r of recordings) {
      const { history, workflowId } = load(r);
      await assert.doesNotReject(
        Worker.runReplayHistory({ workflowBundle: { codePath: DEFAULT_BUNDLE_PATH }, plugins: bundlerPlugins() }, history, workflowId),
        `${r} does not replay`,
      );
    }
  });

  let reordered: WorkflowBundleWithSourceMap;
  before(async () => {
    reordered = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/workflows-reordered'), logger: quiet });
  });

  test('a workflow that asks for the farewell first fails replay with DeterminismViolationError', async () => {
    for (const r of ['greeting', 'retried-5xx', 'rejected-name'] as const) {
      const { history, workflowId } = load(r);
      await assert.rejects(Worker.runReplayHistory({ workflowBundle: reordered }, history, workflowId), (err: unknown) => {
        assert.ok(err instanceof DeterminismViolationError, `${r}: expected DeterminismViolationError, got ${String(err)}`);
        return true;
      });
    }
  });
});
