// The local stack without Kubernetes: Temporal dev server, translator, N workers, starter,
// plus Jaeger and Prometheus when installed, every process supervised (a crashed one is
// restarted with backoff while the rest keeps running). Used by `npm start`, the tests
// and the load, bench and scale tools.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, WORKFLOW_BUNDLE, findOnPath, serviceMain } from './paths';
import { allocatePorts, fixedPorts, formatConflicts, portConflicts, type PortConflict, type Ports } from './ports';
import { prometheusConfig } from './prometheus';
import { Proc, httpOk, waitFor, type RestartEvent, type RestartPolicy } from './proc';
import { devServerArgs, devServerReady, removeDatabase } from './temporal';

export interface StackOptions {
  workers?: number;
  /** 'allocate' (default): free ports from the OS for this run; a number: the design ports shifted by it. */
  ports?: 'allocate' | number;
  /** Extra env for the translator, e.g. TRANSLATOR_LATENCY_MS. */
  translatorEnv?: Record<string, string>;
  /** Extra env for every worker, e.g. WORKER_MAX_CONCURRENT_ACTIVITIES. */
  workerEnv?: Record<string, string>;
  /** Extra env for worker i on top of `workerEnv` (the workers bench runs variants side by side). */
  workerEnvAt?: (i: number) => Record<string, string>;
  starterEnv?: Record<string, string>;
  /** 'auto' runs it when the binary is on PATH. */
  jaeger?: boolean | 'auto';
  prometheus?: boolean | 'auto';
  /** OTEL_SDK_DISABLED for the services (the tracing-cost benchmark turns it off). */
  tracing?: boolean;
  /** SQLite file for the dev server; in-memory when undefined. */
  temporalDb?: string;
  /** Start from an empty database: `temporalDb` and its -wal/-shm files are deleted (after the port check). */
  temporalFresh?: boolean;
  /** Where logs and generated configs go. */
  runDir: string;
  /** Print each process's lines prefixed with its name (npm start); otherwise only to files. */
  echo?: boolean;
  /** An already running Temporal (host:port) instead of starting one. */
  temporalAddress?: string;
  /** Restart crashed processes (default on); false leaves a crashed process down. */
  restart?: RestartPolicy | false;
}

/** Start-up refused because ports are taken; `conflicts` names each port and its holder. */
export class PortConflictError extends Error {
  constructor(readonly conflicts: PortConflict[]) {
    super(`ports already in use (is another greeter stack running?):\n${formatConflicts(conflicts)}`);
    this.name = 'PortConflictError';
  }
}

export interface Stack {
  ports: Ports;
  urls: Record<string, string>;
  temporalAddress: string;
  procs: Map<string, Proc>;
  jaeger: boolean;
  prometheus: boolean;
  /** 'crash', 'restart' and 'ready' (ready again after a restart), each with a RestartEvent. */
  events: EventEmitter<{ crash: [RestartEvent]; restart: [RestartEvent]; ready: [RestartEvent] }>;
  /** Restarts per process name (only processes that were restarted). */
  restarts(): Record<string, number>;
  workerCount(): number;
  /** Starts or stops workers (highest index first) until `n` run, waiting for readiness. */
  setWorkers(n: number): Promise<void>;
  startWorker(i: number): Promise<Proc>;
  worker(i: number): Proc | undefined;
  /** Writes the Prometheus config for the current processes and reloads it. */
  reloadPrometheus(): Promise<void>;
  /** Stops everything, front to back: starter, workers, translator, backends, Temporal. */
  stop(): Promise<void>;
}

const COLORS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];

