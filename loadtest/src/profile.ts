// Where greeter's worker spends its CPU: V8 CPU profiles (`--cpu-prof`, one file per JS thread:
// the main thread and each workflow thread) grouped by what the code belongs to, and a
// native profile of all threads from `perf record` (Rust core, GC helpers, libuv) by thread
// and shared object. Used by the workers bench's `--profile` window.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export const STACK_TRACES = "stack traces of workflow promises (the SDK's promise hook)";

// The SDK (worker/lib/workflow/vm-shared.js) hooks every promise created in the workflow
// sandbox and records a source-mapped stack trace for the `__stack_trace` query: a new Error,
// its prepareStackTrace, a source-map lookup per frame and the regular expressions that trim the
// stack. There is no option to turn it off (slow async workflow code: temporalio/sdk-typescript#1587).
const VM_SHARED_STACK_FNS = new Set([
  'init',
  'settled',
  'getActivator',
  'formatCallsiteName',
  'Error.prepareStackTrace',
  'cutoffStructuredStackTrace',
  '',
]);
function isStackTraceCapture(functionName: string, url: string): boolean {
  if (/@temporalio\/worker\/lib\/workflow\/vm-shared\.js$/.test(url)) return VM_SHARED_STACK_FNS.has(functionName);
  if (/\/source-map\/lib\//.test(url)) return true;
  if (functionName === 'cutoffStackTrace' || (functionName === 'prepareStackTraceCallback' && url === 'node:internal/errors')) return true;
  return url === '' && /^RegExp: .*\\s\+at/.test(functionName);
}

/** What a sampled function belongs to, from its script URL and name. */
export function category(functionName: string, url: string): string {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8/native (program)';
  // Every call into the workflow sandbox: Node's vm with the SDK's 5 s deadlock timeout, which
  // starts and joins a watchdog thread per call.
  if (functionName === 'runInContext' && url === '') return 'calls into the workflow context (vm.runInContext)';
  if (functionName === 'postMessage') return 'messages between the main and the workflow thread';
  if (isStackTraceCapture(functionName, url)) return STACK_TRACES;
  if (/^node:internal\/modules\//.test(url) || functionName === 'compileFunction') return 'module loading (start-up)';
  if (/interceptors-opentelemetry|@opentelemetry/.test(url)) return 'tracing (OpenTelemetry)';
  if (/pino|sonic-boom|thread-stream/.test(url)) return 'logging (pino)';
  if (/prom-client/.test(url)) return 'metrics (prom-client)';
  // With the reusable context each workflow gets a fresh module registry: the bundle's modules run again.
  if (/^__webpack_require__/.test(functionName)) return "evaluating the bundle's modules for each workflow";
  if (/workflow-bundle|webpack:|@temporalio\/workflow/.test(url)) return 'workflow code + SDK in the isolate';
  if (/@temporalio\/(worker|core-bridge|common|activity|client|proto)|protobufjs/.test(url))
    return 'Temporal SDK (JS side, calls into the Rust core)';
  if (/undici/.test(url) || /node:internal\/deps\/undici/.test(url)) return 'fetch (undici)';
  if (/^node:/.test(url)) return 'Node internals';
  if (/services\//.test(url)) return "greeter's code";
  if (url === '') return 'V8 builtins / native';
  return 'other JS';
}

export interface ThreadProfile {
  file: string;
  /** The main thread is thread 0 of the file name (CPU.<date>.<pid>.<thread>.<seq>.cpuprofile). */
  thread: number;
  wallMs: number;
  busyMs: number;
  byCategory: Record<string, number>;
  topFunctions: Array<{ name: string; ms: number }>;
}

export function analyseCpuProfile(file: string): ThreadProfile {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const byCategory: Record<string, number> = {};
  const byFn = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const cat = category(n.callFrame.functionName, n.callFrame.url);
    byCategory[cat] = (byCategory[cat] ?? 0) + ms;
    if (cat === 'idle') continue;
    busy += ms;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${path.basename(n.callFrame.url) || ''}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + ms);
  }
  const m = /\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(file);
  return {
    file: path.basename(file),
    thread: Number(m?.[1] ?? 0),
    wallMs: (p.endTime - p.startTime) / 1000,
    busyMs: busy,
    byCategory,
    topFunctions: [...byFn.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, ms]) => ({ name, ms })),
  };
}

