// The plane side of the live dashboard with fake sources: the 1 s sampler, the bounded history, and the stream hub's fan-out and clean-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../src/errors/catalogue.js';
import { HistoryStore } from '../../src/ui/server/history.js';
import { LiveHub } from '../../src/ui/server/hub.js';
import { Sampler } from '../../src/ui/server/sampler.js';
import type { LiveSources, ServiceFacts } from '../../src/ui/server/sources.js';
import { latenciesOf, type RecentRequest } from '../helpers/recent-requests.js';
import { MAX_BACKLOG_BYTES, type SseStream } from '../../src/ui/server/sse-stream.js';
import { SseParser, type SseMessage } from '../../src/ui/shared/sse.js';
import type { LiveEvent, OperationView, ServiceEventView, Snapshot, Tick } from '../../src/ui/shared/protocol.js';
import { SAMPLE_FIELDS, type Sample } from '../../src/ui/shared/series.js';

const facts = (name: string, ready = 1): ServiceFacts => ({
  name, state: 'Healthy', reason: '', generation: 1, ready, desired: ready, runtime: 'process', scoring_timeout_ms: 60_000, autoscale: { min: 1, max: 3, target: 70 },
});

class FakeSources implements LiveSources {
  t = 1_700_000_000_000;
  rows: ServiceFacts[] = [facts('alpha'), facts('beta', 2)];
  readonly counters = new Map<string, Map<number, number>>();
  readonly windows = new Map<string, RecentRequest[]>();
  readonly eventListeners = new Set<(service: string, e: ServiceEventView) => void>();
  readonly opListeners = new Set<(op: OperationView) => void>();
  log = 'first line\n';
  now = (): number => this.t;
  services = (): ServiceFacts[] => this.rows;
  counts = async (): Promise<ReadonlyMap<string, ReadonlyMap<number, number>>> => new Map([...this.counters].map(([k, v]) => [k, new Map(v)]));
  latencies = (name: string, from: number, to: number): Float64Array => latenciesOf(this.windows.get(name) ?? [], from, to);
  traffic = () => ({ p50Ms: 4, p99Ms: 9, utilization: 50, inFlight: 1, queued: 0 });
  onEvent = (l: (service: string, e: ServiceEventView) => void) => { this.eventListeners.add(l); return () => { this.eventListeners.delete(l); }; };
  onOperation = (l: (op: OperationView) => void) => { this.opListeners.add(l); return () => { this.opListeners.delete(l); }; };
  readLog = (_service: string, q: { replica: string; kind: 'current' | 'previous' | 'init'; tail: number; offset?: number }) => {
    const start = q.offset === undefined ? 0 : q.offset > this.log.length ? 0 : q.offset;
    return { replica: q.replica, kind: q.kind, text: this.log.slice(start), offset: start, size: this.log.length };
  };
  count(service: string, status: number, n: number): void {
    const c = this.counters.get(service) ?? new Map<number, number>();
    c.set(status, (c.get(status) ?? 0) + n);
    this.counters.set(service, c);
  }
}

/** Everything a stream has written so far, parsed. */
function reader(stream: SseStream): () => SseMessage[] {
  const parser = new SseParser();
  const got: SseMessage[] = [];
  stream.on('data', (chunk: Buffer | string) => got.push(...parser.push(chunk.toString())));
  return () => got;
}

const tick = () => new Promise((r) => setImmediate(r));

