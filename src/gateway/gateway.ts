// The scoring front door on the control plane's port: auth, a slot on the least-loaded ready replica (or a bounded wait), forwarding, error mapping, metrics.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { BerthError, isBerthError } from '../errors/catalogue.js';
import { toHttpError } from '../errors/http.js';
import type { Clock } from '../core/clock.js';
import { authenticate, compileAuth, type AuthMode, type CompiledAuth, type TokenAuthority } from './auth.js';
import type { GatewayMetrics } from './metrics.js';
import { ReplicaPool, type Endpoint, type Lease, type LoadSample, type PoolLimits } from './pool.js';
import { RollingWindow, type WindowStats, type WindowSummary } from './rolling.js';
import { GenerationSplit, type SplitNotice, type SplitRouting } from './split.js';
import { rawHeader } from '../core/raw-headers.js';
import { reportFailure, type FailureHook } from './failure-hook.js';
import { readBody, UpstreamRequest, Upstreams, type BodyLimits, type RequestBody, type UpstreamReply } from './upstream.js';
import { DEFAULT_BODY_TIMEOUT_S, DEFAULT_MAX_REQUEST_MB, mebibytes } from '../core/limits.js';
import { clampTimerMs } from '../core/durations.js';
import { overloaded, retrySeconds, unavailableReply, type Unavailability } from './unavailability.js';

export type { Endpoint } from './pool.js';

/** The replica paths the gateway forwards: scoring, the OpenAPI document, and the Open Inference Protocol's (docs/oip-v2.md). */
export type GatewayPath = '/score' | '/swagger.json' | `/v2${string}`;

/** What the gateway needs to know about a service, read again whenever it may have changed (sync). */
export interface ServiceRouting {
  readonly auth: AuthMode;
  readonly primaryKey: string;
  readonly secondaryKey: string;
  readonly maxConcurrent: number;
  readonly maxWaitMs: number;
  readonly scoringTimeoutMs: number;
  /** A streaming run()'s limits on its replicas (default: the scoring timeout); the gateway waits for them plus its margin. */
  readonly streamFirstChunkTimeoutMs?: number;
  readonly streamChunkTimeoutMs?: number;
  /** Ready replicas that are not leaving. */
  readonly endpoints: readonly Endpoint[];
  /** The shown state, for the message of a 503 without ready replicas. */
  readonly state: () => string;
  /** The committed generation: when a rollout ends, its pool goes on as the service's pool. */
  readonly generation?: number;
  /** While a rollout runs: generations side by side, by an exact weighted split (src/gateway/split.ts). */
  readonly split?: SplitRouting;
  /** Why no replica is ready (starting, init-failed, no-ready-replica) and when to retry: asked only for such a 503. */
  readonly unavailable?: () => Unavailability;
}

export interface GatewayDeps {
  /** undefined when there is no such service. */
  readonly routing: (service: string) => ServiceRouting | undefined;
  readonly clock: Clock;
  readonly tokens: TokenAuthority;
  readonly metrics?: GatewayMetrics;
  /** Body size and arrival limits (default: 100 MiB, 60 s). */
  readonly body?: BodyLimits;
  /** Called with every scoring request answered 5xx (as the client saw it) once its reply is computed: failed-request capture. */
  readonly onFailure?: FailureHook;
  /** A generation of a rollout left the split (no ready replica) or came back into it. */
  readonly onSplitNotice?: (service: string, notice: SplitNotice) => void;
}

export interface GatewayReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly contentType: string;
  readonly body: Buffer | Readable;
}

interface Entry {
  routing: ServiceRouting;
  auth: CompiledAuth;
  /** The service's pool; during a rollout, that of its committed generation (the split holds the others). */
  pool: ReplicaPool;
  split?: GenerationSplit;
  readonly window: RollingWindow;
  /** URLs that refused a connection: kept out until the replica set no longer lists them (a restart gets a new port). */
  refused: Set<string>;
}

/** A request's time queued for a slot, and the replica it went to last. */
interface Attempted { ms: number | undefined; replica: string | undefined; generation?: number }

/** Attempts per request: the first, and retries on other replicas after a refused connection. */
const MAX_ATTEMPTS = 3;
/** Time a replica gets on top of its own scoring timeout, so its 504 (which names the timeout) arrives first. */
const TIMEOUT_MARGIN_MS = 2000;
/** A body refused unread may go on arriving this long (so its sender reads the 413 rather than a reset), then its connection closes. */
const LINGER_MS = 5000;

export class Gateway {
  private readonly entries = new Map<string, Entry>();
  private readonly upstreams: Upstreams;

  private readonly bodyLimits: BodyLimits;

