// The lint guards on workflow code bite: the repository's own eslint.config.mjs, given
// workflow files that import a Node built-in, a worker-only SDK package or the activity
// implementation, reports each; a type-only import of the activities passes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Lints `code` as if it were the given repository file (type-aware rules off: the file does not exist). */
async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false, project: null } }, rules: disabledTypeChecked() },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

/** The type-aware rules switched off, as typescript-eslint's disableTypeChecked does. */
function disabledTypeChecked(): Record<string, 'off'> {
  const tseslint = require('typescript-eslint') as { configs: { disableTypeChecked: { rules?: Record<string, unknown> } } };
  return Object.fromEntries(Object.keys(tseslint.configs.disableTypeChecked.rules ?? {}).map((r) => [r, 'off' as const]));
}

const WORKFLOW = 'services/worker/src/workflows.ts';

describe('workflow lint guards', () => {
  for (const [what, code, message] of [
    ['a Node built-in', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", /no Node built-ins/],
    ['a bare Node built-in', "import http from 'http';\nexport const x = http;\n", /no Node built-ins/],
    [
      'the activity implementation',
      "import { createActivities } from './activities';\nexport const x = createActivities;\n",
      /activity types only/,
    ],
    ['the worker SDK', "import { Worker } from '@temporalio/worker';\nexport const x = Worker;\n", /only @temporalio\/workflow/],
  ] as const) {
    test(`importing ${what} into workflow code is reported`, async () => {
      const got = await lint(WORKFLOW, code);
      assert.equal(got.length, 1, `expected one no-restricted-imports report, got ${JSON.stringify(got)}`);
      assert.match(got[0]!, message);
    });
  }

  test('a type-only import of the activities is allowed, and other files may import anything', async () => {
    assert.deepEqual(
      await lint(WORKFLOW, "import type { TranslateActivities } from './activities';\nexport type X = TranslateActivities;\n"),
      [],
    );
    assert.deepEqual(
      await lint('services/worker/src/server.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"),
      [],
    );
  });
});
