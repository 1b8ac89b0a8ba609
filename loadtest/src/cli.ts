// Small pieces the benchmark CLIs share: bounded option values, report and run paths, a run
// that stops by itself, and the machine line of a report.
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, type Stack } from '@greeter/scripts/devstack';
import { parseDuration } from './schedule';

/** A bad command line: reported by its message alone, exit 64 (EX_USAGE). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The end of a CLI's main(): a usage error prints its message and exits 64, anything else its stack and exits 1. */
export function exitOnError(tool: string): (err: unknown) => never {
  return (err) => {
    const usage = err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    console.error(`[${tool}] ${usage ? (err as Error).message : ((err as Error).stack ?? String(err))}`);
    process.exit(usage ? 64 : 1);
  };
}

/** A number option within [min, max] (an integer when asked); the error names the option. */
export function numberOption(name: string, v: string, min: number, max: number, integer = false): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** A duration option (k6 style: 30s, 10m, 1m30s) within [minMs, maxMs], in ms. */
export function durationOption(name: string, v: string, minMs: number, maxMs: number): number {
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
  if (ms < minMs || ms > maxMs)
    throw new UsageError(`--${name} must be from ${minMs / 1000} s to ${maxMs / 1000} s, got ${JSON.stringify(v)}`);
  return ms;
}

/** The machine, for a report: CPUs, their model, Node. */
export function machine(): string {
  return `${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}), shared with other work, Node ${process.version}`;
}

/** The options every report-writing CLI takes, for parseArgs. */
export const REPORT_OPTIONS = {
  report: { type: 'string' },
  'no-report': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Where the report goes: --report, else loadtest/reports/<name>-<date>.md; undefined with --no-report. */
export function reportPath(values: { report?: string | undefined; 'no-report'?: boolean | undefined }, name: string): string | undefined {
  if (values['no-report']) return undefined;
  return path.resolve(values.report ?? path.join(ROOT, 'loadtest', 'reports', `${name}-${new Date().toISOString().slice(0, 10)}.md`));
}

/** An empty .greeter/<name> for the run's logs and database. */
export function freshRunDir(name: string): string {
  const dir = path.join(ROOT, '.greeter', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Makes a run stop by itself: after `deadlineMs`, or at Ctrl-C, the stack is stopped and the
 * process exits (1 at the deadline, 130 when interrupted). Returns the function that disarms it.
 */
export function stopsByItself(tool: string, deadlineMs: number, stack: () => Stack | undefined): () => void {
  const stop = (code: number) => void (stack()?.stop() ?? Promise.resolve()).finally(() => process.exit(code));
  const deadline = setTimeout(() => {
    console.error(`[${tool}] deadline of ${(deadlineMs / 1000).toFixed(0)} s reached: stopping the stack and giving up`);
    stop(1);
  }, deadlineMs);
  const interrupted = () => stop(130);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  return () => {
    clearTimeout(deadline);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  };
}
