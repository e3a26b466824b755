// Prometheus metrics of the gateway and the autoscaler, in their own registry: requests, latency, queue wait, 503/504, replicas, utilization.
import { Gauge, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram, type CounterSeries, type HistogramSeries } from '../core/hot-metrics.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the gauges read at scrape time, one row per service. */
export interface ServiceGauges {
  readonly service: string;
  readonly desired: number;
  readonly ready: number;
  /** Percent, from the autoscaler's last sample; null before the first. */
  readonly utilization: number | null;
  readonly inFlight: number;
  readonly queued: number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  // Counted on every request: the hot-path kind, whose series are kept so a request does no label lookup.
  private readonly requests: HotCounter;
  private readonly latency: HotHistogram;
  private readonly queueWait: HotHistogram;
  private readonly overloaded: HotCounter;
  private readonly timeouts: HotCounter;
  private readonly attempts: Record<'channel' | 'http', CounterSeries>;
  private readonly firstChunk: Histogram<'service'>;
  private readonly children = new Map<string, { codes: Map<number, CounterSeries>; latency: HistogramSeries; wait: HistogramSeries; overloaded: CounterSeries; timeouts: CounterSeries }>();
  // Per generation, only during a rollout: what each generation answered (served) or was sent a copy of (mirror).
  private readonly generationRequests: HotCounter;
  private readonly generationLatency: HotHistogram;
  private readonly generationChildren = new Map<string, { codes: Map<number, CounterSeries>; latency: HistogramSeries }>();

  constructor(gauges: () => readonly ServiceGauges[]) {
    const registers = [this.registry];
    this.requests = new HotCounter({ name: 'berth_gateway_requests_total', help: 'Scoring requests through the gateway, by service and HTTP status.', labelNames: ['service', 'code'], registers });
    this.latency = new HotHistogram({ name: 'berth_gateway_request_duration_seconds', help: 'Scoring latency at the gateway, arrival to response (queue wait included).', labelNames: ['service'], buckets: LATENCY_BUCKETS, registers });
    this.queueWait = new HotHistogram({ name: 'berth_gateway_queue_wait_seconds', help: 'Time requests waited for a free replica slot.', labelNames: ['service'], buckets: WAIT_BUCKETS, registers });
    this.overloaded = new HotCounter({ name: 'berth_gateway_overloaded_total', help: '503s: no replica slot within max_request_wait_time, or no ready replica.', labelNames: ['service'], registers });
    this.timeouts = new HotCounter({ name: 'berth_gateway_timeouts_total', help: '504s: scoring timeouts (the replica\'s or the gateway\'s).', labelNames: ['service'], registers });
    this.firstChunk = new Histogram({ name: 'berth_gateway_first_chunk_seconds', help: 'Streamed responses: time from arrival at the gateway to the first chunk from the replica (queue wait included).', labelNames: ['service'], buckets: LATENCY_BUCKETS, registers });
    this.generationRequests = new HotCounter({ name: 'berth_gateway_generation_requests_total', help: 'Scoring requests per generation of a service during a rollout, by HTTP status; kind="mirror" counts copies whose answers were discarded (not in berth_gateway_requests_total).', labelNames: ['service', 'generation', 'kind', 'code'], registers });
    this.generationLatency = new HotHistogram({ name: 'berth_gateway_generation_request_duration_seconds', help: 'Scoring latency per generation of a service during a rollout (kind="mirror" for copies).', labelNames: ['service', 'generation', 'kind'], buckets: LATENCY_BUCKETS, registers });
    const attempts = new HotCounter({ name: 'berth_gateway_upstream_attempts_total', help: 'Attempts to send a request to a replica, by transport: its scoring channel, or HTTP (streamed bodies, replicas without a channel).', labelNames: ['transport'], registers });
    // Both series show from the start, zeros included.
    this.attempts = { channel: attempts.labels({ transport: 'channel' }), http: attempts.labels({ transport: 'http' }) };
    const gauge = (name: string, help: string, value: (g: ServiceGauges) => number | null): void => {
      new Gauge({
        name, help, labelNames: ['service'], registers,
        collect() {
          this.reset();
          for (const g of gauges()) {
            const v = value(g);
            if (v !== null) this.set({ service: g.service }, v);
          }
        },
      });
    };
    gauge('berth_service_replicas_desired', 'Replicas the service should have (the autoscaler\'s count when it scales).', (g) => g.desired);
    gauge('berth_service_replicas_ready', 'Replicas in routing.', (g) => g.ready);
    gauge('berth_service_utilization_ratio', 'Busy replicas ÷ replicas at the last autoscaler sample (0–1).', (g) => (g.utilization === null ? null : g.utilization / 100));
    gauge('berth_gateway_in_flight', 'Requests on replicas now.', (g) => g.inFlight);
    gauge('berth_gateway_queue_length', 'Requests waiting for a replica slot now.', (g) => g.queued);
  }

  /** One finished request: its status, total latency and time in the queue (undefined when it never got that far). */
  observe(service: string, status: number, seconds: number, waitedSeconds: number | undefined): void {
    const c = this.child(service);
    let code = c.codes.get(status);
    if (code === undefined) c.codes.set(status, (code = this.requests.labels({ service, code: String(status) })));
    code.inc();
    c.latency.observe(seconds);
    if (waitedSeconds !== undefined) c.wait.observe(waitedSeconds);
    if (status === 503) c.overloaded.inc();
    else if (status === 504) c.timeouts.inc();
  }

  /** A streamed response's first chunk reached the gateway, this long after its request did. */
  observeFirstChunk(service: string, seconds: number): void {
    this.firstChunk.labels({ service }).observe(seconds);
  }

  /** One request a generation of a rollout answered, or a mirrored copy it got. */
  observeGeneration(service: string, generation: number, status: number, seconds: number, kind: 'served' | 'mirror'): void {
    const key = `${service}\u0000${generation}\u0000${kind}`;
    let c = this.generationChildren.get(key);
    if (c === undefined) {
      c = { codes: new Map(), latency: this.generationLatency.labels({ service, generation: String(generation), kind }) };
      this.generationChildren.set(key, c);
    }
    let code = c.codes.get(status);
    if (code === undefined) c.codes.set(status, (code = this.generationRequests.labels({ service, generation: String(generation), kind, code: String(status) })));
    code.inc();
    c.latency.observe(seconds);
  }

  countAttempt(transport: 'channel' | 'http'): void {
    this.attempts[transport].inc();
  }

  /** Drops a deleted service's series. */
  forget(service: string): void {
    for (const key of [...this.generationChildren.keys()]) if (key.startsWith(`${service}\u0000`)) this.generationChildren.delete(key);
    this.generationRequests.remove({ service });
    this.generationLatency.remove({ service });
    const c = this.children.get(service);
    if (c === undefined) return;
    for (const metric of [this.requests, this.latency, this.queueWait, this.overloaded, this.timeouts]) metric.remove({ service });
    this.firstChunk.remove({ service });
    this.children.delete(service);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  private child(service: string) {
    let c = this.children.get(service);
    if (c === undefined) {
      c = {
        codes: new Map(),
        latency: this.latency.labels({ service }),
        wait: this.queueWait.labels({ service }),
        overloaded: this.overloaded.labels({ service }),
        timeouts: this.timeouts.labels({ service }),
      };
      this.children.set(service, c);
    }
    return c;
  }
}
