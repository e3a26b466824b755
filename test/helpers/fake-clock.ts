// A clock whose time moves only when a test advances it; timers fire in order, with the event loop turned between them.
import type { Clock } from '../../src/core/clock.js';

export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order; awaits pending promise callbacks between them. */
  advance(ms: number): Promise<void>;
  /** Timers not fired yet. */
  pending(): number;
}

export function fakeClock(start = 1_000_000): FakeClock {
  let now = start;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let next = 0;
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  return {
    now: () => now,
    setTimeout: (fn, ms) => { next += 1; timers.push({ at: now + Math.max(0, ms), fn, id: next }); return next; },
    clearTimeout: (h) => { timers = timers.filter((t) => t.id !== h); },
    pending: () => timers.length,
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        await turn();
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (due === undefined) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = end;
      await turn();
    },
  };
}
