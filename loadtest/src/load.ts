// `npm run load`: runs a k6 scenario (smoke, steady, ramp) with the Node driver
// against a running starter and prints throughput, latency percentiles and errors.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatSummary, runLoad, type LoadOptions } from './driver';
import { parseDuration, rampStages, steadyStages, type ScenarioName } from './schedule';

const HELP = `npm run load -- [options]

Open-model load against POST /greetings (same scenarios as loadtest/k6/*.ts).

  --scenario smoke|steady|ramp  default steady
  --url URL                     starter base URL (default http://127.0.0.1:8080)
  --rate N                      steady: arrivals per second; ramp: the peak (default 20)
  --start-rate N                ramp: starting rate (default 1)
  --duration D                  e.g. 30s, 2m (default 30s)
  --warmup D                    leave requests started in the first D out of the figures (default 0s)
  --iterations N                smoke: sequential requests (default 5)
  --max-in-flight N             cap on concurrent requests; arrivals above it are dropped (default rate x 5, at least 50)
  --timeout D                   per-request timeout (default 60s)
  --max-error-rate R            exit 99 when the error share is above R, as a k6 threshold would (default 0.01; smoke: 0)
  --json PATH                   also write the summary as JSON
  -h, --help`;

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'steady' },
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      rate: { type: 'string', default: '20' },
      'start-rate': { type: 'string', default: '1' },
      duration: { type: 'string', default: '30s' },
      warmup: { type: 'string', default: '0s' },
      iterations: { type: 'string', default: '5' },
      'max-in-flight': { type: 'string' },
      timeout: { type: 'string', default: '60s' },
      'max-error-rate': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const scenario = values.scenario as ScenarioName;
  if (!['smoke', 'steady', 'ramp'].includes(scenario))
    throw new Error(`--scenario must be smoke, steady or ramp, got ${JSON.stringify(values.scenario)}`);
  const rate = positive('rate', values.rate);
  const durationMs = parseDuration(values.duration);
  const base: LoadOptions = {
    url: values.url,
    maxInFlight: values['max-in-flight'] ? positive('max-in-flight', values['max-in-flight']) : Math.max(50, Math.ceil(rate * 5)),
    requestTimeoutMs: parseDuration(values.timeout),
    warmupMs: parseDuration(values.warmup),
    onProgress: (line) => console.error(line),
  };
  const opts: LoadOptions =
    scenario === 'smoke'
      ? { ...base, iterations: positive('iterations', values.iterations), warmupMs: 0 }
      : scenario === 'steady'
        ? { ...base, startRate: rate, stages: steadyStages(rate, durationMs) }
        : {
            ...base,
            startRate: positive('start-rate', values['start-rate']),
            stages: rampStages(positive('start-rate', values['start-rate']), rate, durationMs),
          };
  console.error(
    `[load] ${scenario} against ${values.url}: ${scenario === 'smoke' ? `${opts.iterations} requests` : `${rate}/s for ${values.duration}`}`,
  );
  const summary = await runLoad(opts);
  console.log(formatSummary(`greeter ${scenario}`, summary));
  if (values.json) {
    writeFileSync(values.json, JSON.stringify({ scenario, ...summary }, null, 2) + '\n');
    console.log(`  summary      ${values.json}`);
  }
  const maxErrorRate = values['max-error-rate'] !== undefined ? Number(values['max-error-rate']) : scenario === 'smoke' ? 0 : 0.01;
  const measured = summary.ok + summary.failed;
  const errorRate = measured === 0 ? 1 : summary.failed / measured;
  if (errorRate > maxErrorRate) {
    console.log(`  threshold    error rate ${(errorRate * 100).toFixed(2)} % is above ${(maxErrorRate * 100).toFixed(2)} %`);
    process.exitCode = 99;
  }
}

main().catch((err: unknown) => {
  console.error(`[load] ${(err as Error).message}`);
  process.exit(1);
});
