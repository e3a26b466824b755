// The messages between the server and a JS worker thread (structured clones over the thread's port).
import type { EntryInfo, ScoreOutcome, ScoreRequest, StartupFailure } from '../types.js';
import type { ChunkType, StreamFailure } from '../response-stream.js';

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

/** Server → thread: the client of the stream `id` is slow (pause), has room again (resume), or went away (cancel). */
export interface ThreadControl {
  readonly control: 'pause' | 'resume' | 'cancel';
  readonly id: number;
}

/**
 * Thread → server, for a streaming run(): `start` when run() returned its iterator, then `chunk`s (the first carries
 * its type), then `end` or `fail`. One that ends before its first chunk is answered with an ordinary `reply` instead.
 */
export type ThreadStreamMessage =
  | { readonly type: 'stream'; readonly id: number; readonly event: 'start' | 'end' }
  | { readonly type: 'stream'; readonly id: number; readonly event: 'chunk'; readonly chunkType: ChunkType; readonly data: Uint8Array }
  | { readonly type: 'stream'; readonly id: number; readonly event: 'fail'; readonly failure: StreamFailure };

/** Thread → server. A Buffer body arrives as a Uint8Array. */
export type ThreadMessage =
  | ThreadStreamMessage
  | { readonly type: 'ready'; readonly raw: boolean; readonly wantsHeaders: boolean; readonly initMs: number; readonly info: EntryInfo }
  | { readonly type: 'init_failed'; readonly failure: StartupFailure }
  | { readonly type: 'reply'; readonly id: number; readonly outcome: ScoreOutcome };
