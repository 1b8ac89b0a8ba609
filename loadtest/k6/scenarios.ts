// The load scenarios, defined once for the k6 scripts (loadtest/k6/*.ts import it as
// ./scenarios.ts) and the Node driver (loadtest/src): defaults, the arrival-rate stages and the
// concurrency caps. Plain TypeScript without imports, so both runtimes load it as it is.

/** One segment of a piecewise-linear arrival rate: from the previous target to `target` (per second) over `durationMs`. */
export interface Stage {
  durationMs: number;
  target: number;
}

export type ScenarioName = 'smoke' | 'steady' | 'ramp';
export const SCENARIO_NAMES: readonly ScenarioName[] = ['smoke', 'steady', 'ramp'];

/** Defaults of every knob (k6: __ENV names in brackets; Node driver: the `npm run load` flags). */
export const SCENARIO_DEFAULTS = {
  /** Sequential greetings [ITERATIONS]. */
  smoke: { iterations: 5 },
  /** Arrivals per second [RATE] for a duration [DURATION]. */
  steady: { rate: 20, duration: '1m' },
  /** From START_RATE up to PEAK_RATE in four even steps of STAGE_DURATION, a hold at the peak, then down in RAMP_DOWN. */
  ramp: { startRate: 5, peakRate: 100, stageDuration: '30s', rampDown: '10s' },
} as const;

/** Parses 500ms, 30s, 2m, 1h or 1m30s into milliseconds. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    ms += Number(m[1]) * (units[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (text.length === 0 || matched !== text.length)
    throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 500ms, 30s, 2m, 1m30s)`);
  return ms;
}

/** The steady scenario: `rate`/s for `durationMs`. */
export function steadyStages(rate: number, durationMs: number): Stage[] {
  return [{ durationMs, target: rate }];
}

/** The ramp scenario: four even steps from `startRate` to `peak` (each `stageMs`), a hold at the peak, then down to 0. */
export function rampStages(
  startRate: number,
  peak: number,
  stageMs: number,
  rampDownMs = parseDuration(SCENARIO_DEFAULTS.ramp.rampDown),
): Stage[] {
  const at = (f: number) => Math.round(startRate + (peak - startRate) * f);
  return [
    { durationMs: stageMs, target: at(0.25) },
    { durationMs: stageMs, target: at(0.5) },
    { durationMs: stageMs, target: at(0.75) },
    { durationMs: stageMs, target: peak },
    { durationMs: stageMs, target: peak },
    { durationMs: rampDownMs, target: 0 },
  ];
}

/** Concurrency cap of the steady scenario (k6 maxVUs, the driver's --max-in-flight): room for rate × a 5 s p99. */
export function steadyMaxInFlight(rate: number): number {
  return Math.max(50, Math.ceil(rate * 5));
}

/** Concurrency cap of the ramp scenario. */
export function rampMaxInFlight(peak: number): number {
  return Math.max(100, Math.ceil(peak * 5));
}
