// `npm run bench -- --only sandbox`: what the workflow sandbox costs per workflow, with no
// server, network or other process involved. The recorded greeting history
// (services/worker/test/histories/greeting.json: three workflow tasks, two activities) is
// replayed many times against the shipped bundle (with Temporal's OpenTelemetry workflow
// interceptors, as the worker runs it) and against a bundle of the same workflows without them,
// in alternating rounds, each in a fresh process (sandbox-replay.ts); one more run of each under
// `--cpu-prof` says where the time goes. Replay runs the same workflow code in the same reusable
// V8 context as the live worker, in one activation instead of three.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ROOT } from '@greeter/scripts/devstack';
import { categoryTotals, cpuProfiles, STACK_TRACES } from './profile';
import type { ReplayRun } from './sandbox-replay';
import { mean } from './workers';

const run = promisify(execFile);
const SHIPPED = path.join(ROOT, 'services', 'worker', 'dist', 'workflow-bundle.js');
const WORKFLOWS = path.join(ROOT, 'services', 'worker', 'dist', 'src', 'workflows.js');
const REPLAY = path.join(__dirname, 'sandbox-replay.js');

export interface SandboxOptions {
  rounds: number;
  /** Replays per run, of which the first `warmup` are not measured. */
  workflows: number;
  warmup: number;
  profile: boolean;
}

interface Variant {
  name: string;
  bundle: string;
  otel: boolean;
}

/** One profiled run: JS self time per replayed workflow, by category. */
interface Profiled {
  variant: string;
  byCategory: Map<string, number>;
}

export interface SandboxRow {
  variant: string;
  round: number;
  run: ReplayRun;
}

async function replay(v: Variant, o: SandboxOptions, nodeFlags: string[] = []): Promise<ReplayRun> {
  const args = [...nodeFlags, REPLAY, v.bundle, String(o.workflows), String(o.warmup), ...(v.otel ? ['otel'] : [])];
  const { stdout } = await run(process.execPath, args, { cwd: ROOT, maxBuffer: 64 * 2 ** 20 });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const r = JSON.parse(line) as ReplayRun;
  if (r.failed > 0)
    throw new Error(`${v.name}: ${r.failed} of ${r.workflows} replays failed; the bench measures only a workflow that replays`);
  return r;
}

export async function sandboxBench(o: SandboxOptions): Promise<{ rows: SandboxRow[]; report: string }> {
  if (!existsSync(SHIPPED)) throw new Error(`${path.relative(ROOT, SHIPPED)} missing: npm run build writes it`);
  const runDir = path.join(ROOT, '.greeter', 'bench-sandbox');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const bare = path.join(runDir, 'workflow-bundle-no-otel.js');
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };
  writeFileSync(bare, (await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: quiet })).code);
  const variants: Variant[] = [
    { name: 'with the OpenTelemetry interceptors (shipped bundle)', bundle: SHIPPED, otel: true },
    { name: 'without them (same workflows)', bundle: bare, otel: false },
  ];
  const started = Date.now();
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
  const rows: SandboxRow[] = [];
  const total = o.rounds * variants.length;
  for (let round = 1; round <= o.rounds; round++) {
    for (const v of variants) {
      const r = await replay(v, o);
      rows.push({ variant: v.name, round, run: r });
      console.error(
        `[sandbox ${rows.length}/${total}] round ${round} ${v.name}: ${r.cpuMsPerWorkflow.toFixed(2)} CPU ms per workflow ` +
          `(${r.workflows} replays, ${((Date.now() - started) / 1000).toFixed(0)} s into the run)`,
      );
    }
  }
  const profiles: Profiled[] = [];
  if (o.profile) {
    for (const [i, v] of variants.entries()) {
      const dir = path.join(runDir, `cpu-profile-${i}`);
      const r = await replay(v, o, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
      // The profile covers the whole process (start-up and warm-up too): per workflow over all replays.
      const perWorkflow = new Map([...categoryTotals(cpuProfiles(dir))].map(([c, ms]) => [c, ms / o.workflows] as const));
      profiles.push({ variant: v.name, byCategory: perWorkflow });
      console.error(`[sandbox profile] ${v.name}: ${r.cpuMsPerWorkflow.toFixed(2)} CPU ms per workflow under --cpu-prof`);
    }
  }
  const report = writeReport(o, rows, profiles, { loadBefore, minutes: (Date.now() - started) / 60_000 });
  return { rows, report };
}

