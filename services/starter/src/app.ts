// The starter's HTTP API: POST /greetings runs GreetSomeone and answers with its result.
import { Router } from '@koa/router';
import type { Client } from '@temporalio/client';
import getRawBody from 'raw-body';
import type Koa from 'koa';
import {
  Counter,
  Histogram,
  HttpError,
  LATENCY_BUCKETS,
  createApp,
  errorFields,
  mountRouter,
  traceExemplar,
  validateName,
  type AppOptions,
} from '@greeter/shared';
import { activeTraceId } from '@greeter/shared/telemetry';
import openapi from '../openapi.json';
import { GreetError, greet, type GreetOptions, type GreetRequest } from './greet';

const MAX_WORKFLOW_ID_LENGTH = 200;
const WORKFLOW_ID = /^[\x21-\x7e]+$/; // printable ASCII, no spaces

/** Validates a parsed JSON body; every message names the field. */
export function parseGreetRequest(body: unknown): GreetRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'body must be a JSON object like {"name": "Maria"}');
  }
  const { name, workflowId, ...rest } = body as Record<string, unknown>;
  const unknownFields = Object.keys(rest);
  if (unknownFields.length > 0)
    throw new HttpError(400, `unknown field(s): ${unknownFields.join(', ')}; expected name and optional workflowId`);
  const problem = validateName(name);
  if (problem) throw new HttpError(400, problem);
  if (workflowId === undefined) return { name: name as string };
  if (typeof workflowId !== 'string' || !WORKFLOW_ID.test(workflowId) || workflowId.length > MAX_WORKFLOW_ID_LENGTH) {
    throw new HttpError(400, `workflowId must be 1-${MAX_WORKFLOW_ID_LENGTH} printable ASCII characters without spaces`);
  }
  return { name: name as string, workflowId };
}

async function readJson(ctx: Koa.Context, limit: number): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new HttpError(415, `content-type must be application/json, got ${ctx.get('content-type') || 'none'}`);
  }
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit, encoding: 'utf-8', length: ctx.get('content-length') || undefined });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new HttpError(413, `body is larger than ${limit} bytes`);
    throw new HttpError(400, `could not read body: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
}

const STATUS: Record<GreetError['kind'], number> = { failed: 502, timeout: 504, unavailable: 503, conflict: 409 };

export function createStarterApp(opts: AppOptions & { client: Client; greet: GreetOptions; maxBodyBytes: number }): Koa {
  const app = createApp({ ...opts, jsonErrors: true, openapi });
  const outcomes = new Counter({
    name: 'greeter_greetings_total',
    help: 'Greetings requested through the API, by outcome (completed, failed, timeout, unavailable, conflict, rejected, error)',
    labelNames: ['outcome'] as const,
    registers: [opts.registry],
  });
  const duration = new Histogram({
    name: 'greeter_workflow_duration_seconds',
    help: 'Time from starting GreetSomeone to its result, as the starter sees it, by outcome',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [opts.registry],
    enableExemplars: true,
  });

  const router = new Router();
  router.post('/greetings', async (ctx) => {
    let req: GreetRequest;
    try {
      req = parseGreetRequest(await readJson(ctx, opts.maxBodyBytes));
    } catch (err) {
      outcomes.inc({ outcome: 'rejected' });
      throw err;
    }
    const traceId = activeTraceId();
    if (traceId) ctx.set('x-trace-id', traceId);
    const started = process.hrtime.bigint();
    const observe = (outcome: string) => {
      outcomes.inc({ outcome });
      duration.observe({ labels: { outcome }, value: Number(process.hrtime.bigint() - started) / 1e9, exemplarLabels: traceExemplar() });
    };
    try {
      const g = await greet(opts.client, req, opts.greet);
      observe('completed');
      ctx.body = { ...g, traceId };
    } catch (err) {
      if (!(err instanceof GreetError)) {
        // Still counted, so the outcome metric adds up to every request that got this far.
        observe('error');
        throw err;
      }
      observe(err.kind);
      opts.log.warn({ workflow_id: err.workflowId, kind: err.kind, ...errorFields(err) }, 'greeting did not complete');
      ctx.status = STATUS[err.kind];
      ctx.body = { error: err.message, workflowId: err.workflowId, traceId };
    }
  });
  mountRouter(app, router);
  return app;
}
