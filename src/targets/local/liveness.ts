// The liveness probe of one ready run: GET / every period; after failureThreshold failures in a row, the caller kills the run.
import type { Clock, TimerHandle } from '../../core/clock.js';
import { describeProbe, httpGet, probeSucceeded } from './probes.js';
import type { ProbeConfig } from '../types.js';

export interface LivenessOptions {
  readonly url: string;
  readonly probe: ProbeConfig;
  readonly clock: Clock;
  /** Each failed probe, with how many failed in a row. */
  readonly onFailure: (detail: string, consecutive: number) => void;
  /** The threshold was reached; probing has stopped. */
  readonly onThreshold: (consecutive: number) => void;
}

export class LivenessProber {
  private timer: TimerHandle | undefined;
  private failures = 0;
  private successes = 0;
  private stopped = false;

  constructor(private readonly options: LivenessOptions) {}

  start(): this {
    this.schedule();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => void this.probeOnce(), this.options.probe.periodS * 1000);
  }

  private async probeOnce(): Promise<void> {
    const { probe, clock } = this.options;
    const r = await httpGet(`${this.options.url}/`, probe.timeoutS * 1000, clock);
    if (this.stopped) return;
    if (probeSucceeded(r)) {
      this.successes += 1;
      // successThreshold successes in a row clear the failure count (always 1 for liveness in Kubernetes).
      if (this.successes >= probe.successThreshold) this.failures = 0;
    } else {
      this.successes = 0;
      this.failures += 1;
      this.options.onFailure(describeProbe(r), this.failures);
      if (this.failures >= probe.failureThreshold) {
        this.stopped = true;
        this.options.onThreshold(this.failures);
        return;
      }
    }
    this.schedule();
  }
}
