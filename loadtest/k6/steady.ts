// k6 steady load: a constant arrival rate (open model) for throughput and latency at a fixed offered load.
import type { Options } from 'k6/options';
import { SUMMARY_TREND_STATS, envCount, envDuration, envNumber, greet, summary, thresholds, type SummaryData } from './lib.ts';

const rate = envNumber('RATE', 20);
// Enough VUs for rate × the p99 we tolerate; beyond MAX_VUS k6 drops iterations and counts them.
const maxVUs = envNumber('MAX_VUS', Math.max(50, Math.ceil(rate * 5)));

export const options: Options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration: envDuration('DURATION', '1m'),
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
