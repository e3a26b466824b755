// The data shaping behind the dashboard's charts, shared by the control plane (history rings) and the browser (live charts).

/** What one sample holds, in this order; a sample covers `step` seconds ending at its time. */
export const SAMPLE_FIELDS = ['rps2xx', 'rps4xx', 'rps5xx', 'p50', 'p99', 'util', 'inflight', 'queued', 'ready', 'desired'] as const;
export type SampleField = (typeof SAMPLE_FIELDS)[number];

/** One sample: a time (ms since the epoch, the end of the span) and each field; null = nothing to measure (no request, no autoscaler). */
export type Sample = { readonly t: number } & { readonly [F in SampleField]: number | null };

/**
 * How a coarser bucket combines the 1 s samples it covers: rates and utilization are averaged; p99 and queued take the
 * worst (a spike must stay visible at 6 h); p50 is averaged weighted by each second's request count (percentiles do not
 * merge exactly; this is the usual approximation); replica counts keep the last value, as a gauge does.
 */
const COMBINE: Readonly<Record<SampleField, 'mean' | 'max' | 'last' | 'weighted'>> = {
  rps2xx: 'mean', rps4xx: 'mean', rps5xx: 'mean', p50: 'weighted', p99: 'max', util: 'mean', inflight: 'mean', queued: 'max', ready: 'last', desired: 'last',
};

/** The charts' ranges: how far back each reaches and the span of one point (the plane keeps a ring per range). */
export const RANGES = { '15m': { spanMs: 900_000, stepMs: 1000 }, '1h': { spanMs: 3_600_000, stepMs: 10_000 }, '6h': { spanMs: 21_600_000, stepMs: 60_000 } } as const;
export type RangeName = keyof typeof RANGES;

export type StatusClass = '2xx' | '4xx' | '5xx';

/** The chart's class of an HTTP status: anything below 400 is a success (2xx), 4xx the caller's fault, 5xx the service's. */
export function statusClass(status: number): StatusClass {
  return status >= 500 ? '5xx' : status >= 400 ? '4xx' : '2xx';
}

/** Nearest-rank percentile of an ascending array, the gateway window's rule (core/percentile.ts). */
export { percentile } from '../../core/percentile.js';

/** Requests per status class between two readings of cumulative counters by status code; a counter that went back (a service deleted and made again) counts from zero. */
export function classRates(before: ReadonlyMap<number, number> | undefined, after: ReadonlyMap<number, number>, seconds: number): Record<StatusClass, number> {
  const out: Record<StatusClass, number> = { '2xx': 0, '4xx': 0, '5xx': 0 };
  if (seconds <= 0) return out;
  for (const [code, n] of after) {
    const was = before?.get(code) ?? 0;
    out[statusClass(code)] += n >= was ? n - was : n;
  }
  for (const k of Object.keys(out) as StatusClass[]) out[k] = out[k] / seconds;
  return out;
}

/** Sum of the three class rates of a sample. */
export function totalRate(s: Sample): number {
  return (s.rps2xx ?? 0) + (s.rps4xx ?? 0) + (s.rps5xx ?? 0);
}

/** Folds consecutive samples into buckets of `stepMs`; push() returns the finished bucket when a sample opens the next one. */
export class Downsampler {
  private bucket = -1;
  private readonly sums = new Float64Array(SAMPLE_FIELDS.length);
  private readonly counts = new Float64Array(SAMPLE_FIELDS.length);
  private readonly weights = new Float64Array(SAMPLE_FIELDS.length);
  private readonly lasts: (number | null)[] = SAMPLE_FIELDS.map(() => null);

  constructor(readonly stepMs: number) {}

  push(s: Sample): Sample | undefined {
    // A sample at the bucket's end belongs to it: times are span ends.
    const b = Math.ceil(s.t / this.stepMs);
    const done = this.bucket !== -1 && b !== this.bucket ? this.current() : undefined;
    if (done !== undefined) this.reset();
    this.bucket = b;
    const rate = totalRate(s);
    SAMPLE_FIELDS.forEach((f, i) => {
      const v = s[f];
      if (v === null || Number.isNaN(v)) return;
      this.lasts[i] = v;
      const how = COMBINE[f];
      if (how === 'max') this.sums[i] = this.counts[i] === 0 ? v : Math.max(this.sums[i]!, v);
      else if (how === 'weighted') { this.sums[i]! += v * rate; this.weights[i]! += rate; }
      else this.sums[i]! += v;
      this.counts[i]!++;
    });
    return done;
  }

