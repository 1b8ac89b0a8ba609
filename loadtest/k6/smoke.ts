// k6 smoke test: a few greetings, every body checked; run first after each deploy.
import type { Options } from 'k6/options';
import { SUMMARY_TREND_STATS, envNumber, greet, summary, thresholds, type SummaryData } from './lib.ts';
import { SCENARIO_DEFAULTS } from './scenarios.ts';

export const options: Options = {
  scenarios: {
    smoke: {
      executor: 'shared-iterations',
      vus: 1,
      iterations: envNumber('ITERATIONS', SCENARIO_DEFAULTS.smoke.iterations),
      maxDuration: '60s',
    },
  },
  thresholds: { ...thresholds(), http_req_failed: ['rate==0'], checks: ['rate==1'] },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export default function (): void {
  greet();
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summary('smoke', data);
}
