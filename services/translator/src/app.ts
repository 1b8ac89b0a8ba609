// The translator's HTTP API: GET /get-spanish-greeting and /get-spanish-farewell.
import { setTimeout as sleep } from 'node:timers/promises';
import { Router } from '@koa/router';
import { HttpError, createApp, mountRouter, validateName, type AppOptions } from '@greeter/shared';
import type Koa from 'koa';
import { Counter } from 'prom-client';
import openapi from '../openapi.json';
import { PHRASES, sampleLatency, shouldFail, type Knobs, type PhraseKind } from './translate';

/**
 * Reads `name` from the raw query string. Koa's parser turns malformed
 * percent-encoding into U+FFFD silently; we want a 400 instead.
 */
export function nameFromQuery(querystring: string): string {
  let found: string | undefined;
  for (const part of querystring.split('&')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (key !== 'name') continue;
    if (found !== undefined) throw new HttpError(400, 'name must be given once');
    try {
      found = decodeURIComponent((eq < 0 ? '' : part.slice(eq + 1)).replace(/\+/g, ' '));
    } catch {
      throw new HttpError(400, 'name is not valid percent-encoded UTF-8');
    }
  }
  const problem = validateName(found);
  if (problem) throw new HttpError(400, problem);
  return found as string;
}

export function createTranslatorApp(opts: AppOptions & { knobs: Knobs }): Koa {
  const app = createApp({ ...opts, jsonErrors: false, openapi });
  const translations = new Counter({
    name: 'translator_translations_total',
    help: 'Translations served, by kind (greeting or farewell) and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [opts.registry],
  });

  const handler = (kind: PhraseKind) => async (ctx: Koa.Context) => {
    const name = nameFromQuery(ctx.querystring);
    const delay = sampleLatency(opts.knobs);
    if (delay > 0) await sleep(delay);
    if (shouldFail(opts.knobs)) {
      translations.inc({ kind, outcome: 'injected_failure' });
      throw new HttpError(503, 'translator failure injected (TRANSLATOR_FAILURE_RATE)', { 'retry-after': '1' });
    }
    translations.inc({ kind, outcome: 'ok' });
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = PHRASES[kind](name);
  };

  const router = new Router();
  router.get('/get-spanish-greeting', handler('greeting'));
  router.get('/get-spanish-farewell', handler('farewell'));
  mountRouter(app, router);
  return app;
}
