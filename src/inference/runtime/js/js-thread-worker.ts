// One JS worker thread (`--worker-count 2` or more): its own copy of the entry script and init(); a run() past the scoring timeout is stopped by ending the thread.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker as Thread } from 'node:worker_threads';
import type { Logger } from 'pino';
import { InFlightQueue } from '../in-flight.js';
import { StartupError, type ScoreOutcome, type ScoreRequest, type StartupFailure, type Worker, type WorkerPhase } from '../types.js';
import type { ThreadData, ThreadMessage, ThreadRequest } from './thread-messages.js';

export interface JsThreadWorkerOptions {
  readonly id: number;
  readonly entryScript: string;
  readonly initTimeoutMs: number;
  readonly logger: Logger;
}

/** The thread's module sits beside this one: .js when compiled, .ts when run from source through tsx. */
const fromSource = import.meta.url.endsWith('.ts');
const threadMain = new URL(fromSource ? './thread-main.ts' : './thread-main.js', import.meta.url);
const NO_HEADERS = Object.freeze({});

export class JsThreadWorker implements Worker {
  readonly capacity = 1;
  /** One request waits in the thread's queue behind the running one, so under load the thread never idles between requests. */
  readonly prefetch = 1;
  private thread: Thread | undefined;
  private readonly inflight: InFlightQueue;
  private nextId = 1;
  private state: WorkerPhase = 'starting';
  private raw = false;
  private wantsHeaders = false;
  private readonly exitListeners: Array<(reason: string) => void> = [];
  private exited: Promise<void> | undefined;
  /** Set when the server itself ended the thread, so the exit is reported with that reason. */
  private killReason: string | undefined;

  constructor(private readonly options: JsThreadWorkerOptions) {
    this.inflight = new InFlightQueue(options.id, (timeoutMs) => this.timeOut(timeoutMs));
  }

  get id(): number { return this.options.id; }
  get phase(): WorkerPhase { return this.state; }
  get inFlight(): number { return this.inflight.length; }

  onExit(listener: (reason: string) => void): void { this.exitListeners.push(listener); }

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
        startupFailure = { kind: 'timeout', exception: 'InitTimeout', message: `init() did not finish within ${initTimeoutMs / 1000} s` };
        this.killReason = 'init timeout';
        void thread.terminate();
      }, initTimeoutMs);

      thread.on('message', (message: ThreadMessage) => {
        if (message.type === 'reply') return this.reply(message.id, message.outcome);
        if (message.type === 'init_failed') {
          startupFailure = message.failure;
          return;
        }
        clearTimeout(initTimer);
        this.raw = message.raw;
        this.wantsHeaders = message.wantsHeaders;
        this.state = 'ready';
        logger.info({ worker: id, thread: thread.threadId, init_ms: Math.round(message.initMs * 10) / 10 }, 'worker ready');
        resolve();
      });
      // An exception nobody caught (a throw in a timer, an unhandled rejection) ends the thread.
      thread.on('error', (err) => {
        crash = err;
        logger.error({ worker: id, exception: err.name, traceback: err.stack }, `worker ${id}: uncaught ${err.name} in the entry script: ${err.message}`);
      });
      this.exited = new Promise<void>((done) => {
        thread.on('exit', (code) => {
          clearTimeout(initTimer);
          const wasReady = this.state === 'ready';
          this.state = wasReady || startupFailure === undefined ? 'stopped' : 'failed';
          const reason = this.killReason ?? (crash !== undefined ? `threw an uncaught ${crash.name}: ${crash.message}` : `exited with code ${code}`);
          this.inflight.failAll(reason);
          if (!wasReady) {
            reject(new StartupError(startupFailure ?? { kind: 'init', exception: crash?.name ?? 'WorkerExited', message: `the worker thread ${reason} before init() finished`, traceback: crash?.stack }, id));
          }
          for (const listener of this.exitListeners) listener(reason);
          done();
        });
      });
    });
  }

  execute(request: ScoreRequest, timeoutMs: number, done: (outcome: ScoreOutcome) => void, waitBudgetMs?: number): void {
    const thread = this.thread;
    if (thread === undefined || this.state !== 'ready' || this.inflight.length >= this.capacity + this.prefetch) {
      return done({ kind: 'worker_died', reason: 'the worker was not ready', workerId: this.id });
    }
    const id = this.nextId++;
    // A request sent ahead carries its deadline (the monotonic clock all threads share), past which the thread skips it.
    const sentAhead = this.inflight.length > 0 && waitBudgetMs !== undefined;
    const deadlineNs = sentAhead ? process.hrtime.bigint() + BigInt(Math.round(waitBudgetMs * 1e6)) : undefined;
    this.inflight.add(id, done, timeoutMs, sentAhead ? waitBudgetMs : undefined);
    // A copy of exactly the body, handed over without a second copy: cloning the Buffer itself would copy the whole
    // memory block it is a view of (a socket read or Node's shared pool).
    const body = new Uint8Array(request.body);
    const message: ThreadRequest = {
      id,
      deadlineNs,
      request: {
        requestId: request.requestId, method: request.method, path: request.path, query: request.query, body,
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

  private reply(id: number, outcome: ScoreOutcome): void {
    let settled = outcome;
    if (outcome.kind === 'ok' && typeof outcome.body !== 'string') {
      // A Buffer body crossed the thread boundary as a plain Uint8Array.
      const bytes: Uint8Array = outcome.body;
      settled = { ...outcome, body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    }
    this.inflight.settle(id, () => settled);
  }

  private timeOut(timeoutMs: number): void {
    this.state = 'stopped'; // never dispatch to it again, even before its exit is seen
    this.inflight.timeOutHead();
    // A run() that overran can only be stopped by ending its thread; the pool starts a new worker.
    this.killReason = `recycled after a scoring timeout of ${timeoutMs} ms`;
    void this.thread?.terminate();
  }

  private tagOutput(stream: Readable, name: 'stdout' | 'stderr'): void {
    const log = this.options.logger.child({ worker: this.id, stream: name });
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => log.info(line));
  }
}
