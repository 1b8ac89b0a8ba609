// schemathesis (PyPI, installed by scripts/bootstrap.sh) fuzzes the running starter and
// translator from the documents they serve at /openapi.json, with every check it has: no 5xx,
// no crash, every answer as documented (status, content type, schema, headers), invalid input
// refused and valid input accepted, 405 for undocumented methods. Then, read back from
// Temporal, the workflows that exist are exactly those of accepted greetings: none was
// started for a refused request. Bounded by a fixed example count and seed; prints the cases.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { findOnPath } from '@greeter/scripts/devstack';
import { logTails, startTestStack } from '../support/stack';

/** Examples per operation (schemathesis --max-examples); the same seed each run unless GREETER_FUZZ_SEED says otherwise. */
const MAX_EXAMPLES = 100;
const SEED = process.env.GREETER_FUZZ_SEED ?? '20261202';

interface HarEntry {
  request: { method: string; url: string; postData?: { text?: string } };
  response: { status: number; content: { text?: string } };
}

interface FuzzRun {
  code: number | null;
  output: string;
  /** "Test cases: N generated" of schemathesis' summary. */
  cases: number;
  entries: HarEntry[];
}

function runSchemathesis(baseUrl: string, label: string): Promise<FuzzRun> {
  const bin = findOnPath('schemathesis');
  if (!bin) throw new Error('schemathesis is not on PATH: run scripts/bootstrap.sh, which installs it from PyPI into the tools cache');
  // Its own working directory: no schemathesis.toml of ours is read and no .hypothesis lands in the repository.
  const dir = mkdtempSync(path.join(os.tmpdir(), `greeter-fuzz-${label}-`));
  const har = path.join(dir, 'run.har');
  const args = [
    'run',
    `${baseUrl}/openapi.json`,
    '--checks',
    'all',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    SEED,
    '--workers',
    '1',
    '--phases',
    'examples,coverage,fuzzing',
    '--generation-database',
    'none',
    '--request-timeout',
    '30',
    '--no-color',
    '--report',
    'har',
    '--report-har-path',
    har,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const cases = Number(/Test cases:\s*\n?\s*(\d+) generated/.exec(output)?.[1] ?? NaN);
      let entries: HarEntry[] = [];
      try {
        entries = (JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: HarEntry[] } }).log.entries;
      } catch {
        /* no report: the assertions below say so with the output */
      }
      resolve({ code, output, cases, entries });
    });
  });
}

const tally = (entries: HarEntry[]) => {
  const by = new Map<string, number>();
  for (const e of entries) {
    const key = `${e.request.method} ${new URL(e.request.url).pathname} ${e.response.status}`;
    by.set(key, (by.get(key) ?? 0) + 1);
  }
  return [...by.entries()].sort().map(([k, n]) => `${k}: ${n}`);
};

let stack: Awaited<ReturnType<typeof startTestStack>>;
let client: Client;

before(async () => {
  stack = await startTestStack('fuzz', { workers: 1 });
  client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
});
after(async () => {
  await client?.connection.close();
  await stack?.stop();
});

/** Runs schemathesis against one service, prints its case count and statuses, and asserts it found nothing and no 5xx. */
async function fuzz(t: TestContext, service: string, port: number): Promise<FuzzRun> {
  const run = await runSchemathesis(`http://127.0.0.1:${port}`, service);
  t.diagnostic(`${service}: ${run.cases} fuzz cases (seed ${SEED}, at most ${MAX_EXAMPLES} examples per operation)`);
  t.diagnostic(tally(run.entries).join('; '));
  assert.equal(run.code, 0, `schemathesis found problems:\n${run.output}\n${logTails(stack.runDir)}`);
  assert.ok(run.cases > 0 && run.entries.length > 0, `no cases ran:\n${run.output}`);
  const fiveXX = run.entries.filter((e) => e.response.status >= 500);
  assert.deepEqual(
    fiveXX.map((e) => `${e.request.method} ${e.request.url} → ${e.response.status}`),
    [],
  );
  assert.deepEqual(stack.restarts(), {}, 'no process crashed (and was restarted) under the fuzzer');
  return run;
}

describe('schemathesis against the running services', () => {
  test('the starter: every check passes, and the only workflows are those of accepted greetings', async (t) => {
    const run = await fuzz(t, 'starter', stack.ports.starter);

    // The workflow ids accepted greetings were answered with; 409 names an existing one.
    const accepted = new Set<string>();
    const greetings = run.entries.filter((e) => e.request.method === 'POST' && new URL(e.request.url).pathname === '/greetings');
    for (const e of greetings) {
      if (e.response.status === 200) accepted.add((JSON.parse(e.response.content.text ?? '{}') as { workflowId: string }).workflowId);
    }
    const refused = greetings.filter((e) => e.response.status >= 400 && e.response.status < 500).length;
    t.diagnostic(
      `POST /greetings: ${greetings.length} requests, ${accepted.size} distinct accepted workflow ids, ${refused} refused (4xx)`,
    );
    assert.ok(accepted.size > 0 && refused > 0, 'the fuzzer both got greetings through and had requests refused');

    // Visibility is eventually consistent: wait until the list settles on the accepted set.
    const listed = async () => {
      const ids = new Set<string>();
      for await (const w of client.workflow.list({ query: 'WorkflowType = "GreetSomeone"' })) ids.add(w.workflowId);
      return ids;
    };
    let inTemporal = new Set<string>();
    for (let i = 0; i < 40; i++) {
      inTemporal = await listed();
      if (inTemporal.size === accepted.size && [...accepted].every((id) => inTemporal.has(id))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const extra = [...inTemporal].filter((id) => !accepted.has(id));
    const missing = [...accepted].filter((id) => !inTemporal.has(id));
    assert.deepEqual({ extra, missing }, { extra: [], missing: [] }, 'workflows in Temporal = workflows of accepted greetings');
    for (const id of accepted) {
      const d = await client.workflow.getHandle(id).describe();
      assert.equal(d.status.name, 'COMPLETED', `workflow ${id}`);
    }
  });

  test('the translator: every check passes', async (t) => {
    await fuzz(t, 'translator', stack.ports.translator);
  });
});