  constructor(private readonly d: GatewayDeps) {
    this.upstreams = new Upstreams((transport) => d.metrics?.countAttempt(transport));
    this.bodyLimits = d.body ?? { maxBytes: mebibytes(DEFAULT_MAX_REQUEST_MB), timeoutMs: DEFAULT_BODY_TIMEOUT_S * 1000 };
  }

  /** Re-reads a service's routing facts (replica set, limits, keys) after anything that may have changed them. */
  sync(service: string): void {
    const routing = this.d.routing(service);
    const entry = this.entries.get(service);
    if (routing === undefined) {
      if (entry === undefined) return;
      this.entries.delete(service);
      entry.pool.close(new BerthError('SERVICE_NOT_FOUND', { service }));
      entry.split?.close(new BerthError('SERVICE_NOT_FOUND', { service }));
      this.d.metrics?.forget(service);
      return;
    }
    const limits = { maxConcurrent: routing.maxConcurrent, maxWaitMs: routing.maxWaitMs };
    let e = entry;
    if (e === undefined) {
      const pool = this.newPool(service, limits);
      e = { routing, auth: compileAuth(routing.auth, routing.primaryKey, routing.secondaryKey), pool, window: new RollingWindow(() => this.d.clock.now()), refused: new Set() };
      this.entries.set(service, e);
    } else {
      const was = e.routing;
      if (was.auth !== routing.auth || was.primaryKey !== routing.primaryKey || was.secondaryKey !== routing.secondaryKey) e.auth = compileAuth(routing.auth, routing.primaryKey, routing.secondaryKey);
      e.routing = routing;
      e.pool.setLimits(limits);
    }
    const listed = new Set(routing.endpoints.map((x) => x.url));
    e.refused = new Set([...e.refused].filter((u) => listed.has(u)));
    const refused = e.refused;
    if (this.syncSplit(service, e, limits)) return;
    e.pool.setMembers(routing.endpoints.filter((x) => !refused.has(x.url)));
  }

  /** A rollout's routing goes to the split (made on its first sight, adopting the pool); its end hands one pool back. True while split. */
  private syncSplit(service: string, e: Entry, limits: PoolLimits): boolean {
    const { routing, refused } = e;
    if (routing.split === undefined) {
      if (e.split !== undefined) e.pool = e.split.end(routing.generation, new BerthError('NO_READY_REPLICA', { service, state: 'its generation left routing' })) ?? e.pool;
      e.split = undefined;
      return false;
    }
    e.split ??= new GenerationSplit(service, this.d.clock, {
      pool: () => this.newPool(service, limits),
      notice: (n) => this.d.onSplitNotice?.(service, n),
      record: (g, status, seconds, kind) => this.d.metrics?.observeGeneration(service, g, status, seconds, kind),
    }, routing.generation === undefined ? undefined : { generation: routing.generation, pool: e.pool });
    e.split.update(routing.split, limits, (x) => !refused.has(x.url));
    return true;
  }

  private newPool(service: string, limits: PoolLimits): ReplicaPool {
    return new ReplicaPool(service, limits, this.d.clock, {
      onLeave: (m) => this.upstreams.forget(m.url),
      state: () => this.entries.get(service)?.routing.state() ?? 'unknown',
      sendsAhead: (m) => this.upstreams.sendsAhead(m.url),
    });
  }

  /** Whether `service` exists for the gateway (reading it in on first sight). */
  routes(service: string): boolean {
    return this.entry(service, false) !== undefined;
  }

