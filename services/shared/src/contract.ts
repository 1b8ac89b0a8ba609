// The contract between the starter (client) and the worker: defined once here and
// imported by both, so the starter never has to load worker code.

export const WORKFLOW_TYPE = 'GreetSomeone';
export const DEFAULT_TASK_QUEUE = 'greeting-tasks';
export const DEFAULT_NAMESPACE = 'default';

/** Signature of the GreetSomeone workflow: one name in, "<greeting>\n<farewell>" out. */
export type GreetSomeoneWorkflow = (name: string) => Promise<string>;

/** The activities the workflow calls, as implemented by the worker's TranslateActivities. */
export interface TranslateActivitiesContract {
  greetInSpanish(name: string): Promise<string>;
  farewellInSpanish(name: string): Promise<string>;
}

/** Splits a workflow result into its two lines. */
export function splitResult(result: string): { greeting: string; farewell: string } {
  const i = result.indexOf('\n');
  return i < 0 ? { greeting: result, farewell: '' } : { greeting: result.slice(0, i), farewell: result.slice(i + 1) };
}