  /** The bucket so far (time = its end), or undefined before the first sample. */
  current(): Sample | undefined {
    if (this.bucket === -1) return undefined;
    const out: Record<string, number | null> = { t: this.bucket * this.stepMs };
    SAMPLE_FIELDS.forEach((f, i) => {
      const c = this.counts[i]!;
      const how = COMBINE[f];
      out[f] = c === 0 ? null
        : how === 'mean' ? this.sums[i]! / c
        : how === 'max' ? this.sums[i]!
        : how === 'last' ? this.lasts[i]!
        : this.weights[i]! > 0 ? this.sums[i]! / this.weights[i]! : null;
    });
    return out as Sample;
  }

  private reset(): void {
    this.sums.fill(0);
    this.counts.fill(0);
    this.weights.fill(0);
    this.lasts.fill(null);
  }
}

/**
 * A fixed ring of samples in typed arrays: times as float64, values as float32 (7 significant digits are plenty for a
 * chart) with NaN for null. 4 + 4 × 10 = 48 bytes a sample.
 */
export class SampleRing {
  private readonly times: Float64Array;
  private readonly values: Float32Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.values = new Float32Array(capacity * SAMPLE_FIELDS.length);
  }

  get length(): number {
    return this.size;
  }

  /** Bytes held by the arrays. */
  get bytes(): number {
    return this.times.byteLength + this.values.byteLength;
  }

  push(s: Sample): void {
    this.times[this.next] = s.t;
    const base = this.next * SAMPLE_FIELDS.length;
    SAMPLE_FIELDS.forEach((f, i) => { this.values[base + i] = s[f] ?? Number.NaN; });
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Samples with time > `sinceMs`, oldest first. */
  since(sinceMs: number): Sample[] {
    const out: Sample[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let k = 0; k < this.size; k++) {
      const i = (start + k) % this.capacity;
      if (this.times[i]! > sinceMs) out.push(this.row(i));
    }
    return out;
  }

  /** The newest `n` samples, oldest first. */
  latest(n: number): Sample[] {
    const k = Math.min(n, this.size);
    const out: Sample[] = [];
    for (let j = k; j > 0; j--) out.push(this.row((this.next - j + this.capacity) % this.capacity));
    return out;
  }

  private row(i: number): Sample {
    const row: Record<string, number | null> = { t: this.times[i]! };
    SAMPLE_FIELDS.forEach((f, j) => {
      const v = this.values[i * SAMPLE_FIELDS.length + j]!;
      row[f] = Number.isNaN(v) ? null : v;
    });
    return row as Sample;
  }
}

/** Columns of samples, as sent over the wire and as uPlot wants them (one array per field, aligned on `t`). */
export type Columns = { t: number[] } & { [F in SampleField]: (number | null)[] };

/**
 * Samples → columns over [fromMs, toMs]; where two neighbours are further apart than 2.5 steps (the plane was down,
 * the service did not exist) a null row is put between them so lines break instead of bridging the gap.
 */
export function toColumns(samples: readonly Sample[], stepMs: number, fromMs = -Infinity, toMs = Infinity): Columns {
  const cols = { t: [] as number[] } as Columns;
  for (const f of SAMPLE_FIELDS) cols[f] = [];
  let prev: number | undefined;
  for (const s of samples) {
    if (s.t < fromMs || s.t > toMs) continue;
    if (prev !== undefined && s.t - prev > stepMs * 2.5) {
      cols.t.push(prev + stepMs);
      for (const f of SAMPLE_FIELDS) cols[f].push(null);
    }
    cols.t.push(s.t);
    for (const f of SAMPLE_FIELDS) cols[f].push(s[f]);
    prev = s.t;
  }
  return cols;
}

/** Columns → samples (the browser keeps samples and rebuilds columns as new ones arrive). */
export function fromColumns(c: Columns): Sample[] {
  return c.t.map((t, i) => {
    const row: Record<string, number | null> = { t };
    for (const f of SAMPLE_FIELDS) row[f] = c[f][i] ?? null;
    return row as Sample;
  });
}

/** Mean request rate and 5xx share over samples (the services table's "now": the last few seconds). */
export function recentTraffic(samples: readonly Sample[]): { rps: number; errorRate: number | null } {
  if (samples.length === 0) return { rps: 0, errorRate: null };
  let total = 0;
  let errors = 0;
  for (const s of samples) {
    total += totalRate(s);
    errors += s.rps5xx ?? 0;
  }
  return { rps: total / samples.length, errorRate: total === 0 ? null : errors / total };
}
