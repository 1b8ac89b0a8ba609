// Re-records the workflow histories that replay.test.ts replays (`npm run histories:record`):
// a real Temporal dev server, real translator processes (one healthy, one answering 503 to
// half the requests), the real activities and the production workflow bundle. Run it after a
// deliberate, versioned change of the workflow; commit the JSON files it writes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_TYPE, type GreetSomeoneWorkflow } from '@greeter/shared/contract';
import { createActivities } from '../src/activities';
import { DEFAULT_BUNDLE_PATH } from '../src/build-workflow-bundle';
import { bundlerPlugins } from '../src/tracing';
import { HISTORIES_DIR, RECORDINGS, historyFile, type RecordedHistory, type Recording } from './histories';

const TRANSLATOR = path.resolve(__dirname, '../../../translator/dist/src/main.js');

async function startTranslator(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [TRANSLATOR], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += String(b)));
  for (let i = 0; i < 100; i++) {
    const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
    if (m) return { proc, url: m[1]! };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`translator did not start: ${out}`);
}

const attempts = (h: RecordedHistory['history']) =>
  h.events.map((e) => (e.activityTaskStartedEventAttributes as { attempt?: number } | undefined)?.attempt ?? 0);

export async function recordHistories(): Promise<void> {
  const temporal = execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporal }, ip: '127.0.0.1' },
  });
  const translators = {
    healthy: await startTranslator({}),
    flaky: await startTranslator({ TRANSLATOR_FAILURE_RATE: '0.5' }),
  };
  try {
    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const [recording, { name, translator }] of Object.entries(RECORDINGS) as [Recording, (typeof RECORDINGS)[Recording]][]) {
      const taskQueue = `record-${randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: { codePath: DEFAULT_BUNDLE_PATH },
        plugins: bundlerPlugins(),
        activities: createActivities({ baseUrl: translators[translator].url, fetch }),
      });
      const recorded = await worker.runUntil(async () => {
        // The flaky translator fails at random: run until an activity needed a second attempt.
        for (let run = 1; run <= 20; run++) {
          const workflowId = `${recording}-${randomUUID()}`;
          const handle = await env.client.workflow.start<GreetSomeoneWorkflow>(WORKFLOW_TYPE, { taskQueue, workflowId, args: [name] });
          let outcome: string;
          try {
            outcome = `result ${JSON.stringify(await handle.result())}`;
          } catch (err) {
            if (!(err instanceof WorkflowFailedError)) throw err;
            outcome = `failed: ${(err.cause?.cause as Error | undefined)?.message ?? err.message}`;
          }
          // Exported as the temporal CLI exports histories for replay (what one would do by hand).
          const history = JSON.parse(
            execFileSync(
              temporal,
              ['workflow', 'show', '--address', env.address, '--namespace', 'default', '--workflow-id', workflowId, '--output', 'json'],
              {
                encoding: 'utf8',
              },
            ),
          ) as RecordedHistory['history'];
          if (translator === 'flaky' && !attempts(history).some((a) => a > 1)) continue;
          return { recorded: { workflowId, history } satisfies RecordedHistory, outcome };
        }
        throw new Error(`${recording}: no run needed a retry in 20 runs`);
      });
      writeFileSync(historyFile(recording), `${JSON.stringify(recorded.recorded, null, 2)}\n`);
      process.stderr.write(
        `[histories] ${recording}: ${recorded.recorded.history.events.length} events, ${recorded.outcome} -> ${historyFile(recording)}\n`,
      );
    }
  } finally {
    for (const t of Object.values(translators)) {
      t.proc.kill('SIGTERM');
      await once(t.proc, 'exit');
    }
    await env.teardown();
  }
}

if (require.main === module) {
  recordHistories().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
