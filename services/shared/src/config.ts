// Environment parsing: every service reads its configuration once, at start-up,
// through these helpers so that a bad value stops the process with a message
// naming the variable instead of surfacing later as an odd runtime failure.
import { existsSync } from 'node:fs';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Variables whose value is a secret or says where one is (an API key, a private key or its
 * path, inline PEM data, gRPC headers such as authorization): their values never go into a
 * message, which ends up in logs.
 */
export function isSecretVariable(name: string): boolean {
  return /(^|_)API_KEY$|_KEY_PATH$|_DATA$|^TEMPORAL_GRPC_META_|^TEMPORAL_CODEC_AUTH$/.test(name);
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string | undefined,
    readonly expected: string,
  ) {
    super(
      value === undefined
        ? `${variable} is required (expected ${expected})`
        : isSecretVariable(variable)
          ? `${variable} is invalid (its value is not shown: it is or names a secret): expected ${expected}`
          : `${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`,
    );
    this.name = 'ConfigError';
  }
}

/** Collects every configuration problem instead of stopping at the first. */
export class ConfigErrors extends Error {
  constructor(readonly errors: readonly ConfigError[]) {
    super(`invalid configuration:\n${errors.map((e) => `  - ${e.message}`).join('\n')}`);
    this.name = 'ConfigErrors';
  }
}

/** A variable's value, trimmed; empty counts as unset. */
export function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

export const HOST_PORT = 'host:port, e.g. localhost:7233';

export function isHostPort(v: string): boolean {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  return m !== null && Number(m[2]) <= 65535;
}

export interface IntOptions {
  min?: number;
  max?: number;
}

/** A small reader over one environment that records errors and returns defaults, so all errors are reported together. */
export class EnvReader {
  private readonly errors: ConfigError[] = [];

  constructor(readonly env: Env) {}

  /** Records a problem found outside the typed readers (e.g. by a library that read the env). */
  reject(name: string, value: string | undefined, expected: string): void {
    this.errors.push(new ConfigError(name, value, expected));
  }

  private fail<T>(name: string, value: string | undefined, expected: string, fallback: T): T {
    this.errors.push(new ConfigError(name, value, expected));
    return fallback;
  }

  string(name: string, def: string): string {
    return raw(this.env, name) ?? def;
  }

  optionalString(name: string): string | undefined {
    return raw(this.env, name);
  }

  requiredString(name: string, expected: string): string {
    const v = raw(this.env, name);
    return v ?? this.fail(name, undefined, expected, '');
  }

  int(name: string, def: number, opts: IntOptions = {}): number {
    const v = raw(this.env, name);
    if (v === undefined) return def;
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
    const expected = `an integer from ${min} to ${max}`;
    if (!/^-?\d+$/.test(v)) return this.fail(name, v, expected, def);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) return this.fail(name, v, expected, def);
    return n;
  }

  optionalInt(name: string, opts: IntOptions = {}): number | undefined {
    return raw(this.env, name) === undefined ? undefined : this.int(name, 0, opts);
  }

  float(name: string, def: number, min: number, max: number): number {
    const v = raw(this.env, name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) || n < min || n > max) {
      return this.fail(name, v, `a number from ${min} to ${max}`, def);
    }
    return n;
  }

  bool(name: string, def: boolean): boolean {
    const v = raw(this.env, name);
    if (v === undefined) return def;
    const l = v.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(l)) return true;
    if (['0', 'false', 'no', 'off'].includes(l)) return false;
    return this.fail(name, v, 'true or false', def);
  }

  oneOf<T extends string>(name: string, values: readonly T[], def: T): T {
    const v = raw(this.env, name);
    if (v === undefined) return def;
    return (values as readonly string[]).includes(v) ? (v as T) : this.fail(name, v, `one of ${values.join(', ')}`, def);
  }

  port(name: string, def: number): number {
    return this.int(name, def, { min: 0, max: 65535 });
  }

  /** host:port, as Temporal addresses are written. */
  hostPort(name: string, def: string): string {
    const v = raw(this.env, name) ?? def;
    return isHostPort(v) ? v : this.fail(name, v, HOST_PORT, def);
  }

  httpUrl(name: string, def: string): string {
    const v = raw(this.env, name) ?? def;
    try {
      const u = new URL(v);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      return v.replace(/\/+$/, '');
    } catch {
      return this.fail(name, v, 'an http(s) URL, e.g. http://localhost:9999', def);
    }
  }

  /** Throws ConfigErrors when any read failed. Call once after reading everything. */
  done(): void {
    if (this.errors.length > 0) throw new ConfigErrors(this.errors);
  }
}

/** Reads a config with `read`, throwing one error that lists every bad variable. */
export function loadConfig<T>(read: (r: EnvReader) => T, env: Env = process.env): T {
  const r = new EnvReader(env);
  const cfg = read(r);
  r.done();
  return cfg;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Settings every HTTP-serving greeter process has. */
export interface CommonConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  /** How long a draining process waits for in-flight work before it exits anyway. */
  shutdownGraceMs: number;
}

export function readCommon(r: EnvReader, defaultPort: number): CommonConfig {
  return {
    host: r.string('HOST', '127.0.0.1'),
    port: r.port('PORT', defaultPort),
    logLevel: r.oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0, max: 600_000 }),
  };
}

/**
 * Start-up check that every configured file exists, naming the variable of each
 * missing one. Separate from readConfig, which judges values only: whether a path
 * exists depends on where the process runs (mounted Secrets, the image layout).
 */
export function requireFiles(files: Record<string, string | undefined>): void {
  const missing = Object.entries(files)
    .filter(([, p]) => p !== undefined && !existsSync(p))
    .map(([name, p]) => new ConfigError(name, p, 'an existing file'));
  if (missing.length > 0) throw new ConfigErrors(missing);
}
