// The chart renders for every values profile, passes helm lint --strict and kubeconform
// -strict against offline Kubernetes 1.33 + CRD schemas, rejects typo keys, and matches
// the committed golden output (refresh with `npm run chart:golden`).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  CHART,
  GOLDEN_DIR,
  GOLDEN_SET,
  helmTemplateArgs,
  parseObjects,
  profiles,
  render,
  run,
  schemaDir,
  kubeconformArgs,
} from './support';

const TYPO = path.join(__dirname, '..', '..', 'chart', 'fixtures', 'typo-values.yaml');

interface KubeconformReport {
  resources: { filename: string; kind: string; name: string; version: string; status: string; msg: string }[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

describe('greeter chart renders and validates', () => {
  for (const p of profiles()) {
    test(`helm lint --strict passes for profile ${p.name}`, () => {
      const r = run('helm', ['lint', '--strict', CHART, ...(p.file ? ['-f', p.file] : [])]);
      assert.equal(r.status, 0, `helm lint --strict failed for ${p.name}:\n${r.stdout}\n${r.stderr}`);
    });
  }

  test('every rendered object of every profile is valid for Kubernetes 1.33 (kubeconform -strict, offline schemas)', () => {
    const dir = schemaDir();
    for (const p of profiles()) {
      const manifest = render(p);
      const count = parseObjects(manifest).length;
      const r = run('kubeconform', kubeconformArgs(dir), { input: manifest });
      const report = JSON.parse(r.stdout) as KubeconformReport;
      const problems = report.resources.filter((x) => x.status !== 'statusValid').map((x) => `${x.kind}/${x.name}: ${x.status} ${x.msg}`);
      assert.deepEqual(problems, [], `profile ${p.name}: kubeconform found problems`);
      assert.equal(r.status, 0, `profile ${p.name}: kubeconform exited ${r.status}: ${r.stderr}`);
      assert.equal(
        report.summary.valid,
        count,
        `profile ${p.name}: expected all ${count} objects validated (none skipped), got ${JSON.stringify(report.summary)}`,
      );
    }
  });

  test('kubeconform rejects an object with an unknown field (the schemas are strict)', () => {
    const manifest = render(profiles()[0]!).replace(
      'enableServiceLinks: false',
      'enableServiceLinks: false\n      enableServiceLink: false',
    );
    const r = run('kubeconform', kubeconformArgs(schemaDir()), { input: manifest });
    assert.notEqual(r.status, 0, 'expected kubeconform to fail on the misspelled field enableServiceLink');
    assert.match(r.stdout, /enableServiceLink/, 'expected the failure to name the unknown field');
  });

  test('kubeconform validates CRD objects against their schemas (ServiceMonitor typo fails)', () => {
    const kind = profiles().find((p) => p.name === 'kind')!;
    const manifest = render(kind).replace(/scrapeProtocols:/, 'scrapeProtocol:');
    const r = run('kubeconform', kubeconformArgs(schemaDir()), { input: manifest });
    assert.notEqual(r.status, 0, 'expected kubeconform to reject a ServiceMonitor with the unknown field scrapeProtocol');
    assert.match(r.stdout, /ServiceMonitor/);
  });

  test('a values file with typo keys fails helm lint --strict and helm template (strict values.schema.json)', () => {
    const lint = run('helm', ['lint', '--strict', CHART, '-f', TYPO]);
    assert.notEqual(lint.status, 0, `expected helm lint to fail on typo keys, got:\n${lint.stdout}`);
    const tpl = run('helm', helmTemplateArgs([TYPO]));
    assert.notEqual(tpl.status, 0, 'expected helm template to fail on typo keys');
    for (const key of ['replica', 'namspace']) {
      assert.match(
        tpl.stderr,
        new RegExp(`'${key}' not allowed|${key}`),
        `expected the schema error to name '${key}', got:\n${tpl.stderr}`,
      );
    }
  });

  test('a wrong value type or enum fails (schema types, not just keys)', () => {
    for (const set of [
      'worker.maxConcurrentActivities=0',
      'temporal.mode=prod',
      'global.logLevel=verbose',
      'worker.telemetryFlushSeconds=5',
    ]) {
      const r = run('helm', helmTemplateArgs([], [set]));
      assert.notEqual(r.status, 0, `expected --set ${set} to be rejected by values.schema.json`);
    }
  });

  test('Temporal Cloud without an address or Secret fails with a message naming the value', () => {
    const r = run('helm', helmTemplateArgs([], ['temporal.mode=cloud', 'temporal.cloud.address=x.tmprl.cloud:7233']));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /temporal\.cloud\.apiKeySecret\.name is required/);
  });

  for (const p of profiles()) {
    test(`rendered output of profile ${p.name} matches the golden file`, () => {
      const golden = path.join(GOLDEN_DIR, `${p.name}.yaml`);
      assert.ok(existsSync(golden), `missing ${path.relative(CHART, golden)}: run npm run chart:golden`);
      const want = readFileSync(golden, 'utf8');
      const got = render(p, { set: GOLDEN_SET });
      if (got !== want) {
        const a = want.split('\n');
        const b = got.split('\n');
        const i = a.findIndex((line, n) => line !== b[n]);
        const at = i === -1 ? Math.min(a.length, b.length) : i;
        assert.fail(
          `profile ${p.name} renders differently from ${path.relative(CHART, golden)} at line ${at + 1}:\n` +
            `  golden:   ${JSON.stringify(a[at])}\n  rendered: ${JSON.stringify(b[at])}\n` +
            'If the change is intended, run `npm run chart:golden` and commit the result.',
        );
      }
    });
  }
});
