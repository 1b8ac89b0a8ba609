// `npm run load`: runs a k6 scenario (smoke, steady, ramp) with the Node driver
// against a running starter and prints throughput, latency percentiles and errors.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  SCENARIO_DEFAULTS,
  SCENARIO_NAMES,
  parseDuration,
  rampMaxInFlight,
  rampStages,
  steadyMaxInFlight,
  steadyStages,
  type ScenarioName,
} from '../k6/scenarios';
import { formatSummary, runLoad, type LoadOptions } from './driver';

const D = SCENARIO_DEFAULTS;
const HELP = `npm run load -- [options]

Open-model load against POST /greetings: the scenarios of loadtest/k6/*.ts, defined once in
loadtest/k6/scenarios.ts (same defaults, same ramp).

  --scenario smoke|steady|ramp  default steady
  --url URL                     starter base URL (default http://127.0.0.1:8080)
  --rate N                      steady: arrivals per second (default ${D.steady.rate}); ramp: the peak (default ${D.ramp.peakRate})
  --duration D                  steady: e.g. 30s, 2m (default ${D.steady.duration})
  --start-rate N                ramp: starting rate (default ${D.ramp.startRate})
  --stage-duration D            ramp: each of the four steps and the hold (default ${D.ramp.stageDuration})
  --ramp-down D                 ramp: the way down to 0 (default ${D.ramp.rampDown})
  --warmup D                    leave requests started in the first D out of the figures (default 0s)
  --iterations N                smoke: sequential requests (default ${D.smoke.iterations})
  --max-in-flight N             cap on concurrent requests; arrivals above it are dropped (default as k6 maxVUs: steady rate x 5, at least 50; ramp peak x 5, at least 100)
  --timeout D                   per-request timeout (default 60s)
  --max-error-rate R            exit 99 when the error share is above R, as a k6 threshold would (default 0.01; smoke: 0)
  --json PATH                   also write the summary as JSON
  --dry-run                     print the planned load as JSON (scenario, rates, stages, caps) and exit
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
      rate: { type: 'string' },
      'start-rate': { type: 'string', default: String(D.ramp.startRate) },
      duration: { type: 'string', default: D.steady.duration },
      'stage-duration': { type: 'string', default: D.ramp.stageDuration },
      'ramp-down': { type: 'string', default: D.ramp.rampDown },
      warmup: { type: 'string', default: '0s' },
      iterations: { type: 'string', default: String(D.smoke.iterations) },
      'max-in-flight': { type: 'string' },
      timeout: { type: 'string', default: '60s' },
      'max-error-rate': { type: 'string' },
      json: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const scenario = values.scenario as ScenarioName;
  if (!SCENARIO_NAMES.includes(scenario))
    throw new Error(`--scenario must be smoke, steady or ramp, got ${JSON.stringify(values.scenario)}`);
  const rate = positive('rate', values.rate ?? String(scenario === 'ramp' ? D.ramp.peakRate : D.steady.rate));
  const durationMs = parseDuration(values.duration);
  const startRate = positive('start-rate', values['start-rate']);
  const base: LoadOptions = {
    url: values.url,
    maxInFlight: values['max-in-flight']
      ? positive('max-in-flight', values['max-in-flight'])
      : scenario === 'ramp'
        ? rampMaxInFlight(rate)
        : steadyMaxInFlight(rate),
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
            startRate,
            stages: rampStages(startRate, rate, parseDuration(values['stage-duration']), parseDuration(values['ramp-down'])),
          };
  if (values['dry-run']) {
    const { onProgress: _, ...plan } = opts;
    console.log(JSON.stringify({ scenario, ...plan }));
    return;
  }
  console.error(
    `[load] ${scenario} against ${values.url}: ${scenario === 'smoke' ? `${opts.iterations} requests` : scenario === 'steady' ? `${rate}/s for ${values.duration}` : `${startRate}/s up to ${rate}/s in steps of ${values['stage-duration']}`}`,
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
