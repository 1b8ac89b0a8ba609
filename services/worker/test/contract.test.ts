// The starter/worker contract is enforced by the compiler: the worker and shared sources are
// copied to a temp dir, changed the way a careless edit would change them, and type-checked
// with the repository's own tsc and compiler options. Unchanged they compile; each change fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

const ROOT = path.resolve(__dirname, '../../../..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const scratch = mkdtempSync(path.join(tmpdir(), 'greeter-contract-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Edit = { file: string; from: string | RegExp; to: string };

/** Copies shared/src and worker/src (+ package.json), applies the edits, runs tsc --noEmit; returns status and output. */
function typecheck(name: string, edits: Edit[]): { status: number | null; output: string } {
  const dir = path.join(scratch, name);
  cpSync(path.join(ROOT, 'services', 'shared', 'src'), path.join(dir, 'shared', 'src'), { recursive: true });
  cpSync(path.join(ROOT, 'services', 'worker', 'src'), path.join(dir, 'worker', 'src'), { recursive: true });
  cpSync(path.join(ROOT, 'services', 'worker', 'package.json'), path.join(dir, 'worker', 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  for (const e of edits) {
    const p = path.join(dir, e.file);
    const before = readFileSync(p, 'utf8');
    const after = before.replace(e.from, e.to);
    assert.notEqual(after, before, `test setup: ${String(e.from)} not found in ${e.file}`);
    writeFileSync(p, after);
  }
  const base = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
  const compilerOptions = { ...base.compilerOptions, composite: false, incremental: false, declaration: false, noEmit: true };
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        ...compilerOptions,
        // The workspace package, resolved to the copied sources instead of its built dist.
        paths: { '@greeter/shared': ['./shared/src/index'], '@greeter/shared/*': ['./shared/src/*'] },
      },
      // The check and what it imports (the workflow, the activities, the contract): a small program.
      files: ['worker/src/contract-check.ts'],
    }),
  );
  const r = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('the workflow contract is checked by tsc', () => {
  test('the unchanged sources compile', () => {
    const r = typecheck('unchanged', []);
    assert.equal(r.status, 0, `expected tsc to pass, got ${r.status}:\n${r.output}`);
  });

  const breaks: [string, Edit[], RegExp][] = [
    [
      'an activity renamed in the implementation',
      [{ file: 'worker/src/activities.ts', from: /greetInSpanish/g, to: 'greetInSpanishPolitely' }],
      /activities\.ts|contract-check\.ts/,
    ],
    [
      'an activity signature changed',
      [
        {
          file: 'worker/src/activities.ts',
          from: 'farewellInSpanish(name: string): Promise<string> {',
          to: 'farewellInSpanish(name: string, formal: boolean): Promise<string> {',
        },
      ],
      /activities\.ts|contract-check\.ts/,
    ],
    [
      'the workflow renamed',
      [{ file: 'worker/src/workflows.ts', from: 'export async function GreetSomeone(', to: 'export async function GreetSomebody(' }],
      /contract-check\.ts/,
    ],
    [
      'the workflow given a second argument',
      [{ file: 'worker/src/workflows.ts', from: 'GreetSomeone(name: string)', to: 'GreetSomeone(name: string, times: number)' }],
      /contract-check\.ts/,
    ],
    [
      'the workflow result type changed',
      [
        {
          file: 'worker/src/workflows.ts',
          from: 'GreetSomeone(name: string): Promise<string>',
          to: 'GreetSomeone(name: string): Promise<string[]>',
        },
        { file: 'worker/src/workflows.ts', from: 'return `${greeting}\\n${farewell}`;', to: 'return [greeting, farewell];' },
      ],
      /contract-check\.ts/,
    ],
    [
      "the contract's workflow type renamed",
      [{ file: 'shared/src/contract.ts', from: "WORKFLOW_TYPE = 'GreetSomeone'", to: "WORKFLOW_TYPE = 'GreetSomeoneV2'" }],
      /contract-check\.ts/,
    ],
  ];
  for (const [what, edits, where] of breaks) {
    test(`${what}: tsc fails`, () => {
      const r = typecheck(what.replace(/\W+/g, '-'), edits);
      assert.notEqual(r.status, 0, `expected tsc to fail after ${what}, but it passed`);
      assert.match(r.output, /error TS\d+/, r.output);
      assert.match(r.output, where, `expected the error in ${String(where)}:\n${r.output}`);
    });
  }
});
