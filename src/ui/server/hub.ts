// The live stream's fan-out: one message built per tick for every open tab; listeners and timers exist only while a tab is open.
import { randomUUID } from 'node:crypto';
import { BerthError } from '../../errors/catalogue.js';
import { formatSse, SSE_PING } from '../shared/sse.js';
import type { LogChunkView, LogKind, StreamMessages } from '../shared/protocol.js';
import type { HistoryStore } from './history.js';
import { serviceRow, sparkline } from './rows.js';
import { SAMPLE_INTERVAL_MS, type Sampler, type TickData } from './sampler.js';
import type { LiveSources, Unsubscribe } from './sources.js';
import { SseStream } from './sse-stream.js';

export interface HubOptions {
  readonly sources: LiveSources;
  readonly sampler: Sampler;
  readonly history: HistoryStore;
  readonly version: string;
  /** Open streams at most (each is a connection and a little memory); more get DASHBOARD_STREAM_LIMIT. */
  readonly maxStreams?: number;
  readonly pingMs?: number;
  readonly followMs?: number;
}

interface Follow { readonly service: string; readonly replica: string; readonly kind: LogKind; offset: number }
interface Subscriber { readonly stream: SseStream; follow?: Follow }

export const DEFAULT_MAX_STREAMS = 64;

export class LiveHub {
  private readonly subs = new Map<string, Subscriber>();
  /** Listeners on the sampler, events and operations, and the ping and follow timers: held only while subs is non-empty. */
  private attached: Unsubscribe[] = [];
  private followTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: HubOptions) {}

  get size(): number {
    return this.subs.size;
  }

  /** A new stream: hello and a snapshot at once, then a tick a second, events and operations as they happen. */
  open(): SseStream {
    const max = this.o.maxStreams ?? DEFAULT_MAX_STREAMS;
    if (this.subs.size >= max) throw new BerthError('DASHBOARD_STREAM_LIMIT', { max });
    const id = randomUUID();
    const stream = new SseStream(() => this.remove(id));
    this.subs.set(id, { stream });
    if (this.subs.size === 1) this.attach();
    const { sources, history } = this.o;
    const time = sources.now();
    stream.send(message('hello', { stream: id, version: this.o.version, interval_ms: SAMPLE_INTERVAL_MS, time }));
    const facts = sources.services();
    stream.send(message('snapshot', {
      time, services: facts.map((f) => serviceRow(f, history, sources)), sparklines: Object.fromEntries(facts.map((f) => [f.name, sparkline(f.name, history)])),
    }));
    return stream;
  }

  /** Follows a replica's log on stream `id` (replacing what it followed); returns the tail to show first. */
  follow(id: string, f: { service: string; replica: string; kind: LogKind; tail: number }): LogChunkView {
    const sub = this.subscriber(id);
    const first = this.o.sources.readLog(f.service, { replica: f.replica, kind: f.kind, tail: f.tail });
    if (first === undefined) throw new BerthError('REPLICA_NOT_FOUND', { service: f.service, replica: f.replica });
    sub.follow = { service: f.service, replica: first.replica, kind: f.kind, offset: first.size };
    this.followTimer ??= setInterval(() => this.pollLogs(), this.o.followMs ?? 500).unref();
    return first;
  }

  unfollow(id: string): void {
    delete this.subscriber(id).follow;
    this.stopFollowTimerIfIdle();
  }

  /** Ends every stream (the plane is stopping), so the HTTP server's close is not held up by them. */
  close(): void {
    for (const sub of [...this.subs.values()]) sub.stream.finish();
    this.subs.clear();
    this.detach();
  }

  private subscriber(id: string): Subscriber {
    const sub = this.subs.get(id);
    if (sub === undefined) throw new BerthError('DASHBOARD_STREAM_NOT_FOUND', { stream: id });
    return sub;
  }

  private remove(id: string): void {
    if (!this.subs.delete(id)) return;
    this.stopFollowTimerIfIdle();
    if (this.subs.size === 0) this.detach();
  }

  private attach(): void {
    const { sources, sampler } = this.o;
    const ping = setInterval(() => this.broadcast(SSE_PING), this.o.pingMs ?? 15_000).unref();
    this.attached = [
      sampler.listen((t) => this.onTick(t)),
      sources.onEvent((service, event) => this.broadcast(message('event', { service, event }))),
      sources.onOperation((op) => this.broadcast(message('operation', op))),
      () => clearInterval(ping),
    ];
  }

  private detach(): void {
    for (const off of this.attached.splice(0)) off();
    clearInterval(this.followTimer);
    this.followTimer = undefined;
  }

  private onTick(t: TickData): void {
    const { sources, history } = this.o;
    // Built and serialised once, whatever the number of tabs.
    this.broadcast(message('tick', { time: t.time, services: t.facts.map((f) => serviceRow(f, history, sources)) }));
  }

  private broadcast(text: string): void {
    for (const sub of this.subs.values()) sub.stream.send(text);
  }

  private pollLogs(): void {
    for (const sub of this.subs.values()) {
      const f = sub.follow;
      if (f === undefined) continue;
      let chunk: LogChunkView | undefined;
      try {
        chunk = this.o.sources.readLog(f.service, { replica: f.replica, kind: f.kind, tail: 0, offset: f.offset });
      } catch {
        chunk = undefined; // the service or replica is gone: nothing more will come
      }
      if (chunk === undefined) {
        delete sub.follow;
        continue;
      }
      // A chunk starting before our offset means the file was replaced (the replica restarted): the browser starts over.
      if (chunk.text !== '' || chunk.offset !== f.offset) sub.stream.send(message('log', { service: f.service, ...chunk }));
      f.offset = chunk.size;
    }
    this.stopFollowTimerIfIdle();
  }

  private stopFollowTimerIfIdle(): void {
    if (this.followTimer === undefined) return;
    for (const sub of this.subs.values()) if (sub.follow !== undefined) return;
    clearInterval(this.followTimer);
    this.followTimer = undefined;
  }
}

function message<K extends keyof StreamMessages>(event: K, data: StreamMessages[K]): string {
  return formatSse(event, JSON.stringify(data));
}
