// Arrival schedules of the open-model scenarios (loadtest/k6/scenarios.ts, shared with k6):
// when each iteration starts, independent of how fast responses come back.

import type { Stage } from '../k6/scenarios';

// The scenario shapes themselves are defined once, with the k6 scripts.
export { parseDuration, rampStages, steadyStages, type ScenarioName, type Stage } from '../k6/scenarios';

/**
 * Arrival offsets in ms from the start, for a rate that starts at `startRate`/s and
 * moves linearly through the stages. Iteration k starts when the integral of the
 * rate reaches k (k = 0, 1, ...), so the first one starts at 0 as in k6's
 * arrival-rate executors. Lazy: long runs do not build an array.
 */
export function* arrivalOffsets(startRate: number, stages: readonly Stage[]): Generator<number> {
  let k = 0; // next iteration index
  let before = 0; // iterations (integral of the rate) before the current stage
  let t0 = 0;
  let r0 = startRate;
  for (const { durationMs, target: r1 } of stages) {
    if (durationMs <= 0) {
      r0 = r1;
      continue;
    }
    const d = durationMs / 1000;
    const total = ((r0 + r1) / 2) * d; // iterations in this stage
    // Solve before + r0·t + (r1−r0)·t²/(2d) = k for t in [0, d].
    while (k < before + total - 1e-9) {
      const need = k - before;
      const a = (r1 - r0) / (2 * d);
      let t: number;
      if (Math.abs(a) < 1e-12) t = need / r0;
      else t = (-r0 + Math.sqrt(Math.max(0, r0 * r0 + 4 * a * need))) / (2 * a);
      yield t0 + t * 1000;
      k++;
    }
    before += total;
    t0 += durationMs;
    r0 = r1;
  }
}

export function totalDurationMs(stages: readonly Stage[]): number {
  return stages.reduce((s, x) => s + x.durationMs, 0);
}
