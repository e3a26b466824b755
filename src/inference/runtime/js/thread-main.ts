// The body of a JS worker thread: loads the entry script, calls init() once, then runs the requests the server posts, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { prepareEntryModule, startRun } from './entry-module.js';
import type { ScoreOutcome } from '../types.js';
import type { ThreadData, ThreadMessage, ThreadRequest } from './thread-messages.js';

const port = parentPort;
if (port === null) throw new Error('thread-main runs only as a worker thread');
const { entryScript, workerId } = workerData as ThreadData;
const post = (message: ThreadMessage): void => port.postMessage(message);

const started = performance.now();
const prepared = await prepareEntryModule(entryScript);
if (!prepared.ok) {
  post({ type: 'init_failed', failure: prepared.failure });
  process.exit(3); // ends this thread only
} else {
  const entry = prepared.entry;
  const run = ({ request, deadlineNs }: ThreadRequest, reply: (outcome: ScoreOutcome) => void): void => {
    if (deadlineNs !== undefined && process.hrtime.bigint() > deadlineNs) return reply({ kind: 'expired', waitedMs: 0, workerId });
    // The structured clone turned the body into a plain Uint8Array.
    const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    const outcome = startRun(entry, { ...request, body }, workerId);
    if (outcome instanceof Promise) void outcome.then(reply);
    else reply(outcome);
  };
  // Strictly one request at a time, in arrival order, even when run() is async: the server matches replies to requests
  // in that order, and times only the one running.
  const waiting: ThreadRequest[] = [];
  let running = false;
  const next = (): void => {
    const message = waiting.shift();
    if (message === undefined) return;
    running = true;
    run(message, (outcome) => {
      post({ type: 'reply', id: message.id, outcome });
      running = false;
      next();
    });
  };
  port.on('message', (message: ThreadRequest) => {
    waiting.push(message);
    if (!running) next();
  });
  post({ type: 'ready', raw: entry.raw, wantsHeaders: entry.wantsHeaders, initMs: performance.now() - started, info: entry.info });
}
