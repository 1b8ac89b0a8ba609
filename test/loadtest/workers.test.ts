// The workers bench's parts: each benchmark peer (loadtest/peers, built or found in the tools
// cache) completes real greetings through the starter on a real dev server and translator; the
// /proc readings it charges to a worker; and its variant flags.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, startStack, type Stack } from '@greeter/scripts/devstack';
import { cpuMs, peakRssMiB } from '@greeter/loadtest/procstat';
import { parseVariant, peerBinaries, peerProc } from '@greeter/loadtest/workers';

describe('benchmark peers', () => {
  let stack: Stack;
  let bins: { go: string; python: string };
  const runDir = path.join(ROOT, '.greeter', 'test-peers');

  before(async () => {
    bins = peerBinaries();
    // No greeter worker: only the peer under test polls the task queue.
    stack = await startStack({ runDir, workers: 0, jaeger: false, prometheus: false, tracing: false, restart: false });
  });
  after(async () => {
    await stack?.stop();
  });

  for (const kind of ['go', 'python'] as const) {
    test(`the ${kind} peer runs GreetSomeone with both activities against the real translator`, async () => {
      const peer = peerProc(stack, runDir, kind, bins, `peer-${kind}`);
      peer.start();
      try {
        await peer.waitForOutput(/peer polling greeting-tasks/, 30_000);
        for (const name of ['María', 'Łukasz']) {
          const res = await fetch(`http://127.0.0.1:${stack.ports.starter}/greetings`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name }),
            signal: AbortSignal.timeout(30_000),
          });
          const body = (await res.json()) as { result?: string };
          assert.equal(res.status, 200, `${kind} peer: ${JSON.stringify(body)}; peer output:\n${peer.output()}`);
          // The farewell comes from farewellInSpanish: the original example's bug is fixed in the peers too.
          assert.equal(body.result, `¡Hola, ${name}!\n¡Adiós, ${name}!`);
        }
      } finally {
        await peer.stop();
      }
    });
  }
});

describe('/proc readings', () => {
  test('cpuMs counts the CPU this process burns as the kernel does (getrusage); peakRssMiB is its VmHWM', () => {
    // Burn 200 ms of CPU, however long that takes on a busy machine, and compare two kernel counts.
    const before = cpuMs(process.pid);
    const usage0 = process.cpuUsage();
    let x = 0;
    const burnt = () => {
      const u = process.cpuUsage(usage0);
      return (u.user + u.system) / 1000;
    };
    while (burnt() < 200) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
    const used = cpuMs(process.pid) - before;
    const rusage = burnt();
    // /proc counts in clock ticks (10 ms): allow a few ticks either way.
    assert.ok(Math.abs(used - rusage) <= 40, `/proc/PID/stat counted ${used} ms, getrusage ${rusage.toFixed(0)} ms (x=${x})`);
    const rss = peakRssMiB(process.pid);
    assert.ok(rss >= process.memoryUsage().rss / 2 ** 20 - 1, `VmHWM ${rss} MiB below the current RSS`);
  });
});

describe('--variant', () => {
  test('parses name:KEY=VALUE pairs, NODE_OPTIONS with spaces included', () => {
    assert.deepEqual(parseVariant('semi:NODE_OPTIONS=--max-old-space-size=288 --max-semi-space-size=4,LOG_LEVEL=warn'), {
      name: 'semi',
      kind: 'greeter',
      env: { NODE_OPTIONS: '--max-old-space-size=288 --max-semi-space-size=4', LOG_LEVEL: 'warn' },
    });
    assert.throws(() => parseVariant('nameonly'), /expected name:KEY=VALUE/);
    assert.throws(() => parseVariant('x:NOEQUALS'), /is not KEY=VALUE/);
  });
});
