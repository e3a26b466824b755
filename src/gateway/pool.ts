// One service's routing set: ready replicas with their in-flight counts, least-in-flight choice, send-ahead, a bounded FIFO wait, drains and the load integral.
import { BerthError } from '../errors/catalogue.js';
import type { Clock } from '../core/clock.js';
import { aheadDepth, MIN_AHEAD_BUDGET_MS } from './send-ahead.js';
import { WaitQueue, type Waiter } from './wait-queue.js';
import { chooseMember, recallable, recallFor, RoutedMember, Slot } from './pool-members.js';
import type { Endpoint, Lease, LoadSample, PoolHooks, PoolLimits } from './pool-types.js';

export type { Endpoint, Lease, LoadSample, Member, PoolHooks, PoolLimits } from './pool-types.js';

interface PoolWaiter extends Waiter {
  readonly resolve: (lease: Lease) => void;
  readonly reject: (err: unknown) => void;
}

/** How long a replica stays idle, with requests waiting in others, before it asks for some of them (see rebalance). */
const RECALL_DELAY_MS = 2;

/** A flood must not hold unbounded memory in waiting requests: beyond this many, new ones get 503 at once. */
const MAX_QUEUE = 10_000;

export class ReplicaPool {
  private readonly members = new Map<string, RoutedMember>();
  private readonly queue: WaitQueue<PoolWaiter>;
  private turn = 0;
  private inFlightTotal = 0;
  /** Requests sent ahead and not started, across members. */
  private aheadTotal = 0;
  private area = 0;
  private areaSince: number;
  private lastChange: number;
  private dispatchQueued = false;
  /** Out of routing with requests still in flight. */
  private readonly leaving = new Set<RoutedMember>();
  private readonly idleWaiters = new Set<() => void>();
  private readonly precise: () => number;

  constructor(readonly service: string, private limits: PoolLimits, private readonly clock: Clock, private readonly hooks: PoolHooks = {}) {
    this.areaSince = this.lastChange = clock.now();
    this.precise = hooks.precise ?? (() => performance.now());
    this.queue = new WaitQueue<PoolWaiter>(clock, (w, now) => w.reject(this.members.size === 0 ? this.noReplica() : this.overloaded(now - w.arrivedAt)));
  }

  setLimits(limits: PoolLimits): void {
    const grew = limits.maxConcurrent > this.limits.maxConcurrent;
    this.limits = limits;
    if (grew) this.dispatch();
  }

  /** Makes the routed set exactly `endpoints` (a replica whose URL changed is a new member: it restarted on a new port). */
  setMembers(endpoints: readonly Endpoint[]): void {
    const wanted = new Map(endpoints.map((e) => [e.replicaId, e]));
    for (const [id, m] of this.members) {
      if (wanted.get(id)?.url !== m.url) this.leave(m);
    }
    const added: RoutedMember[] = [];
    for (const e of endpoints) {
      if (this.members.has(e.replicaId)) continue;
      const m = new RoutedMember(e.replicaId, e.url, e.key, this.precise);
      this.members.set(e.replicaId, m);
      added.push(m);
    }
    if (added.length === 0) return;
    this.dispatch();
    for (const m of added) this.rebalance(m);
  }

  /** Takes one replica out of routing at once (it refused a connection, or it is being drained). */
  remove(replicaId: string): void {
    const m = this.members.get(replicaId);
    if (m !== undefined) this.leave(m);
  }

  /**
   * A free slot now (least in flight, ties taken in turn); else, while every replica is full, a place ahead on one
   * that can hold requests waiting (`aheadBudgetMs` set); else a place in the FIFO queue until one frees or the wait
   * runs out.
   */
  acquire(): Lease | Promise<Lease> {
    const now = this.clock.now();
    if (this.queue.length === 0) {
      const m = this.pick(this.limits.maxWaitMs);
      if (m !== undefined) return this.grant(m, now, now + this.limits.maxWaitMs);
    }
    if (this.members.size === 0) throw this.noReplica();
    if (this.queue.length >= MAX_QUEUE) throw this.overloaded(0);
    return this.enqueue(now, false);
  }

  /** The request sent ahead on `lease` has started in the replica (its STARTED notice). */
  started(lease: Lease): void {
    const s = lease as Slot;
    if (!s.waiting || s.released) return;
    this.unlistAhead(s);
    s.waitedMs = this.clock.now() - s.arrivedAt;
    s.serviceStart = this.precise();
  }

