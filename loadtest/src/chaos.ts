// `npm run chaos`: the fault cases of faults.ts one after another on one local stack (loopback
// ports from the OS, two workers, a dev server on a SQLite file), each under open-model load
// with every greeting checked against Temporal at the end. Bounded in greetings and time: it
// refuses larger runs and stops itself at a hard deadline. Prints a table, writes a Markdown
// report, exits 1 when any greeting was lost or left unanswered.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findOnPath, startStack, type Stack } from '@greeter/scripts/devstack';
import {
  REPORT_OPTIONS,
  UsageError,
  durationOption,
  exitOnError,
  freshRunDir,
  machine,
  numberOption,
  reportPath,
  stopsByItself,
} from './cli';
import { FAULT_CASES, caseLine, casesTable, faultCase, checkedStackOptions, runFaultCase, type CaseResult } from './faults';

const MAX_GREETINGS_PER_CASE = 20_000;
const CLIENT_BUDGET_MS = 120_000;

const HELP = `npm run chaos -- [options]

Fault cases under load on a local stack of its own (ports from the OS, loopback only):
${FAULT_CASES.map((c) => `  ${c.name.padEnd(17)} ${c.title}`).join('\n')}

  --only LIST       cases to run, comma-separated (default: all, in this order)
  --rate N          greetings per second, open model (default 10; 1..100)
  --duration D      load per case (default 30s; 5s..10m); the fault comes 15-40 % into it
  --outage D        how long the dev server stays down (default 6s; the starter's RPC deadline is 5 s)
  --workers N       workers (default 2; 2..8)
  --report PATH     Markdown report (default loadtest/reports/chaos-<date>.md); --no-report for none
  -h, --help

Clients retry 503, 504 and broken connections with the workflow id they got (or chose) for up
to ${CLIENT_BUDGET_MS / 1000} s each. At most ${MAX_GREETINGS_PER_CASE} greetings per case; the run stops itself at a deadline of
(duration + ${CLIENT_BUDGET_MS / 1000} s + 90 s) per case + 2 min. Exit 1 when a greeting was lost or
unanswered or a fault could not be injected; 64 for a bad option.`;

function temporalVersion(): string {
  const bin = findOnPath('temporal');
  if (!bin) return 'unknown';
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return 'unknown';
  }
}

interface RunFigures {
  rate: number;
  durationMs: number;
  outageMs: number;
  workers: number;
  seconds: number;
  failure: string | undefined;
  /** 1-minute load average at the start and at the end (the machine is shared). */
  load: [number, number];
}

