// The translations themselves, and the experiment knobs that make the translator
// slow or flaky on purpose (for load and retry experiments).
import type { LatencyDistribution } from './config';

export const PHRASES = {
  greeting: (name: string) => `¡Hola, ${name}!`,
  farewell: (name: string) => `¡Adiós, ${name}!`,
} as const;
export type PhraseKind = keyof typeof PHRASES;

export interface Knobs {
  latencyMs: number;
  latencyJitterMs: number;
  latencyDistribution: LatencyDistribution;
  failureRate: number;
}

/** Added latency for one request, in ms (never negative). */
export function sampleLatency(k: Knobs, random: () => number = Math.random): number {
  if (k.latencyMs === 0 && k.latencyJitterMs === 0) return 0;
  switch (k.latencyDistribution) {
    case 'uniform':
      return k.latencyMs + random() * k.latencyJitterMs;
    case 'normal': {
      // Box-Muller; jitter is the standard deviation.
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return Math.max(0, k.latencyMs + z * k.latencyJitterMs);
    }
    case 'exponential':
      return k.latencyMs - Math.log(1 - random()) * k.latencyJitterMs;
  }
}

export function shouldFail(k: Knobs, random: () => number = Math.random): boolean {
  return k.failureRate > 0 && random() < k.failureRate;
}
