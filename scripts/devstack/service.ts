// One compiled greeter service as a child process on a free port, for tests that need a
// single service rather than the whole stack.
import { freePort } from './ports';
import { serviceMain, type ServiceName } from './paths';
import { Proc } from './proc';

export interface RunningService {
  proc: Proc;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
}

/** Starts `svc` (OTEL off unless `env` says otherwise) and waits for its "<svc> listening" log line. */
export async function startService(
  svc: ServiceName,
  env: Record<string, string> = {},
  opts: { logDir?: string; timeoutMs?: number } = {},
): Promise<RunningService> {
  const port = env.PORT !== undefined ? Number(env.PORT) : await freePort();
  const proc = new Proc({
    name: svc,
    cmd: process.execPath,
    args: [serviceMain(svc)],
    env: { OTEL_SDK_DISABLED: 'true', ...env, PORT: String(port) },
    ...(opts.logDir && { logDir: opts.logDir }),
  });
  proc.start();
  await proc.waitForOutput(new RegExp(`${svc} listening`), opts.timeoutMs ?? 20_000);
  return { proc, port, base: `http://127.0.0.1:${port}` };
}
