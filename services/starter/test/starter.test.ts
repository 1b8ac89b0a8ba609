// The starter against real processes: a Temporal call that misses its deadline answers the
// documented 503 (for describe() of a client-supplied id too) and is counted; and a SIGTERM
// during the first Temporal check drains and exits 0 instead of killing the process.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Client, type WorkflowClientInterceptor } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Readiness, createHttpMetrics, createLogger, createRegistry, listen, type RunningServer } from '@greeter/shared';
import { createStarterApp } from '../src/app';

const MAIN = path.resolve(__dirname, '../src/main.js');

describe('a describe() past its deadline (client-supplied workflowId)', () => {
  let env: TestWorkflowEnvironment;
  let server: RunningServer;
  const RPC_TIMEOUT_MS = 2_000;

  before(async () => {
    const temporal = execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
    env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: temporal }, ip: '127.0.0.1' } });
    // A slow network in front of DescribeWorkflowExecution only: the real call then goes out
    // past its deadline and the real gRPC stack fails it with DEADLINE_EXCEEDED.
    const slowDescribe: WorkflowClientInterceptor = {
      async describe(input, next) {
        await sleep(RPC_TIMEOUT_MS + 500);
        return next(input);
      },
    };
    const client = new Client({ connection: env.connection, namespace: 'default', interceptors: { workflow: [slowDescribe] } });
    const registry = createRegistry('starter');
    const readiness = new Readiness();
    const app = createStarterApp({
      log: createLogger('starter', 'error'),
      registry,
      metrics: createHttpMetrics(registry),
      readiness,
      jsonErrors: true,
      client,
      // No worker polls this queue: the workflow starts and waits, which is all describe() needs.
      greet: { taskQueue: 'nobody-polls', resultTimeoutMs: 10_000, rpcTimeoutMs: RPC_TIMEOUT_MS },
      maxBodyBytes: 16_384,
    });
    server = await listen(app, '127.0.0.1', 0);
    readiness.setReady();
  });
  after(async () => {
    await server?.close(100);
    await env?.teardown();
  });

  test('answers 503 with the workflow id, counts outcome "unavailable", and the workflow did start', async () => {
    const workflowId = `describe-deadline-${Date.now()}`;
    const res = await fetch(`${server.url}/greetings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Maria', workflowId }),
    });
    const body = (await res.json()) as { error?: string; workflowId?: string };
    assert.equal(
      res.status,
      503,
      `expected 503 (documented for a Temporal call past its deadline), got ${res.status}: ${JSON.stringify(body)}`,
    );
    assert.match(String(body.error), /Temporal is unreachable/);
    assert.equal(body.workflowId, workflowId);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^greeter_greetings_total\{outcome="unavailable"[^}]*\} 1$/m, 'the outcome metric counts it');
    const started = await env.client.workflow.getHandle(workflowId).describe();
    assert.equal(started.status.name, 'RUNNING', 'start went through; only describe() missed its deadline');
  });
});

describe('starter process lifecycle', () => {
  let blackhole: Server;
  const sockets: Socket[] = [];
  before(async () => {
    // Accepts connections and never answers: the first Temporal check waits for its whole deadline.
    blackhole = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => blackhole.close(r));
  });

  test('SIGTERM while the first Temporal check is pending: drains and exits 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        OTEL_SDK_DISABLED: 'true',
        HOST: '127.0.0.1',
        PORT: String(port),
        TEMPORAL_ADDRESS: `127.0.0.1:${(blackhole.address() as AddressInfo).port}`,
        STARTER_RPC_TIMEOUT_MS: '120000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += String(b)));
    child.stderr.on('data', (b: Buffer) => (out += String(b)));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await healthy(
      port,
      () => child.exitCode !== null,
      () => out,
    );
    assert.doesNotMatch(out, /starter listening/, 'the first Temporal check should still be pending');
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `expected a drained exit 0, got code ${code} signal ${signal}:\n${out}`);
    assert.match(out, /"msg":"shutting down"/);
  });
});

/** A port that was free a moment ago (the kernel's pick for port 0). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Polls /healthz until it answers 200 (the listener comes up before the first Temporal check). */
async function healthy(port: number, gone: () => boolean, output: () => string): Promise<void> {
  for (let i = 0; i < 200 && !gone(); i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`the starter never answered /healthz on ${port}:\n${output()}`);
}
