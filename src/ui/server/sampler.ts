// The 1 s recorder: turns the gateway's counters and latency window into one sample per service, kept in the history rings.
import { classRates, percentile, type Sample } from '../shared/series.js';
import type { HistoryStore } from './history.js';
import type { LiveSources, ServiceFacts } from './sources.js';

export interface TickData {
  readonly time: number;
  readonly facts: readonly ServiceFacts[];
  readonly samples: ReadonlyMap<string, Sample>;
}

export const SAMPLE_INTERVAL_MS = 1000;

/**
 * Runs always (history must exist before anyone opens a chart); per tick it reads one table listing, the counters and
 * each service's last-second latencies: tens of microseconds a service. Listeners (the live hub) get each tick.
 */
export class Sampler {
  private timer: NodeJS.Timeout | undefined;
  private before: ReadonlyMap<string, ReadonlyMap<number, number>> | undefined;
  private lastAt: number | undefined;
  private running: Promise<void> | undefined;
  private readonly listeners = new Set<(tick: TickData) => void>();

  constructor(private readonly sources: LiveSources, private readonly history: HistoryStore, private readonly onError: (err: unknown) => void = () => undefined) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      // A slow tick (a busy store) is skipped rather than queued behind itself.
      if (this.running === undefined) this.running = this.tick().then(() => undefined, this.onError).finally(() => { this.running = undefined; });
    }, SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  listen(listener: (tick: TickData) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One sample of every service at the sources' now; public for tests and benchmarks. */
  async tick(): Promise<TickData> {
    const facts = this.sources.services();
    const counts = await this.sources.counts();
    const now = this.sources.now();
    // The first reading has nothing to subtract from: its rates are zero rather than everything since the start.
    const before = this.before ?? counts;
    const seconds = this.lastAt === undefined ? 1 : Math.max(0.001, (now - this.lastAt) / 1000);
    const since = this.lastAt ?? now - SAMPLE_INTERVAL_MS;
    const samples = new Map<string, Sample>();
    for (const f of facts) {
      // A service missing from the previous reading is new: all it counted is this second's.
      const rates = classRates(before.get(f.name), counts.get(f.name) ?? new Map(), seconds);
      const latencies = this.sources.latencies(f.name, since, now);
      const live = this.sources.traffic(f.name);
      const s: Sample = {
        t: now, rps2xx: rates['2xx'], rps4xx: rates['4xx'], rps5xx: rates['5xx'],
        p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99),
        util: live.utilization, inflight: live.inFlight, queued: live.queued, ready: f.ready, desired: f.desired,
      };
      samples.set(f.name, s);
      this.history.add(f.name, s);
    }
    this.history.keepOnly(new Set(facts.map((f) => f.name)));
    this.before = counts;
    this.lastAt = now;
    const tick = { time: now, facts, samples };
    for (const l of this.listeners) l(tick);
    return tick;
  }
}
