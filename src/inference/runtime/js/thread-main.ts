// The body of a JS worker thread: loads the entry script, calls init() once, then runs the requests the server posts, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { prepareEntryModule, startRun, type StreamRun } from './entry-module.js';
import { pump } from './stream-pump.js';
import type { ScoreOutcome } from '../types.js';
import type { ChunkType, StreamControl } from '../response-stream.js';
import { MAX_TIMER_MS } from '../../../core/durations.js';
import type { ThreadControl, ThreadData, ThreadMessage, ThreadRequest } from './thread-messages.js';

const port = parentPort;
if (port === null) throw new Error('thread-main runs only as a worker thread');
const { entryScript, workerId } = workerData as ThreadData;
const post = (message: ThreadMessage): void => port.postMessage(message);
/** The server times a thread's stream (and ends the thread past a limit, which stops even a loop that never yields). */
const UNTIMED = { firstChunkMs: MAX_TIMER_MS, chunkMs: MAX_TIMER_MS };
/** Resolved in place of an outcome once a stream's chunks were all posted: nothing more to reply. */
const STREAMED = Object.freeze({ kind: 'streamed' }) as unknown as ScoreOutcome;

/** A stream under way: its id, how to reach its pump, and its first chunk's kind (the response's content type). */
interface Live { readonly id: number; control: StreamControl | undefined; type: ChunkType }

const started = performance.now();
const prepared = await prepareEntryModule(entryScript);
if (!prepared.ok) {
  post({ type: 'init_failed', failure: prepared.failure });
  process.exit(3); // ends this thread only
} else {
  const entry = prepared.entry;
  /** The stream running now, so the server's pause, resume and cancel reach it. */
  let live: Live | undefined;
  const streamRun = (id: number): StreamRun => (it, startedAt) => new Promise<ScoreOutcome>((resolve) => {
    post({ type: 'stream', id, event: 'start' });
    const mine: Live = { id, control: undefined, type: 'bytes' };
    live = mine;
    pump(it, UNTIMED, startedAt, workerId, {
      begin: (type, control) => { mine.control = control; mine.type = type; },
      chunk: (data) => {
        // A copy the server takes over: `data` may be a view of a larger block (Node's Buffer pool).
        const bytes = new Uint8Array(data);
        post({ type: 'stream', id, event: 'chunk', chunkType: mine.type, data: bytes });
      },
      end: () => { post({ type: 'stream', id, event: 'end' }); resolve(STREAMED); },
      fail: (failure) => { post({ type: 'stream', id, event: 'fail', failure }); resolve(STREAMED); },
      early: resolve,
    });
  });
  const run = ({ id, request, deadlineNs }: ThreadRequest, reply: (outcome: ScoreOutcome) => void): void => {
    if (deadlineNs !== undefined && process.hrtime.bigint() > deadlineNs) return reply({ kind: 'expired', waitedMs: 0, workerId });
    // The structured clone turned the body into a plain Uint8Array.
    const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    const outcome = startRun(entry, { ...request, body }, workerId, streamRun(id));
    if (outcome instanceof Promise) void outcome.then(reply);
    else reply(outcome);
  };
  // Strictly one request at a time, in arrival order, even when run() is async or streams: the server matches replies
  // to requests in that order, and times only the one running.
  const waiting: ThreadRequest[] = [];
  let running = false;
  const next = (): void => {
    const message = waiting.shift();
    if (message === undefined) return;
    running = true;
    run(message, (outcome) => {
      live = undefined;
      if (outcome !== STREAMED) post({ type: 'reply', id: message.id, outcome });
      running = false;
      next();
    });
  };
  port.on('message', (message: ThreadRequest | ThreadControl) => {
    if ('control' in message) {
      const control = live?.id === message.id ? live.control : undefined;
      if (control !== undefined) control[message.control]();
      return;
    }
    waiting.push(message);
    if (!running) next();
  });
  post({ type: 'ready', raw: entry.raw, wantsHeaders: entry.wantsHeaders, initMs: performance.now() - started, info: entry.info });
}
