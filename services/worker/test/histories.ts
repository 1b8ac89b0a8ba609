// The recorded workflow histories that replay.test.ts replays: where they live and what each is.
import path from 'node:path';

/** services/worker/test/histories, from the compiled test (dist/test) or the source (test). */
export const HISTORIES_DIR = path.resolve(
  __dirname,
  '..',
  ...(path.basename(path.dirname(__dirname)) === 'dist' ? ['..'] : []),
  'test',
  'histories',
);

export const RECORDINGS = {
  /** A normal greeting: both activities answer at the first attempt. */
  greeting: { name: 'Maria', translator: 'healthy' },
  /** A translator 503 on some attempt, retried by the workflow's policy until it answered. */
  'retried-5xx': { name: 'Ana', translator: 'flaky' },
  /** A name the translator refuses (400): the workflow fails with TranslatorRejectedName. */
  'rejected-name': { name: '   ', translator: 'healthy' },
} as const;
export type Recording = keyof typeof RECORDINGS;

export interface RecordedHistory {
  workflowId: string;
  /** As `temporal workflow show --output json` writes it. */
  history: { events: { eventType: string; [k: string]: unknown }[] };
}

export const historyFile = (r: Recording): string => path.join(HISTORIES_DIR, `${r}.json`);
