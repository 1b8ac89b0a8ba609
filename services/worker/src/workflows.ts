// Deterministic workflow code only: the GreetSomeone workflow.
import { proxyActivities } from '@temporalio/workflow';
import type { TranslateActivitiesContract } from '@greeter/shared/contract';
import { TRANSLATOR_REJECTED } from './errors';

// Timeouts and retries are set here, next to the calls they govern.
const { greetInSpanish, farewellInSpanish } = proxyActivities<TranslateActivitiesContract>({
  // As in the original example: one translator call should never take 5 s.
  startToCloseTimeout: '5 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    // Bounded, so a translator outage fails the greeting in about half a minute
    // instead of keeping the caller waiting forever.
    maximumAttempts: 10,
    nonRetryableErrorTypes: [TRANSLATOR_REJECTED],
  },
});

/**
 * Greets someone in Spanish and says goodbye. The original example called the
 * greeting activity twice by mistake; the farewell comes from farewellInSpanish.
 */
export async function GreetSomeone(name: string): Promise<string> {
  const greeting = await greetInSpanish(name);
  const farewell = await farewellInSpanish(name);
  return `${greeting}\n${farewell}`;
}
