// The plane's in-memory traffic history per service, for the 15 min / 1 h / 6 h charts: three rings of fixed size.
import { Downsampler, RANGES, SAMPLE_FIELDS, SampleRing, toColumns, type Columns, type RangeName, type Sample } from '../shared/series.js';

/** 15 min at 1 s, 1 h at 10 s, 6 h at 60 s: 900 + 360 + 360 samples of 48 bytes, about 78 KB per service. */
const TIERS: Readonly<Record<RangeName, number>> = { '15m': 900, '1h': 360, '6h': 360 };

class ServiceHistory {
  private readonly rings = new Map<RangeName, SampleRing>();
  private readonly coarse = new Map<RangeName, Downsampler>();

  constructor() {
    for (const [range, slots] of Object.entries(TIERS) as [RangeName, number][]) {
      this.rings.set(range, new SampleRing(slots));
      if (RANGES[range].stepMs > 1000) this.coarse.set(range, new Downsampler(RANGES[range].stepMs));
    }
  }

  add(s: Sample): void {
    this.rings.get('15m')!.push(s);
    for (const [range, d] of this.coarse) {
      const done = d.push(s);
      if (done !== undefined) this.rings.get(range)!.push(done);
    }
  }

  /** The range's samples, the coarse bucket still filling included (so a 6 h chart reaches now). */
  samples(range: RangeName, nowMs: number): Sample[] {
    const from = nowMs - RANGES[range].spanMs;
    const kept = this.rings.get(range)!.since(from);
    const filling = this.coarse.get(range)?.current();
    return filling === undefined || (kept.length > 0 && kept[kept.length - 1]!.t >= filling.t) ? kept : [...kept, filling];
  }

  latest(n: number): Sample[] {
    return this.rings.get('15m')!.latest(n);
  }

  get bytes(): number {
    let n = 0;
    for (const r of this.rings.values()) n += r.bytes;
    return n;
  }
}

export class HistoryStore {
  private readonly services = new Map<string, ServiceHistory>();

  add(service: string, s: Sample): void {
    let h = this.services.get(service);
    if (h === undefined) this.services.set(service, (h = new ServiceHistory()));
    h.add(s);
  }

  /** Drops services that no longer exist, so memory follows the service count. */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of this.services.keys()) if (!names.has(name)) this.services.delete(name);
  }

  columns(service: string, range: RangeName, nowMs: number): Columns {
    const { stepMs, spanMs } = RANGES[range];
    const cols = toColumns(this.services.get(service)?.samples(range, nowMs) ?? [], stepMs, nowMs - spanMs, nowMs);
    // Float32 noise (22.977022171) trimmed, so the wire carries what a person would write.
    for (const f of SAMPLE_FIELDS) cols[f] = cols[f].map((v) => (v === null ? null : Math.round(v * 1000) / 1000));
    return cols;
  }

  /** The last `n` 1 s samples (the services table's sparklines and its 10 s figures). */
  latest(service: string, n: number): Sample[] {
    return this.services.get(service)?.latest(n) ?? [];
  }

  /** Bytes held by every ring (for the README's memory figure and a test of the bound). */
  get bytes(): number {
    let n = 0;
    for (const h of this.services.values()) n += h.bytes;
    return n;
  }
}
