// The activities: side effects only. Each calls the translator over HTTP.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TranslateActivitiesContract } from '@greeter/shared/contract';
import { TRANSLATOR_REJECTED, TRANSLATOR_UNAVAILABLE } from './errors';

/** Whatever can fetch: the global fetch in production, the same in tests (against a real translator). */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface TranslatorClient {
  /** Base URL without a trailing slash, e.g. http://translator:9999 */
  baseUrl: string;
  fetch: FetchFn;
}

/**
 * Like the example's TranslateActivities(session): a class holding the HTTP client,
 * whose methods are registered as activities.
 */
export class TranslateActivities implements TranslateActivitiesContract {
  constructor(private readonly client: TranslatorClient) {}

  greetInSpanish(name: string): Promise<string> {
    return this.translate('/get-spanish-greeting', name);
  }

  farewellInSpanish(name: string): Promise<string> {
    return this.translate('/get-spanish-farewell', name);
  }

  private async translate(path: string, name: string): Promise<string> {
    const url = `${this.client.baseUrl}${path}?name=${encodeURIComponent(name)}`;
    const signal = activitySignal();
    let res: Response;
    let body: string;
    try {
      res = await this.client.fetch(url, signal ? { signal } : {});
      body = await res.text();
    } catch (err) {
      // A cancelled or timed-out attempt: rethrow the SDK's own reason (a CancelledFailure), so
      // Temporal records a cancellation instead of a failed attempt to retry.
      if (signal?.aborted) throw signal.reason;
      // Network errors are retried by the workflow's retry policy.
      throw new Error(`translator unreachable at ${this.client.baseUrl}${path}: ${(err as Error).message}`, { cause: err });
    }
    if (res.ok) return body;
    const message = `translator answered ${res.status} for ${path} (name ${JSON.stringify(name)}): ${body.slice(0, 200)}`;
    if (isRejection(res.status)) {
      throw ApplicationFailure.create({ type: TRANSLATOR_REJECTED, message, nonRetryable: true, details: [res.status] });
    }
    throw ApplicationFailure.create({ type: TRANSLATOR_UNAVAILABLE, message, details: [res.status] });
  }
}

/**
 * A 4xx refuses the name itself, so retrying cannot help; except 408 (request timeout) and
 * 429 (too many requests), which say "not now" and are retried like a 5xx.
 */
export function isRejection(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** The activity's cancellation signal when running inside an activity, so a cancelled or timed-out attempt aborts its request. */
function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/** Plain functions as the Worker registers them. */
export function createActivities(client: TranslatorClient): TranslateActivitiesContract {
  const a = new TranslateActivities(client);
  return {
    greetInSpanish: (name) => a.greetInSpanish(name),
    farewellInSpanish: (name) => a.farewellInSpanish(name),
  };
}
