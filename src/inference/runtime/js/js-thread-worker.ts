// One JS worker thread (`--worker-count 2` or more): its own copy of the entry script and init(); a run() past the scoring timeout is stopped by ending the thread.
import { Worker as Thread } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { shipped } from '../../../core/paths.js';
import type { Logger } from 'pino';
import { MortalWorker } from '../worker-lifecycle.js';
import { initTimeoutFailure, type EntryInfo, type ScoreOutcome, type ScoreRequest, type StartupFailure, type StreamTimeouts } from '../types.js';
import type { ThreadControl, ThreadData, ThreadMessage, ThreadRequest, ThreadStreamMessage } from './thread-messages.js';
import type { StreamControl } from '../response-stream.js';

export interface JsThreadWorkerOptions {
  readonly id: number;
  readonly entryScript: string;
  readonly initTimeoutMs: number;
  readonly logger: Logger;
  /** Limits of a streaming run() (default: the scoring timeout for both); past one the thread is ended. */
  readonly streamTimeouts?: StreamTimeouts;
}

/** The thread's module: from source through tsx, else the compiled one (by path: this code may run from the CLI bundle). */
const fromSource = import.meta.url.endsWith('.ts');
const threadMain = fromSource ? new URL('./thread-main.ts', import.meta.url) : pathToFileURL(shipped('dist/inference/runtime/js/thread-main.js'));
const NO_HEADERS = Object.freeze({});

export class JsThreadWorker extends MortalWorker {
  private thread: Thread | undefined;
  private raw = false;
  private wantsHeaders = false;
  private info: EntryInfo | undefined;

  constructor(private readonly options: JsThreadWorkerOptions) {
    super(options.id, options.logger, options.streamTimeouts);
  }

  get entryInfo(): EntryInfo | undefined { return this.info; }

  start(): Promise<void> {
    const { id, entryScript, initTimeoutMs, logger } = this.options;
    const workerData: ThreadData = { entryScript, workerId: id };
    const thread = new Thread(threadMain, { workerData, stdout: true, stderr: true, ...(fromSource ? { execArgv: ['--import', 'tsx'] } : {}) });
    this.thread = thread;
    this.tagOutput(thread.stdout, 'stdout');
    this.tagOutput(thread.stderr, 'stderr');

    return new Promise<void>((resolve, reject) => {
      let startupFailure: StartupFailure | undefined;
      let crash: Error | undefined;
      const initTimer = setTimeout(() => {
        startupFailure = initTimeoutFailure(initTimeoutMs);
        this.killFor('init timeout');
      }, initTimeoutMs);

      thread.on('message', (message: ThreadMessage) => {
        if (message.type === 'reply') return this.reply(message.id, message.outcome);
        if (message.type === 'stream') return this.streamMessage(message);
        if (message.type === 'init_failed') {
          startupFailure = message.failure;
          return;
        }
        clearTimeout(initTimer);
        this.raw = message.raw;
        this.wantsHeaders = message.wantsHeaders;
        this.info = message.info;
        this.state = 'ready';
        logger.info({ worker: id, thread: thread.threadId, init_ms: Math.round(message.initMs * 10) / 10 }, 'worker ready');
        resolve();
      });
      // An exception nobody caught (a throw in a timer, an unhandled rejection) ends the thread.
      thread.on('error', (err) => {
        crash = err;
        startupFailure ??= this.state === 'ready' ? undefined : { kind: 'init', exception: err.name, message: err.message, traceback: err.stack };
        logger.error({ worker: id, exception: err.name, traceback: err.stack }, `worker ${id}: uncaught ${err.name} in the entry script: ${err.message}`);
      });
      this.exited = new Promise<void>((done) => {
        thread.on('exit', (code) => {
          clearTimeout(initTimer);
          this.ended(crash !== undefined ? `threw an uncaught ${crash.name}: ${crash.message}` : `exited with code ${code}`, startupFailure, reject);
          done();
        });
      });
    });
  }

  execute(request: ScoreRequest, timeoutMs: number, done: (outcome: ScoreOutcome) => void, waitBudgetMs?: number): void {
    const thread = this.thread;
    if (thread === undefined || !this.accepts()) return done({ kind: 'worker_died', reason: 'the worker was not ready', workerId: this.id });
    const { id, deadlineNs } = this.admit(done, timeoutMs, waitBudgetMs);
    // A copy of exactly the body, handed over without a second copy: cloning the Buffer itself would copy the whole
    // memory block it is a view of (a socket read or Node's shared pool).
    const body = new Uint8Array(request.body);
    const message: ThreadRequest = {
      id,
      deadlineNs,
      request: {
        requestId: request.requestId, method: request.method, path: request.path, query: request.query, body, ...(request.infer === true ? { infer: true } : {}),
        headers: this.raw || this.wantsHeaders ? request.headers : NO_HEADERS,
      },
    };
    thread.postMessage(message, [body.buffer]);
  }

  async stop(): Promise<void> {
    if (this.thread === undefined || this.exited === undefined) return;
    this.killReason ??= 'stopped';
    await this.thread.terminate();
    await this.exited;
  }

  protected kill(): void {
    void this.thread?.terminate();
  }

  private streamMessage(m: ThreadStreamMessage): void {
    const workerId = this.id;
    switch (m.event) {
      case 'start': return this.inflight.streamBegin(m.id);
      case 'chunk': return this.inflight.streamChunk(m.id, Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), m.chunkType, this.controlFor(m.id));
      case 'end': return this.inflight.streamEnd(m.id, undefined, (execMs) => ({ kind: 'ok', status: 200, headers: {}, body: '', workerId, execMs }));
      case 'fail': return this.inflight.streamEnd(m.id, m.failure, () => ({ kind: 'worker_died', reason: 'the stream failed', workerId }));
    }
  }

  /** The response's pause, resume and cancel, posted to the thread; the chunk timer waits while the client is slow. */
  private controlFor(id: number): StreamControl {
    const send = (control: ThreadControl['control']): void => this.thread?.postMessage({ control, id } satisfies ThreadControl);
    return {
      pause: () => { send('pause'); this.inflight.holdTimer(id, true); },
      resume: () => { send('resume'); this.inflight.holdTimer(id, false); },
      cancel: () => send('cancel'),
    };
  }

  private reply(id: number, outcome: ScoreOutcome): void {
    let settled = outcome;
    if (outcome.kind === 'ok' && typeof outcome.body !== 'string') {
      // A Buffer body crossed the thread boundary as a plain Uint8Array.
      const bytes: Uint8Array = outcome.body;
      settled = { ...outcome, body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    }
    this.inflight.settle(id, () => settled);
  }
}
