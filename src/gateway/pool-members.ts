// What the routing set keeps per replica (requests sent ahead, service time) and per granted slot.
import { ServiceTime } from './send-ahead.js';
import type { Lease, Member } from './pool-types.js';

/** A member with what the pool keeps about it: the requests it holds that have not started, and its service time. */
export class RoutedMember implements Member {
  inFlight = 0;
  routed = true;
  /** Sent ahead and not started yet, oldest first: the ones that can be recalled. */
  readonly ahead: Slot[] = [];
  readonly service: ServiceTime;
  readonly key?: string;

  constructor(readonly replicaId: string, readonly url: string, key: string | undefined, precise: () => number) {
    if (key !== undefined) this.key = key;
    this.service = new ServiceTime(precise);
  }
}

export class Slot implements Lease {
  recall: (() => void) | undefined = undefined;
  waitedMs: number;
  /** Sent ahead and not started yet. */
  waiting: boolean;
  recalling = false;
  released = false;
  /** When it started on the replica, on the high-resolution clock (for the replica's service time). */
  serviceStart: number | undefined;

  constructor(readonly member: RoutedMember, readonly arrivedAt: number, now: number, readonly aheadBudgetMs: number | undefined) {
    this.waitedMs = now - arrivedAt;
    this.waiting = aheadBudgetMs !== undefined;
  }
}

/** The youngest request in `ahead` that is on its way and not being recalled already. */
export function recallable(ahead: readonly Slot[]): Slot | undefined {
  for (let i = ahead.length - 1; i >= 0; i--) {
    const s = ahead[i]!;
    if (!s.recalling && s.recall !== undefined) return s;
  }
  return undefined;
}

