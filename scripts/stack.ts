// The local stack without Kubernetes: Temporal dev server, translator, N workers,
// starter, plus Jaeger and Prometheus when they are installed. Used by `npm start`
// (the CLI at the bottom), by the end-to-end tests and by the load tools.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

export const ROOT = path.resolve(__dirname, '..', '..');
const SERVICE_MAIN = (svc: string) => path.join(ROOT, 'services', svc, 'dist', 'src', 'main.js');
export const WORKFLOW_BUNDLE = path.join(ROOT, 'services', 'worker', 'dist', 'workflow-bundle.js');

/** Default ports (design.md); every one is shifted by `portOffset`. */
export const BASE_PORTS = {
  starter: 8080,
  translator: 9999,
  workerMetrics: 9464, // worker i: 9464 + 2i (Temporal Core), 9465 + 2i (health, prom-client)
  temporal: 7233,
  temporalUi: 8233,
  temporalMetrics: 9233,
  jaegerOtlp: 4318,
  jaegerQuery: 16686,
  jaegerQueryGrpc: 16685,
  jaegerHealth: 13133,
  prometheus: 9090,
} as const;

export interface StackOptions {
  workers?: number;
  portOffset?: number;
  /** Extra env for the translator, e.g. TRANSLATOR_LATENCY_MS. */
  translatorEnv?: Record<string, string>;
  /** Extra env for every worker, e.g. WORKER_MAX_CONCURRENT_ACTIVITIES. */
  workerEnv?: Record<string, string>;
  starterEnv?: Record<string, string>;
  /** 'auto' runs it when the binary is on PATH. */
  jaeger?: boolean | 'auto';
  prometheus?: boolean | 'auto';
  /** OTEL_SDK_DISABLED for the services (the tracing-cost benchmark turns it off). */
  tracing?: boolean;
  /** SQLite file for the dev server; in-memory when undefined. */
  temporalDb?: string;
  /** Where logs and generated configs go. */
  runDir: string;
  /** Print each process's lines prefixed with its name (npm start); otherwise only to files. */
  echo?: boolean;
  /** Reused by tests: an already running Temporal (host:port) instead of starting one. */
  temporalAddress?: string;
}

export interface Ports {
  starter: number;
  translator: number;
  temporal: number;
  temporalUi: number;
  temporalMetrics: number;
  jaegerOtlp: number;
  jaegerQuery: number;
  prometheus: number;
  worker(i: number): { http: number; metrics: number };
}

export function portsFor(offset = 0): Ports {
  const p = (n: number) => n + offset;
  return {
    starter: p(BASE_PORTS.starter),
    translator: p(BASE_PORTS.translator),
    temporal: p(BASE_PORTS.temporal),
    temporalUi: p(BASE_PORTS.temporalUi),
    temporalMetrics: p(BASE_PORTS.temporalMetrics),
    jaegerOtlp: p(BASE_PORTS.jaegerOtlp),
    jaegerQuery: p(BASE_PORTS.jaegerQuery),
    prometheus: p(BASE_PORTS.prometheus),
    worker: (i) => ({ metrics: p(BASE_PORTS.workerMetrics + 2 * i), http: p(BASE_PORTS.workerMetrics + 2 * i + 1) }),
  };
}

/**
 * Dev-server settings for throughput on a small machine: one task-queue partition
 * (with a handful of pollers, four partitions mostly forward polls between each other)
 * and eager activity dispatch (an activity scheduled by a workflow task goes back to
 * the same worker in the completion response, saving a poll round trip).
 */
export const DEV_SERVER_TUNING = [
  '--dynamic-config-value',
  'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value',
  'matching.numTaskqueueWritePartitions=1',
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
];

const COLORS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];

/** One child process with its logs, readiness probe and a clean stop. */
export class Proc {
  child: ChildProcess | undefined;
  exitCode: number | null | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly log: WriteStream;