  /** The replica is finished with the request (answered, failed, or timed out); call once. */
  release(lease: Lease): void {
    const s = lease as Slot;
    if (!this.free(s)) return;
    if (s.serviceStart !== undefined) s.member.service.answered(s.serviceStart);
    const m = s.member;
    if (!m.routed) {
      if (m.inFlight === 0) this.left(m);
      return;
    }
    this.dispatch();
    if (m.inFlight === 0) this.rebalance(m);
  }

  /**
   * The request never started on the replica (given back, or the connection failed before it was sent): it goes back
   * to the queue at its arrival place, keeping its deadline. Several given back at once are all queued before any is
   * handed out, so they leave in arrival order. With no replica ready it waits all the same (one may come back, a
   * restarted one say) until its deadline. Never throws.
   */
  requeue(lease: Lease): Promise<Lease> {
    const s = lease as Slot;
    if (this.free(s) && !s.member.routed && s.member.inFlight === 0) this.left(s.member);
    const promise = this.enqueue(s.arrivedAt, true);
    if (!this.dispatchQueued) {
      this.dispatchQueued = true;
      queueMicrotask(() => {
        this.dispatchQueued = false;
        this.dispatch();
      });
    }
    return promise;
  }

  /** A request sent ahead ran out of its wait in the replica, unstarted: released, and the 503 to answer. */
  expired(lease: Lease): BerthError {
    const s = lease as Slot;
    this.release(s);
    return this.overloaded(this.clock.now() - s.arrivedAt);
  }