  /**
   * Answers one scoring (or swagger, or Open Inference Protocol `/v2…`) request; never throws: failures are JSON error
   * replies with the request id. Every path but /swagger.json needs the service's credential.
   */
  async handle(service: string, path: GatewayPath, req: IncomingMessage, requestId: string): Promise<GatewayReply> {
    const started = performance.now();
    let entry: Entry | undefined;
    const waited: Attempted = { ms: undefined, replica: undefined };
    let body: RequestBody | undefined;
    try {
      entry = this.entry(service);
      const checking = path !== '/swagger.json' ? authenticate(entry.auth, rawHeader(req, 'authorization'), service, this.d.tokens) : undefined;
      if (checking !== undefined) await checking;
      // The whole body first: a request holds a replica's slot only once it can be run at once.
      const read = readBody(req, this.bodyLimits);
      body = read instanceof Promise ? await read : read;
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const query = q < 0 ? '' : url.slice(q);
      const upstream = new UpstreamRequest(req, requestId, req.method === 'GET' ? 'GET' : 'POST', path + query, body, entry.auth.mode === 'none');
      const reply = await this.send(entry, this.route(entry, req, path, upstream, waited), upstream, waited);
      if (reply.streamed === true) this.d.metrics?.observeFirstChunk(service, (performance.now() - started) / 1000);
      // A run() that raised is the service's failure, not the gateway's: 502, as the classic front door answers.
      const status = reply.status === 500 ? 502 : reply.status;
      this.record(entry, status, started, waited);
      if (path === '/score') reportFailure(this.d.onFailure, service, req, requestId, body, status, waited.replica, reply.body);
      // During a rollout the answer says which generation gave it.
      if (waited.generation !== undefined) return { ...reply, status, headers: { ...reply.headers, 'x-berth-generation': String(waited.generation) } };
      return { ...reply, status };
    } catch (err) {
      const close = isBerthError(err) && err.code === 'REQUEST_BODY_TIMEOUT';
      if (!req.complete && !close) discard(req);
      const unavailable = entry === undefined ? undefined : this.unavailability(entry, err);
      const reasoned = unavailable === undefined ? undefined : unavailableReply(unavailable);
      const { status, body: errorBody } = toHttpError(err, requestId, reasoned?.extra);
      const headers: Record<string, string> = { ...reasoned?.headers };
      if (close) headers.connection = 'close';
      if (status === 401) headers['www-authenticate'] = `Bearer realm="berth", error="invalid_token"`;
      // A request turned away after its wait waited all of it: that belongs in the queue-wait histogram too.
      // Its waitMs counts from the request's arrival, through any place ahead in a replica and back.
      if (isBerthError(err) && err.code === 'SERVICE_OVERLOADED') waited.ms = Number(err.params.waitMs ?? 0);
      if (entry !== undefined) this.record(entry, status, started, waited);
      const reply = Buffer.from(JSON.stringify(errorBody));
      if (path === '/score') reportFailure(this.d.onFailure, service, req, requestId, body, status, waited.replica, reply);
      return { status, headers, contentType: 'application/json; charset=utf-8', body: reply };
    }
  }

  /** Takes replicas out of routing, then resolves once the requests already on them have finished (or after `maxMs`). */
  drain(service: string, replicaIds: readonly string[], maxMs: number): Promise<void> {
    const entry = this.entries.get(service);
    if (entry === undefined) return Promise.resolve();
    if (entry.split !== undefined) return entry.split.drain(replicaIds, maxMs);
    return entry.pool.drain(replicaIds, maxMs);
  }

  /** During a rollout: resolves once nothing is queued on `generation` (whose weight went to 0), before its replicas are drained. */
  quiesce(service: string, generation: number, maxMs: number): Promise<void> {
    return this.entries.get(service)?.split?.quiesce(generation, maxMs) ?? Promise.resolve();
  }

  /** During a rollout: one generation's figures over (up to) `windowMs`; undefined outside one. */
  generationSummary(service: string, generation: number, windowMs?: number): (WindowSummary & { mirrored: number }) | undefined {
    return this.entries.get(service)?.split?.summary(generation, windowMs);
  }

  /** During a rollout: the percents traffic follows now (generations without a ready replica left out). */
  effectiveSplit(service: string): Map<number, number> | undefined {
    return this.entries.get(service)?.split?.effective();
  }

  /** The load since the previous sample, for the autoscaler; undefined for a service no request has reached yet and no sync made. */
  sample(service: string, generation?: number): LoadSample | undefined {
    const e = this.entry(service, false);
    return e?.split !== undefined ? e.split.sample(generation) : e?.pool.sample();
  }

  /** Requests in flight and queued now, and the ready count, without resetting the sample. */
  snapshot(service: string, generation?: number): { ready: number; inFlight: number; queued: number; oldestWaitMs: number } | undefined {
    const e = this.entries.get(service);
    return e?.split !== undefined ? e.split.snapshot(generation) : e?.pool.snapshot();
  }

  /** Rate and latency over the last minute, for `service show`. */
  stats(service: string): WindowStats | undefined {
    return this.entries.get(service)?.window.stats();
  }

  /** Read-only: the last minute's requests with status, latency and queue wait, for `berth diagnose`. */
  recent(service: string): ReturnType<RollingWindow['recent']> {
    return this.entries.get(service)?.window.recent() ?? [];
  }

  /** The latencies of a service's requests answered in (fromMs, toMs], sorted ascending. */
  latencies(service: string, fromMs: number, toMs: number): Float64Array {
    return this.entries.get(service)?.window.latencies(fromMs, toMs) ?? new Float64Array(0);
  }

  async close(): Promise<void> {
    for (const [service, e] of this.entries) {
      e.pool.close(new BerthError('SHUTTING_DOWN', { service }));
      e.split?.close(new BerthError('SHUTTING_DOWN', { service }));
    }
    this.entries.clear();
    await this.upstreams.close();
  }

  private entry(service: string): Entry;
  private entry(service: string, required: false): Entry | undefined;
  private entry(service: string, required = true): Entry | undefined {
    let e = this.entries.get(service);
    if (e === undefined) {
      this.sync(service);
      e = this.entries.get(service);
    }
    if (e === undefined && required) throw new BerthError('SERVICE_NOT_FOUND', { service });
    return e;
  }

