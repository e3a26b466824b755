// A step run every period on the injected clock until stopped; a step that throws is reported and the loop goes on.
import type { Clock, TimerHandle } from './clock.js';

export class PeriodicLoop {
  private timer: TimerHandle | undefined;
  private stopped = true;

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly step: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      try {
        this.step();
      } catch (err) {
        this.onError(err);
      } finally {
        this.schedule();
      }
    }, this.periodMs);
  }
}
