// How many requests the gateway sends ahead to a busy replica: as many as it gets through within about a millisecond.
/**
 * Sent ahead, a request waits in the replica for its turn, so the replica's worker never idles while the gateway hands
 * over the next one (for a fast script that hand-over is most of the time). Few enough that none waits long behind
 * the others: what the replica finishes within this time, as berth serve does for its workers' pipes.
 */
export const AHEAD_WAIT_MS = 1;
export const MAX_AHEAD = 16;
/** A request with less of its wait left than this is not sent ahead: it would only expire in the replica. */
export const MIN_AHEAD_BUDGET_MS = 1;
/** Weight of the newest sample in the running average (about the last ten requests count). */
const WEIGHT = 0.2;

/**
 * Requests a replica may hold beyond `maxConcurrent` running ones: at least one (under load its worker never idles
 * between two requests), more when they are short. `serviceMs`: its recent time per request and slot.
 */
export function aheadDepth(serviceMs: number | undefined, maxConcurrent: number): number {
  if (serviceMs === undefined || !(serviceMs > 0)) return 1;
  return Math.max(1, Math.min(MAX_AHEAD, Math.floor((AHEAD_WAIT_MS * maxConcurrent) / serviceMs)));
}

/**
 * A replica's recent time per request, as the gateway sees it: from a request's start (sent to a free slot, or its
 * STARTED notice) or the previous answer, whichever is later, to its answer. Under load that is the gap between
 * answers; idle, the round trip. Measured on the high-resolution clock: a fast script takes tens of microseconds.
 */
export class ServiceTime {
  private average: number | undefined;
  private lastAnswer = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get ms(): number | undefined {
    return this.average;
  }

  /** The time a request starts on the replica, as the gateway learns it. */
  stamp(): number {
    return this.now();
  }

  /** A request that started at `startedAt` (a stamp()) was answered now. */
  answered(startedAt: number): void {
    const now = this.now();
    const sample = now - Math.max(startedAt, this.lastAnswer);
    this.lastAnswer = now;
    this.average = this.average === undefined ? sample : this.average + WEIGHT * (sample - this.average);
  }
}
