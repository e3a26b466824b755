// Dispatches scoring requests to workers: least busy first, FIFO queue with a bounded wait, restarts dead workers.
import type { Logger } from 'pino';
import { Fifo } from './fifo.js';
import { StagedHandOver } from './hand-over.js';
import type { ScoreOutcome, ScoreRequest, Worker, WorkerPhase } from '../runtime/types.js';

/**
 * How a request ended, as the HTTP layer sees it: the pool turns `expired` into `overloaded` and retries `requeue`;
 * `withdrawn`: a request the gateway sent ahead that the pool gives back unstarted as it stops.
 */
export type DispatchResult =
  | Exclude<ScoreOutcome, { readonly kind: 'expired' | 'requeue' }>
  | { readonly kind: 'overloaded'; readonly waitMs: number; readonly anyReady: boolean }
  | { readonly kind: 'withdrawn' };

/**
 * A request the gateway sent ahead (scoring channel): it waits here at most its own budget (what is left of the
 * gateway's max_request_wait_time), and the gateway hears when it is handed to a worker: until then it has surely not
 * started and can be withdrawn (sent elsewhere); from then on it may be running.
 */
export interface Admission {
  readonly waitBudgetMs: number;
  /** Writes the request's STARTED notice as a worker is about to get it; false when its sender is gone (it is dropped). */
  readonly onStart: () => boolean;
  /** Sends the notices written so far at once: the worker must not get a request before its notice has left. */
  readonly flush: () => void;
  /** Its sender is gone (the request will run elsewhere). */
  readonly gone: () => boolean;
}

/** A request the pool holds (queued or handed to a worker); `withdraw()` takes it back while it is still queued. */
export interface Ticket {
  readonly request: ScoreRequest;
}

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

interface Waiting extends Ticket {
  readonly enqueued: number;
  /** Past this it is answered `overloaded` unstarted (the pool's wait limit, or the budget the gateway gave). */
  readonly deadline: number;
  readonly resolve: (result: DispatchResult) => void;
  readonly admission: Admission | undefined;
}

/**
 * A request sent ahead by the gateway goes into a busy worker's pipe only when that worker takes several ahead (its runs
 * are well under a millisecond): from then on the worker may start it at any moment, so it counts as started and a dead
 * replica answers it 502; a slow worker's next request waits in the pool instead, where it can still go elsewhere.
 */
const HANDED_AHEAD_MIN_PREFETCH = 2;

