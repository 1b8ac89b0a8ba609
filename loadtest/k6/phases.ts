// k6 closed-model phases: a fixed number of virtual users, each sending one greeting after the
// other, phase after phase (PHASES="32:210s,4:120s" = 32 users for 210 s, then 4 for 120 s).
// Throughput is then what the system can do at that concurrency, which is how the cluster suite
// shows it growing as the HPA adds workers, and what remains when the load drops.
import type { Options, Scenario } from 'k6/options';
import { SUMMARY_TREND_STATS, greet, summary, thresholds, type SummaryData } from './lib.ts';

interface Phase {
  vus: number;
  seconds: number;
}

function phases(raw: string): Phase[] {
  return raw.split(',').map((part) => {
    const m = /^\s*(\d+):(\d+)s\s*$/.exec(part);
    if (!m) throw new Error(`PHASES must look like "32:210s,4:120s" (users:seconds, comma separated), got ${JSON.stringify(raw)}`);
    return { vus: Number(m[1]), seconds: Number(m[2]) };
  });
}

const plan = phases(__ENV.PHASES || '8:30s');
const scenarios: Record<string, Scenario> = {};
let start = 0;
plan.forEach((p, i) => {
  scenarios[`phase${i + 1}`] = {
    executor: 'constant-vus',
    vus: p.vus,
    duration: `${p.seconds}s`,
    startTime: `${start}s`,
    // A greeting in flight at the end of its phase is waited for, never abandoned.
    gracefulStop: '90s',
  };
  start += p.seconds;
});

export const options: Options = {
  scenarios,
  thresholds: thresholds(),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export default function (): void {
  greet();
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summary('phases', data);
}