export async function startStack(opts: StackOptions): Promise<Stack> {
  const ports = opts.ports === undefined || opts.ports === 'allocate' ? await allocatePorts() : fixedPorts(opts.ports);
  const initial = opts.workers ?? 1;
  mkdirSync(opts.runDir, { recursive: true });

  const wantJaeger = opts.jaeger ?? 'auto';
  const jaegerBin = wantJaeger === false ? undefined : findOnPath('jaeger');
  if (wantJaeger === true && !jaegerBin) throw new Error('jaeger is not on PATH (run scripts/bootstrap.sh)');
  const wantProm = opts.prometheus ?? 'auto';
  const promBin = wantProm === false ? undefined : findOnPath('prometheus');
  if (wantProm === true && !promBin) throw new Error('prometheus is not on PATH (run scripts/bootstrap.sh)');
  const startTemporal = opts.temporalAddress === undefined;
  const temporalBin = startTemporal ? findOnPath('temporal') : undefined;
  if (startTemporal && !temporalBin) throw new Error('temporal (the Temporal CLI) is not on PATH (run scripts/bootstrap.sh)');

  // Refuse before starting anything: a second stack on the same ports would only half start.
  const wanted: Array<{ use: string; port: number }> = [
    ...(startTemporal
      ? [
          { use: 'temporal gRPC', port: ports.temporal },
          { use: 'temporal UI', port: ports.temporalUi },
          { use: 'temporal metrics', port: ports.temporalMetrics },
        ]
      : []),
    ...(jaegerBin
      ? [
          { use: 'jaeger OTLP', port: ports.jaegerOtlp },
          { use: 'jaeger query', port: ports.jaegerQuery },
          { use: 'jaeger query gRPC', port: ports.jaegerQueryGrpc },
          { use: 'jaeger health', port: ports.jaegerHealth },
        ]
      : []),
    { use: 'translator', port: ports.translator },
    { use: 'starter', port: ports.starter },
    ...(promBin ? [{ use: 'prometheus', port: ports.prometheus }] : []),
  ];
  for (let i = 0; i < initial; i++) {
    const w = await ports.prepareWorker(i);
    wanted.push({ use: `worker-${i} metrics`, port: w.metrics }, { use: `worker-${i} http`, port: w.http });
  }
  const conflicts = await portConflicts(wanted);
  if (conflicts.length > 0) throw new PortConflictError(conflicts);
  // Only now: a refused second start must not delete the running stack's database.
  if (opts.temporalFresh && opts.temporalDb) await removeDatabase(opts.temporalDb);

  const echo = opts.echo ?? false;
  const procs = new Map<string, Proc>();
  const events = new EventEmitter<{ crash: [RestartEvent]; restart: [RestartEvent]; ready: [RestartEvent] }>();
  let color = 0;
  const make = (name: string, cmd: string, args: string[], env: Record<string, string | undefined>, ready?: () => Promise<boolean>) => {
    const p = new Proc({
      name,
      cmd,
      args,
      env,
      logDir: opts.runDir,
      echo,
      color: COLORS[color++ % COLORS.length],
      ...(ready && { ready }),
    });
    if (opts.restart !== false) p.supervise(opts.restart ?? {});
    for (const e of ['crash', 'restart', 'ready'] as const) p.on(e, (ev: RestartEvent) => events.emit(e, ev));
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
    // --- infrastructure ---------------------------------------------------
    const temporalAddress = opts.temporalAddress ?? `127.0.0.1:${ports.temporal}`;
    const waits: Promise<void>[] = [];
    if (temporalBin) {
      const args = devServerArgs({
        port: ports.temporal,
        uiPort: ports.temporalUi,
        metricsPort: ports.temporalMetrics,
        ...(opts.temporalDb && { dbFile: opts.temporalDb }),
      });
      const ready = () => devServerReady(temporalBin, temporalAddress);
      const t = make('temporal', temporalBin, args, {}, ready);
      t.start();
      waits.push(waitFor('temporal dev server', ready, 60_000, t));
    }
    if (jaegerBin) {
      const ready = () => httpOk(`http://127.0.0.1:${ports.jaegerQuery}/api/services`);
      const j = make(
        'jaeger',
        jaegerBin,
        ['--config', `file:${path.join(ROOT, 'scripts', 'local', 'jaeger.yaml')}`],
        {
          JAEGER_OTLP_PORT: String(ports.jaegerOtlp),
          JAEGER_QUERY_PORT: String(ports.jaegerQuery),
          JAEGER_QUERY_GRPC_PORT: String(ports.jaegerQueryGrpc),
          JAEGER_HEALTH_PORT: String(ports.jaegerHealth),
        },
        ready,
      );
      j.start();
      waits.push(waitFor('jaeger', ready, 30_000, j));
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
    const readyz = (port: number) => () => httpOk(`http://127.0.0.1:${port}/readyz`);
    const translator = make(
      'translator',
      process.execPath,
      [serviceMain('translator')],
      { ...telemetryEnv, PORT: String(ports.translator), ...opts.translatorEnv },
      readyz(ports.translator),
    );
    const workerProc = async (i: number) => {
      const name = `worker-${i}`;
      const existing = procs.get(name);
      if (existing) return existing;
      const wp = await ports.prepareWorker(i);
      return make(
        name,
        process.execPath,
        [serviceMain('worker')],
        {
          ...telemetryEnv,
          ...temporalEnv,
          OTEL_SERVICE_NAME: 'worker',
          PORT: String(wp.http),
          WORKER_METRICS_PORT: String(wp.metrics),
          TRANSLATOR_URL: `http://127.0.0.1:${ports.translator}`,
          ...(existsSync(WORKFLOW_BUNDLE) && { WORKER_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE }),
          ...opts.workerEnv,
          ...opts.workerEnvAt?.(i),
        },
        readyz(wp.http),
      );
    };
    const starter = make(
      'starter',
      process.execPath,
      [serviceMain('starter')],
      { ...telemetryEnv, ...temporalEnv, PORT: String(ports.starter), ...opts.starterEnv },
      readyz(ports.starter),
    );

    let workers = 0;
    const startWorker = async (i: number) => {
      const w = await workerProc(i);
      if (!w.running) w.start();
      await waitFor(w.name, readyz(ports.worker(i).http), 60_000, w);
      return w;
    };
    translator.start();
    starter.start();
    await Promise.all([
      waitFor('translator', readyz(ports.translator), 30_000, translator),
      waitFor('starter', readyz(ports.starter), 30_000, starter),
      ...Array.from({ length: initial }, (_, i) => startWorker(i)),
    ]);
    workers = initial;

    // --- metrics backend (needs to know the worker ports) ------------------------
    const promConfig = path.join(opts.runDir, 'prometheus.yml');
    const writePromConfig = () => writeFileSync(promConfig, prometheusConfig(ports, workers, startTemporal));
    if (promBin) {
      writePromConfig();
      const ready = () => httpOk(`http://127.0.0.1:${ports.prometheus}/-/ready`);
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
        ready,
      );
      p.start();
      await waitFor('prometheus', ready, 30_000, p);
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
      events,
      restarts: () => Object.fromEntries([...procs.values()].filter((p) => p.restarts > 0).map((p) => [p.name, p.restarts])),
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
