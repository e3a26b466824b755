// Runs a JS/TS entry script in the server's own thread: init() once, run() per request, sync or async (the one-worker mode).
import { format } from 'node:util';
import type { Logger } from 'pino';
import { encodeData, encodeResult, initEntryModule, isPromiseLike, loadEntryModule, NOT_UTF8, runError, runInput, type EntryModule } from './entry-module.js';
import { StartupError, type ScoreOutcome, type ScoreRequest, type Worker, type WorkerPhase } from '../types.js';

export interface JsWorkerOptions {
  readonly entryScript: string;
  readonly capacity: number;
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

  onExit(): void {
    // The module lives in this process: it cannot exit without the server.
  }

  async start(): Promise<void> {
    const { entryScript, logger } = this.options;
    routeConsoleToLog(logger.child({ worker: 'js' }));
    const loaded = await loadEntryModule(entryScript);
    const failure = loaded.ok ? await initEntryModule(loaded.entry, entryScript) : loaded.failure;
    if (failure !== undefined) {
      this.state = 'failed';
      throw new StartupError(failure, this.id);
    }
    if (loaded.ok) this.entry = loaded.entry;
    this.state = 'ready';
  }

  execute(request: ScoreRequest, timeoutMs: number, done: (outcome: ScoreOutcome) => void): void {
    const entry = this.entry;
    if (entry === undefined) return done({ kind: 'worker_died', reason: 'the JS entry script is not loaded', workerId: this.id });
    const given = runInput(entry, request);
    if (given === undefined) return done({ kind: 'bad_utf8', message: NOT_UTF8, workerId: this.id });

    const started = performance.now();
    let result: unknown;
    try {
      result = entry.wantsHeaders ? entry.run(given.input, request.headers) : entry.run(given.input);
    } catch (err) {
      return done(runError(err, performance.now() - started, this.id));
    }
    // A synchronous run() returning plain data is answered in this same tick: the common, fast case.
    if (!isPromiseLike(result) && !(result instanceof Response)) return done(encodeData(result, performance.now() - started, this.id));
    this.running++;
    const settle = (outcome: ScoreOutcome): void => {
      this.running--;
      done(outcome);
    };
    withTimeout(Promise.resolve(result), timeoutMs)
      .then((settled) => (settled === TIMED_OUT ? { kind: 'timeout' as const, timeoutMs, workerId: this.id } : encodeResult(settled, performance.now() - started, this.id)))
      .then(settle, (err: unknown) => settle(runError(err, performance.now() - started, this.id)));
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
  }
}

const TIMED_OUT = Symbol('timed out');

/** A JS run() in this thread cannot be killed; past the timeout the client gets 504 and the late result is dropped. */
function withTimeout(result: PromiseLike<unknown>, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => { timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs); });
  return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
}

/** console.* from user code goes to the server log, tagged like Python worker output. */
function routeConsoleToLog(log: Logger): void {
  console.log = console.info = (...args: unknown[]) => log.info({ stream: 'stdout' }, format(...args));
  console.debug = (...args: unknown[]) => log.debug({ stream: 'stdout' }, format(...args));
  console.warn = (...args: unknown[]) => log.warn({ stream: 'stderr' }, format(...args));
  console.error = (...args: unknown[]) => log.error({ stream: 'stderr' }, format(...args));
}