function markdown(results: readonly CaseResult[], o: RunFigures): string {
  const date = new Date().toISOString().slice(0, 10);
  const lost = results.reduce((n, r) => n + r.lost, 0);
  const unanswered = results.reduce((n, r) => n + r.unanswered, 0);
  return [
    `# greeter under faults on the local stack (${date})`,
    '',
    `\`npm run chaos -- --rate ${o.rate} --duration ${o.durationMs / 1000}s --outage ${o.outageMs / 1000}s --workers ${o.workers}\`, one case after another on one stack: ` +
      `the Temporal dev server on a SQLite file, ${o.workers} workers, translator with 50 ms latency, starter; all separate processes under the devstack supervisor. ` +
      `Load: ${o.rate} greetings/s open model for ${o.durationMs / 1000} s per case, a distinct name per greeting. ` +
      `A client retries 503, 504 and broken connections (backoff 200 ms doubling to 2 s, for up to ${CLIENT_BUDGET_MS / 1000} s) with its workflow id: ` +
      `taken from the starter's answer (POST without an id first), or, in the starter case, chosen by the client before the first POST.`,
    '',
    'At the end every greeting is read back from the real Temporal server (the list of GreetSomeone workflows started in the window, then describe and history by workflow id). ' +
      '**accepted**: the starter answered with the workflow id, or Temporal knows the id; **completed**: accepted and COMPLETED with exactly `¡Hola, NAME!\\n¡Adiós, NAME!`; ' +
      '**lost**: accepted but not completed exactly, plus any workflow no client knew of that did not complete exactly; **unanswered**: clients that never got their exact greeting. ' +
      'Latency is per client, from its first attempt to its final answer, retries included. Activity retries are Temporal’s record (an activity that completed on a later attempt, by why the attempt before ended).',
    '',
    casesTable(results),
    '',
    ...(o.failure ? [`**The run stopped early: ${o.failure}.**`, ''] : []),
    `Total: ${results.reduce((n, r) => n + r.greetings, 0)} greetings, **${lost} lost**, ${unanswered} unanswered; run time ${o.seconds.toFixed(0)} s. Machine: ${machine()}; load average ${o.load[0].toFixed(1)} at the start, ${o.load[1].toFixed(1)} at the end; ${temporalVersion()}.`,
    '',
    ...results.flatMap((r) => [
      `## ${r.name}`,
      '',
      r.title + '.',
      '',
      ...r.events.map((e) => `- ${e.atS.toFixed(1)} s: ${e.text}`),
      `- attempts ${r.attempts} for ${r.greetings} greetings; answers other than 200: ${
        Object.keys(r.answers).length
          ? Object.entries(r.answers)
              .map(([k, v]) => `${k} × ${v}`)
              .join(', ')
          : 'none'
      }; orphan workflows ${r.orphans}; dropped arrivals ${r.dropped}`,
      ...(r.problems.length ? ['', 'Problems:', '', ...r.problems.map((p) => `- ${p}`)] : []),
      '',
    ]),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: FAULT_CASES.map((c) => c.name).join(',') },
      rate: { type: 'string', default: '10' },
      duration: { type: 'string', default: '30s' },
      outage: { type: 'string', default: '6s' },
      workers: { type: 'string', default: '2' },
      ...REPORT_OPTIONS,
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const cases = values.only.split(',').map((n) => {
    try {
      return faultCase(n.trim());
    } catch (err) {
      throw new UsageError(`--only: ${(err as Error).message}`);
    }
  });
  const rate = numberOption('rate', values.rate, 1, 100);
  const durationMs = durationOption('duration', values.duration, 5_000, 600_000);
  const outageMs = durationOption('outage', values.outage, 1_000, 60_000);
  const workers = numberOption('workers', values.workers, 2, 8, true);
  if (rate * (durationMs / 1000) > MAX_GREETINGS_PER_CASE)
    throw new UsageError(`--rate × --duration is ${rate * (durationMs / 1000)} greetings per case; at most ${MAX_GREETINGS_PER_CASE}`);
  const report = reportPath(values, 'chaos');
  const runDir = freshRunDir('chaos');
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  let stack: Stack | undefined;
  const disarm = stopsByItself('chaos', cases.length * (durationMs + CLIENT_BUDGET_MS + 90_000) + 120_000, () => stack);

  const results: CaseResult[] = [];
  let failure: string | undefined;
  try {
    console.error(`[chaos] starting the stack (${workers} workers, dev server on ${path.join(runDir, 'temporal.db')}); logs in ${runDir}`);
    stack = await startStack({ ...checkedStackOptions(path.join(runDir, 'temporal.db'), workers), runDir });
    for (const c of cases) {
      console.error(`[chaos] ── ${c.name}: ${c.title}`);
      try {
        const r = await runFaultCase(stack, c, {
          rate,
          durationMs,
          outageMs,
          clientBudgetMs: CLIENT_BUDGET_MS,
          onProgress: (line) => console.error(`[chaos] ${c.name} ${line}`),
        });
        console.error(`[chaos] ${caseLine(r)}`);
        results.push(r);
      } catch (err) {
        // The stack may be in any state now: report what ran and stop.
        failure = `${c.name} could not run: ${(err as Error).message}`;
        console.error(`[chaos] ${failure}`);
        break;
      }
    }
  } finally {
    disarm();
    await stack?.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(casesTable(results));
  if (report) {
    mkdirSync(path.dirname(report), { recursive: true });
    writeFileSync(
      report,
      markdown(results, { rate, durationMs, outageMs, workers, seconds, failure, load: [loadAtStart, os.loadavg()[0] ?? 0] }),
    );
    console.error(`[chaos] report: ${path.relative(process.cwd(), report)}`);
  }
  const bad = results.filter((r) => r.lost > 0 || r.unanswered > 0).map((r) => `${r.name} lost ${r.lost}, unanswered ${r.unanswered}`);
  if (failure) bad.push(failure);
  const verdict = bad.length === 0 ? `zero lost in every case (${results.length})` : `FAILED: ${bad.join('; ')}`;
  console.error(`[chaos] ${verdict}; ${seconds.toFixed(0)} s, load average ${os.loadavg()[0]?.toFixed(1)} at the end`);
  if (bad.length > 0) process.exitCode = 1;
}

main().catch(exitOnError('chaos'));
