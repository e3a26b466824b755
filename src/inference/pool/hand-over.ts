// Requests the gateway sent ahead, handed to busy workers once per event-loop turn: their STARTED notices leave in one write before any reaches a worker.
import type { Worker } from '../runtime/types.js';

/** What the pool knows of a request the gateway sent ahead (see Admission in worker-pool.ts). */
export interface Announced {
  readonly admission: {
    /** Writes the request's STARTED notice; false when its sender is gone (then it must not run). */
    onStart(): boolean;
    /** Sends what was written, now. */
    flush(): void;
  } | undefined;
}

/**
 * A request for a busy worker does not need to reach it at once (the worker has its current one to finish), so it is
 * staged: at the end of the turn every staged request's notice is written, each sender flushed once, and only then are
 * they handed over. Under load that is one write for many notices instead of one each.
 */
export class StagedHandOver<T extends Announced> {
  private staged: Array<{ readonly worker: Worker; readonly item: T }> = [];
  private readonly counts = new Map<Worker, number>();
  private scheduled = false;

  constructor(
    /** Hands `item` to `worker` (whose notice has left). */
    private readonly execute: (worker: Worker, item: T) => void,
    /** `item`'s sender is gone: it is dropped unrun. */
    private readonly dropped: (item: T) => void,
  ) {}

  /** Requests staged for `worker`, which count as its own for the pool's choice. */
  count(worker: Worker): number {
    return this.counts.get(worker) ?? 0;
  }

  stage(worker: Worker, item: T): void {
    this.staged.push({ worker, item });
    this.counts.set(worker, this.count(worker) + 1);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Takes a staged request back (no notice was written for it yet); false when it is not staged. */
  withdraw(item: T): boolean {
    const i = this.staged.findIndex((s) => s.item === item);
    if (i < 0) return false;
    const { worker } = this.staged[i]!;
    this.staged.splice(i, 1);
    this.counts.set(worker, this.count(worker) - 1);
    return true;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.staged;
    this.staged = [];
    this.counts.clear();
    const go: Array<{ readonly worker: Worker; readonly item: T }> = [];
    const senders = new Set<() => void>();
    for (const s of batch) {
      const admission = s.item.admission!;
      if (!admission.onStart()) {
        this.dropped(s.item);
        continue;
      }
      senders.add(admission.flush);
      go.push(s);
    }
    for (const flush of senders) flush();
    for (const { worker, item } of go) this.execute(worker, item);
  }
}