  constructor(
    readonly name: string,
    private readonly cmd: string,
    private readonly args: string[],
    private readonly env: Record<string, string | undefined>,
    logDir: string,
    private readonly echo: boolean,
    private readonly color: number,
  ) {
    this.log = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  }

  start(): void {
    this.exitCode = undefined;
    const child = spawn(this.cmd, this.args, {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: Ctrl-C reaches only the runner, which stops children in order.
      detached: true,
    });
    this.child = child;
    const prefix = `\x1b[${this.color}m${this.name.padEnd(12)}\x1b[0m| `;
    const onData = (buf: Buffer) => {
      this.log.write(buf);
      if (this.echo) {
        for (const line of buf.toString().split('\n')) if (line) process.stdout.write(prefix + line + '\n');
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        this.log.write(`[stack] ${this.name} exited with ${code ?? signal}\n`);
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGTERM, then SIGKILL after `killAfterMs`; resolves with the exit code. */
  async stop(killAfterMs = 15_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null | undefined> {
    if (!this.running || !this.child?.pid) return this.exitCode;
    this.child.kill(signal);
    const t = setTimeout(() => this.kill(), killAfterMs);
    await this.exited;
    clearTimeout(t);
    return this.exitCode;
  }

  /** Immediate SIGKILL to the whole process group. */
  kill(): void {
    if (this.child?.pid && this.running) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  waitExit(): Promise<void> {
    return this.exited;
  }
}

/** Polls until `probe` returns true, the process dies, or the timeout passes. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, proc?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && !proc.running) throw new Error(`${what}: process exited with code ${proc.exitCode} before it was ready (see its log)`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.ok;
}

function onPath(bin: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export interface Stack {
  ports: Ports;
  urls: Record<string, string>;
  temporalAddress: string;
  procs: Map<string, Proc>;
  jaeger: boolean;
  prometheus: boolean;
  workerCount(): number;
  /** Starts or stops workers (highest index first) until `n` run, waiting for readiness. */
  setWorkers(n: number): Promise<void>;
  startWorker(i: number): Promise<Proc>;
  worker(i: number): Proc | undefined;
  /** Writes the Prometheus config for the current processes and reloads it. */
  reloadPrometheus(): Promise<void>;
  stop(): Promise<void>;
}

export function prometheusConfig(ports: Ports, workers: number, temporal: boolean): string {
  const job = (name: string, targets: string[]) =>
    `  - job_name: ${name}\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`;
  const w = Array.from({ length: workers }, (_, i) => ports.worker(i));
  return [
    '# Generated by scripts/stack.ts for the local stack; scrapes every process.',
    'global:',
    '  scrape_interval: 5s',
    '  evaluation_interval: 5s',
    'scrape_configs:',
    job('starter', [`127.0.0.1:${ports.starter}`]).trimEnd(),
    job('translator', [`127.0.0.1:${ports.translator}`]).trimEnd(),
    job(
      'worker',
      w.map((p) => `127.0.0.1:${p.http}`),
    ).trimEnd(),
    job(
      'temporal-worker',
      w.map((p) => `127.0.0.1:${p.metrics}`),
    ).trimEnd(),
    ...(temporal ? [job('temporal-server', [`127.0.0.1:${ports.temporalMetrics}`]).trimEnd()] : []),
    '',
  ].join('\n');
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const ports = portsFor(opts.portOffset ?? 0);
  mkdirSync(opts.runDir, { recursive: true });
  const echo = opts.echo ?? false;
  const procs = new Map<string, Proc>();
  let color = 0;
  const make = (name: string, cmd: string, args: string[], env: Record<string, string | undefined>) => {
    const p = new Proc(name, cmd, args, env, opts.runDir, echo, COLORS[color++ % COLORS.length] as number);
    procs.set(name, p);
    return p;
  };
  const stopAll = async () => {
    // Front to back: nothing new comes in while the rest drains.
    const order = ['starter', ...[...procs.keys()].filter((n) => n.startsWith('worker')), 'translator', 'prometheus', 'jaeger', 'temporal'];
    for (const name of order) await procs.get(name)?.stop();
  };
  const killAll = () => procs.forEach((p) => p.kill());
  process.once('exit', killAll);

  try {
    const wantJaeger = opts.jaeger ?? 'auto';
    const jaegerBin = wantJaeger === false ? undefined : onPath('jaeger');
    if (wantJaeger === true && !jaegerBin) throw new Error('jaeger is not on PATH (run scripts/bootstrap.sh)');
    const wantProm = opts.prometheus ?? 'auto';
    const promBin = wantProm === false ? undefined : onPath('prometheus');
    if (wantProm === true && !promBin) throw new Error('prometheus is not on PATH (run scripts/bootstrap.sh)');

    // --- infrastructure ---------------------------------------------------
    const startTemporal = opts.temporalAddress === undefined;
    const temporalAddress = opts.temporalAddress ?? `127.0.0.1:${ports.temporal}`;
    const waits: Promise<void>[] = [];
    if (startTemporal) {
      const temporalBin = onPath('temporal');
      if (!temporalBin) throw new Error('temporal (the Temporal CLI) is not on PATH (run scripts/bootstrap.sh)');
      const args = [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(ports.temporal),
        '--ui-port',
        String(ports.temporalUi),
        '--metrics-port',
        String(ports.temporalMetrics),
        '--log-level',
        'warn',
        '--namespace',
        'default',
      ];
      args.push(...DEV_SERVER_TUNING);
      if (opts.temporalDb)
        args.push('--db-filename', opts.temporalDb, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=off');
      const t = make('temporal', temporalBin, args, {});
      t.start();
      waits.push(
        waitFor(
          'temporal dev server',
          () => {
            const r = spawnSync(
              temporalBin,
              ['operator', 'namespace', 'describe', '--namespace', 'default', '--address', temporalAddress],
              { stdio: 'ignore', timeout: 5_000 },
            );
            return Promise.resolve(r.status === 0);
          },
          60_000,
          t,
        ),
      );
    }
    if (jaegerBin) {
      const j = make('jaeger', jaegerBin, ['--config', `file:${path.join(ROOT, 'scripts', 'local', 'jaeger.yaml')}`], {
        JAEGER_OTLP_PORT: String(ports.jaegerOtlp),
        JAEGER_QUERY_PORT: String(ports.jaegerQuery),
        JAEGER_QUERY_GRPC_PORT: String(BASE_PORTS.jaegerQueryGrpc + (opts.portOffset ?? 0)),
        JAEGER_HEALTH_PORT: String(BASE_PORTS.jaegerHealth + (opts.portOffset ?? 0)),
      });
      j.start();
      waits.push(waitFor('jaeger', () => httpOk(`http://127.0.0.1:${ports.jaegerQuery}/api/services`), 30_000, j));
    }
    await Promise.all(waits);

    // --- application ----------------------------------------------------------
    const telemetryEnv: Record<string, string> = {
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      // Short batches so a trace is queryable a moment after its request.
      OTEL_BSP_SCHEDULE_DELAY: '500',
      ...(jaegerBin && opts.tracing !== false && { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.jaegerOtlp}` }),
      ...(opts.tracing === false && { OTEL_SDK_DISABLED: 'true' }),
    };
    const temporalEnv = { TEMPORAL_ADDRESS: temporalAddress };
    const translator = make('translator', process.execPath, [SERVICE_MAIN('translator')], {
      ...telemetryEnv,
      PORT: String(ports.translator),
      ...opts.translatorEnv,
    });
    const workerProc = (i: number) => {
      const name = `worker-${i}`;
      const existing = procs.get(name);
      if (existing) return existing;
      const wp = ports.worker(i);
      return make(name, process.execPath, [SERVICE_MAIN('worker')], {
        ...telemetryEnv,
        ...temporalEnv,
        OTEL_SERVICE_NAME: 'worker',
        PORT: String(wp.http),
        WORKER_METRICS_PORT: String(wp.metrics),
        TRANSLATOR_URL: `http://127.0.0.1:${ports.translator}`,
        ...(existsSync(WORKFLOW_BUNDLE) && { WORKER_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE }),
        ...opts.workerEnv,
      });
    };
    const starter = make('starter', process.execPath, [SERVICE_MAIN('starter')], {
      ...telemetryEnv,
      ...temporalEnv,
      PORT: String(ports.starter),
      ...opts.starterEnv,
    });

    let workers = 0;
    const startWorker = async (i: number) => {
      const w = workerProc(i);
      if (!w.running) w.start();
      await waitFor(w.name, () => httpOk(`http://127.0.0.1:${ports.worker(i).http}/readyz`), 60_000, w);
      return w;
    };
    translator.start();
    starter.start();
    const initial = opts.workers ?? 1;
    await Promise.all([
      waitFor('translator', () => httpOk(`http://127.0.0.1:${ports.translator}/readyz`), 30_000, translator),
      waitFor('starter', () => httpOk(`http://127.0.0.1:${ports.starter}/readyz`), 30_000, starter),
      ...Array.from({ length: initial }, (_, i) => startWorker(i)),
    ]);
    workers = initial;

    // --- metrics backend (needs to know the worker ports) ------------------------
    const promConfig = path.join(opts.runDir, 'prometheus.yml');
    const writePromConfig = () => writeFileSync(promConfig, prometheusConfig(ports, workers, startTemporal));
    if (promBin) {
      writePromConfig();
      const p = make(
        'prometheus',
        promBin,
        [
          `--config.file=${promConfig}`,
          `--storage.tsdb.path=${path.join(opts.runDir, 'prometheus-data')}`,
          `--web.listen-address=127.0.0.1:${ports.prometheus}`,
          '--web.enable-lifecycle',
          '--enable-feature=exemplar-storage',
          '--storage.tsdb.retention.time=1d',
          '--log.level=warn',
        ],
        {},
      );
      p.start();
      await waitFor('prometheus', () => httpOk(`http://127.0.0.1:${ports.prometheus}/-/ready`), 30_000, p);
    }

    const urls: Record<string, string> = {
      'greeter API': `http://127.0.0.1:${ports.starter}/greetings`,
      translator: `http://127.0.0.1:${ports.translator}`,
      ...(startTemporal && { 'Temporal UI': `http://127.0.0.1:${ports.temporalUi}` }),
      ...(jaegerBin && { 'Jaeger query API': `http://127.0.0.1:${ports.jaegerQuery}/api/traces/<traceId>` }),
      ...(promBin && { Prometheus: `http://127.0.0.1:${ports.prometheus}` }),
    };
    const reloadPrometheus = async () => {
      if (!promBin) return;
      writePromConfig();
      await fetch(`http://127.0.0.1:${ports.prometheus}/-/reload`, { method: 'POST' });
    };
    return {
      ports,
      urls,
      temporalAddress,
      procs,
      jaeger: Boolean(jaegerBin),
      prometheus: Boolean(promBin),
      workerCount: () => workers,
      worker: (i) => procs.get(`worker-${i}`),
      startWorker,
      async setWorkers(n) {
        const starting: Promise<Proc>[] = [];
        for (let i = 0; i < n; i++) starting.push(startWorker(i));
        await Promise.all(starting);
        for (let i = workers - 1; i >= n; i--) await procs.get(`worker-${i}`)?.stop();
        workers = n;
        await reloadPrometheus();
      },
      reloadPrometheus,
      async stop() {
        await stopAll();
        process.off('exit', killAll);
      },
    };
  } catch (err) {
    await stopAll();
    process.off('exit', killAll);
    throw err;
  }
}

// --- npm start ---------------------------------------------------------------------

const HELP = `npm start -- [options]

Runs greeter locally on a real Temporal dev server: translator, workers, starter,
plus Jaeger and Prometheus when installed. Ctrl-C stops everything.

  --workers N                   worker processes (default 1)
  --translator-latency-ms MS    added translator latency (default 0)
  --translator-jitter-ms MS     latency jitter (default 0)
  --translator-failure-rate R   share of translator requests answering 503, 0..1 (default 0)
  --port-offset N               shift every port by N (default 0)
  --no-jaeger / --no-prometheus skip the trace / metrics backend
  --fresh                       start Temporal with an empty database
  -h, --help`;

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '1' },
      'translator-latency-ms': { type: 'string' },
      'translator-jitter-ms': { type: 'string' },
      'translator-failure-rate': { type: 'string' },
      'port-offset': { type: 'string', default: '0' },
      'no-jaeger': { type: 'boolean', default: false },
      'no-prometheus': { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const int = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
  const workers = int('workers', values.workers, 1, 32);
  const portOffset = int('port-offset', values['port-offset'], 0, 50_000);
  const translatorEnv: Record<string, string> = {};
  if (values['translator-latency-ms'] !== undefined) translatorEnv.TRANSLATOR_LATENCY_MS = values['translator-latency-ms'];
  if (values['translator-jitter-ms'] !== undefined) translatorEnv.TRANSLATOR_LATENCY_JITTER_MS = values['translator-jitter-ms'];
  if (values['translator-failure-rate'] !== undefined) translatorEnv.TRANSLATOR_FAILURE_RATE = values['translator-failure-rate'];

  const runDir = path.join(ROOT, '.greeter', 'run');
  const db = path.join(ROOT, '.greeter', 'temporal.db');
  mkdirSync(path.dirname(db), { recursive: true });
  if (values.fresh && existsSync(db)) spawnSync('rm', ['-f', db]);
  console.log(`[stack] starting greeter with ${workers} worker(s); logs in ${path.relative(process.cwd(), runDir)}/`);
  const started = Date.now();
  const stack = await startStack({
    workers,
    portOffset,
    translatorEnv,
    runDir,
    echo: true,
    temporalDb: db,
    jaeger: values['no-jaeger'] ? false : 'auto',
    prometheus: values['no-prometheus'] ? false : 'auto',
  });
  const width = Math.max(...Object.keys(stack.urls).map((k) => k.length));
  console.log(`\n[stack] ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  for (const [k, v] of Object.entries(stack.urls)) console.log(`  ${k.padEnd(width)}  ${v}`);
  if (!stack.jaeger) console.log('  (no Jaeger: run scripts/bootstrap.sh to build it)');
  if (!stack.prometheus) console.log('  (no Prometheus: install the prometheus package)');
  console.log(`\n  try:  curl -XPOST localhost:${stack.ports.starter}/greetings -H 'content-type: application/json' -d '{"name":"Maria"}'`);
  console.log(`  or:   TEMPORAL_ADDRESS=${stack.temporalAddress} npm run greet -- Maria\n  Ctrl-C stops everything.\n`);

  let stopping = false;
  const stop = async (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[stack] ${why}: stopping ...`);
    await stack.stop();
    console.log('[stack] stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('interrupted'));
  process.on('SIGTERM', () => void stop('terminated'));
  // A process that dies on its own takes the stack down: a half-running stack misleads.
  for (const p of stack.procs.values()) {
    void p.waitExit().then(() => {
      if (!stopping) void stop(`${p.name} exited unexpectedly with code ${p.exitCode}`, 1);
    });
  }
}

if (require.main === module) {
  cli().catch((err: unknown) => {
    console.error(`[stack] ${(err as Error).message}`);
    process.exit(1);
  });
}
