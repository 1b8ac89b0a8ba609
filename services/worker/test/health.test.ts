// Readiness from Worker.getStatus(): every state the SDK reports that is not "running with
// both pollers polling" is not ready, with a reason naming it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { State, WorkerStatus } from '@temporalio/worker';
import { workerProblem } from '../src/health';

type PollerState = WorkerStatus['workflowPollerState'];

const status = (runState: State, workflowPollerState: PollerState = 'POLLING', activityPollerState: PollerState = 'POLLING') => ({
  runState,
  workflowPollerState,
  activityPollerState,
});

test('RUNNING with both pollers polling is ready', () => {
  assert.equal(workerProblem(status('RUNNING')), undefined);
});

test('every other run state is not ready, named', () => {
  for (const s of ['INITIALIZED', 'STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'] as const) {
    assert.equal(workerProblem(status(s)), `worker ${s.toLowerCase()}`);
  }
});

test('a failed or shut down poller is not ready, named', () => {
  assert.equal(workerProblem(status('RUNNING', 'FAILED')), 'workflow task poller failed');
  assert.equal(workerProblem(status('RUNNING', 'SHUTDOWN')), 'workflow task poller shutdown');
  assert.equal(workerProblem(status('RUNNING', 'POLLING', 'FAILED')), 'activity task poller failed');
});
