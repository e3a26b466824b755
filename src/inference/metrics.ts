// Prometheus metrics of one inference server: requests by status, latency, queue wait, busy workers.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram, type CounterSeries } from '../core/hot-metrics.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface InferenceMetrics {
  readonly registry: Registry;
  observeRequest(status: number, seconds: number): void;
  observeQueueWait(seconds: number): void;
  /** A streamed response's first chunk went out, this long after its request arrived. */
  observeFirstChunk(seconds: number): void;
  countRestart(reason: string): void;
}

export function createInferenceMetrics(sample: () => { busy: number; workers: number; queued: number }): InferenceMetrics {
  const registry = new Registry();
  const registers = [registry];
  // Counted on every request: the hot-path kind. The rest are prom-client's own.
  const requests = new HotCounter({ name: 'berth_requests_total', help: 'Scoring requests by HTTP status.', labelNames: ['status'], registers });
  const latency = new HotHistogram({ name: 'berth_request_duration_seconds', help: 'Scoring request latency, arrival to response.', buckets: LATENCY_BUCKETS, registers }).labels();
  const queueWait = new HotHistogram({ name: 'berth_queue_wait_seconds', help: 'Time scoring requests waited for a free worker.', buckets: LATENCY_BUCKETS, registers }).labels();
  const firstChunk = new Histogram({ name: 'berth_stream_first_chunk_seconds', help: 'Streamed responses: time from the request\'s arrival to its first chunk leaving.', buckets: LATENCY_BUCKETS, registers });
  const restarts = new Counter({ name: 'berth_worker_restarts_total', help: 'Workers replaced, by reason.', labelNames: ['reason'], registers });
  new Gauge({ name: 'berth_workers_busy', help: 'Workers running a request now.', registers, collect() { this.set(sample().busy); } });
  new Gauge({ name: 'berth_workers', help: 'Workers configured.', registers, collect() { this.set(sample().workers); } });
  new Gauge({ name: 'berth_queue_length', help: 'Requests waiting for a worker now.', registers, collect() { this.set(sample().queued); } });
  const byStatus = new Map<number, CounterSeries>();
  return {
    registry,
    observeRequest(status, seconds) {
      let series = byStatus.get(status);
      if (series === undefined) byStatus.set(status, (series = requests.labels({ status: String(status) })));
      series.inc();
      latency.observe(seconds);
    },
    observeQueueWait(seconds) { queueWait.observe(seconds); },
    observeFirstChunk(seconds) { firstChunk.observe(seconds); },
    countRestart(reason) { restarts.labels(reason.startsWith('recycled') ? 'timeout' : reason.startsWith('killed') ? 'signal' : 'exit').inc(); },
  };
}
