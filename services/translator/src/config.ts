import { loadConfig, readCommon, type CommonConfig, type Env } from '@greeter/shared';

export const LATENCY_DISTRIBUTIONS = ['uniform', 'normal', 'exponential'] as const;
export type LatencyDistribution = (typeof LATENCY_DISTRIBUTIONS)[number];

export interface TranslatorConfig extends CommonConfig {
  /** Wait after SIGTERM before closing the listener, so load balancers stop routing here first. */
  shutdownDelayMs: number;
  /** Experiment knobs, all off by default. */
  latencyMs: number;
  latencyJitterMs: number;
  latencyDistribution: LatencyDistribution;
  failureRate: number;
}

export function readConfig(env?: Env): TranslatorConfig {
  return loadConfig(
    (r) => ({
      ...readCommon(r, 9999),
      shutdownDelayMs: r.int('SHUTDOWN_DELAY_MS', 0, { min: 0, max: 60_000 }),
      latencyMs: r.int('TRANSLATOR_LATENCY_MS', 0, { min: 0, max: 60_000 }),
      latencyJitterMs: r.int('TRANSLATOR_LATENCY_JITTER_MS', 0, { min: 0, max: 60_000 }),
      latencyDistribution: r.oneOf('TRANSLATOR_LATENCY_DISTRIBUTION', LATENCY_DISTRIBUTIONS, 'uniform'),
      failureRate: r.float('TRANSLATOR_FAILURE_RATE', 0, 0, 1),
    }),
    env,
  );
}
