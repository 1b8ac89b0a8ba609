// Runs one GreetSomeone workflow and waits for its result: the example's "client
// application", shared by the HTTP API and the CLI.
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowFailedError, isGrpcServiceError, isGrpcDeadlineError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, type ApplicationFailure } from '@temporalio/common';
import { WORKFLOW_TYPE, splitResult, type GreetSomeoneWorkflow } from '@greeter/shared/contract';

export interface GreetRequest {
  name: string;
  /** Client-chosen id: a repeat returns the same run's result and starts nothing new. */
  workflowId?: string;
}

export interface Greeting {
  result: string;
  greeting: string;
  farewell: string;
  workflowId: string;
  runId: string;
}

/** Why a greeting did not come back, mapped to an HTTP status at the edge. */
export class GreetError extends Error {
  constructor(
    readonly kind: 'failed' | 'timeout' | 'unavailable' | 'conflict',
    message: string,
    readonly workflowId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GreetError';
  }
}

export interface GreetOptions {
  taskQueue: string;
  resultTimeoutMs: number;
  rpcTimeoutMs: number;
}

const GRPC_UNAVAILABLE = 14;

function isUnavailable(err: unknown): boolean {
  if (isGrpcDeadlineError(err)) return true;
  if (isGrpcServiceError(err)) return Number(err.code) === GRPC_UNAVAILABLE;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isUnavailable(cause);
}

function unavailable(err: unknown, workflowId: string): GreetError {
  return new GreetError('unavailable', `Temporal is unreachable: ${(err as Error).message}`, workflowId, { cause: err });
}

/** The innermost failure message, e.g. the translator's answer behind ActivityFailure. */
function rootMessage(err: Error): string {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  const type = (e as ApplicationFailure).type;
  return type ? `${type}: ${e.message}` : e.message;
}

export async function greet(client: Client, req: GreetRequest, opts: GreetOptions): Promise<Greeting> {
  const workflowId = req.workflowId ?? `greet-${randomUUID()}`;
  const deadline = () => Date.now() + opts.rpcTimeoutMs;
  // Unknown only when the id already ran; then it is a client-supplied id, and describe() below fills it in.
  let runId: string | undefined;
  try {
    const handle = await client.connection.withDeadline(deadline(), () =>
      client.workflow.start<GreetSomeoneWorkflow>(WORKFLOW_TYPE, {
        taskQueue: opts.taskQueue,
        workflowId,
        args: [req.name],
        memo: { name: req.name },
        // A running duplicate is joined, a closed one is not restarted: the id is an idempotency key.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    );
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (isUnavailable(err)) throw unavailable(err, workflowId);
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }

  const handle = client.workflow.getHandle<GreetSomeoneWorkflow>(workflowId, runId);
  if (req.workflowId !== undefined) {
    // A reused id must be for the same name; otherwise its old result would be wrong.
    let description: Awaited<ReturnType<typeof handle.describe>>;
    try {
      description = await client.connection.withDeadline(deadline(), () => handle.describe());
    } catch (err) {
      // The same Temporal call as start: past its deadline or unreachable is 503, like start's.
      if (isUnavailable(err)) throw unavailable(err, workflowId);
      throw err;
    }
    runId = description.runId;
    const earlier = description.memo?.name;
    if (earlier !== req.name) {
      throw new GreetError(
        'conflict',
        `workflowId ${JSON.stringify(workflowId)} was already used for the name ${JSON.stringify(earlier)}`,
        workflowId,
      );
    }
  }

  let result: string;
  try {
    // Cleared once the race is decided, so busy starters do not pile up pending timers.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new GreetError('timeout', `no result within ${opts.resultTimeoutMs} ms; the workflow is still running`, workflowId)),
        opts.resultTimeoutMs,
      );
    });
    try {
      result = await Promise.race([handle.result(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (err) {
    if (err instanceof GreetError) throw err;
    if (err instanceof WorkflowFailedError) throw new GreetError('failed', rootMessage(err), workflowId, { cause: err });
    if (isUnavailable(err)) throw unavailable(err, workflowId);
    throw err;
  }
  return { result, ...splitResult(result), workflowId, runId: runId ?? '' };
}