test('the sampler turns counters and the latency window into one sample per service and second; the first reading is zeros', async () => {
  const src = new FakeSources();
  const history = new HistoryStore();
  const sampler = new Sampler(src, history);
  src.count('alpha', 200, 500); // before the first reading: not this second's traffic
  const first = await sampler.tick();
  assert.equal(first.samples.get('alpha')?.rps2xx, 0);
  src.t += 2000;
  src.count('alpha', 200, 30);
  src.count('alpha', 401, 3);
  src.count('alpha', 503, 2);
  src.windows.set('alpha', [
    { atMs: src.t - 2500, status: 200, ms: 999 }, // before the previous reading: not this sample's
    ...Array.from({ length: 100 }, (_, i) => ({ atMs: src.t - 1500 + i, status: 200, ms: i + 1 })),
  ]);
  const second = await sampler.tick();
  const a = second.samples.get('alpha')!;
  assert.deepEqual([a.rps2xx, a.rps4xx, a.rps5xx], [15, 1.5, 1]);
  assert.deepEqual([a.p50, a.p99], [50, 99]);
  assert.deepEqual([a.util, a.inflight, a.queued, a.ready, a.desired], [50, 1, 0, 1, 1]);
  assert.equal(second.samples.get('beta')?.ready, 2);
  assert.equal(second.samples.get('beta')?.p50, null, 'no request: no latency');
  assert.deepEqual(history.latest('alpha', 5).map((s) => s.rps2xx), [0, 15]);
  // A deleted service's history goes with it.
  src.rows = [facts('beta', 2)];
  src.t += 1000;
  await sampler.tick();
  assert.deepEqual(history.latest('alpha', 5), []);
});

test('history is bounded: 15 min at 1 s, 1 h at 10 s, 6 h at 60 s, about 78 KB a service whatever its age', () => {
  const history = new HistoryStore();
  const start = 1_700_000_000_000;
  const seconds = 7 * 3600;
  const row = (t: number): Sample => ({ t, ...Object.fromEntries(SAMPLE_FIELDS.map((f) => [f, f === 'rps2xx' ? 10 : f === 'p99' ? (t / 1000) % 60 : null])) }) as Sample;
  for (let i = 1; i <= seconds; i++) history.add('svc', row(start + i * 1000));
  const now = start + seconds * 1000;
  const m15 = history.columns('svc', '15m', now);
  const h1 = history.columns('svc', '1h', now);
  const h6 = history.columns('svc', '6h', now);
  assert.ok(m15.t.length >= 899 && m15.t.length <= 901, `15m: ${m15.t.length}`);
  assert.ok(h1.t.length >= 359 && h1.t.length <= 361, `1h: ${h1.t.length}`);
  assert.ok(h6.t.length >= 359 && h6.t.length <= 361, `6h: ${h6.t.length}`);
  assert.ok(h6.t[0]! >= now - 6 * 3600_000 && h6.t.every((t, i) => i === 0 || t - h6.t[i - 1]! === 60_000));
  assert.ok(h1.rps2xx.every((v) => v === 10), 'a steady rate stays itself in coarser buckets');
  assert.ok(h6.p99.slice(0, -1).every((v) => v === 59), 'the worst p99 of each minute survives downsampling');
  assert.equal(history.bytes, (900 + 360 + 360) * 48);
  history.keepOnly(new Set());
  assert.equal(history.bytes, 0);
});

