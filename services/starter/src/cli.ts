// `greet <name>`: runs GreetSomeone through Temporal and prints the result, like the
// original example's client. Exit codes: 0 ok, 2 usage, 1 failure, 78 bad config.
import { startTelemetry } from '@greeter/shared/telemetry';
import pkg from '../package.json';

const USAGE = `usage: greet [--workflow-id ID] [--json] NAME

Runs the GreetSomeone workflow on Temporal and prints its result. Temporal is
configured as the temporal CLI is: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY, TEMPORAL_TLS*, or a temporal.toml profile (TEMPORAL_PROFILE,
TEMPORAL_CONFIG_FILE); TEMPORAL_TASK_QUEUE is greeter's own.`;

interface Args {
  name?: string;
  workflowId?: string;
  json: boolean;
}

export function parseArgs(argv: string[]): Args | string {
  const args: Args = { json: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') args.json = true;
    else if (a === '--workflow-id') {
      const v = argv[++i];
      if (v === undefined) return '--workflow-id needs a value';
      args.workflowId = v;
    } else if (a === '-h' || a === '--help') return '';
    else if (a.startsWith('--')) return `unknown option ${a}`;
    else rest.push(a);
  }
  if (rest.length !== 1) return rest.length === 0 ? 'NAME is required' : `expected one NAME, got ${rest.length} (quote names with spaces)`;
  args.name = rest[0];
  return args;
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed ? `greet: ${parsed}\n\n` : ''}${USAGE}\n`);
    return parsed ? 2 : 0;
  }
  const telemetry = startTelemetry({ serviceName: 'greet-cli', serviceVersion: pkg.version });
  // Loaded after telemetry starts, so their http/grpc modules are instrumented.
  const { validateName, loadConfig, requireFiles } = require('@greeter/shared') as typeof import('@greeter/shared');
  const { readTemporal, temporalFiles } = require('@greeter/shared/temporal') as typeof import('@greeter/shared/temporal');
  const { createClient } = require('./temporal') as typeof import('./temporal');
  const { greet, GreetError } = require('./greet') as typeof import('./greet');
  const problem = validateName(parsed.name);
  if (problem) {
    process.stderr.write(`greet: ${problem}\n`);
    return 2;
  }
  let temporal;
  try {
    temporal = loadConfig((r) => readTemporal(r));
    requireFiles(temporalFiles(temporal));
  } catch (err) {
    process.stderr.write(`greet: ${(err as Error).message}\n`);
    return 78;
  }
  const client = createClient(temporal, telemetry);
  try {
    const g = await telemetry.tracer.startActiveSpan('greet-cli', async (span) => {
      try {
        return await greet(
          client,
          { name: parsed.name as string, ...(parsed.workflowId !== undefined && { workflowId: parsed.workflowId }) },
          { taskQueue: temporal.taskQueue, resultTimeoutMs: 120_000, rpcTimeoutMs: 10_000 },
        );
      } finally {
        span.end();
      }
    });
    process.stdout.write(parsed.json ? `${JSON.stringify(g)}\n` : `Workflow result:\n${g.result}\n`);
    return 0;
  } catch (err) {
    const where = err instanceof GreetError ? ` (workflow ${err.workflowId})` : '';
    process.stderr.write(`greet: ${(err as Error).message}${where}\n`);
    return 1;
  } finally {
    await client.connection.close();
    await telemetry.shutdown();
  }
}

void main().then((code) => process.exit(code));
