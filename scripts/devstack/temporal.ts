// The Temporal dev server of the local stack: its command line and a readiness probe
// that runs the CLI asynchronously (the event loop keeps serving the other processes).
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';

/**
 * Dev-server settings for throughput on a small machine: one task-queue partition
 * (with a handful of pollers, four partitions mostly forward polls between each other)
 * and eager activity dispatch (an activity scheduled by a workflow task goes back to
 * the same worker in the completion response, saving a poll round trip).
 */
export const DEV_SERVER_TUNING = [
  '--dynamic-config-value',
  'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value',
  'matching.numTaskqueueWritePartitions=1',
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
];

export interface DevServerOptions {
  port: number;
  uiPort: number;
  metricsPort: number;
  namespace?: string;
  /** SQLite file (WAL, synchronous=off); in-memory when undefined. */
  dbFile?: string;
}

export function devServerArgs(o: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--metrics-port',
    String(o.metricsPort),
    '--log-level',
    'warn',
    '--namespace',
    o.namespace ?? 'default',
    ...DEV_SERVER_TUNING,
  ];
  if (o.dbFile) args.push('--db-filename', o.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=off');
  return args;
}

/** Ready when the namespace is described over gRPC (the CLI runs as a child, asynchronously). */
export function devServerReady(temporalBin: string, address: string, namespace = 'default'): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      temporalBin,
      ['operator', 'namespace', 'describe', '--namespace', namespace, '--address', address],
      { timeout: 5_000 },
      (err) => resolve(!err),
    );
  });
}

/** Deletes a SQLite database with its WAL and shared-memory files (a leftover -wal replays old state). */
export async function removeDatabase(dbFile: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm', '-journal'].map((suffix) => rm(dbFile + suffix, { force: true })));
}
