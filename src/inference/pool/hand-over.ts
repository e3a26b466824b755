// Requests the gateway sent ahead, handed to busy workers at the end of the event-loop turn, after their STARTED notices have left with the turn's other frames.
import type { Worker } from '../runtime/types.js';

/** What the pool knows of a request the gateway sent ahead (see Admission in worker-pool.ts). */
export interface Announced {
  readonly admission: {
    /** Sends what was written so far at once (nothing when it already went). */
    flush(): void;
    /** Its sender is gone: it is sent elsewhere, so it must not run here. */
    gone(): boolean;
  } | undefined;
}

/**
 * A request for a busy worker does not need to reach it at once (the worker has its current one to finish). Its
 * STARTED notice is written when it is staged; the connection sends it with everything else it wrote in this turn, in
 * one write at the turn's end; only then, in the same phase of the loop but after that write, does the worker get the
 * request. (Each sender is flushed first all the same, in case its write has not gone yet.) Under load that is one
 * write per turn for answers and notices together, instead of one more for each notice.
 */
export class StagedHandOver<T extends Announced> {
  private staged: Array<{ readonly worker: Worker; readonly item: T }> = [];
  private readonly counts = new Map<Worker, number>();
  private scheduled = false;

  constructor(
    /** Hands `item` to `worker`. */
    private readonly execute: (worker: Worker, item: T) => void,
    /** `item`'s sender went away before the hand-over: it is dropped unrun. */
    private readonly dropped: (item: T) => void,
  ) {}

  /** Requests staged for `worker`, which count as its own for the pool's choice. */
  count(worker: Worker): number {
    return this.counts.get(worker) ?? 0;
  }

  /** Stages `item` (whose STARTED notice has just been written) for `worker`. */
  stage(worker: Worker, item: T): void {
    this.staged.push({ worker, item });
    this.counts.set(worker, this.count(worker) + 1);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.handOver());
    }
  }

  private handOver(): void {
    this.scheduled = false;
    const batch = this.staged;
    this.staged = [];
    this.counts.clear();
    const senders = new Set<() => void>();
    for (const { item } of batch) senders.add(item.admission!.flush);
    for (const flush of senders) flush();
    for (const { worker, item } of batch) {
      if (item.admission!.gone()) this.dropped(item);
      else this.execute(worker, item);
    }
  }
}
