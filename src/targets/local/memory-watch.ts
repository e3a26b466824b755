// Watches one replica run's memory: samples the process tree's RSS (and the cgroup's OOM counter) and reports an out-of-memory kill.
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { MemoryCgroup } from './cgroup.js';
import { treeRssBytes } from './proc-tree.js';
import type { OomReport } from '../types.js';

export interface MemoryWatchOptions {
  readonly pid: number;
  readonly limitBytes: number;
  readonly cgroup?: MemoryCgroup;
  readonly clock: Clock;
  readonly intervalMs: number;
  /** Called once, when the kernel OOM-killed inside the group, or (without a cgroup) the tree's RSS went over the limit; the caller kills the tree. */
  readonly onOom: (report: OomReport) => void;
  /** Seam for tests. */
  readonly sampleRss?: (pid: number) => number;
}

/** Samples every `intervalMs` until stopped or an OOM is seen. */
export class MemoryWatch {
  private timer: TimerHandle | undefined;
  private rssPeak = 0;
  private readonly oomBaseline: number;
  private stopped = false;

  constructor(private readonly options: MemoryWatchOptions) {
    // A re-used or adopted group may carry earlier kills: only new ones count.
    this.oomBaseline = options.cgroup?.oomKills() ?? 0;
  }

  get peakRssBytes(): number {
    return this.rssPeak;
  }

  start(): this {
    this.sample();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One sample; public so the supervisor can take a last look when the process exits (a kernel kill between ticks). */
  check(): OomReport | undefined {
    const { limitBytes, cgroup } = this.options;
    const rss = (this.options.sampleRss ?? treeRssBytes)(this.options.pid);
    this.rssPeak = Math.max(this.rssPeak, rss);
    const cgroupPeak = cgroup?.peakBytes();
    const killedByKernel = cgroup !== undefined && cgroup.oomKills() > this.oomBaseline;
    // With a cgroup the kernel enforces (it charges what the group really owns); summed RSS counts shared library
    // pages once per process, so it would kill earlier than the kernel. Without one, RSS is all there is.
    const overByRss = cgroup === undefined && rss > limitBytes;
    if (!killedByKernel && !overByRss) return undefined;
    return {
      limitBytes,
      // The kernel's own charge when a cgroup is there (summed RSS over-counts shared pages), else the RSS seen.
      usageBytes: cgroupPeak ?? this.rssPeak,
      rssPeakBytes: this.rssPeak,
      ...(cgroupPeak === undefined ? {} : { cgroupPeakBytes: cgroupPeak }),
      detectedBy: killedByKernel ? 'kernel' : 'sampler',
    };
  }

  private sample(): void {
    if (this.stopped) return;
    const report = this.check();
    if (report !== undefined) {
      this.stop();
      this.options.onOom(report);
      return;
    }
    this.timer = this.options.clock.setTimeout(() => this.sample(), this.options.intervalMs);
  }
}
