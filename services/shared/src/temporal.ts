// How the worker, the starter and the CLI reach Temporal: the standard client configuration
// that the temporal CLI and every Temporal SDK read (@temporalio/envconfig), i.e. the
// TEMPORAL_* variables over an optional temporal.toml profile, checked so that every bad
// value is named at start-up. A subpath of its own (@greeter/shared/temporal), so the
// translator never loads the Temporal SDK. @temporalio/envconfig is declared by the worker and
// the starter, not by @greeter/shared: declared here (even as an optional peer) npm installs it
// into the translator's image too (test/chart/dockerfile.test.ts).
import { existsSync } from 'node:fs';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { HOST_PORT, isHostPort, raw, type Env, type EnvReader } from './config';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from './contract';
import type { Logger } from './log';

/** Greeter's own names before the standard ones; set, they stop start-up instead of being ignored. */
export const RENAMED_TEMPORAL_VARIABLES: Readonly<Record<string, string>> = {
  TEMPORAL_TLS_CERT_PATH: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY_PATH: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA_PATH: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
};

/** Standard variables greeter cannot honour with the TypeScript SDK; set, they stop start-up. */
export const UNSUPPORTED_TEMPORAL_VARIABLES: Readonly<Record<string, string>> = {
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'unset: the TypeScript SDK cannot skip host verification; set TEMPORAL_TLS_SERVER_NAME instead',
  TEMPORAL_CODEC_ENDPOINT: 'unset: greeter uses no remote payload codec',
  TEMPORAL_CODEC_AUTH: 'unset: greeter uses no remote payload codec',
};

/**
 * Standard variables that can carry PEM data inline. The chart never sets them (it mounts
 * files from Secrets, so no secret is in values); they work everywhere else.
 */
export const INLINE_TLS_VARIABLES = [
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
] as const;

export interface TemporalConfig {
  address: string;
  namespace: string;
  /** Greeter's own: the task queue the worker polls and the starter starts workflows on. */
  taskQueue: string;
  /** Where the settings came from, for start-up logs, e.g. `profile "prod" of /etc/temporal/temporal.toml`. */
  source: string;
  /** TLS on (explicitly, or implied by an API key or client certificate). */
  tls: boolean;
  /** The resolved profile, environment applied, as envconfig turns it into connection options. */
  profile: ClientConfigProfile;
}

// envconfig's own boolean reading: '1' and 'true' are true, anything else false. Anything
// other than these four is refused, so that "yes" or "TRUE" cannot silently mean false.
const BOOLEANS = ['true', 'false', '1', '0'];
const isTrue = (v: string) => v === 'true' || v === '1';

/**
 * The env as envconfig reads it, with greeter's rule that an empty value is unset (the
 * chart renders optional values as empty strings; envconfig would take "" as an address).
 */
function envView(env: Env): Record<string, string> {
  return new Proxy(
    {},
    {
      get: (_t, k) => (typeof k === 'string' ? raw(env, k) : undefined),
      ownKeys: () => Reflect.ownKeys(env).filter((k) => typeof k === 'string' && raw(env, k) !== undefined),
      getOwnPropertyDescriptor: (_t, k) =>
        typeof k === 'string' && raw(env, k) !== undefined ? { value: raw(env, k), enumerable: true, configurable: true } : undefined,
    },
  );
}

function describeSource(env: Env): string {
  const file = raw(env, 'TEMPORAL_CONFIG_FILE');
  const profile = raw(env, 'TEMPORAL_PROFILE') ?? 'default';
  return file ? `profile "${profile}" of ${file}` : 'environment (and the default temporal.toml, if any)';
}

