// Compile-time proof that the worker implements the shared contract the starter relies on:
// `tsc` fails when the workflow is renamed away from WORKFLOW_TYPE, its signature drifts
// from GreetSomeoneWorkflow, or an activity is renamed, added or changes its signature.
// Type-only: nothing here runs, and the starter still never loads worker code.
import type { GreetSomeoneWorkflow, TranslateActivitiesContract, WORKFLOW_TYPE } from '@greeter/shared/contract';
import type { TranslateActivities, createActivities } from './activities';
import type * as workflows from './workflows';

/** True only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

/** The workflow the starter starts by name is exported under that name, with the contract's signature. */
export type WorkflowMatchesContract = Assert<Equal<(typeof workflows)[typeof WORKFLOW_TYPE], GreetSomeoneWorkflow>>;
/** The workflow file exports the workflow and nothing else that the worker would register. */
export type OnlyContractWorkflows = Assert<Equal<keyof typeof workflows, typeof WORKFLOW_TYPE>>;
/** The activity class has exactly the contract's methods, with the same signatures. */
export type ActivitiesMatchContract = Assert<Equal<Pick<TranslateActivities, keyof TranslateActivities>, TranslateActivitiesContract>>;
/** What the worker registers is the contract. */
export type RegisteredActivities = Assert<Equal<ReturnType<typeof createActivities>, TranslateActivitiesContract>>;
