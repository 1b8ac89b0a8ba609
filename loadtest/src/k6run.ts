// Runs a k6 scenario from this host and reads every greeting back from k6's JSON output
// (the greeting_duration points of loadtest/k6/lib.ts, tagged ok/failed), so callers get
// per-second throughput, percentiles and every failure, not only k6's end-of-run summary.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, findTool } from '@greeter/scripts/devstack';

export interface Greeting {
  /** When the answer arrived (ms since the epoch). */
  at: number;
  /** Latency in ms. */
  ms: number;
  ok: boolean;
  status: string;
}

export interface K6Result {
  exitCode: number | null;
  greetings: Greeting[];
  /** k6's text summary (handleSummary's stdout) and its warnings (failed greetings are logged). */
  stdout: string;
  stderr: string;
}

/** k6 from PATH, else where scripts/bootstrap.sh caches it; undefined when neither has it. */
export function findK6(): string | undefined {
  return findTool('k6');
}

/** findK6(), where a missing k6 is an error, never a skip. */
export function k6Binary(): string {
  const k6 = findK6();
  if (!k6) throw new Error('k6 is not on PATH and not in the tools cache: run scripts/bootstrap.sh');
  return k6;
}

/** Runs loadtest/k6/<scenario>.ts with the given __ENV values; resolves when k6 exits. */
export async function runK6(scenario: string, env: Record<string, string>, outDir: string): Promise<K6Result> {
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `${scenario}-${Date.now()}.json`);
  const args = ['run', '--quiet', '--no-color', '--out', `json=${out}`, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`])];
  args.push('-e', `SUMMARY_PATH=${path.join(outDir, `${scenario}-summary.json`)}`, path.join(ROOT, 'loadtest', 'k6', `${scenario}.ts`));
  const child = spawn(k6Binary(), args, { env: { ...process.env, K6_NO_USAGE_REPORT: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    // Bounded: a failing run logs every failed greeting.
    if (stderr.length < 200_000) stderr += d.toString();
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { exitCode, greetings: existsSync(out) ? await readGreetings(out) : [], stdout, stderr };
}

interface K6Point {
  type: string;
  metric: string;
  data: { time: string; value: number; tags?: Record<string, string> };
}

async function readGreetings(file: string): Promise<Greeting[]> {
  const greetings: Greeting[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes('"greeting_duration"')) continue;
    const p = JSON.parse(line) as K6Point;
    if (p.type !== 'Point' || p.metric !== 'greeting_duration') continue;
    greetings.push({
      at: Date.parse(p.data.time),
      ms: p.data.value,
      ok: p.data.tags?.outcome === 'ok',
      status: p.data.tags?.status ?? '?',
    });
  }
  return greetings.sort((a, b) => a.at - b.at);
}
