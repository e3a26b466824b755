// What every worker that can die shares (a Python process, a JS thread): its in-flight requests, recycling after a scoring timeout, tagged output, and how its end is reported.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InFlightQueue } from './in-flight.js';
import { StartupError, type ScoreOutcome, type ScoreRequest, type StartupFailure, type StreamTimeouts, type Worker, type WorkerPhase } from './types.js';

/** Requests sent ahead to a busy worker: as many as it should reach within this time, so none waits long behind a slow one. */
const AHEAD_WAIT_MS = 1;
const MAX_PREFETCH = 8;

/**
 * How many requests may wait in a busy worker's queue, from its recent run time: at least one, so under load the worker
 * never idles between requests; more when requests are short, so it does not idle while this process, sharing the
 * cores, is slow to hand over the next one.
 */
export function prefetchDepth(averageRunMs: number | undefined): number {
  if (averageRunMs === undefined || !(averageRunMs > 0)) return 1;
  return Math.max(1, Math.min(MAX_PREFETCH, Math.floor(AHEAD_WAIT_MS / averageRunMs)));
}

export abstract class MortalWorker implements Worker {
  readonly capacity = 1;
  protected readonly inflight: InFlightQueue;
  private nextId = 1;
  protected state: WorkerPhase = 'starting';
  protected exited: Promise<void> | undefined;
  /** Set when the server itself ended the worker, so its end is reported with that reason. */
  protected killReason: string | undefined;
  private readonly exitListeners: Array<(reason: string) => void> = [];
  private outputListener: ((line: string) => void) | undefined;

  constructor(readonly id: number, protected readonly logger: Logger, streamLimits?: StreamTimeouts) {
    this.inflight = new InFlightQueue(id, (timeoutMs) => this.timeOut(timeoutMs), streamLimits);
  }

  get phase(): WorkerPhase { return this.state; }
  get inFlight(): number { return this.inflight.length; }
  get prefetch(): number { return prefetchDepth(this.inflight.averageRunMs); }

  onExit(listener: (reason: string) => void): void { this.exitListeners.push(listener); }

  /** Every line the entry script prints (start-up shows the last one while it waits). */
  onOutput(listener: (line: string) => void): void { this.outputListener = listener; }

  abstract start(): Promise<void>;
  abstract execute(request: ScoreRequest, timeoutMs: number, done: (outcome: ScoreOutcome) => void, waitBudgetMs?: number): void;
  abstract stop(): Promise<void>;

  /** Ends the worker at once (SIGKILL, thread termination); its end is then reported through `ended`. */
  protected abstract kill(): void;

  /** Ends the worker at once, its end reported with this reason rather than how it died. */
  protected killFor(reason: string): void {
    this.killReason = reason;
    this.kill();
  }

  /** Whether a request can be handed over now. */
  protected accepts(): boolean {
    return this.state === 'ready' && this.inflight.length < this.capacity + this.prefetch;
  }

  /**
   * Takes a request in: its id and, when it is sent ahead to a busy worker, the deadline (process.hrtime.bigint()
   * nanoseconds, the monotonic clock the worker shares) past which the worker must skip it.
   */
  protected admit(done: (outcome: ScoreOutcome) => void, timeoutMs: number, waitBudgetMs: number | undefined): { readonly id: number; readonly deadlineNs: bigint | undefined } {
    const id = this.nextId++;
    const sentAhead = this.inflight.length > 0 && waitBudgetMs !== undefined;
    this.inflight.add(id, done, timeoutMs, sentAhead ? waitBudgetMs : undefined);
    return { id, deadlineNs: sentAhead ? process.hrtime.bigint() + BigInt(Math.round(waitBudgetMs * 1e6)) : undefined };
  }

  /**
   * The worker is gone: requests it held fail (or go elsewhere when they never started), a start that was still
   * waiting for init() is rejected, and the pool hears why.
   */
  protected ended(reason: string, startupFailure: StartupFailure | undefined, reject: (err: StartupError) => void): void {
    const wasReady = this.state === 'ready';
    this.state = wasReady || startupFailure === undefined ? 'stopped' : 'failed';
    const why = this.killReason ?? reason;
    this.inflight.failAll(why);
    if (!wasReady) reject(new StartupError(startupFailure ?? { kind: 'init', exception: 'WorkerExited', message: `the worker ${why} before init() finished` }, this.id));
    for (const listener of this.exitListeners) listener(why);
  }

  /** Output of user code, one log line per line, tagged with the worker and the stream. */
  protected tagOutput(stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (stream === null) return;
    const log = this.logger.child({ worker: this.id, stream: name });
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      log.info(line);
      this.outputListener?.(line);
    });
  }

  private timeOut(timeoutMs: number): void {
    this.state = 'stopped'; // never dispatch to it again, even before its end is seen
    this.inflight.timeOutHead();
    // A run() that overran can only be stopped by ending its worker; the pool starts a new one.
    this.killFor(`recycled after a scoring timeout of ${timeoutMs} ms`);
  }
}
