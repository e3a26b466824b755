// Placement of replicas on this machine: capacity minus what placed replicas requested; a replica that does not fit waits, bounded.
import { BerthError } from '../../errors/catalogue.js';
import { schedule, schedulingTimeoutError, type Resources } from '../../targets/local/index.js';
import type { Clock } from '../../core/clock.js';

export interface PlaceOptions {
  /** The scheduling timeout; the wait fails with the classic message after it. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Called when the replica does not fit, and again whenever the reason changes. */
  readonly onWaiting?: (reason: string) => void;
}

/** How often a waiting replica looks again even when nothing was released (capacity is not the only thing that changes). */
const RETRY_MS = 1000;

export class Placements {
  private readonly placed = new Map<string, Resources>();
  private wakers = new Set<() => void>();

  constructor(readonly capacity: Resources, private readonly clock: Clock) {}

  /** Records a replica that already runs (reconcile); it may overcommit when the capacity was lowered meanwhile. */
  hold(replicaId: string, request: Resources): void {
    this.placed.set(replicaId, request);
  }

  /** Places the replica if it fits now, without waiting; the scheduler's reason when it does not. */
  tryPlace(replicaId: string, request: Resources): string | undefined {
    const decision = schedule(this.capacity, [...this.placed.values()], request);
    if (!decision.fits) return decision.reason;
    this.placed.set(replicaId, request);
    return undefined;
  }

  release(replicaId: string): void {
    if (!this.placed.delete(replicaId)) return;
    const wakers = this.wakers;
    this.wakers = new Set();
    for (const wake of wakers) wake();
  }

  /** Total requested by placed replicas. */
  used(): Resources {
    let cpu = 0;
    let memoryGb = 0;
    let gpu = 0;
    for (const r of this.placed.values()) {
      cpu += r.cpu;
      memoryGb += r.memoryGb;
      gpu += r.gpu;
    }
    return { cpu, memoryGb, gpu };
  }

  /** Places the replica now if it fits, else waits for room until the timeout (SCHEDULING_TIMEOUT) or the abort. */
  async place(replicaId: string, request: Resources, options: PlaceOptions): Promise<void> {
    const deadline = this.clock.now() + options.timeoutMs;
    let lastReason: string | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      const decision = schedule(this.capacity, [...this.placed.values()], request);
      if (decision.fits) {
        this.placed.set(replicaId, request);
        return;
      }
      if (decision.reason !== lastReason) {
        lastReason = decision.reason;
        options.onWaiting?.(decision.reason);
      }
      const left = deadline - this.clock.now();
      if (left <= 0) throw schedulingTimeoutError(options.timeoutMs, decision.reason);
      await this.waitForChange(Math.min(left, RETRY_MS), options.signal);
    }
  }

  private waitForChange(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        this.wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this.wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** A spec's per-replica request in the scheduler's units. */
export function requestOf(spec: { cpu_cores: number; memory_gb: number; gpu_cores: number }): Resources {
  return { cpu: spec.cpu_cores, memoryGb: spec.memory_gb, gpu: spec.gpu_cores };
}

/** The abort reason of a cancelled operation, as an error the operation records. */
export function abortError(signal: AbortSignal, fallback: () => BerthError): unknown {
  return signal.reason instanceof BerthError ? signal.reason : fallback();
}