const RESTART_BACKOFF_MS = [0, 1000, 2000, 5000, 10_000, 30_000];

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly queue = new Fifo<Waiting>();
  private running = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** When the expiry timer fires (a deadline of a queued request; the earliest one once the queue changed). */
  private expiryAt = Number.POSITIVE_INFINITY;
  private stopping = false;
  private readonly failedRestarts = new Map<number, number>();
  private readonly now: () => number;
  private readonly handOver = new StagedHandOver<Waiting>((worker, w) => this.execute(worker, w), () => { this.running--; });

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

  /**
   * Runs the request on a free worker, or queues it; `done` is called exactly once with how it ended, unless the
   * request is withdrawn. `admission`: a request the gateway sent ahead (its own wait budget, a call when handed over).
   */
  dispatch(request: ScoreRequest, done: (result: DispatchResult) => void, admission?: Admission): Ticket {
    const now = this.now();
    const w: Waiting = { request, enqueued: now, deadline: now + (admission?.waitBudgetMs ?? this.options.maxQueueWaitMs), resolve: done, admission };
    const worker = this.queue.length === 0 ? this.pickWorker(admission !== undefined) : undefined;
    if (worker !== undefined) {
      this.options.onQueueWait?.(0);
      this.run(worker, w);
      return w;
    }
    this.queue.push(w);
    this.scheduleExpiry(w.deadline);
    return w;
  }

  /** Takes a queued request back unstarted (its `done` is not called); false once it was handed to a worker. */
  withdraw(ticket: Ticket): boolean {
    return this.queue.remove(ticket as Waiting);
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
      w.resolve(w.admission !== undefined ? { kind: 'withdrawn' } : { kind: 'overloaded', waitMs: this.now() - w.enqueued, anyReady: false });
    }
    await Promise.all(this.workers.map((w) => w.stop()));
  }

  /**
   * Hands the request to `worker`. One the gateway sent ahead is announced first (STARTED), and reaches the worker only
   * once the notice has left: a busy worker's at the end of the turn, with the turn's other frames (StagedHandOver); a
   * free worker's at once, after a write of its own.
   */
  private run(worker: Worker, w: Waiting): void {
    this.running++;
    if (w.admission !== undefined) {
      if (!w.admission.onStart()) {
        this.running--;
        return;
      }
      if (this.load(worker) >= worker.capacity) return this.handOver.stage(worker, w);
      w.admission.flush();
    }
    this.execute(worker, w);
  }

  /** A request sent ahead to a busy worker may wait only what is left of its budget. */
  private execute(worker: Worker, w: Waiting): void {
    if (worker.phase !== 'ready' || worker.inFlight >= worker.capacity + worker.prefetch) {
      // Staged for a worker that died meanwhile, or whose room ahead shrank (its recent run time grew): back to the
      // front of the queue, as for a request a dead worker never started.
      this.running--;
      this.queue.putBack(w, (other) => other.enqueued > w.enqueued);
      this.scheduleExpiry(w.deadline);
      return this.drain();
    }
    const ahead = worker.inFlight >= worker.capacity;
    const budget = ahead ? Math.max(0, w.deadline - this.now()) : undefined;
    worker.execute(w.request, this.options.scoringTimeoutMs, (outcome) => {
      this.running--;
      if (outcome.kind === 'requeue') {
        // Its worker died before starting it: it goes back to the front, keeping its arrival time and its order.
        this.queue.putBack(w, (other) => other.enqueued > w.enqueued);
        this.scheduleExpiry(w.deadline);
        return this.drain();
      }
      // Feed the freed worker first, then answer: the worker computes while this process writes the response.
      this.drain();
      if (outcome.kind === 'expired') return w.resolve({ kind: 'overloaded', waitMs: this.now() - w.enqueued, anyReady: true });
      w.resolve(outcome);
    }, budget);
  }

  /** Requests a worker holds, and those staged for it. */
  private load(worker: Worker): number {
    return worker.inFlight + this.handOver.count(worker);
  }

  /**
   * A free worker within the concurrency limit, least busy first; else a busy one with room to take a request
   * ahead, so it starts the next request without waiting for this process to hand it over. `sentAhead`: a request
   * the gateway sent ahead, which goes into a busy worker only when that worker is fast (HANDED_AHEAD_MIN_PREFETCH).
   */
  private pickWorker(sentAhead: boolean): Worker | undefined {
    let free: Worker | undefined;
    let freeLoad = 0;
    let ahead: Worker | undefined;
    let aheadLoad = 0;
    let runningNow = 0;
    for (const w of this.workers) {
      const load = this.load(w);
      runningNow += Math.min(load, w.capacity);
      if (w.phase !== 'ready') continue;
      if (load < w.capacity) {
        if (free === undefined || load < freeLoad) [free, freeLoad] = [w, load];
      } else if (load < w.capacity + w.prefetch && (!sentAhead || w.prefetch >= HANDED_AHEAD_MIN_PREFETCH) && (ahead === undefined || load < aheadLoad)) {
        [ahead, aheadLoad] = [w, load];
      }
    }
    return free !== undefined && runningNow < this.options.maxConcurrent ? free : ahead;
  }

  /** Hands queued requests to free workers, oldest first. */
  private drain(): void {
    for (let next = this.queue.peek(); next !== undefined; next = this.queue.peek()) {
      const worker = this.pickWorker(next.admission !== undefined);
      if (worker === undefined) return;
      this.queue.shift();
      this.options.onQueueWait?.(this.now() - next.enqueued);
      this.run(worker, next);
    }
  }

  /**
   * One timer, at the earliest deadline of a queued request: requests share the pool's wait limit and arrive in
   * order, so that is mostly the oldest; a budget from the gateway may be shorter, and moves the timer earlier.
   */
  private scheduleExpiry(deadline: number): void {
    if (deadline >= this.expiryAt) return;
    clearTimeout(this.expiryTimer);
    this.expiryAt = deadline;
    this.expiryTimer = setTimeout(() => this.expire(), Math.max(0, deadline - this.now()) + 1);
  }

  private expire(): void {
    this.expiryTimer = undefined;
    this.expiryAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    const anyReady = this.workers.some((w) => w.phase === 'ready');
    const expired = this.queue.removeWhere((w) => w.deadline <= now);
    let next = Number.POSITIVE_INFINITY;
    this.queue.forEach((w) => { next = Math.min(next, w.deadline); });
    if (next < Number.POSITIVE_INFINITY) this.scheduleExpiry(next);
    for (const w of expired) w.resolve({ kind: 'overloaded', waitMs: now - w.enqueued, anyReady });
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
