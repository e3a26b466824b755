// Generations side by side: one replica pool per live generation of a rollout, the exact weighted choice between them, the header override, mirrored copies and per-generation figures.
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../core/clock.js';
import { BerthError } from '../errors/catalogue.js';
import { toHttpError } from '../errors/http.js';
import type { Endpoint, LoadSample, PoolLimits, ReplicaPool } from './pool.js';
import { RollingWindow, type WindowSummary } from './rolling.js';
import type { UpstreamReply } from './upstream.js';
import { effectiveWeights, ExactFraction, percents, SmoothWeighted } from './weighted.js';

/** One live generation as routing sees it. */
export interface GenerationRoute {
  readonly generation: number;
  /** Configured percent of requests (the split sums to 100). */
  readonly percent: number;
  /** Its ready replicas that are not leaving. */
  readonly endpoints: readonly Endpoint[];
}

/** A rollout's routing facts (ServiceRouting.split). */
export interface SplitRouting {
  readonly generations: readonly GenerationRoute[];
  /** What the header's `stable` and `candidate` name. */
  readonly stable: number;
  readonly candidate: number;
  /** Copies of this percent of the requests other generations answer go to the candidate; answers discarded. */
  readonly mirrorPercent: number;
  /** The rollout is starting, promoting or rolling back: a generation without ready replicas is expected, not news. */
  readonly quiet: boolean;
  /** How far back each generation's figures reach (the guardrail's window, at least a minute). */
  readonly windowMs: number;
}

/** A generation left the split (no ready replica) or came (back) into it. */
export interface SplitNotice {
  readonly generation: number;
  readonly ready: boolean;
  readonly message: string;
  /** The percents traffic follows now, by generation. */
  readonly effective: Readonly<Record<string, number>>;
}

export interface SplitHooks {
  /** A fresh pool for a generation (the gateway's limits and hooks). */
  readonly pool: () => ReplicaPool;
  readonly notice?: (n: SplitNotice) => void;
  /** One request recorded for a generation: `mirror` for a copy whose answer was discarded. */
  readonly record?: (generation: number, status: number, seconds: number, kind: 'served' | 'mirror') => void;
}

/** Where one request goes. */
export interface Choice {
  readonly generation: number;
  readonly pool: ReplicaPool;
  /** Also send a copy here (fire and forget). */
  readonly mirror?: { readonly generation: number; readonly pool: ReplicaPool };
}

/** Sends a request through a pool, as the gateway does for its own requests (retries on refused connections included). */
export type SendThrough = (pool: ReplicaPool, waited: { ms: number | undefined; replica: string | undefined }) => Promise<UpstreamReply>;

interface Lane {
  readonly generation: number;
  readonly pool: ReplicaPool;
  readonly window: RollingWindow;
  percent: number;
  ready: boolean | undefined;
  /** Announced as out of the split: its return is "back", not "joins". */
  out: boolean;
  mirrored: number;
}

/** The two header names a request may pick a generation with: berth's own, and the classic deployment header. */
const HEADERS = ['x-berth-generation', 'azureml-model-deployment'] as const;
/** Each generation's figures keep this many requests at most (a busy minute at 270 requests/s). */
const WINDOW_CAPACITY = 16_384;
const MIN_WINDOW_MS = 60_000;
/** How often a generation leaving the split is checked for requests still queued on it. */
const QUEUE_POLL_MS = 20;

export class GenerationSplit {
  private readonly lanes = new Map<number, Lane>();
  private readonly chooser = new SmoothWeighted<number>();
  private readonly mirror = new ExactFraction(0);
  private routing: SplitRouting | undefined;
  private fallback: number | undefined;

  /** `adopt` is the service's pool until now: it becomes the lane of its generation, so requests in it are not disturbed. */
  constructor(readonly service: string, private readonly clock: Clock, private readonly hooks: SplitHooks, adopt?: { generation: number; pool: ReplicaPool }) {
    if (adopt !== undefined) this.lanes.set(adopt.generation, this.lane(adopt.generation, adopt.pool, MIN_WINDOW_MS));
  }

