// The live stream: one fetch()-read Server-Sent Events connection per tab (the token in a header, never the URL), reconnecting with back-off.
import { SseParser, type SseMessage } from '../../shared/sse.js';
import type { Hello, LiveEvent, LiveLog, OperationView, ServiceRow, Snapshot, Tick } from '../../shared/protocol.js';
import { auth, authHeaders, onAuthChange, unauthorized } from './auth.js';

export type Connection = 'connecting' | 'live' | 'offline' | 'locked';

/** Seconds of total req/s each sparkline keeps (the plane sends as much in its snapshot). */
const SPARK_POINTS = 120;

type Fn<T> = (v: T) => void;

class Channel<T> {
  private readonly fns = new Set<Fn<T>>();
  on(fn: Fn<T>): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  emit(v: T): void {
    for (const fn of this.fns) fn(v);
  }
}

export const live = {
  connection: 'connecting' as Connection,
  stream: undefined as string | undefined,
  version: '',
  /** False until the first snapshot: the services page shows "loading", not "no services". */
  loaded: false,
  services: [] as ServiceRow[],
  sparks: new Map<string, number[]>(),
  changed: new Channel<void>(),
  ticks: new Channel<Tick>(),
  events: new Channel<LiveEvent>(),
  operations: new Channel<OperationView>(),
  logs: new Channel<LiveLog>(),
  /** A new stream id (first connect, reconnect): followers attach again. */
  hello: new Channel<Hello>(),
};

function handle(m: SseMessage): void {
  const data = JSON.parse(m.data) as unknown;
  switch (m.event) {
    case 'hello': {
      const h = data as Hello;
      live.stream = h.stream;
      live.version = h.version;
      setConnection('live');
      live.hello.emit(h);
      break;
    }
    case 'snapshot': {
      performance.mark('berth:snapshot');
      const s = data as Snapshot;
      live.services = s.services;
      live.sparks = new Map(Object.entries(s.sparklines));
      live.loaded = true;
      live.changed.emit();
      break;
    }
    case 'tick': {
      performance.mark('berth:tick');
      const t = data as Tick;
      live.services = t.services;
      for (const row of t.services) {
        const spark = live.sparks.get(row.name) ?? [];
        spark.push(row.sample === null ? 0 : (row.sample.rps2xx ?? 0) + (row.sample.rps4xx ?? 0) + (row.sample.rps5xx ?? 0));
        if (spark.length > SPARK_POINTS) spark.splice(0, spark.length - SPARK_POINTS);
        live.sparks.set(row.name, spark);
      }
      live.ticks.emit(t);
      live.changed.emit();
      // Measured to the end of the task that renders it (the browser tests read it: the cost of one update).
      setTimeout(() => performance.measure('berth:tick-work', 'berth:tick'), 0);
      break;
    }
    case 'event': live.events.emit(data as LiveEvent); break;
    case 'operation': live.operations.emit(data as OperationView); break;
    case 'log': live.logs.emit(data as LiveLog); break;
    default: break; // a newer plane's message: ignored
  }
}

function setConnection(c: Connection): void {
  if (live.connection === c) return;
  live.connection = c;
  live.changed.emit();
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

let started = false;

/** Connects once per page; a new token (the prompt) restarts the connection at once. */
export function startLive(): void {
  if (started) return;
  started = true;
  let wake = new AbortController();
  onAuthChange(() => { if (!auth.needed) wake.abort(); });
  void (async () => {
    for (let attempt = 0; ; ) {
      wake = new AbortController();
      const signal = wake.signal;
      setConnection(live.connection === 'locked' ? 'locked' : 'connecting');
      performance.mark('berth:connecting');
      try {
        const res = await fetch('/v1/dashboard/stream', { headers: { ...authHeaders(), accept: 'text/event-stream' }, cache: 'no-store', signal });
        if (res.status === 401) {
          unauthorized();
          setConnection('locked');
          await sleep(3_600_000, signal); // until a token is given
          continue;
        }
        if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
        performance.mark('berth:connected');
        attempt = 0;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const m of parser.push(value)) handle(m);
        }
      } catch {
        // refused, reset, or aborted for a new token: reconnect below
      }
      if (signal.aborted) continue;
      live.stream = undefined;
      setConnection('offline');
      // 0.5 s, 1 s, 2 s … 10 s: a restarting plane is back quickly, a stopped one is not hammered.
      await sleep(Math.min(10_000, 500 * 2 ** attempt++), signal);
    }
  })();
}
