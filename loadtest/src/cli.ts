// Small pieces the benchmark CLIs share: bounded option values and the machine line of a report.
import os from 'node:os';
import { parseDuration } from './schedule';

/** A number option within [min, max] (an integer when asked); the error names the option. */
export function numberOption(name: string, v: string, min: number, max: number, integer = false): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** A duration option (k6 style: 30s, 10m, 1m30s) within [minMs, maxMs], in ms. */
export function durationOption(name: string, v: string, minMs: number, maxMs: number): number {
  const ms = parseDuration(v);
  if (ms < minMs || ms > maxMs) throw new Error(`--${name} must be from ${minMs / 1000} s to ${maxMs / 1000} s, got ${JSON.stringify(v)}`);
  return ms;
}

/** The machine, for a report: CPUs, their model, Node. */
export function machine(): string {
  return `${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}), shared with other work, Node ${process.version}`;
}
