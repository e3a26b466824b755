// The messages between the server and a JS worker thread (structured clones over the thread's port).
import type { EntryInfo, ScoreOutcome, ScoreRequest, StartupFailure } from '../types.js';

/** Given to the thread at its start. */
export interface ThreadData {
  readonly entryScript: string;
  readonly workerId: number;
}

/** Server → thread: one request. `headers` is empty unless run() takes them; the body's memory is handed over. */
export interface ThreadRequest {
  readonly id: number;
  /** Sent ahead to a busy thread: past this (process.hrtime.bigint()) it is answered `expired` without running. */
  readonly deadlineNs: bigint | undefined;
  readonly request: Omit<ScoreRequest, 'body'> & { readonly body: Uint8Array };
}

/** Thread → server. A Buffer body arrives as a Uint8Array. */
export type ThreadMessage =
  | { readonly type: 'ready'; readonly raw: boolean; readonly wantsHeaders: boolean; readonly initMs: number; readonly info: EntryInfo }
  | { readonly type: 'init_failed'; readonly failure: StartupFailure }
  | { readonly type: 'reply'; readonly id: number; readonly outcome: ScoreOutcome };
