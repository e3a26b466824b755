// A services-table row: the service's facts, its last 10 s of traffic from the history, and the gateway's live figures.
import { recentTraffic, totalRate, type Sample } from '../shared/series.js';
import type { ServiceRow } from '../shared/protocol.js';
import type { HistoryStore } from './history.js';
import type { LiveSources, ServiceFacts } from './sources.js';

/** Seconds the table's req/s and error rate average over: steady enough to read, recent enough to react. */
export const ROW_WINDOW_S = 10;
/** Seconds of req/s in each row's sparkline. */
export const SPARK_S = 120;

export function serviceRow(f: ServiceFacts, history: HistoryStore, sources: LiveSources): ServiceRow {
  const recent = history.latest(f.name, ROW_WINDOW_S);
  const { rps, errorRate } = recentTraffic(recent);
  const live = sources.traffic(f.name);
  const sample: Sample | undefined = recent[recent.length - 1];
  return {
    ...f,
    traffic: {
      rps: round(rps), error_rate: errorRate === null ? null : round(errorRate, 4),
      p50_ms: live.p50Ms, p99_ms: live.p99Ms, utilization: live.utilization, in_flight: live.inFlight, queued: live.queued,
    },
    sample: sample === undefined ? null : roundSample(sample),
  };
}

export function sparkline(name: string, history: HistoryStore): number[] {
  return history.latest(name, SPARK_S).map((s) => round(totalRate(s)));
}

/** Float32 noise (0.30000001) trimmed, so the wire carries what a person would write. */
export function roundSample(s: Sample): Sample {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(s)) out[k] = v === null || k === 't' ? v : round(v);
  return out as Sample;
}

function round(v: number, digits = 3): number {
  return Number(v.toFixed(digits));
}
