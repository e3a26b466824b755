// Counters and histograms for the per-request hot path, rendered by prom-client at scrape time.
import type { Registry } from 'prom-client';

/**
 * prom-client's own observe() hashes the label set and allocates on every call, and its buckets are keyed by the
 * bound's string: in a no-op scoring server that was about 6% of the throughput. Here a series is a handle that
 * adds to a typed array; prom-client still formats the exposition (escaping, ordering, content type), reading the
 * values through the same get() its own metrics offer.
 */

type Labels = Readonly<Record<string, string>>;

interface ExportedValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  /** The series' own labels; prom-client writes `labels` (e.g. `le`) first, then these, as its histograms do. */
  readonly sharedLabels?: Labels;
  readonly metricName?: string;
}

/** What a metric's get() gives prom-client's Registry to render. */
interface ExportedData {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: string;
  readonly values: ExportedValue[];
}

/** What prom-client's Registry reads from a metric when it renders the exposition. */
interface ExportedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<ExportedData>;
}

interface Definition {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
  readonly registers: readonly Registry[];
}

/** Series by label values, in a fixed label order so one key names one series. */
abstract class LabelledMetric<S> implements ExportedMetric {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';
  private readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { labels: Labels; state: S }>();

  constructor(def: Definition) {
    this.name = def.name;
    this.help = def.help;
    this.labelNames = def.labelNames ?? [];
    // The Registry types only its own metric classes; it reads name, type and get() from whatever it holds.
    for (const registry of def.registers) registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of these label values (every label name must be given), created at zero when new; keep it, it is the same object for the same labels. */
  labels(labels: Labels = {}): S {
    const key = this.keyOf(labels);
    let entry = this.series.get(key);
    if (entry === undefined) {
      const own: Record<string, string> = {};
      for (const name of this.labelNames) own[name] = labels[name]!;
      entry = { labels: own, state: this.fresh() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  /** Drops every series whose labels include these. */
  remove(labels: Labels): void {
    for (const [key, entry] of this.series) {
      if (Object.entries(labels).every(([name, value]) => entry.labels[name] === value)) this.series.delete(key);
    }
  }

  async get(): Promise<ExportedData> {
    // An unlabelled metric shows its zeros before the first request, as prom-client's own do.
    if (this.labelNames.length === 0) this.labels();
    const values: ExportedValue[] = [];
    for (const { labels, state } of this.series.values()) this.export(labels, state, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected abstract fresh(): S;
  protected abstract export(labels: Labels, state: S, into: ExportedValue[]): void;

  private keyOf(labels: Labels): string {
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name)) throw new Error(`metric ${this.name} has no label ${name}`);
    }
    return this.labelNames.map((name) => {
      const value = labels[name];
      if (value === undefined) throw new Error(`metric ${this.name} needs label ${name}`);
      return value;
    }).join('\u0000');
  }
}

/** A counter's series: `inc()` adds one (or `by`). */
export class CounterSeries {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class HotCounter extends LabelledMetric<CounterSeries> {
  readonly type = 'counter' as const;

  protected fresh(): CounterSeries {
    return new CounterSeries();
  }

  protected export(labels: Labels, state: CounterSeries, into: ExportedValue[]): void {
    into.push({ value: state.value, labels });
  }
}

/** A histogram's series: counts per bucket (not cumulative), their sum and number. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    // Past the last bound it counts only in +Inf, which is `count`.
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class HotHistogram extends LabelledMetric<HistogramSeries> {
  readonly type = 'histogram' as const;
  private readonly bounds: Float64Array;

  constructor(def: Definition & { readonly buckets: readonly number[] }) {
    super(def);
    this.bounds = Float64Array.from([...def.buckets].sort((a, b) => a - b));
  }

  protected fresh(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }

  protected export(labels: Labels, state: HistogramSeries, into: ExportedValue[]): void {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += state.counts[i]!;
      into.push({ value: cumulative, labels: { le: this.bounds[i]! }, sharedLabels: labels, metricName: bucket });
    }
    into.push(
      { value: state.count, labels: { le: '+Inf' }, sharedLabels: labels, metricName: bucket },
      { value: state.sum, labels: {}, sharedLabels: labels, metricName: `${this.name}_sum` },
      { value: state.count, labels: {}, sharedLabels: labels, metricName: `${this.name}_count` },
    );
  }
}
