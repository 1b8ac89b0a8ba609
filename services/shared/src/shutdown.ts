// Graceful shutdown on SIGTERM/SIGINT: run the service's drain steps in order,
// bounded by a deadline, then exit 0 (or 1 when the deadline passed or a step failed).
import type { Logger } from './log';
import { errorFields } from './log';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

export interface ShutdownOptions {
  log: Logger;
  /** Hard deadline for all steps together. */
  timeoutMs: number;
  steps: ShutdownStep[];
  /** Called before exit; tests replace process.exit. */
  exit?: (code: number) => void;
}

/**
 * Installs the SIGTERM/SIGINT handlers. The returned `shutdown` runs the same steps for other
 * reasons too (e.g. the worker stopping on its own), with `exitCode` as the least exit code.
 */
export function installShutdown(opts: ShutdownOptions): { shutdown: (reason: string, exitCode?: number) => Promise<number> } {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let running: Promise<number> | undefined;

  const shutdown = (reason: string, exitCode = 0): Promise<number> => {
    running ??= (async () => {
      opts.log.info({ reason, timeout_ms: opts.timeoutMs }, 'shutting down');
      let code = exitCode;
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, opts.timeoutMs, 'timeout').unref());
      const work = (async () => {
        for (const step of opts.steps) {
          const started = Date.now();
          try {
            await step.run();
            opts.log.info({ step: step.name, ms: Date.now() - started }, 'shutdown step done');
          } catch (err) {
            code = 1;
            opts.log.error({ step: step.name, ...errorFields(err) }, 'shutdown step failed');
          }
        }
        return 'done' as const;
      })();
      if ((await Promise.race([work, deadline])) === 'timeout') {
        opts.log.error({ timeout_ms: opts.timeoutMs }, 'shutdown deadline passed; exiting with work unfinished');
        code = 1;
      }
      opts.log.info({ code }, 'exiting');
      // pino writes asynchronously: wait for the lines in flight, so the last ones are neither
      // lost nor reordered by process.exit's synchronous flush (bounded, in case stdout is stuck).
      await new Promise<void>((resolve) => {
        setTimeout(resolve, 1_000).unref();
        opts.log.flush(() => resolve());
      });
      exit(code);
      return code;
    })();
    return running;
  };

  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  return { shutdown };
}
