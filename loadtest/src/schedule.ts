// Arrival schedules of the open-model scenarios (same shapes as the k6 scripts):
// when each iteration starts, independent of how fast responses come back.

/** One segment of a piecewise-linear arrival rate: from the previous target to `target` (per second) over `durationMs`. */
export interface Stage {
  durationMs: number;
  target: number;
}

export type ScenarioName = 'smoke' | 'steady' | 'ramp';

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

/** The steady scenario: `rate`/s for `durationMs`. */
export function steadyStages(rate: number, durationMs: number): Stage[] {
  return [{ durationMs, target: rate }];
}

/**
 * The ramp scenario, as in loadtest/k6/ramp.ts: four even steps from `startRate` to
 * `peak`, a hold at the peak (each `durationMs / 5`).
 */
export function rampStages(startRate: number, peak: number, durationMs: number): Stage[] {
  const step = durationMs / 5;
  const at = (f: number) => startRate + (peak - startRate) * f;
  return [
    { durationMs: step, target: at(0.25) },
    { durationMs: step, target: at(0.5) },
    { durationMs: step, target: at(0.75) },
    { durationMs: step, target: peak },
    { durationMs: step, target: peak },
  ];
}

/** Parses 500ms, 30s, 2m, 1h or 1m30s into milliseconds. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let ms = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    ms += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (text.length === 0 || matched !== text.length)
    throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 500ms, 30s, 2m, 1m30s)`);
  return ms;
}
