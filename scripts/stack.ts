// `npm start`: the local stack (scripts/devstack) in the foreground. Crashed processes are
// restarted with backoff and counted; only Ctrl-C (SIGINT/SIGTERM) stops the stack.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_DIR, PortConflictError, startStack, type RestartEvent } from './devstack';

const HELP = `npm start -- [options]

Runs greeter locally on a real Temporal dev server: translator, workers, starter,
plus Jaeger and Prometheus when installed. A process that crashes is restarted with
exponential backoff (0.5 s, 1 s, 2 s, ... up to 30 s) while the rest keeps running;
Ctrl-C stops everything, front to back.

  --workers N                   worker processes (default 1)
  --translator-latency-ms MS    added translator latency (default 0)
  --translator-jitter-ms MS     latency jitter (default 0)
  --translator-failure-rate R   share of translator requests answering 503, 0..1 (default 0)
  --port-offset N               shift every port by N (default 0)
  --no-jaeger / --no-prometheus skip the trace / metrics backend
  --fresh                       start Temporal with an empty database
  -h, --help`;

/** Exit status when the ports are taken (EX_TEMPFAIL: try again once the other stack is gone). */
export const EXIT_PORTS_TAKEN = 75;

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

  // One run folder per port plan, so a second stack on other ports does not mix logs with the first.
  const suffix = portOffset === 0 ? '' : `-${portOffset}`;
  const runDir = path.join(LOCAL_DIR, `run${suffix}`);
  const db = path.join(LOCAL_DIR, `temporal${suffix}.db`);
  mkdirSync(LOCAL_DIR, { recursive: true });
  console.log(`[stack] starting greeter with ${workers} worker(s); logs in ${path.relative(process.cwd(), runDir)}/`);
  const started = Date.now();
  let stack;
  try {
    stack = await startStack({
      workers,
      ports: portOffset,
      translatorEnv,
      runDir,
      echo: true,
      temporalDb: db,
      // Deleted only once the ports are known to be free: a refused second start touches nothing.
      temporalFresh: values.fresh,
      jaeger: values['no-jaeger'] ? false : 'auto',
      prometheus: values['no-prometheus'] ? false : 'auto',
    });
  } catch (err) {
    if (err instanceof PortConflictError) {
      console.error(`[stack] not starting: ${err.message}`);
      console.error(`[stack] stop the other stack (Ctrl-C in its terminal) or pick other ports with --port-offset N`);
      process.exit(EXIT_PORTS_TAKEN);
    }
    throw err;
  }
  const width = Math.max(...Object.keys(stack.urls).map((k) => k.length));
  console.log(`\n[stack] ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  for (const [k, v] of Object.entries(stack.urls)) console.log(`  ${k.padEnd(width)}  ${v}`);
  if (!stack.jaeger) console.log('  (no Jaeger: run scripts/bootstrap.sh to build it)');
  if (!stack.prometheus) console.log('  (no Prometheus: install the prometheus package)');
  console.log(`\n  processes: ${[...stack.procs.values()].map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  console.log(`\n  try:  curl -XPOST localhost:${stack.ports.starter}/greetings -H 'content-type: application/json' -d '{"name":"Maria"}'`);
  console.log(`  or:   TEMPORAL_ADDRESS=${stack.temporalAddress} npm run greet -- Maria\n  Ctrl-C stops everything.\n`);

  const counts = () =>
    Object.entries(stack.restarts())
      .map(([n, c]) => `${n}=${c}`)
      .join(' ') || 'none';
  stack.events.on('restart', (e: RestartEvent) => {
    const p = stack.procs.get(e.name);
    console.log(`[stack] ${e.name} restarted (restart #${e.restarts}, pid ${p?.pid}); restarts: ${counts()}`);
  });
  stack.events.on('ready', (e: RestartEvent) => console.log(`[stack] ${e.name} ready again after restart #${e.restarts}`));

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) {
      // A second Ctrl-C: no more waiting.
      for (const p of stack.procs.values()) p.kill();
      process.exit(130);
    }
    stopping = true;
    console.log(`\n[stack] ${why}: stopping ...`);
    await stack.stop();
    console.log(`[stack] stopped; restarts during the run: ${counts()}`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('interrupted'));
  process.on('SIGTERM', () => void stop('terminated'));
}

if (require.main === module) {
  cli().catch((err: unknown) => {
    console.error(`[stack] ${(err as Error).message}`);
    process.exit(1);
  });
}