export function cpuProfiles(dir: string): ThreadProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => analyseCpuProfile(path.join(dir, f)))
    .sort((a, b) => a.thread - b.thread);
}

/** Milliseconds of JS self time by category over all `threads`, idle left out. */
export function categoryTotals(threads: readonly ThreadProfile[]): Map<string, number> {
  const cats = new Map<string, number>();
  for (const t of threads) for (const [c, ms] of Object.entries(t.byCategory)) if (c !== 'idle') cats.set(c, (cats.get(c) ?? 0) + ms);
  return cats;
}

/** The Markdown section for the V8 profiles; `greetings` completed while they ran. */
export function cpuProfileSection(threads: readonly ThreadProfile[], greetings: number): string {
  const cats = categoryTotals(threads);
  const busy = threads.reduce((a, t) => a + t.busyMs, 0);
  const per = (ms: number) => (ms / Math.max(1, greetings)).toFixed(2);
  const lines = [
    `V8 CPU profiles (\`--cpu-prof\`), ${threads.length} JS threads, ${greetings} greetings while they ran:`,
    '',
    '| JS thread | wall s | busy s | busy % | top self time |',
    '| --- | ---: | ---: | ---: | --- |',
    ...threads.map(
      (t) =>
        `| ${t.thread === 0 ? 'main' : `worker thread ${t.thread} (workflows)`} | ${(t.wallMs / 1000).toFixed(1)} | ${(t.busyMs / 1000).toFixed(1)} | ${((100 * t.busyMs) / Math.max(1, t.wallMs)).toFixed(0)} | ${t.topFunctions
          .slice(0, 4)
          .map((f) => `${f.name.replace(/\|/g, '/')} ${(f.ms / 1000).toFixed(1)} s`)
          .join('; ')} |`,
    ),
    '',
    '| JS self time by what it belongs to | s | % of JS busy | ms per greeting |',
    '| --- | ---: | ---: | ---: |',
    ...[...cats.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([c, ms]) => `| ${c} | ${(ms / 1000).toFixed(1)} | ${((100 * ms) / Math.max(1, busy)).toFixed(0)} | ${per(ms)} |`),
    `| all JS threads | ${(busy / 1000).toFixed(1)} | 100 | ${per(busy)} |`,
  ];
  return lines.join('\n');
}

/** `perf record` of every thread of `pid` for `seconds`; resolves with the data file, or why not. */
export function perfRecord(pid: number, seconds: number, out: string): Promise<{ file?: string; error?: string }> {
  return new Promise((resolve) => {
    const p = spawn('perf', ['record', '-F', '199', '-g', '-p', String(pid), '-o', out, '--', 'sleep', String(seconds)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', (e) => resolve({ error: `perf could not start: ${e.message} (Debian: apt-get install linux-perf)` }));
    p.on('exit', (code) => resolve(code === 0 ? { file: out } : { error: `perf record exited with ${code}: ${err.trim().slice(-400)}` }));
  });
}

/** perf's samples grouped by `sort` (e.g. comm or dso), the entries above 1 %. */
export function perfTable(file: string, sort: string): Array<{ share: number; key: string }> {
  const r = spawnSync('perf', ['report', '-i', file, '--stdio', '--no-children', '--sort', sort, '-g', 'none', '--percent-limit', '1'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`perf report failed (${r.status}): ${r.stderr.slice(-400)}`);
  const rows: Array<{ share: number; key: string }> = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+([\d.]+)%\s+(.+?)\s*$/.exec(line);
    if (m?.[1] && m[2]) rows.push({ share: Number(m[1]), key: m[2].replace(/\s{2,}/g, ' · ') });
  }
  return rows;
}

export function perfSection(file: string): string {
  const table = (sort: string, title: string) => [
    `| ${title} | share of the worker's CPU samples |`,
    '| --- | ---: |',
    ...perfTable(file, sort).map((r) => `| ${r.key.replace(/\|/g, '/')} | ${r.share.toFixed(1)} % |`),
  ];
  return [
    'Native profile (`perf record -F 199 -g` on every thread of the worker; thread names as Linux shows them):',
    '',
    ...table('comm', 'thread'),
    '',
    ...table('comm,dso', 'thread · shared object'),
    '',
    ...table('comm,sym', 'thread · symbol (entries above 1 %)'),
  ].join('\n');
}
