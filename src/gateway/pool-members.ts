// What the routing set keeps per replica (requests sent ahead, service time) and per granted slot.
import type { TimerHandle } from '../core/clock.js';
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
  /** Set while it waits to see whether it stays idle (see ReplicaPool.rebalance). */
  recallTimer: TimerHandle | undefined = undefined;

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


/**
 * The member with the fewest requests in flight below `max` (the scan starts at `start`, so idle replicas share the
 * load); when all are full, the one with the fewest that has room ahead (`aheadRoom`, none when undefined). A member at
 * or above `max` in flight takes the request ahead.
 */
export function chooseMember(members: ReadonlyMap<string, RoutedMember>, start: number, max: number, aheadRoom: ((m: RoutedMember) => number) | undefined): RoutedMember | undefined {
  let best: RoutedMember | undefined;
  let ahead: RoutedMember | undefined;
  // Two passes over the insertion-ordered map emulate a rotated scan without building an array.
  for (let pass = 0; pass < 2; pass++) {
    let i = 0;
    for (const m of members.values()) {
      const inRange = pass === 0 ? i >= start : i < start;
      i++;
      if (!inRange) continue;
      if (m.inFlight < max) {
        if (best === undefined || m.inFlight < best.inFlight) best = m;
      } else if (aheadRoom !== undefined && best === undefined && (ahead === undefined || m.inFlight < ahead.inFlight) && m.inFlight < max + aheadRoom(m)) {
        ahead = m;
      }
    }
  }
  return best ?? ahead;
}

/**
 * `idle` has nothing to do: up to `slots` requests waiting unstarted in other members are asked back, each time the
 * youngest of the member with the most waiting. They come back to the queue at their arrival place, and from there
 * to `idle`.
 */
export function recallFor(idle: RoutedMember, members: Iterable<RoutedMember>, slots: number): void {
  const others = [...members].filter((m) => m !== idle);
  for (let k = 0; k < slots; k++) {
    let from: Slot | undefined;
    let most = 0;
    for (const other of others) {
      const last = recallable(other.ahead);
      if (last !== undefined && other.ahead.length > most) {
        from = last;
        most = other.ahead.length;
      }
    }
    if (from === undefined) return;
    from.recalling = true;
    from.recall!();
  }
}