/** Reads the Temporal client configuration, recording every bad variable on `r`. */
export function readTemporal(r: EnvReader): TemporalConfig {
  const env = r.env;
  for (const [old, now] of Object.entries(RENAMED_TEMPORAL_VARIABLES)) {
    const v = raw(env, old);
    if (v !== undefined) r.reject(old, v, `no such variable any more: use the standard ${now}`);
  }
  for (const [name, expected] of Object.entries(UNSUPPORTED_TEMPORAL_VARIABLES)) {
    const v = raw(env, name);
    if (v === undefined) continue;
    if (name === 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION' && !BOOLEANS.includes(v)) r.reject(name, v, BOOLEANS.join(', '));
    else if (name !== 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION' || isTrue(v)) r.reject(name, v, expected);
  }
  const tlsVar = raw(env, 'TEMPORAL_TLS');
  if (tlsVar !== undefined && !BOOLEANS.includes(tlsVar)) r.reject('TEMPORAL_TLS', tlsVar, BOOLEANS.join(', '));
  const file = raw(env, 'TEMPORAL_CONFIG_FILE');
  // envconfig skips a missing file silently; a file that was named must be there.
  const fileMissing = file !== undefined && !existsSync(file);
  if (fileMissing) r.reject('TEMPORAL_CONFIG_FILE', file, 'an existing temporal.toml file');

  let profile: ClientConfigProfile = {};
  if (!fileMissing) {
    try {
      profile = loadClientConfigProfile({ overrideEnvVars: envView(env), configFileStrict: true });
    } catch (err) {
      const message = (err as Error).message;
      const both = /Cannot specify both (\w+)_path and \w+_data/.exec(message);
      if (/^Profile '.*' not found/.test(message)) {
        r.reject('TEMPORAL_PROFILE', raw(env, 'TEMPORAL_PROFILE'), `a profile defined in ${file ?? 'the temporal.toml file'}`);
      } else if (both) {
        const v = `TEMPORAL_TLS_${both[1]!.toUpperCase()}`;
        r.reject(`${v}_PATH`, raw(env, `${v}_PATH`), `a path or ${v}_DATA (data), not both (in the environment or the profile)`);
      } else {
        r.reject('TEMPORAL_CONFIG_FILE', file, `a valid temporal.toml (${message})`);
      }
    }
  }

  const fromFile = (key: string) => `${key} of ${describeSource(env)}`;
  const address = profile.address ?? 'localhost:7233';
  if (!isHostPort(address)) {
    r.reject(raw(env, 'TEMPORAL_ADDRESS') !== undefined ? 'TEMPORAL_ADDRESS' : fromFile('address'), address, HOST_PORT);
  }
  const tls = profile.tls;
  if ((tls?.clientCert === undefined) !== (tls?.clientKey === undefined)) {
    const missing = tls?.clientCert === undefined ? 'TEMPORAL_TLS_CLIENT_CERT_PATH' : 'TEMPORAL_TLS_CLIENT_KEY_PATH';
    r.reject(missing, undefined, 'a file path (mTLS needs both certificate and key; or the _DATA variable, or the profile key)');
  }
  return {
    address,
    namespace: profile.namespace ?? DEFAULT_NAMESPACE,
    taskQueue: r.string('TEMPORAL_TASK_QUEUE', DEFAULT_TASK_QUEUE),
    source: describeSource(env),
    tls: tls !== undefined ? tls.disabled !== true : profile.apiKey !== undefined,
    profile,
  };
}

const pathOf = (s: ConfigDataSource | undefined) => (s !== undefined && 'path' in s ? s.path : undefined);

/** The files a Temporal connection reads, by the variable that names them, for requireFiles. */
export function temporalFiles(t: TemporalConfig): Record<string, string | undefined> {
  return {
    TEMPORAL_TLS_CLIENT_CERT_PATH: pathOf(t.profile.tls?.clientCert),
    TEMPORAL_TLS_CLIENT_KEY_PATH: pathOf(t.profile.tls?.clientKey),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pathOf(t.profile.tls?.serverCACert),
  };
}

/** Connection options in the shape both @temporalio/client Connection and @temporalio/worker NativeConnection take. */
export interface TemporalConnectionOptions {
  address: string;
  apiKey?: string;
  metadata?: Record<string, string>;
  tls?:
    | boolean
    | {
        serverNameOverride?: string;
        serverRootCACertificate?: Uint8Array;
        clientCertPair?: { crt: Uint8Array; key: Uint8Array };
      };
}

/** The connection options envconfig's toClientOptions makes of the profile (an API key turns TLS on). */
export function temporalConnectionOptions(cfg: TemporalConfig): TemporalConnectionOptions {
  const { connectionOptions: c } = toClientOptions({ ...cfg.profile, address: cfg.address });
  const opts: TemporalConnectionOptions = { address: cfg.address };
  if (c.apiKey !== undefined) opts.apiKey = c.apiKey;
  if (c.metadata !== undefined && Object.keys(c.metadata).length > 0) opts.metadata = c.metadata as Record<string, string>;
  if (c.tls !== undefined && c.tls !== null) opts.tls = c.tls;
  return opts;
}

/** What a reachability probe needs of a connection: @temporalio/client's Connection and the worker's NativeConnection both have it. */
export interface ProbeableConnection {
  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R>;
  workflowService: { getSystemInfo(request: Record<string, never>): Promise<unknown> };
}

export interface TemporalWatch {
  /** Why Temporal is not usable right now (from the last probe), or undefined while it answers. */
  problem(): string | undefined;
  /** Probes now and resolves with the result (a probe already under way is awaited instead). */
  check(): Promise<string | undefined>;
  /** Probes every `everyMs` from now on, in the background. */
  start(): void;
  stop(): void;
}

/**
 * Watches whether the Temporal frontend answers (GetSystemInfo within `timeoutMs`), so that
 * readiness probes read a cached answer instead of calling Temporal; each change is logged once.
 */
export function watchTemporal(opts: {
  connection: ProbeableConnection;
  address: string;
  timeoutMs: number;
  everyMs: number;
  log: Logger;
}): TemporalWatch {
  const { connection, address, log } = opts;
  let problem: string | undefined = 'Temporal not checked yet';
  let logged: string | undefined;
  let running: Promise<string | undefined> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const probe = async (): Promise<string | undefined> => {
    try {
      await connection.withDeadline(Date.now() + opts.timeoutMs, () => connection.workflowService.getSystemInfo({}));
      return undefined;
    } catch (err) {
      return `Temporal unreachable at ${address}: ${(err as Error).message}`;
    }
  };
  const check = () => {
    running ??= probe().then((p) => {
      running = undefined;
      problem = p;
      if (p !== logged) {
        if (p) log.warn({ temporal: address, problem: p }, 'Temporal unreachable: not ready');
        else log.info({ temporal: address }, 'Temporal reachable: ready');
        logged = p;
      }
      return p;
    });
    return running;
  };
  return {
    problem: () => problem,
    check,
    start() {
      timer ??= setInterval(() => void check(), opts.everyMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