test('the hub attaches to the sampler, events and operations only while a stream is open, and lets go when the last closes', async () => {
  const src = new FakeSources();
  const history = new HistoryStore();
  const sampler = new Sampler(src, history);
  const hub = new LiveHub({ sources: src, sampler, history, version: '9.9.9', followMs: 10 });
  assert.equal(src.eventListeners.size, 0);
  const a = hub.open();
  const readA = reader(a);
  const b = hub.open();
  const readB = reader(b);
  assert.equal(src.eventListeners.size, 1, 'one listener for any number of streams');
  assert.equal(src.opListeners.size, 1);
  await tick();
  assert.deepEqual(readA().map((m) => m.event), ['hello', 'snapshot']);
  const snap = JSON.parse(readA()[1]!.data) as Snapshot;
  assert.deepEqual(snap.services.map((s) => s.name), ['alpha', 'beta']);

  src.count('alpha', 200, 5);
  await sampler.tick();
  src.t += 1000;
  src.count('alpha', 200, 5);
  await sampler.tick();
  const ev: ServiceEventView = { id: 1, time: new Date(src.t).toISOString(), type: 'ScalingDecision', message: '1 → 2', data: { from: 1, to: 2 } };
  for (const l of src.eventListeners) l('alpha', ev);
  await tick();
  const ticks = readB().filter((m) => m.event === 'tick').map((m) => JSON.parse(m.data) as Tick);
  assert.equal(ticks.length, 2);
  assert.equal(ticks[1]!.services[0]!.sample?.rps2xx, 5);
  assert.equal(ticks[1]!.services[0]!.traffic.p99_ms, 9);
  assert.deepEqual(JSON.parse(readB().find((m) => m.event === 'event')!.data) as LiveEvent, { service: 'alpha', event: ev });

  // Following a log on stream a: the tail at once, appended text as log messages on a only.
  const helloA = JSON.parse(readA()[0]!.data) as { stream: string };
  assert.deepEqual(hub.follow(helloA.stream, { service: 'alpha', replica: 'alpha-1-0-x', kind: 'current', tail: 10 }).text, 'first line\n');
  src.log += 'second line\n';
  for (let i = 0; i < 100 && !readA().some((m) => m.event === 'log'); i++) await new Promise((r) => setTimeout(r, 10));
  const log = JSON.parse(readA().find((m) => m.event === 'log')!.data) as { text: string; offset: number };
  assert.deepEqual([log.text, log.offset], ['second line\n', 11]);
  assert.equal(readB().filter((m) => m.event === 'log').length, 0);
  // The file replaced (a restart): it starts over at 0.
  src.log = 'new run\n';
  for (let i = 0; i < 100 && readA().filter((m) => m.event === 'log').length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(JSON.parse(readA().filter((m) => m.event === 'log')[1]!.data).offset, 0);

  // Tabs close: the client's side of the response goes away.
  a.destroy();
  await tick();
  assert.equal(hub.size, 1);
  assert.throws(() => hub.follow(helloA.stream, { service: 'alpha', replica: 'r', kind: 'current', tail: 1 }), (e: unknown) => isBerthError(e) && e.code === 'DASHBOARD_STREAM_NOT_FOUND');
  b.destroy();
  await tick();
  assert.equal(hub.size, 0);
  assert.equal(src.eventListeners.size, 0, 'no listener left behind');
  assert.equal(src.opListeners.size, 0);
  const before = readB().length;
  await sampler.tick();
  for (const l of src.eventListeners) l('alpha', ev);
  assert.equal(readB().length, before, 'a closed stream gets nothing more');
});

test('the hub refuses streams past its limit, cuts off a client that stops reading, and ends every stream when the plane stops', async () => {
  const src = new FakeSources();
  const history = new HistoryStore();
  const sampler = new Sampler(src, history);
  const hub = new LiveHub({ sources: src, sampler, history, version: '1', maxStreams: 2 });
  const slow = hub.open(); // never read
  const ok = hub.open();
  reader(ok);
  assert.throws(() => hub.open(), (e: unknown) => isBerthError(e) && e.code === 'DASHBOARD_STREAM_LIMIT' && e.status === 503);
  // About 1 MiB of ticks queue up unread on the slow one; the next send cuts it off and frees its place.
  src.rows = Array.from({ length: 200 }, (_, i) => facts(`svc-${i}`));
  for (let i = 0; i < 40 && !slow.destroyed; i++) {
    await sampler.tick();
    await tick(); // the reading client's data flows between ticks, as it does between the real 1 s ticks
  }
  assert.ok(slow.destroyed, `cut off after ${MAX_BACKLOG_BYTES} bytes of backlog`);
  await tick();
  assert.equal(hub.size, 1);
  const ended = new Promise<void>((resolve) => ok.on('end', () => resolve()));
  hub.close();
  await ended;
  assert.equal(hub.size, 0);
  assert.equal(src.eventListeners.size, 0);
});
