// Temporal's own record of greetings: status, result and activity retries of each
// GreetSomeone, read from the server by workflow id or by a visibility query. Load runs
// check what clients were told against it, and count retries the server saw.
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError, defaultPayloadConverter } from '@temporalio/common';
import { WORKFLOW_TYPE } from '@greeter/shared/contract';

export interface WorkflowRecord {
  workflowId: string;
  /** RUNNING, COMPLETED, FAILED, TIMED_OUT, ... */
  status: string;
  /** The name the starter put in the memo. */
  name?: string;
  /** The result, when COMPLETED. */
  result?: string;
  /** Activities that completed on a later attempt, by why the attempt before failed. */
  retriedAfterTimeout: number;
  retriedAfterFailure: number;
  /** ActivityTaskTimedOut events (an activity that ran out of attempts or time for good). */
  timedOut: number;
}

/** The visibility query for greetings started in [fromMs, toMs]. */
export function startedBetween(fromMs: number, toMs: number): string {
  return `WorkflowType = '${WORKFLOW_TYPE}' AND StartTime BETWEEN '${new Date(fromMs).toISOString()}' AND '${new Date(toMs).toISOString()}'`;
}

/** Runs `fn` with a client on its own connection, closed afterwards. */
export async function withTemporal<T>(address: string, fn: (client: Client) => Promise<T>, namespace = 'default'): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection, namespace }));
  } finally {
    await connection.close();
  }
}

async function history(client: Client, rec: WorkflowRecord): Promise<WorkflowRecord> {
  const h = await client.workflow.getHandle(rec.workflowId).fetchHistory();
  for (const e of h.events ?? []) {
    const started = e.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1) {
      if (started.lastFailure?.timeoutFailureInfo) rec.retriedAfterTimeout++;
      else rec.retriedAfterFailure++;
    }
    if (e.activityTaskTimedOutEventAttributes) rec.timedOut++;
    const payload = e.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
    if (payload) rec.result = defaultPayloadConverter.fromPayload<string>(payload);
  }
  return rec;
}

/**
 * The record of every greeting the query lists and of every id in `ids` (listed or not);
 * ids Temporal does not know come back in `missing`. Histories are read a few at a time:
 * the dev server serializes its SQLite reads anyway.
 */
export async function auditWorkflows(
  client: Client,
  opts: { query?: string; ids?: Iterable<string> },
): Promise<{ records: WorkflowRecord[]; missing: string[] }> {
  const found = new Map<string, WorkflowRecord>();
  const blank = { retriedAfterTimeout: 0, retriedAfterFailure: 0, timedOut: 0 };
  if (opts.query) {
    for await (const wf of client.workflow.list({ query: opts.query })) {
      const name = wf.memo?.name;
      found.set(wf.workflowId, { workflowId: wf.workflowId, status: wf.status.name, ...(typeof name === 'string' && { name }), ...blank });
    }
  }
  const missing: string[] = [];
  const unlisted = [...new Set(opts.ids ?? [])].filter((id) => !found.has(id));
  const all = [...found.values()];
  const describeUnlisted = async (id: string) => {
    try {
      const d = await client.workflow.getHandle(id).describe();
      const name = d.memo?.name;
      const rec = { workflowId: id, status: d.status.name, ...(typeof name === 'string' && { name }), ...blank };
      found.set(id, rec);
      all.push(rec);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) missing.push(id);
      else throw err;
    }
  };
  for (let i = 0; i < unlisted.length; i += 16) await Promise.all(unlisted.slice(i, i + 16).map(describeUnlisted));
  for (let i = 0; i < all.length; i += 16) await Promise.all(all.slice(i, i + 16).map((r) => history(client, r)));
  return { records: all, missing };
}
