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
  test('cpuMs grows with the CPU this process burns; peakRssMiB is its VmHWM', () => {
    const before = cpuMs(process.pid);
    const until = Date.now() + 300;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const used = cpuMs(process.pid) - before;
    assert.ok(used >= 150, `300 ms of busy loop counted as ${used} ms of CPU (x=${x})`);
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