  /** Takes new routing facts: members per generation (`keep` drops refused replicas), limits, weights and mirror. */
  update(routing: SplitRouting, limits: PoolLimits, keep: (e: Endpoint) => boolean): void {
    this.routing = routing;
    const live = new Set(routing.generations.map((g) => g.generation));
    for (const [g, lane] of this.lanes) {
      if (live.has(g)) continue;
      lane.pool.close(new BerthError('GENERATION_NOT_ROUTED', { service: this.service, generation: g, live: [...live].join(', '), header: HEADERS[0] }));
      this.lanes.delete(g);
    }
    const changed: Lane[] = [];
    for (const route of routing.generations) {
      let lane = this.lanes.get(route.generation);
      if (lane === undefined) {
        lane = this.lane(route.generation, this.hooks.pool(), Math.max(MIN_WINDOW_MS, routing.windowMs));
        this.lanes.set(route.generation, lane);
      }
      lane.percent = route.percent;
      lane.pool.setLimits(limits);
      const members = route.endpoints.filter(keep);
      lane.pool.setMembers(members);
      const ready = members.length > 0;
      if (ready !== lane.ready) {
        const before = lane.ready;
        lane.ready = ready;
        // While the rollout starts or ends, generations coming and going are expected: only their arrival is news.
        if (ready ? before === false : !routing.quiet) changed.push(lane);
      }
    }
    const configured = routing.generations.map((g): [number, number] => [g.generation, g.percent]);
    const ready = new Set([...this.lanes.values()].filter((l) => l.ready === true).map((l) => l.generation));
    const effective = effectiveWeights(configured, ready);
    this.chooser.set(effective);
    // With nothing ready the heaviest generation's pool answers (queue, then 503 naming the service's state).
    this.fallback = [...configured].sort((a, b) => b[1] - a[1])[0]?.[0];
    this.mirror.setPercent(routing.mirrorPercent);
    for (const lane of changed) this.announce(lane, effective);
  }

  /** Where a request goes: the generation its header names (even one at 0 %), else the next in the weighted rhythm; and whether a copy goes to the candidate. */
  choose(req: IncomingMessage, path: string): Choice {
    const named = namedGeneration(req);
    let generation: number | undefined;
    if (named !== undefined) generation = this.resolve(named.value, named.header);
    else generation = this.chooser.pick() ?? this.fallback;
    const lane = generation === undefined ? undefined : this.lanes.get(generation);
    if (lane === undefined) throw new BerthError('NO_READY_REPLICA', { service: this.service, state: 'no generation in routing' });
    const r = this.routing!;
    if (named === undefined && r.mirrorPercent > 0 && lane.generation !== r.candidate && (path === '/score' || path.startsWith('/score?'))) {
      const target = this.lanes.get(r.candidate);
      if (target?.ready === true && this.mirror.take()) return { generation: lane.generation, pool: lane.pool, mirror: { generation: target.generation, pool: target.pool } };
    }
    return { generation: lane.generation, pool: lane.pool };
  }

  /** Sends the copy and records its outcome under its generation; the answer itself is read and dropped. Never rejects. */
  async sendMirror(m: NonNullable<Choice['mirror']>, send: SendThrough, requestId: string): Promise<void> {
    const started = performance.now();
    const waited = { ms: undefined as number | undefined, replica: undefined as string | undefined };
    let status: number;
    try {
      const reply = await send(m.pool, waited);
      status = reply.status === 500 ? 502 : reply.status;
      if (!Buffer.isBuffer(reply.body)) reply.body.resume();
    } catch (err) {
      status = toHttpError(err, requestId).status;
    }
    const lane = this.lanes.get(m.generation);
    if (lane !== undefined) lane.mirrored += 1;
    this.record(m.generation, status, performance.now() - started, waited.ms, 'mirror');
  }

  record(generation: number, status: number, ms: number, waitedMs: number | undefined, kind: 'served' | 'mirror' = 'served'): void {
    this.lanes.get(generation)?.window.record(ms, status, waitedMs ?? -1);
    this.hooks.record?.(generation, status, ms / 1000, kind);
  }

  /** A generation's figures over (up to) `windowMs`, and how many copies it got; undefined for one not live. */
  summary(generation: number, windowMs?: number): (WindowSummary & { mirrored: number }) | undefined {
    const lane = this.lanes.get(generation);
    return lane === undefined ? undefined : { ...lane.window.summary(windowMs), mirrored: lane.mirrored };
  }

  /** The percents traffic follows now (configured ones, less generations without a ready replica). */
  effective(): Map<number, number> {
    const configured = [...this.lanes.values()].map((l): [number, number] => [l.generation, l.percent]);
    return percents(effectiveWeights(configured, new Set([...this.lanes.values()].filter((l) => l.ready === true).map((l) => l.generation))));
  }

