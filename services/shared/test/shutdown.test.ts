// The shared graceful shutdown, in a real child process receiving real signals: steps run in
// order, exit 0 when all pass; a failed step or a passed deadline exit 1; a shutdown the
// process starts itself (e.g. the worker stopping on its own) runs the same steps.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, test } from 'node:test';

const CHILD = path.join(__dirname, 'fixtures', 'shutdown-child.js');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The JSON log messages, in order, but for the final "exiting" line. */
  events: string[];
  exiting: string[];
}

async function runChild(env: Record<string, string>, signal?: NodeJS.Signals): Promise<Ended> {
  const child = spawn(process.execPath, [CHILD], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolve) =>
    child.stdout.on('data', (b: Buffer) => {
      out += String(b);
      if (out.includes('ready\n')) resolve();
    }),
  );
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await Promise.race([ready, exited]);
  if (signal) child.kill(signal);
  const [code, sig] = await exited;
  // The final "exiting" line is written while pino may still have an earlier line in flight
  // (async writes, then process.exit flushes synchronously), so it is reported apart.
  const lines = out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      if (!l.startsWith('{')) return l;
      const j = JSON.parse(l) as { msg: string; step?: string; code?: number; reason?: string };
      return [j.msg, j.step ?? j.reason ?? (j.code !== undefined ? `code ${j.code}` : '')].filter(Boolean).join(' ');
    });
  const exiting = lines.filter((l) => l.startsWith('exiting'));
  return { code, signal: sig, events: lines.filter((l) => !l.startsWith('exiting')), exiting };
}

describe('installShutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal}: every step in order, then exit 0`, async () => {
      const r = await runChild({ CHILD_STEPS: 'drain:0,work:100,flush:0' }, signal);
      assert.deepEqual(r, {
        code: 0,
        signal: null,
        events: [
          'ready',
          `shutting down ${signal}`,
          'step started drain',
          'shutdown step done drain',
          'step started work',
          'shutdown step done work',
          'step started flush',
          'shutdown step done flush',
        ],
        exiting: ['exiting code 0'],
      });
    });
  }

  test('a failing step is logged, the later steps still run, and the exit code is 1', async () => {
    const r = await runChild({ CHILD_STEPS: 'a:0:fail,b:0' }, 'SIGTERM');
    assert.equal(r.code, 1, `exit code; events: ${r.events.join(' | ')}`);
    assert.deepEqual(r.events.slice(2), ['step started a', 'shutdown step failed a', 'step started b', 'shutdown step done b']);
    assert.deepEqual(r.exiting, ['exiting code 1']);
  });

  test('past the deadline the process exits 1 with the work unfinished', async () => {
    const r = await runChild({ CHILD_STEPS: 'stuck:60000', CHILD_TIMEOUT_MS: '300' }, 'SIGTERM');
    assert.equal(r.code, 1, `exit code; events: ${r.events.join(' | ')}`);
    assert.ok(r.events.includes('shutdown deadline passed; exiting with work unfinished'), r.events.join(' | '));
  });

  test('shutdown(reason, 1) from the process itself runs the steps and exits 1 even when they pass', async () => {
    const r = await runChild({ CHILD_STEPS: 'connection:0,telemetry:0', CHILD_SELF_STOP: '1' });
    assert.equal(r.code, 1, `exit code; events: ${r.events.join(' | ')}`);
    assert.deepEqual(r.events.slice(1), [
      'shutting down stopped on its own',
      'step started connection',
      'shutdown step done connection',
      'step started telemetry',
      'shutdown step done telemetry',
    ]);
    assert.deepEqual(r.exiting, ['exiting code 1']);
  });

  test('a second signal while draining does not start the steps again', async () => {
    const child = spawn(process.execPath, [CHILD], {
      env: { PATH: process.env.PATH ?? '', CHILD_STEPS: 'work:300' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += String(b)));
    const exited = once(child, 'exit') as Promise<[number | null]>;
    while (!out.includes('ready\n')) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    while (!out.includes('"msg":"step started"')) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0, out);
    assert.equal(out.split('"msg":"step started"').length - 1, 1, `steps ran more than once:\n${out}`);
  });
});
