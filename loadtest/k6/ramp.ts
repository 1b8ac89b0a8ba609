// k6 ramp: a ramping arrival rate that climbs past the system's capacity to find
// saturation (watch throughput flatten, p95 climb and dropped_iterations appear).
import type { Options } from 'k6/options';
import { SUMMARY_TREND_STATS, envDuration, envNumber, greet, summary, thresholds, type SummaryData } from './lib.ts';

const start = envNumber('START_RATE', 5);
const peak = envNumber('PEAK_RATE', 100);
const stage = envDuration('STAGE_DURATION', '30s');
const maxVUs = envNumber('MAX_VUS', Math.max(100, Math.ceil(peak * 5)));

export const options: Options = {
  scenarios: {
    ramp: {
      executor: 'ramping-arrival-rate',
      startRate: start,
      timeUnit: '1s',
      preAllocatedVUs: Math.min(maxVUs, Math.ceil(start * 2) + 10),
      maxVUs,
      // Four even steps up to the peak, a hold at the peak, then down.
      stages: [
        { target: Math.round(start + (peak - start) * 0.25), duration: stage },
        { target: Math.round(start + (peak - start) * 0.5), duration: stage },
        { target: Math.round(start + (peak - start) * 0.75), duration: stage },
        { target: peak, duration: stage },
        { target: peak, duration: stage },
        { target: 0, duration: '10s' },
      ],
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
