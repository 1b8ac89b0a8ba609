// Standard Temporal client configuration end to end: a temporal.toml profile chosen by
// TEMPORAL_PROFILE (and nothing else about Temporal in the environment) takes the real
// worker, starter and CLI to the address and namespace it names on a real dev server;
// a profile or file that is not there stops each of them with exit 78, naming the variable.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, ROOT, serviceMain, WORKFLOW_BUNDLE } from '@greeter/scripts/devstack';

const entry = serviceMain;
const CLI = path.join(ROOT, 'services', 'starter', 'dist', 'src', 'cli.js');

const NAMESPACE = 'profile-ns';
const dir = mkdtempSync(path.join(tmpdir(), 'greeter-profile-'));
const TOML = path.join(dir, 'temporal.toml');
const TASK_QUEUE = `profile-${randomUUID()}`;

interface Proc {
  child: ChildProcess;
  output: () => string;
}

/** Starts a compiled service and waits until its log shows `ready` (or it exits). */
async function startService(
  svc: 'translator' | 'worker' | 'starter',
  env: Record<string, string>,
  ready: RegExp,
): Promise<Proc & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, [entry(svc)], {
    // Only PATH: no HOME, so nobody's ~/.config/temporalio/temporal.toml leaks in.
    env: { PATH: process.env.PATH ?? '', OTEL_SDK_DISABLED: 'true', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += String(b)));
  child.stderr.on('data', (b: Buffer) => (out += String(b)));
  for (let i = 0; i < 600; i++) {
    const m = ready.exec(out);
    if (m) return { child, output: () => out, match: m };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${svc} did not become ready (${String(ready)}):\n${out}`);
}

async function stop(p: Proc): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode;
  const exited = once(p.child, 'exit');
  p.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('a temporal.toml profile selected by TEMPORAL_PROFILE', () => {
  let env: TestWorkflowEnvironment;
  const procs: Proc[] = [];
  let starterUrl = '';
  const profileEnv = { TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'greeter-test', TEMPORAL_TASK_QUEUE: TASK_QUEUE };

  before(async () => {
    const temporal = execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
    env = await TestWorkflowEnvironment.createLocal({
      // The env's own client works in this namespace too.
      server: { executable: { type: 'existing-path', path: temporal }, ip: '127.0.0.1', namespace: NAMESPACE },
    });
    // The default profile points nowhere: only the selected one can work.
    writeFileSync(
      TOML,
      [
        '[profile.default]',
        'address = "127.0.0.1:1"',
        '',
        '[profile.greeter-test]',
        `address = "${env.address}"`,
        `namespace = "${NAMESPACE}"`,
        '',
      ].join('\n'),
    );
    const translator = await startService('translator', { PORT: '0' }, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    procs.push(translator);
    procs.push(
      await startService(
        'worker',
        {
          ...profileEnv,
          PORT: '0',
          WORKER_METRICS_PORT: String(await freePort()),
          TRANSLATOR_URL: translator.match[1]!,
          WORKER_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE,
        },
        /worker polling/,
      ),
    );
    const starter = await startService(
      'starter',
      { ...profileEnv, PORT: String(await freePort()) },
      /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*starter listening/,
    );
    procs.push(starter);
    starterUrl = starter.match[1]!;
  });

  after(async () => {
    for (const p of procs.reverse()) await stop(p);
    await env?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the worker and the starter log the profile they use', () => {
    for (const p of procs.slice(1))
      assert.match(p.output(), /"temporal_config":"profile \\"greeter-test\\" of [^"]*temporal\.toml"/, p.output());
  });

  test('POST /greetings runs on the address and in the namespace of the profile', async () => {
    const workflowId = `profile-${randomUUID()}`;
    const res = await fetch(`${starterUrl}/greetings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Maria', workflowId }),
    });
    const body = (await res.json()) as { result?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.result, '¡Hola, Maria!\n¡Adiós, Maria!');
    const d = await env.client.workflow.getHandle(workflowId).describe();
    assert.equal(d.status.name, 'COMPLETED', `workflow ${workflowId} in namespace ${NAMESPACE}`);
    assert.equal(d.taskQueue, TASK_QUEUE);
  });

  test('the greet CLI reads the same profile', () => {
    const r = spawnSync(process.execPath, [CLI, '--json', 'Ana'], {
      env: { PATH: process.env.PATH ?? '', OTEL_SDK_DISABLED: 'true', ...profileEnv },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `greet exited ${r.status}: ${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as { result: string }).result, '¡Hola, Ana!\n¡Adiós, Ana!');
  });

  test('an unknown profile or a missing file stops the worker, the starter and the CLI with exit 78, naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'prod' },
        /TEMPORAL_PROFILE="prod" is invalid: expected a profile defined in .*temporal\.toml/,
      ],
      [
        { TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') },
        /TEMPORAL_CONFIG_FILE=".*missing\.toml" is invalid: expected an existing temporal\.toml file/,
      ],
    ];
    for (const [bad, message] of cases) {
      for (const argv of [[entry('worker')], [entry('starter')], [CLI, 'Maria']]) {
        const r = spawnSync(process.execPath, argv, {
          env: { PATH: process.env.PATH ?? '', OTEL_SDK_DISABLED: 'true', PORT: '0', ...bad },
          encoding: 'utf8',
          timeout: 30_000,
        });
        const what = `${path.basename(argv[0]!)} with ${JSON.stringify(bad)}`;
        assert.equal(r.status, 78, `${what}: expected exit 78, got ${r.status}: ${r.stderr}`);
        assert.match(r.stderr, message, what);
      }
    }
  });
});
