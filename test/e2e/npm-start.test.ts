// `npm start` itself (scripts/stack.ts, the CLI of scripts/devstack): a second start on the
// same ports names the ports and the process holding them and exits non-zero without touching
// the running stack; --fresh removes the SQLite database with its WAL and SHM files; a worker
// killed with SIGKILL is restarted and the restart counted; Ctrl-C stops the stack in order.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BASE_PORTS, LOCAL_DIR, Proc, ROOT, portFree } from '@greeter/scripts/devstack';
import { postGreeting } from '../support/stack';

const CLI = path.join(ROOT, 'scripts', 'dist', 'stack.js');
const STALE = 'stale bytes from an earlier run';

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

describe('npm start', { timeout: 180_000 }, () => {
  let offset: number;
  let first: Proc;
  let db: string;
  before(async () => {
    offset = await freeOffset();
    db = path.join(LOCAL_DIR, `temporal-${offset}.db`);
    mkdirSync(LOCAL_DIR, { recursive: true });
    for (const suffix of ['', '-wal', '-shm']) writeFileSync(db + suffix, STALE);
    first = cli('first', ['--workers', '1', '--port-offset', String(offset), '--no-jaeger', '--no-prometheus', '--fresh']);
    await first.waitForOutput(/\[stack\] ready in/, 90_000);
  });
  after(async () => {
    await first?.stop(30_000, 'SIGINT');
  });

  test('--fresh removed the old database together with its WAL and SHM files', () => {
    for (const suffix of ['', '-wal', '-shm']) {
      const f = db + suffix;
      assert.ok(!existsSync(f) || !readFileSync(f).includes(STALE), `${f} still holds the stale content`);
    }
  });

  test('a second start on the same ports says which are taken and by which process, exits 75, and leaves the first running', async () => {
    const temporalPid = Number(/temporal \(pid (\d+)\)/.exec(first.output())?.[1]);
    assert.ok(temporalPid > 0, `the first stack prints its process ids:\n${first.output()}`);
    const dbInode = statSync(db).ino;

    const second = cli('second', ['--workers', '1', '--port-offset', String(offset), '--no-jaeger', '--no-prometheus', '--fresh']);
    await second.waitExit();
    const out = second.output();
    assert.equal(second.exitCode, 75, `exit status of the second start, output:\n${out}`);
    assert.doesNotMatch(out, /ready in/, 'the second start never says ready');
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
    const workerPid = Number(/worker-0 \(pid (\d+)\)/.exec(first.output())?.[1]);
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
