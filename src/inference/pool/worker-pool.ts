// Dispatches scoring requests to workers: least busy first, FIFO queue with a bounded wait, restarts dead workers.
import type { Logger } from 'pino';
import { Fifo } from './fifo.js';
import type { ScoreOutcome, ScoreRequest, Worker, WorkerPhase } from '../runtime/types.js';

/** How a request ended, as the HTTP layer sees it: the pool turns `expired` into `overloaded` and retries `requeue`. */
export type DispatchResult =
  | Exclude<ScoreOutcome, { readonly kind: 'expired' | 'requeue' }>
  | { readonly kind: 'overloaded'; readonly waitMs: number; readonly anyReady: boolean };

export interface WorkerPoolOptions {
  readonly workerCount: number;
  readonly maxConcurrent: number;
  readonly maxQueueWaitMs: number;
  readonly scoringTimeoutMs: number;
  /** Makes worker number `id` (1-based); called again to replace one that died. */
  readonly createWorker: (id: number) => Worker;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Observers for metrics. */
  readonly onQueueWait?: (ms: number) => void;
  readonly onRestart?: (workerId: number, reason: string) => void;
}

interface Waiting {
  readonly request: ScoreRequest;
  readonly enqueued: number;
  readonly resolve: (result: DispatchResult) => void;
}