  /** The pool a request goes to: the service's, or during a rollout its generation's (a mirrored copy set off on the way). */
  private route(e: Entry, req: IncomingMessage, path: string, upstream: UpstreamRequest, waited: Attempted): ReplicaPool {
    const split = e.split;
    if (split === undefined) return e.pool;
    const choice = split.choose(req, path);
    waited.generation = choice.generation;
    if (choice.mirror !== undefined) void split.sendMirror(choice.mirror, (pool, w) => this.send(e, pool, upstream, w), upstream.requestId);
    return choice.pool;
  }

  /**
   * Gets a slot (or a place ahead) in `pool` (the service's, or a generation's) and sends. A replica that refuses the
   * connection leaves routing and the request goes to another one; a request that never started where it was sent
   * ahead (given back, or its replica died or is drained) goes back to the queue at its arrival place.
   */
  private async send(e: Entry, pool: ReplicaPool, upstream: UpstreamRequest, waited: Attempted): Promise<UpstreamReply> {
    // Clamped: the longest scoring timeout plus the margin would overflow the timer and fire at once.
    const { scoringTimeoutMs, streamFirstChunkTimeoutMs: first, streamChunkTimeoutMs: next } = e.routing;
    // A stream's reply comes with its first chunk, which may be allowed longer than a whole run().
    const timeoutMs = clampTimerMs(Math.max(scoringTimeoutMs, first ?? 0) + TIMEOUT_MARGIN_MS);
    const streamIdleMs = clampTimerMs((next ?? scoringTimeoutMs) + TIMEOUT_MARGIN_MS);
    let got: Lease | Promise<Lease> = pool.acquire();
    let refusals = 0;
    for (;;) {
      const lease = got instanceof Promise ? await got : got;
      let again: Lease | Promise<Lease> | undefined;
      let released = false;
      const r = await this.upstreams.attempt(lease, upstream, timeoutMs, {
        done: () => {
          if (released) return;
          released = true;
          pool.release(lease);
        },
        started: () => pool.started(lease),
        unstarted: (kind) => {
          released = true;
          if (kind === 'refused') {
            e.refused.add(lease.member.url);
            pool.remove(lease.member.replicaId);
            if (++refusals >= MAX_ATTEMPTS) return pool.release(lease);
          }
          again = pool.requeue(lease);
        },
      }, streamIdleMs);
      waited.ms = lease.waitedMs;
      waited.replica = lease.member.replicaId;
      if (r.ok) return r.reply;
      if (again !== undefined) {
        got = again;
        continue;
      }
      const replica = lease.member.replicaId;
      if (r.kind === 'expired') throw pool.expired(lease);
      if (r.kind === 'timeout') throw new BerthError('SCORING_TIMEOUT', { timeoutMs }, { cause: r.error });
      throw new BerthError('REPLICA_REQUEST_FAILED', { service: pool.service, replica, detail: r.detail }, { cause: r.error });
    }
  }

  /** For a 503 that waiting may cure: why, and when to retry, from what the gateway and the plane know now. */
  private unavailability(e: Entry, err: unknown): Unavailability | undefined {
    if (!isBerthError(err)) return undefined;
    if (err.code === 'SERVICE_OVERLOADED') return overloaded((e.split?.snapshot() ?? e.pool.snapshot()).queued, e.window.servedPerS(), e.routing.maxWaitMs);
    if (err.code !== 'NO_READY_REPLICA') return undefined;
    try {
      const known = e.routing.unavailable?.();
      if (known !== undefined) return known;
    } catch {
      // The reason is a courtesy: a failure to read it must not turn the 503 into a 500.
    }
    return { reason: 'no-ready-replica', retryAfterS: retrySeconds(e.routing.maxWaitMs), detail: `the service is ${e.routing.state()}` };
  }

  private record(e: Entry, status: number, started: number, waited: Attempted): void {
    const ms = performance.now() - started;
    const waitedMs = waited.ms;
    e.window.record(ms, status, waitedMs);
    if (waited.generation !== undefined) e.split?.record(waited.generation, status, ms, waitedMs);
    this.d.metrics?.observe(e.pool.service, status, ms / 1000, waitedMs === undefined ? undefined : waitedMs / 1000);
  }
}

/**
 * Reads and drops the rest of a refused request's body, so its sender gets to read the answer and the connection can carry
 * the next request; one that is still arriving after LINGER_MS has its connection closed.
 */
function discard(req: IncomingMessage): void {
  req.resume();
  const timer = setTimeout(() => { if (!req.complete) req.socket.destroy(); }, LINGER_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
}
