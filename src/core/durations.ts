// Bounds of duration settings: what a Node.js timer can hold, shared by every flag, variable, API and YAML field.

/**
 * The longest delay setTimeout honours: 2^31−1 ms, about 24.8 days. A longer one overflows and fires after 1 ms,
 * so a scoring timeout of 3,000,000,000 ms would time out every request at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The longest duration in seconds whose milliseconds still fit a timer: 2,147,483 s. */
export const MAX_TIMER_S = Math.floor(MAX_TIMER_MS / 1000);

const ABOUT = '(about 24.8 days, the longest a timer can wait)';
export const TOO_LONG_MS = `must be at most ${MAX_TIMER_MS} ms ${ABOUT}`;
export const TOO_LONG_S = `must be at most ${MAX_TIMER_S} s ${ABOUT}`;

/** Anything zod-like with an upper bound: z.number() and z.coerce.number() alike, each keeping its own minimum. */
interface Bounded<T> {
  max(value: number, message: string): T;
}

/** A duration in milliseconds, bounded to what a timer holds; the error names the bound. */
export function timerMs<T extends Bounded<T>>(schema: T): T {
  return schema.max(MAX_TIMER_MS, TOO_LONG_MS);
}

/** A duration in seconds, bounded so that its milliseconds (× 1000) still fit a timer. */
export function timerSeconds<T extends Bounded<T>>(schema: T): T {
  return schema.max(MAX_TIMER_S, TOO_LONG_S);
}

/**
 * A computed delay (a bounded setting plus a margin, a doubling) clamped to what a timer holds, so the sum of two
 * valid settings never overflows into an immediate timeout.
 */
export function clampTimerMs(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}