  /**
   * Takes `ids` out of routing and resolves once none of them has a request in flight (or after `maxMs`): every request
   * that chose one of them has been counted, so once this resolves nothing more reaches them and they can be stopped.
   * Requests waiting in them unstarted are asked back for the replicas that stay.
   */
  drain(ids: readonly string[], maxMs: number): Promise<void> {
    const wanted = new Set(ids);
    for (const id of ids) this.remove(id);
    const busy = (): boolean => [...this.leaving].some((m) => wanted.has(m.replicaId));
    if (!busy()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.idleWaiters.delete(check);
        this.clock.clearTimeout(timer);
        resolve();
      };
      const check = (): void => {
        if (!busy()) done();
      };
      const timer = this.clock.setTimeout(done, maxMs);
      this.idleWaiters.add(check);
    });
  }

  /** The load since the previous call (the integral restarts). */
  sample(): LoadSample {
    this.track();
    const now = this.clock.now();
    const span = now - this.areaSince;
    const meanInFlight = span > 0 ? this.area / span : this.inFlightTotal;
    this.area = 0;
    this.areaSince = now;
    return { ready: this.members.size, meanInFlight, inFlight: this.inFlightTotal, queued: this.queueLength(), oldestWaitMs: this.oldestWaitMs() };
  }

  /** The state now, without touching the integral. */
  snapshot(): { ready: number; inFlight: number; queued: number; oldestWaitMs: number } {
    return { ready: this.members.size, inFlight: this.inFlightTotal, queued: this.queueLength(), oldestWaitMs: this.oldestWaitMs() };
  }

  /** Fails every waiting request with `err` (the service is gone or the control plane stops). */
  close(err: unknown): void {
    for (const w of this.queue.takeAll()) w.reject(err);
    for (const m of [...this.members.values()]) this.leave(m);
  }

  /** How long the oldest request waiting for a slot has waited: in the queue, or sent ahead and not started yet. */
  private oldestWaitMs(): number {
    let oldest = this.queue.peek()?.arrivedAt ?? Number.POSITIVE_INFINITY;
    if (this.aheadTotal > 0) for (const m of this.members.values()) oldest = Math.min(oldest, m.ahead[0]?.arrivedAt ?? oldest);
    return oldest === Number.POSITIVE_INFINITY ? 0 : this.clock.now() - oldest;
  }

  private queueLength(): number {
    return this.queue.length;
  }

  private enqueue(arrivedAt: number, byArrival: boolean): Promise<Lease> {
    return new Promise<Lease>((resolve, reject) => {
      const w: PoolWaiter = { arrivedAt, deadline: arrivedAt + this.limits.maxWaitMs, resolve, reject };
      if (byArrival) this.queue.insertByArrival(w);
      else this.queue.push(w);
    });
  }

  private grant(m: RoutedMember, arrivedAt: number, deadline: number): Slot {
    this.track();
    const now = this.clock.now();
    const ahead = m.inFlight >= this.limits.maxConcurrent;
    const s = new Slot(m, arrivedAt, now, ahead ? Math.max(0, deadline - now) : undefined);
    m.inFlight += 1;
    this.inFlightTotal += 1;
    if (ahead) {
      m.ahead.push(s);
      this.aheadTotal += 1;
    } else {
      s.serviceStart = this.precise();
    }
    return s;
  }

  /** Gives a slot back; false when it was already. */
  private free(s: Slot): boolean {
    if (s.released) return false;
    s.released = true;
    if (s.waiting) this.unlistAhead(s);
    this.track();
    s.member.inFlight -= 1;
    this.inFlightTotal -= 1;
    return true;
  }

  private unlistAhead(s: Slot): void {
    s.waiting = false;
    const list = s.member.ahead;
    const i = list.indexOf(s);
    if (i >= 0) list.splice(i, 1);
    this.aheadTotal -= 1;
  }

  /** The member for the next request (see chooseMember); `budgetMs`: the request's wait left, for a place ahead. */
  private pick(budgetMs: number): RoutedMember | undefined {
    const n = this.members.size;
    if (n === 0) return undefined;
    const canWait = budgetMs >= MIN_AHEAD_BUDGET_MS && this.hooks.sendsAhead !== undefined;
    return chooseMember(this.members, this.turn++ % n, this.limits.maxConcurrent, canWait ? (m) => this.depth(m) : undefined);
  }

  /** How many requests `m` may hold beyond its running ones. */
  private depth(m: RoutedMember): number {
    return this.hooks.sendsAhead?.(m) === true ? aheadDepth(m.service.ms, this.limits.maxConcurrent) : 0;
  }

  /** Hands free slots (or places ahead) to waiters, oldest first. */
  private dispatch(): void {
    for (let w = this.queue.peek(); w !== undefined; w = this.queue.peek()) {
      const m = this.pick(w.deadline - this.clock.now());
      if (m === undefined) return;
      this.queue.shift();
      w.resolve(this.grant(m, w.arrivedAt, w.deadline));
    }
  }

  /**
   * Fairness: `m` is idle while requests wait unstarted in other replicas (behind a slow one, say); if it is still
   * idle a moment later, it asks for some of them back. The moment lets a fast service's next requests reach it
   * first: a replica of a fast script is idle for a few microseconds between two requests all the time, and moving
   * requests then would only cost round trips.
   */
  private rebalance(m: RoutedMember): void {
    if (this.aheadTotal === 0 || this.queue.length > 0 || !m.routed || m.recallTimer !== undefined) return;
    m.recallTimer = this.clock.setTimeout(() => {
      m.recallTimer = undefined;
      if (this.aheadTotal === 0 || this.queue.length > 0 || !m.routed || m.inFlight > 0) return;
      recallFor(m, this.members.values(), this.limits.maxConcurrent);
    }, RECALL_DELAY_MS);
  }

  private noReplica(): BerthError {
    return new BerthError('NO_READY_REPLICA', { service: this.service, state: this.hooks.state?.() ?? 'unknown' });
  }

  private overloaded(waitedMs: number): BerthError {
    return new BerthError('SERVICE_OVERLOADED', { service: this.service, waitMs: Math.round(waitedMs), maxWaitMs: this.limits.maxWaitMs, replicas: this.members.size, perReplica: this.limits.maxConcurrent });
  }

  private leave(m: RoutedMember): void {
    this.members.delete(m.replicaId);
    m.routed = false;
    if (m.inFlight === 0) return this.left(m);
    this.leaving.add(m);
    // What waits in it unstarted goes to the replicas that stay (none: it runs here, and the drain waits for it).
    if (this.members.size === 0) return;
    for (let s = recallable(m.ahead); s !== undefined; s = recallable(m.ahead)) {
      s.recalling = true;
      s.recall!();
    }
  }

  /** A member out of routing with nothing in flight: its connections can go, and drains waiting on it may end. */
  private left(m: RoutedMember): void {
    this.leaving.delete(m);
    this.hooks.onLeave?.(m);
    for (const check of [...this.idleWaiters]) check();
  }

  /** Adds in-flight × elapsed to the integral before the count changes. */
  private track(): void {
    const now = this.clock.now();
    this.area += this.inFlightTotal * (now - this.lastChange);
    this.lastChange = now;
  }
}
