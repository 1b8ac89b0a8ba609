// k6 ramp: a ramping arrival rate that climbs past the system's capacity to find
// saturation (watch throughput flatten, p95 climb and dropped_iterations appear).
import type { Options } from 'k6/options';
import { SUMMARY_TREND_STATS, envDuration, envNumber, greet, summary, thresholds, type SummaryData } from './lib.ts';
import { SCENARIO_DEFAULTS, parseDuration, rampMaxInFlight, rampStages } from './scenarios.ts';

const D = SCENARIO_DEFAULTS.ramp;
const start = envNumber('START_RATE', D.startRate);
const peak = envNumber('PEAK_RATE', D.peakRate);
const stageMs = parseDuration(envDuration('STAGE_DURATION', D.stageDuration));
const rampDownMs = parseDuration(envDuration('RAMP_DOWN', D.rampDown));
const maxVUs = envNumber('MAX_VUS', rampMaxInFlight(peak));

export const options: Options = {
  scenarios: {
    ramp: {
      executor: 'ramping-arrival-rate',
      startRate: start,
      timeUnit: '1s',
      preAllocatedVUs: Math.min(maxVUs, Math.ceil(start * 2) + 10),
      maxVUs,
      // Four even steps up to the peak, a hold at the peak, then down (the shared definition).
      stages: rampStages(start, peak, stageMs, rampDownMs).map((s) => ({ target: s.target, duration: `${s.durationMs}ms` })),
    },
  },
  // Saturation is the point of the ramp: only errors fail it, latency gates are loose.
  thresholds: { ...thresholds(), 'http_req_duration{name:POST /greetings}': [`p(99)<${envNumber('P99_MS', 30_000)}`] },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export default function (): void {
  greet();
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summary('ramp', data);
}
