// `npm start` itself (scripts/stack.ts, the CLI of scripts/devstack): a second start on the
// same ports names the ports and the process holding them and exits non-zero without touching
// the running stack; --fresh removes the SQLite database with its WAL and SHM files (a
// leftover WAL would replay the old run into the new database); a worker
// killed with SIGKILL is restarted and the restart counted; Ctrl-C stops the stack in order.
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Connection, WorkflowClient, WorkflowNotFoundError } from '@temporalio/client';
import { BASE_PORTS, LOCAL_DIR, Proc, ROOT, portFree } from '@greeter/scripts/devstack';
import { postGreeting } from '../support/stack';

const CLI = path.join(ROOT, 'scripts', 'dist', 'stack.js');

/** A port offset under which every port a one-worker stack needs is free right now. */
async function freeOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 20_000 + Math.floor(Math.random() * 2_500) * 10;
    const ports = [...Object.values(BASE_PORTS), BASE_PORTS.workerMetrics + 1].map((p) => p + offset);
    if (ports.every((p) => p < 65_536) && (await Promise.all(ports.map(portFree))).every(Boolean)) return offset;
  }
  throw new Error('no free port offset found');
}

function cli(name: string, args: string[]): Proc {
  const p = new Proc({ name, cmd: process.execPath, args: [CLI, ...args], env: { LOG_LEVEL: 'warn' } });
  p.start();
  return p;
}

const pidOf = (p: Proc, name: string): number => Number(new RegExp(`${name} \\(pid (\\d+)\\)`).exec(p.output())?.[1]);

describe('npm start', { timeout: 240_000 }, () => {
  let offset: number;
  let first: Proc;
  let db: string;
  let oldWorkflowId: string;
  let walLeftBytes = 0;
  before(async () => {
    offset = await freeOffset();
    db = path.join(LOCAL_DIR, `temporal-${offset}.db`);
    mkdirSync(LOCAL_DIR, { recursive: true });
    const args = ['--workers', '1', '--port-offset', String(offset), '--no-jaeger', '--no-prometheus'];
    // An earlier run that crashed: its greeting sits in the SQLite WAL (SIGKILL, no checkpoint).
    const earlier = cli('earlier', [...args, '--fresh']);
    await earlier.waitForOutput(/\[stack\] ready in/, 90_000);
    oldWorkflowId = `from-the-earlier-run-${Date.now()}`;
    const r = await postGreeting(`http://127.0.0.1:${BASE_PORTS.starter + offset}`, { name: 'Antes', workflowId: oldWorkflowId });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const pids = ['temporal', 'translator', 'worker-0', 'starter'].map((n) => pidOf(earlier, n));
    earlier.kill();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await earlier.waitExit();
    walLeftBytes = existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0;
    // A second name for the leftover WAL and SHM: if --fresh deletes them, these keep the only link.
    for (const suffix of ['-wal', '-shm']) if (existsSync(db + suffix)) linkSync(db + suffix, `${db}${suffix}.kept`);

    first = cli('first', [...args, '--fresh']);
    await first.waitForOutput(/\[stack\] ready in/, 90_000);
  });
  after(async () => {
    await first?.stop(30_000, 'SIGINT');
  });

  test('--fresh starts from an empty database: the WAL of a crashed earlier run is removed, not replayed', async () => {
    assert.ok(walLeftBytes > 0, `the crashed run left a WAL behind (${walLeftBytes} bytes)`);
    for (const suffix of ['-wal', '-shm']) {
      const kept = `${db}${suffix}.kept`;
      if (!existsSync(kept)) continue;
      const links = statSync(kept).nlink;
      rmSync(kept);
      assert.equal(
        links,
        1,
        `the leftover ${path.basename(db)}${suffix} was deleted by --fresh (links to the old file: expected 1, got ${links})`,
      );
    }
    const connection = await Connection.connect({ address: `127.0.0.1:${BASE_PORTS.temporal + offset}` });
    try {
      const client = new WorkflowClient({ connection });
      await assert.rejects(
        client.getHandle(oldWorkflowId).describe(),
        (err: Error) => err instanceof WorkflowNotFoundError,
        `workflow ${oldWorkflowId} of the earlier run must be gone after --fresh`,
      );
    } finally {
      await connection.close();
    }
  });

  test('a second start on the same ports says which are taken and by which process, exits 75, and leaves the first running', async () => {
    const temporalPid = pidOf(first, 'temporal');
    assert.ok(temporalPid > 0, `the first stack prints its process ids:\n${first.output()}`);
    const dbInode = statSync(db).ino;

    const second = cli('second', ['--workers', '1', '--port-offset', String(offset), '--no-jaeger', '--no-prometheus', '--fresh']);
    await second.waitExit();
    const out = second.output();
    assert.equal(second.exitCode, 75, `exit status of the second start, output:\n${out}`);
    assert.doesNotMatch(out, /\[stack\] ready in/, 'the second start never says ready');
    assert.match(out, /not starting: ports already in use/);
    const temporalPort = BASE_PORTS.temporal + offset;
    assert.match(
      out,
      new RegExp(`127\\.0\\.0\\.1:${temporalPort} \\(temporal gRPC\\) is taken by pid ${temporalPid}: \\S*temporal server start-dev`),
      out,
    );
    assert.match(out, new RegExp(`127\\.0\\.0\\.1:${BASE_PORTS.starter + offset} \\(starter\\) is taken by pid \\d+: .*starter`), out);

    assert.equal(statSync(db).ino, dbInode, "the second start's --fresh did not touch the running stack's database");
    const r = await postGreeting(`http://127.0.0.1:${BASE_PORTS.starter + offset}`, { name: 'Maria' });
    assert.equal(r.status, 200, `the first stack still serves: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.result, '¡Hola, Maria!\n¡Adiós, Maria!');
  });

  test('a worker killed with SIGKILL is restarted and counted; Ctrl-C then stops everything and exits 0', async () => {
    const workerPid = pidOf(first, 'worker-0');
    assert.ok(workerPid > 0, `the first stack prints the worker pid:\n${first.output()}`);
    process.kill(workerPid, 'SIGKILL');
    const restarted = await first.waitForOutput(/\[stack\] worker-0 restarted \(restart #1, pid (\d+)\); restarts: worker-0=1/, 30_000);
    assert.notEqual(Number(restarted[1]), workerPid, 'a new worker process');
    await first.waitForOutput(/\[stack\] worker-0 ready again after restart #1/, 60_000);
    const r = await postGreeting(`http://127.0.0.1:${BASE_PORTS.starter + offset}`, { name: 'Otra vez' });
    assert.equal(r.body.result, '¡Hola, Otra vez!\n¡Adiós, Otra vez!', 'the stack serves after the restart');

    const code = await first.stop(60_000, 'SIGINT');
    assert.equal(code, 0, `exit status after Ctrl-C, output:\n${first.output().slice(-3000)}`);
    assert.match(first.output(), /\[stack\] stopped; restarts during the run: worker-0=1/);
    for (const p of [BASE_PORTS.temporal, BASE_PORTS.starter, BASE_PORTS.translator].map((x) => x + offset))
      assert.ok(await portFree(p), `port ${p} is free after the stop`);
  });
});
