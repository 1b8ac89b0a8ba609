// Helpers for tests that run the real local stack (scripts/devstack) on ports allocated per run.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type Stack, type StackOptions } from '@greeter/scripts/devstack';

export async function startTestStack(name: string, opts: Partial<StackOptions> = {}): Promise<Stack & { runDir: string }> {
  const runDir = mkdtempSync(path.join(os.tmpdir(), `greeter-${name}-`));
  try {
    const stack = await startStack({ runDir, ports: 'allocate', jaeger: false, prometheus: false, ...opts });
    return Object.assign(stack, { runDir });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${logTails(runDir)}`, { cause: err });
  }
}

/** The last lines of every process log, for failure messages. */
export function logTails(runDir: string, lines = 15): string {
  return readdirSync(runDir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `--- ${f}\n${readFileSync(path.join(runDir, f), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** POST /greetings with a JSON body (or raw text with a given content type). */
export async function postGreeting(
  baseUrl: string,
  body: unknown,
  opts: { contentType?: string; raw?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const res = await fetch(`${baseUrl}/greetings`, {
    method: 'POST',
    headers: { 'content-type': opts.contentType ?? 'application/json', ...opts.headers },
    body: opts.raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`expected a JSON answer, got ${res.status} ${JSON.stringify(text.slice(0, 200))}`);
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export { activitySlotsUsed } from '@greeter/loadtest/scrape';

/** Polls until `cond` holds (bounded); resolves false when time ran out. */
export async function eventually(cond: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.resolve(cond()).catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}
