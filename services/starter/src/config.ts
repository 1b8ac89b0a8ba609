import { loadConfig, readCommon, type CommonConfig, type Env } from '@greeter/shared';
import { readTemporal, type TemporalConfig } from '@greeter/shared/temporal';

export interface StarterConfig extends CommonConfig {
  temporal: TemporalConfig;
  /** Wait after SIGTERM before closing the listener, so load balancers stop routing here first. */
  shutdownDelayMs: number;
  /** How long POST /greetings waits for the workflow before answering 504 (the workflow goes on). */
  resultTimeoutMs: number;
  /** Deadline for each call to Temporal (start, describe); past it the API answers 503. */
  rpcTimeoutMs: number;
  maxBodyBytes: number;
}

export function readConfig(env?: Env): StarterConfig {
  return loadConfig(
    (r) => ({
      ...readCommon(r, 8080),
      temporal: readTemporal(r),
      shutdownDelayMs: r.int('SHUTDOWN_DELAY_MS', 0, { min: 0, max: 60_000 }),
      resultTimeoutMs: r.int('STARTER_RESULT_TIMEOUT_MS', 60_000, { min: 100, max: 3_600_000 }),
      rpcTimeoutMs: r.int('STARTER_RPC_TIMEOUT_MS', 5_000, { min: 100, max: 600_000 }),
      maxBodyBytes: r.int('STARTER_MAX_BODY_BYTES', 16_384, { min: 64, max: 10_485_760 }),
    }),
    env,
  );
}
