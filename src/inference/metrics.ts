// Prometheus metrics of one inference server: requests by status, latency, queue wait, busy workers.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface InferenceMetrics {
  readonly registry: Registry;
  observeRequest(status: number, seconds: number): void;
  observeQueueWait(seconds: number): void;
  countRestart(reason: string): void;
}

export function createInferenceMetrics(sample: () => { busy: number; workers: number; queued: number }): InferenceMetrics {
  const registry = new Registry();
  const requests = new Counter({ name: 'berth_requests_total', help: 'Scoring requests by HTTP status.', labelNames: ['status'], registers: [registry] });
  const latency = new Histogram({ name: 'berth_request_duration_seconds', help: 'Scoring request latency, arrival to response.', buckets: LATENCY_BUCKETS, registers: [registry] });
  const queueWait = new Histogram({ name: 'berth_queue_wait_seconds', help: 'Time scoring requests waited for a free worker.', buckets: LATENCY_BUCKETS, registers: [registry] });
  const restarts = new Counter({ name: 'berth_worker_restarts_total', help: 'Workers replaced, by reason.', labelNames: ['reason'], registers: [registry] });
  new Gauge({ name: 'berth_workers_busy', help: 'Workers running a request now.', registers: [registry], collect() { this.set(sample().busy); } });
  new Gauge({ name: 'berth_workers', help: 'Workers configured.', registers: [registry], collect() { this.set(sample().workers); } });
  new Gauge({ name: 'berth_queue_length', help: 'Requests waiting for a worker now.', registers: [registry], collect() { this.set(sample().queued); } });
  // Label children are cached so the hot path does no label lookup.
  const byStatus = new Map<number, ReturnType<typeof requests.labels>>();
  return {
    registry,
    observeRequest(status, seconds) {
      let child = byStatus.get(status);
      if (child === undefined) byStatus.set(status, (child = requests.labels(String(status))));
      child.inc();
      latency.observe(seconds);
    },
    observeQueueWait(seconds) { queueWait.observe(seconds); },
    countRestart(reason) { restarts.labels(reason.startsWith('recycled') ? 'timeout' : reason.startsWith('killed') ? 'signal' : 'exit').inc(); },
  };
}