export function sandboxSummary(rows: readonly SandboxRow[]): Array<{ variant: string; min: number; max: number; mean: number }> {
  const names = [...new Set(rows.map((r) => r.variant))];
  return names.map((variant) => {
    const xs = rows.filter((r) => r.variant === variant).map((r) => r.run.cpuMsPerWorkflow);
    return { variant, min: Math.min(...xs), max: Math.max(...xs), mean: mean(xs) };
  });
}

function writeReport(
  o: SandboxOptions,
  rows: readonly SandboxRow[],
  profiles: readonly Profiled[],
  meta: { loadBefore: string; minutes: number },
): string {
  const date = new Date().toISOString().slice(0, 10);
  const dir = path.join(ROOT, 'loadtest', 'reports');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `sandbox-${date}.md`);
  const sums = sandboxSummary(rows);
  const [withOtel, without] = sums;
  const lines = [
    `# The workflow sandbox per workflow, ${date}`,
    '',
    'The recorded greeting history (services/worker/test/histories/greeting.json: three workflow tasks, two',
    `activities) replayed ${o.workflows} times per run (the first ${o.warmup} not measured) by one replay worker in a fresh`,
    'process, against the shipped bundle (services/worker/dist/workflow-bundle.js, with the OpenTelemetry',
    "workflow interceptors and the plugin's sinks) and a bundle of the same workflows without them; alternating",
    `runs, ${o.rounds} rounds. CPU is the process's own (all threads), per replayed workflow. No server, network or other`,
    "process takes part, so these figures are far steadier than the live benches'. Replay runs the same code in the",
    'same reusable V8 context as the live worker, in one activation where a live greeting takes three.',
    '',
    `Machine: ${os.cpus().length} cores, load average ${meta.loadBefore} before; ${process.version}; ${meta.minutes.toFixed(1)} min.`,
    '',
    '| bundle | CPU ms per workflow (runs) | mean |',
    '| --- | ---: | ---: |',
    ...sums.map((s) => `| ${s.variant} | ${s.min.toFixed(2)}-${s.max.toFixed(2)} | ${s.mean.toFixed(2)} |`),
    ...(withOtel && without
      ? [
          '',
          `The interceptors cost ${(withOtel.mean - without.mean).toFixed(2)} ms per workflow, ${((100 * (withOtel.mean - without.mean)) / withOtel.mean).toFixed(0)} % of the sandbox's CPU.`,
        ]
      : []),
  ];
  if (profiles.length > 0) {
    const cats = [...new Set(profiles.flatMap((p) => [...p.byCategory.keys()]))].sort(
      (a, b) => (profiles[0]?.byCategory.get(b) ?? 0) - (profiles[0]?.byCategory.get(a) ?? 0),
    );
    const total = (p: Profiled) => [...p.byCategory.values()].reduce((a, b) => a + b, 0);
    lines.push(
      '',
      '## Where it goes',
      '',
      'One more run of each under `--cpu-prof`: V8 self time per replayed workflow, over the whole process (start-up',
      'included, spread over the replays), by what the code belongs to. The profiler adds its own cost.',
      '',
      `| JS self time, ms per workflow | ${profiles.map((p) => p.variant).join(' | ')} |`,
      `| --- |${profiles.map(() => ' ---: |').join('')}`,
      ...cats.map((c) => `| ${c} | ${profiles.map((p) => (p.byCategory.get(c) ?? 0).toFixed(2)).join(' | ')} |`),
      `| all JS | ${profiles.map((p) => total(p).toFixed(2)).join(' | ')} |`,
      '',
      `"${STACK_TRACES}": the SDK records a source-mapped stack trace for every promise a workflow creates, for the`,
      '`__stack_trace` query, and has no option to turn it off (slow async code in workflows is an open upstream report,',
      'temporalio/sdk-typescript#1587); interceptors that wrap every call in async functions create more promises and',
      'so pay it again. "calls into the workflow context"',
      "is Node's vm.runInContext with the SDK's 5 s deadlock timeout, which starts and joins a watchdog thread per call.",
      'Categories: loadtest/src/profile.ts.',
    );
  }
  lines.push(
    '',
    `Command: \`npm run bench -- --only sandbox --rounds ${o.rounds} --replays ${o.workflows}${o.profile ? ' --profile' : ''}\``,
    '',
  );
  writeFileSync(file, lines.join('\n'));
  return file;
}