  /** Takes replicas out of routing and resolves once nothing is in flight on them (or after `maxMs`). */
  async drain(ids: readonly string[], maxMs: number): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.pool.drain(ids, maxMs)));
  }

  /**
   * Resolves once nothing waits in `generation`'s queue (or after `maxMs`). Called after its weight went to 0 and before
   * its replicas are drained: the requests queued on it reach its replicas first, none is stranded without one.
   */
  async quiesce(generation: number, maxMs: number): Promise<void> {
    const deadline = this.clock.now() + maxMs;
    while ((this.lanes.get(generation)?.pool.snapshot().queued ?? 0) > 0 && this.clock.now() < deadline) {
      await new Promise<void>((r) => this.clock.setTimeout(r, QUEUE_POLL_MS));
    }
  }

  /** The state now (of one generation, else of all of them summed), without resetting any sample. */
  snapshot(generation?: number): { ready: number; inFlight: number; queued: number; oldestWaitMs: number } {
    if (generation !== undefined) return this.lanes.get(generation)?.pool.snapshot() ?? { ready: 0, inFlight: 0, queued: 0, oldestWaitMs: 0 };
    const out = { ready: 0, inFlight: 0, queued: 0, oldestWaitMs: 0 };
    for (const l of this.lanes.values()) {
      const s = l.pool.snapshot();
      out.ready += s.ready;
      out.inFlight += s.inFlight;
      out.queued += s.queued;
      out.oldestWaitMs = Math.max(out.oldestWaitMs, s.oldestWaitMs);
    }
    return out;
  }

  /** One generation's load since its previous sample (the autoscaler scales each on its own); all of them summed without one. */
  sample(generation?: number): LoadSample | undefined {
    if (generation !== undefined) return this.lanes.get(generation)?.pool.sample();
    const all = [...this.lanes.values()].map((l) => l.pool.sample());
    return all.reduce((a, s) => ({ ready: a.ready + s.ready, meanInFlight: a.meanInFlight + s.meanInFlight, inFlight: a.inFlight + s.inFlight, queued: a.queued + s.queued, oldestWaitMs: Math.max(a.oldestWaitMs, s.oldestWaitMs) }),
      { ready: 0, meanInFlight: 0, inFlight: 0, queued: 0, oldestWaitMs: 0 });
  }

  /** The rollout ended: `keep`'s pool goes on as the service's only pool (requests in it undisturbed); the others close. */
  end(keep: number | undefined, err: unknown): ReplicaPool | undefined {
    const kept = keep === undefined ? undefined : this.lanes.get(keep)?.pool;
    for (const lane of this.lanes.values()) if (lane.pool !== kept) lane.pool.close(err);
    this.lanes.clear();
    return kept;
  }

  close(err: unknown): void {
    this.end(undefined, err);
  }

  private lane(generation: number, pool: ReplicaPool, windowMs: number): Lane {
    return { generation, pool, window: new RollingWindow(() => this.clock.now(), windowMs, WINDOW_CAPACITY), percent: 0, ready: undefined, out: false, mirrored: 0 };
  }

  private resolve(value: string, header: string): number {
    const r = this.routing!;
    const v = value.trim().toLowerCase();
    const g = v === 'stable' ? r.stable : v === 'candidate' ? r.candidate : /^\d{1,9}$/.test(v) ? Number(v) : undefined;
    if (g === undefined || !this.lanes.has(g)) {
      throw new BerthError('GENERATION_NOT_ROUTED', { service: this.service, generation: value.slice(0, 40), live: [...this.lanes.keys()].sort((a, b) => b - a).join(', '), header });
    }
    return g;
  }

  private announce(lane: Lane, effective: ReadonlyArray<readonly [number, number]>): void {
    const now = percents(effective);
    const list = [...now].map(([g, p]) => `${g}: ${p}%`).join(', ');
    const record = Object.fromEntries([...now].map(([g, p]) => [String(g), p]));
    let message: string;
    if (lane.ready === true) {
      message = `generation ${lane.generation} ${lane.out ? 'is ready again: the split is back to' : 'is ready and joins the split:'} ${list}`;
      lane.out = false;
    } else {
      lane.out = true;
      const to = [...now.keys()].filter((g) => g !== lane.generation);
      message = to.length === 0
        ? `generation ${lane.generation} has no ready replica, and no other generation has one: requests get 503 until one is ready`
        : `generation ${lane.generation} has no ready replica: its ${lane.percent}% of requests go to generation ${to.join(' and ')} (now ${list})`;
    }
    this.hooks.notice?.({ generation: lane.generation, ready: lane.ready === true, message, effective: record });
  }
}

/** The generation a request names, by either header (berth's own first), scanning the raw header list once. */
function namedGeneration(req: IncomingMessage): { value: string; header: string } | undefined {
  const raw = req.rawHeaders;
  let found: { value: string; header: string } | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== HEADERS[0].length && name.length !== HEADERS[1].length) continue;
    const lower = name.toLowerCase();
    if (lower === HEADERS[0]) return { value: raw[i + 1]!, header: HEADERS[0] };
    if (lower === HEADERS[1]) found ??= { value: raw[i + 1]!, header: HEADERS[1] };
  }
  return found;
}
