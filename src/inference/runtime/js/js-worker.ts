// Runs a JS/TS entry script in the server's own thread: init() once, run() per request, sync or async (the one-worker mode).
import { format } from 'node:util';
import type { Logger } from 'pino';
import { prepareEntryModule, startRun, type EntryModule } from './entry-module.js';
import { initTimeoutFailure, StartupError, type EntryInfo, type ScoreOutcome, type ScoreRequest, type Worker, type WorkerPhase } from '../types.js';

export interface JsWorkerOptions {
  readonly entryScript: string;
  readonly capacity: number;
  readonly initTimeoutMs: number;
  readonly logger: Logger;
}

const WORKER_ID = 1;

/**
 * The fastest way to run JS: no hop between threads. The price: a synchronous run() that never returns cannot be
 * interrupted (an async one past the timeout is answered 504 and its late result dropped); worker threads
 * (`--worker-count 2` or more) can be.
 */
export class JsWorker implements Worker {
  readonly id = WORKER_ID;
  /** In-process: nothing to gain from sending requests ahead. */
  readonly prefetch = 0;
  private state: WorkerPhase = 'starting';
  private running = 0;
  private entry: EntryModule | undefined;

  constructor(private readonly options: JsWorkerOptions) {}

  get phase(): WorkerPhase { return this.state; }
  get capacity(): number { return this.options.capacity; }
  get inFlight(): number { return this.running; }
  get entryInfo(): EntryInfo | undefined { return this.entry?.info; }

  onExit(): void {
    // The module lives in this process: it cannot exit without the server.
  }

  async start(): Promise<void> {
    const { entryScript, logger } = this.options;
    routeConsoleToLog(logger.child({ worker: 'js' }));
    // An async init() past its budget fails the start; a synchronous one holds this thread, so only a thread (--worker-count 2+) can be stopped.
    const prepared = await withTimeout(prepareEntryModule(entryScript, (phase) => { this.state = phase; }), this.options.initTimeoutMs);
    if (prepared === TIMED_OUT || !prepared.ok) {
      this.state = 'failed';
      throw new StartupError(prepared === TIMED_OUT ? initTimeoutFailure(this.options.initTimeoutMs) : prepared.failure, this.id);
    }
    this.entry = prepared.entry;
    this.state = 'ready';
  }

  execute(request: ScoreRequest, timeoutMs: number, done: (outcome: ScoreOutcome) => void): void {
    const entry = this.entry;
    if (entry === undefined) return done({ kind: 'worker_died', reason: 'the JS entry script is not loaded', workerId: this.id });
    const outcome = startRun(entry, request, this.id);
    if (!(outcome instanceof Promise)) return done(outcome);
    this.running++;
    void withTimeout(outcome, timeoutMs).then((settled) => {
      this.running--;
      done(settled === TIMED_OUT ? { kind: 'timeout', timeoutMs, workerId: this.id } : settled);
    });
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
  }
}

const TIMED_OUT = Symbol('timed out');

/** JS in this thread cannot be killed: past the timeout its caller goes on (504, a failed start) and the late result is dropped. */
function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => { timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs); });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** console.* from user code goes to the server log, tagged like Python worker output. */
function routeConsoleToLog(log: Logger): void {
  console.log = console.info = (...args: unknown[]) => log.info({ stream: 'stdout' }, format(...args));
  console.debug = (...args: unknown[]) => log.debug({ stream: 'stdout' }, format(...args));
  console.warn = (...args: unknown[]) => log.warn({ stream: 'stderr' }, format(...args));
  console.error = (...args: unknown[]) => log.error({ stream: 'stderr' }, format(...args));
}
