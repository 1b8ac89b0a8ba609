// k6 steady load: a constant arrival rate (open model) for throughput and latency at a fixed offered load.
import type { Options } from 'k6/options';
import { SUMMARY_TREND_STATS, envCount, envDuration, envNumber, greet, summary, thresholds, type SummaryData } from './lib.ts';
import { SCENARIO_DEFAULTS, steadyMaxInFlight } from './scenarios.ts';

const rate = envNumber('RATE', SCENARIO_DEFAULTS.steady.rate);
// Enough VUs for rate × the p99 we tolerate; beyond MAX_VUS k6 drops iterations and counts them.
const maxVUs = envNumber('MAX_VUS', steadyMaxInFlight(rate));

export const options: Options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration: envDuration('DURATION', SCENARIO_DEFAULTS.steady.duration),
      preAllocatedVUs: Math.min(maxVUs, Math.ceil(rate * 2)),
      maxVUs,
    },
  },
  thresholds: {
    ...thresholds(),
    // At a load the system is sized for, nothing may be dropped.
    dropped_iterations: [`count<=${envCount('MAX_DROPPED', 0)}`],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export default function (): void {
  greet();
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summary('steady', data);
}
