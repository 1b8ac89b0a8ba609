// The HTTP shell every greeter service shares: JSON error mapping, access logs,
// request-duration metrics with exemplars, /healthz, /readyz, /metrics, and a
// server that drains in-flight requests on shutdown.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Router } from '@koa/router';
import Koa from 'koa';
import type { Logger } from './log';
import type { ShutdownStep } from './shutdown';
import { errorFields } from './log';
import type { HttpMetrics, OpenMetricsRegistry } from './metrics';
import { traceExemplar } from './metrics';

/** An error that maps to an HTTP status with a message safe to show the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Readiness: not ready until the service says so, and never again once draining. */
export class Readiness {
  private ready = false;
  private draining = false;
  private reason = 'starting';
  private check: (() => string | undefined) | undefined;

  /** A live condition evaluated on every probe; it returns why the service is not ready, or undefined. */
  setCheck(check: () => string | undefined): void {
    this.check = check;
  }

  setReady(): void {
    this.ready = true;
    this.reason = 'ready';
  }

  setNotReady(reason: string): void {
    this.ready = false;
    this.reason = reason;
  }

  drain(): void {
    this.draining = true;
    this.reason = 'draining';
  }

  get isDraining(): boolean {
    return this.draining;
  }

  status(): { ready: boolean; reason: string } {
    // Draining is final, whatever start-up code still running says afterwards.
    if (this.draining) return { ready: false, reason: 'draining' };
    if (this.ready && this.check) {
      const notReady = this.check();
      if (notReady !== undefined) return { ready: false, reason: notReady };
    }
    return { ready: this.ready && !this.draining, reason: this.reason };
  }
}

export interface AppOptions {
  log: Logger;
  registry: OpenMetricsRegistry;
  metrics: HttpMetrics;
  readiness: Readiness;
  /** JSON error bodies ({"error": ...}) instead of text/plain. */
  jsonErrors: boolean;
  /** The service's OpenAPI document, served at GET /openapi.json. */
  openapi?: object;
}

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

/** What a request that matched no route template is labelled: raw paths would make the series unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route label of a request: the template it matched (e.g. /greetings), never the raw
 * path, so a scan of random paths or methods (404, 405, 501) adds no series.
 */
function routeLabel(ctx: Koa.Context): string {
  const matched = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : UNMATCHED_ROUTE;
}

/**
 * How much, and how long, a connection closed after an answer keeps reading a body nobody
 * wanted (a 413, a 415, a body on a GET) before it is destroyed.
 */
export const LINGER = { bytes: 16 * 1024 * 1024, ms: 5_000 };

function hasUnreadBody(req: http.IncomingMessage): boolean {
  if (req.complete) return false;
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Answers a request whose body was not (fully) read with `Connection: close` and closes the
 * connection gracefully. Node destroys the socket right after such an answer; the kernel then
 * answers the body bytes still arriving with a reset, which wipes the answer from a client that
 * writes its whole body before it reads (many do). Instead the answer and a FIN go out and what
 * the client still sends is read and dropped, up to LINGER, before the socket is destroyed.
 */
function closeAfterAnswer(ctx: Koa.Context): void {
  ctx.set('Connection', 'close');
  const { req } = ctx;
  const socket = req.socket;
  // Flowing with no listener: the rest of the body is dropped instead of stalling the socket.
  req.resume();
  socket.destroySoon = () => lingeringClose(socket);
}

function lingeringClose(socket: Socket): void {
  socket.end();
  const from = socket.bytesRead;
  const close = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(close, LINGER.ms);
  timer.unref();
  socket.on('data', () => {
    if (socket.bytesRead - from > LINGER.bytes) close();
  });
  socket.once('end', close);
}

/** Creates a Koa app with the shared middleware and ops endpoints; mount the service's router on it. */
export function createApp(opts: AppOptions): Koa {
  const app = new Koa();
  const { log, metrics, readiness, registry } = opts;

  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.set(err.headers);
        if (opts.jsonErrors) ctx.body = { error: err.message };
        else {
          ctx.type = 'text/plain; charset=utf-8';
          ctx.body = err.message;
        }
      } else {
        // koa's own errors (e.g. from ctx.throw) carry a status; anything else is a bug.
        const status = (err as { status?: unknown }).status;
        const expose = (err as { expose?: unknown }).expose === true;
        ctx.status = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
        const message = expose ? (err as Error).message : 'internal error';
        if (ctx.status >= 500) log.error({ method: ctx.method, path: ctx.path, ...errorFields(err) }, 'request failed');
        ctx.body = opts.jsonErrors ? { error: message } : message;
      }
    } finally {
      if (hasUnreadBody(ctx.req)) closeAfterAnswer(ctx);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(ctx);
      if (!OPS_PATHS.has(ctx.path)) {
        metrics.duration.observe({
          labels: { method: ctx.method, route, status_code: String(ctx.status) },
          value: seconds,
          exemplarLabels: traceExemplar(),
        });
        log.debug({ method: ctx.method, route, status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
      }
    }
  });

  const ops = new Router();
  ops.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  ops.get('/readyz', (ctx) => {
    const s = readiness.status();
    ctx.status = s.ready ? 200 : 503;
    ctx.body = { status: s.ready ? 'ready' : 'not ready', reason: s.reason };
  });
  ops.get('/metrics', async (ctx) => {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  const { openapi } = opts;
  if (openapi) {
    ops.get('/openapi.json', (ctx) => {
      ctx.body = openapi;
    });
  }
  app.use(ops.routes());
  app.use(allowedMethods(ops));
  return app;
}

/** Mounts a router with 405 for known paths and wrong methods. */
export function mountRouter(app: Koa, router: Router): void {
  app.use(router.routes());
  app.use(allowedMethods(router));
}

/**
 * 405 with Allow for any method a known path does not serve, and 404 for unknown paths. The
 * router's own answer to methods it has no verb for (TRACE, CONNECT) would be a 501, which
 * says the server is at fault.
 */
function allowedMethods(router: Router): Koa.Middleware {
  const inner = router.allowedMethods({ throw: false });
  return async (ctx, next) => {
    await inner(ctx as Parameters<typeof inner>[0], next);
    if (ctx.status !== 501) return;
    if (ctx.response.get('Allow')) ctx.status = 405;
    else {
      ctx.remove('Allow');
      ctx.status = 404;
    }
  };
}

export interface RunningServer {
  server: http.Server;
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes every connection. */
  close(graceMs: number): Promise<void>;
}

export async function listen(app: Koa, host: string, port: number): Promise<RunningServer> {
  const handle = app.callback();
  // koa's handler answers every error itself; its promise is not ours to await.
  const server = http.createServer((req, res) => void handle(req, res));
  // Behind a load balancer idle keep-alive connections must outlive the balancer's.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    port: actual,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${actual}`,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        // Keep-alive connections that finish their request after close() stay open
        // otherwise, holding shutdown until the grace time runs out.
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(force);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * The shutdown steps of an HTTP service: turn /readyz to 503, wait `delayMs` so load
 * balancers stop routing here, then let in-flight requests finish within `graceMs`.
 */
export function httpDrainSteps(readiness: Readiness, server: RunningServer, delayMs: number, graceMs: number): ShutdownStep[] {
  return [
    { name: 'drain', run: () => readiness.drain() },
    { name: 'delay', run: () => new Promise<void>((resolve) => setTimeout(resolve, delayMs)) },
    { name: 'http', run: () => server.close(graceMs) },
  ];
}