const RESTART_BACKOFF_MS = [0, 1000, 2000, 5000, 10_000, 30_000];

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly queue = new Fifo<Waiting>();
  private running = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly failedRestarts = new Map<number, number>();
  private readonly now: () => number;

  constructor(private readonly options: WorkerPoolOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Starts every worker; resolves when all finished init(), rejects with the first StartupError. */
  async start(): Promise<void> {
    const starting: Array<Promise<void>> = [];
    for (let id = 1; id <= this.options.workerCount; id++) {
      const worker = this.options.createWorker(id);
      this.workers.push(worker);
      starting.push(worker.start());
      this.watch(worker);
    }
    await Promise.all(starting);
  }

  get busy(): number { return this.workers.reduce((n, w) => n + (w.inFlight > 0 ? 1 : 0), 0); }
  get inFlight(): number { return this.running; }
  get queued(): number { return this.queue.length; }
  get phases(): Array<{ id: number; phase: WorkerPhase; busy: boolean; inFlight: number }> {
    return this.workers.map((w) => ({ id: w.id, phase: w.phase, busy: w.inFlight > 0, inFlight: w.inFlight }));
  }
  get allReady(): boolean { return this.workers.length > 0 && this.workers.every((w) => w.phase === 'ready'); }

  /** Runs the request on a free worker, or queues it; `done` is called exactly once with how it ended. */
  dispatch(request: ScoreRequest, done: (result: DispatchResult) => void): void {
    const worker = this.queue.length === 0 ? this.pickWorker() : undefined;
    if (worker !== undefined) {
      this.options.onQueueWait?.(0);
      return this.run(worker, request, done, this.now());
    }
    this.queue.push({ request, enqueued: this.now(), resolve: done });
    this.scheduleExpiry();
  }

  /** Stops the workers once in-flight requests finished or `graceMs` passed. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const deadline = this.now() + graceMs;
    while ((this.running > 0 || this.queue.length > 0) && this.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    clearTimeout(this.expiryTimer);
    for (let w = this.queue.shift(); w !== undefined; w = this.queue.shift()) {
      w.resolve({ kind: 'overloaded', waitMs: this.now() - w.enqueued, anyReady: false });
    }
    await Promise.all(this.workers.map((w) => w.stop()));
  }

  /** `enqueued`: when the request arrived; a request sent ahead to a busy worker may wait only what is left of its budget. */
  private run(worker: Worker, request: ScoreRequest, done: (result: DispatchResult) => void, enqueued: number): void {
    this.running++;
    const ahead = worker.inFlight >= worker.capacity;
    const budget = ahead ? Math.max(0, enqueued + this.options.maxQueueWaitMs - this.now()) : undefined;
    worker.execute(request, this.options.scoringTimeoutMs, (outcome) => {
      this.running--;
      if (outcome.kind === 'requeue') {
        // Its worker died before starting it: it goes back to the front, keeping its arrival time and its order.
        this.queue.putBack({ request, enqueued, resolve: done }, (other) => other.enqueued > enqueued);
        clearTimeout(this.expiryTimer);
        this.expiryTimer = undefined;
        this.scheduleExpiry();
        return this.drain();
      }
      // Feed the freed worker first, then answer: the worker computes while this process writes the response.
      this.drain();
      if (outcome.kind === 'expired') return done({ kind: 'overloaded', waitMs: this.now() - enqueued, anyReady: true });
      done(outcome);
    }, budget);
  }

  /**
   * A free worker within the concurrency limit, least busy first; else a busy one with room to take a request
   * ahead, so it starts the next request without waiting for this process to hand it over.
   */
  private pickWorker(): Worker | undefined {
    let free: Worker | undefined;
    let ahead: Worker | undefined;
    let runningNow = 0;
    for (const w of this.workers) {
      runningNow += Math.min(w.inFlight, w.capacity);
      if (w.phase !== 'ready') continue;
      if (w.inFlight < w.capacity) {
        if (free === undefined || w.inFlight < free.inFlight) free = w;
      } else if (w.inFlight < w.capacity + w.prefetch && (ahead === undefined || w.inFlight < ahead.inFlight)) {
        ahead = w;
      }
    }
    return free !== undefined && runningNow < this.options.maxConcurrent ? free : ahead;
  }

  /** Hands queued requests to free workers, oldest first. */
  private drain(): void {
    while (this.queue.length > 0) {
      const worker = this.pickWorker();
      if (worker === undefined) return;
      const waiting = this.queue.shift()!;
      this.options.onQueueWait?.(this.now() - waiting.enqueued);
      this.run(worker, waiting.request, waiting.resolve, waiting.enqueued);
    }
  }

  /** One timer for the oldest waiter: since the queue is FIFO, it always expires first. */
  private scheduleExpiry(): void {
    if (this.expiryTimer !== undefined) return;
    const oldest = this.queue.peek();
    if (oldest === undefined) return;
    const delay = Math.max(0, oldest.enqueued + this.options.maxQueueWaitMs - this.now());
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      const limit = this.now() - this.options.maxQueueWaitMs;
      const anyReady = this.workers.some((w) => w.phase === 'ready');
      for (let w = this.queue.peek(); w !== undefined && w.enqueued <= limit; w = this.queue.peek()) {
        this.queue.shift();
        w.resolve({ kind: 'overloaded', waitMs: this.now() - w.enqueued, anyReady });
      }
      this.scheduleExpiry();
    }, delay + 1);
  }

  /** Replaces a worker that exited, with back-off when replacements keep failing init(). */
  private watch(worker: Worker): void {
    worker.onExit((reason) => {
      if (this.stopping) return;
      const index = this.workers.indexOf(worker);
      if (index < 0) return;
      const failures = worker.phase === 'failed' ? (this.failedRestarts.get(worker.id) ?? 0) + 1 : 0;
      this.failedRestarts.set(worker.id, failures);
      const delay = RESTART_BACKOFF_MS[Math.min(failures, RESTART_BACKOFF_MS.length - 1)] ?? 30_000;
      this.options.logger.warn({ worker: worker.id, reason, restart_in_ms: delay }, `worker ${worker.id} ${reason}; starting a new one`);
      this.options.onRestart?.(worker.id, reason);
      setTimeout(() => {
        if (this.stopping) return;
        const replacement = this.options.createWorker(worker.id);
        this.workers[index] = replacement;
        this.watch(replacement);
        replacement.start().then(
          () => { this.failedRestarts.set(worker.id, 0); this.drain(); },
          (err: unknown) => this.options.logger.error({ worker: worker.id, err: err instanceof Error ? err.message : String(err) }, `replacement worker ${worker.id} failed to start`),
        );
      }, delay).unref();
    });
  }
}
