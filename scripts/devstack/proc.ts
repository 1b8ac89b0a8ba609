// One child process: its logs, readiness, a clean stop, and (when supervised) restarts with
// exponential backoff the way a kubelet restarts a crashed container.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './paths';

export interface RestartPolicy {
  /** Delay before the first restart; doubled for each further one (default 500 ms). */
  initialDelayMs?: number;
  /** Cap of the delay (default 30 s, as CrashLoopBackOff caps at 5 min for much slower pods). */
  maxDelayMs?: number;
  /** A process that stayed up this long starts over at the initial delay (default 60 s). */
  resetAfterMs?: number;
}

export interface ProcSpec {
  name: string;
  cmd: string;
  args: readonly string[];
  /** Added to this process's environment; undefined removes nothing, it is skipped. */
  env?: Record<string, string | undefined>;
  /** Replaces the inherited environment entirely (then `env` is added to it). */
  baseEnv?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Appends everything the process prints to <logDir>/<name>.log. */
  logDir?: string;
  /** Prints each line prefixed with the name (npm start). */
  echo?: boolean;
  color?: number;
  /** Readiness probe; used after a restart to report the process ready again. */
  ready?: () => Promise<boolean>;
}

export interface RestartEvent {
  name: string;
  /** How many times this process has been restarted, this one included. */
  restarts: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  delayMs: number;
}

const OUTPUT_KEPT = 64_000;

export class Proc extends EventEmitter {
  readonly name: string;
  child: ChildProcess | undefined;
  /** Exit code of the last run (128 + n for a signal), undefined while running or before start. */
  exitCode: number | null | undefined;
  exitSignal: NodeJS.Signals | null = null;
  /** Restarts done by the supervisor. */
  restarts = 0;
  private exited: Promise<void> = Promise.resolve();
  private readonly log: WriteStream | undefined;
  private out = '';
  private policy: Required<RestartPolicy> | undefined;
  private stopRequested = false;
  private startedAt = 0;
  private delayMs = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private spec: ProcSpec) {
    super();
    this.name = spec.name;
    if (spec.logDir) this.log = createWriteStream(path.join(spec.logDir, `${spec.name}.log`), { flags: 'a' });
  }

  start(): void {
    this.exitCode = undefined;
    this.exitSignal = null;
    this.stopRequested = false;
    this.startedAt = Date.now();
    const child = spawn(this.spec.cmd, this.spec.args, {
      cwd: this.spec.cwd ?? ROOT,
      env: { ...(this.spec.baseEnv ?? process.env), ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: Ctrl-C reaches only the runner, which stops children in order.
      detached: true,
    });
    this.child = child;
    const prefix = `\x1b[${this.spec.color ?? 36}m${this.name.padEnd(12)}\x1b[0m| `;
    const onData = (buf: Buffer) => {
      this.log?.write(buf);
      this.out = (this.out + buf.toString()).slice(-OUTPUT_KEPT);
      if (this.spec.echo) for (const line of buf.toString().split('\n')) if (line) process.stdout.write(prefix + line + '\n');
      this.emit('output');
    };
    // Read both pipes for the child's whole life: a full pipe would block its log writes.
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      let done = false;
      const ended = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        this.exitCode = code ?? (signal ? 128 + signalNumber(signal) : null);
        this.exitSignal = signal;
        this.note(`exited with ${signal ?? code}`);
        resolve();
        this.emit('exit', this.exitCode, signal);
        if (this.policy && !this.stopRequested) this.scheduleRestart(code, signal);
      };
      child.once('error', (err) => {
        this.note(`could not start ${this.spec.cmd}: ${err.message}`);
        if (child.pid === undefined) ended(127, null);
      });
      child.once('exit', ended);
    });
  }

  /** Restart this process whenever it ends without stop() being asked. */
  supervise(policy: RestartPolicy = {}): this {
    this.policy = { initialDelayMs: 500, maxDelayMs: 30_000, resetAfterMs: 60_000, ...policy };
    return this;
  }

  private scheduleRestart(code: number | null, signal: NodeJS.Signals | null): void {
    const p = this.policy as Required<RestartPolicy>;
    const upMs = Date.now() - this.startedAt;
    this.delayMs = upMs >= p.resetAfterMs || this.delayMs === 0 ? p.initialDelayMs : Math.min(this.delayMs * 2, p.maxDelayMs);
    this.restarts++;
    const event: RestartEvent = { name: this.name, restarts: this.restarts, code, signal, delayMs: this.delayMs };
    this.note(`crashed (${signal ?? `code ${code}`}) after ${(upMs / 1000).toFixed(1)} s; restart #${this.restarts} in ${this.delayMs} ms`);
    this.emit('crash', event);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopRequested) return;
      this.start();
      this.emit('restart', event);
      if (this.spec.ready) {
        const probe = this.spec.ready;
        void waitFor(this.name, probe, 120_000, this).then(
          () => this.emit('ready', event),
          () => undefined, // it crashed again (and is scheduled again) or never became ready: the log says why
        );
      }
    }, this.delayMs);
  }

  private note(text: string): void {
    this.log?.write(`[stack] ${this.name} ${text}\n`);
    if (this.spec.echo) process.stdout.write(`[stack] ${this.name} ${text}\n`);
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Everything the process printed lately (bounded), for failure messages and log-line waits. */
  output(): string {
    return this.out;
  }

  /** Resolves with the first match of `re` in the output; rejects when the process exits first or time runs out. */
  async waitForOutput(re: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (!this.running) throw new Error(`${this.name} exited with ${this.exitCode} before printing ${re}; output:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not print ${re} within ${timeoutMs} ms; output:\n${this.out}`);
      await sleep(50);
    }
  }

  /** SIGTERM (or `signal`), then SIGKILL after `killAfterMs`; no restart follows. Resolves with the exit code. */
  async stop(killAfterMs = 15_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null | undefined> {
    this.stopRequested = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (!this.running || !this.child?.pid) return this.exitCode;
    this.child.kill(signal);
    const t = setTimeout(() => this.kill(), killAfterMs);
    await this.exited;
    clearTimeout(t);
    return this.exitCode;
  }

  /** Immediate SIGKILL to the whole process group (no restart follows). */
  kill(): void {
    this.stopRequested = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.child?.pid && this.running) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  /** Waits until the readiness probe passes (rejects when the process exits first or time runs out). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const probe = this.spec.ready;
    if (!probe) throw new Error(`${this.name} has no readiness probe`);
    await waitFor(this.name, probe, timeoutMs, this);
  }

  /**
   * Stops the process (SIGTERM, as stop() does), sets `env` over its environment (undefined
   * removes a variable) and starts it again, still supervised; waits for readiness when it has a probe.
   */
  async restartWith(env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<void> {
    await this.stop();
    this.spec = { ...this.spec, env: { ...this.spec.env, ...env } };
    this.start();
    if (this.spec.ready) await this.waitReady(timeoutMs);
  }

  /** Resolves when the current run ends. */
  waitExit(): Promise<void> {
    return this.exited;
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/** Polls until `probe` returns true, the process dies, or the timeout passes. Never blocks the event loop. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, proc?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && !proc.running) throw new Error(`${what}: process exited with code ${proc.exitCode} before it was ready (see its log)`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** True when GET `url` answers 2xx within 2 s. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.ok;
}

/** Polls an HTTP URL until it answers 2xx; the error carries the process output. */
export async function waitForHttp(url: string, proc: Proc, timeoutMs = 60_000): Promise<void> {
  try {
    await waitFor(url, () => httpOk(url), timeoutMs, proc);
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${proc.name} output:\n${proc.output()}`, { cause: err });
  }
}
