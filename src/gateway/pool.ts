// One service's routing set: ready replicas with their in-flight counts, least-in-flight choice, a bounded FIFO wait, drains and the load integral.
import { BerthError } from '../errors/catalogue.js';
import type { Clock, TimerHandle } from '../core/clock.js';

export interface Endpoint {
  readonly replicaId: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** What the replica asks of the gateway on /score and its scoring channel (none for a replica started without one). */
  readonly key?: string;
}

export interface PoolLimits {
  /** replica_max_concurrent_requests: never more than this many requests on one replica at once. */
  readonly maxConcurrent: number;
  /** max_request_wait_time: a request that found every replica full waits this long at most, then 503. */
  readonly maxWaitMs: number;
}

/** A replica in (or just out of) routing; `routed` turns false when it leaves, its in-flight count stays exact. */
export interface Member extends Endpoint {
  inFlight: number;
  routed: boolean;
}

/** One granted slot on a member; give it back with release() exactly once. */
export interface Lease {
  readonly member: Member;
  /** How long the request waited in the queue (0 when a slot was free). */
  readonly waitedMs: number;
}

/** Load since the previous sample: the autoscaler's input. */
export interface LoadSample {
  readonly ready: number;
  /** Time-weighted mean of requests in flight over the sampled period. */
  readonly meanInFlight: number;
  readonly inFlight: number;
  readonly queued: number;
  /** How long the oldest waiter has waited now (0 with an empty queue). */
  readonly oldestWaitMs: number;
}

export interface PoolHooks {
  /** A member left routing and has nothing in flight: its connections can be closed. */
  readonly onLeave?: (m: Member) => void;
  /** The service's state, for the message of a 503 without ready replicas. */
  readonly state?: () => string;
}

interface Waiter {
  readonly enqueuedAt: number;
  readonly deadline: number;
  readonly resolve: (lease: Lease) => void;
  readonly reject: (err: unknown) => void;
}

/** A flood must not hold unbounded memory in waiting requests: beyond this many, new ones get 503 at once. */
const MAX_QUEUE = 10_000;

export class ReplicaPool {
  private readonly members = new Map<string, Member>();
  private queue: Waiter[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  private turn = 0;
  private inFlightTotal = 0;
  private area = 0;
  private areaSince: number;
  private lastChange: number;
  /** Out of routing with requests still in flight. */
  private readonly leaving = new Set<Member>();
  private readonly idleWaiters = new Set<() => void>();

  constructor(readonly service: string, private limits: PoolLimits, private readonly clock: Clock, private readonly hooks: PoolHooks = {}) {
    this.areaSince = this.lastChange = clock.now();
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
    let added = false;
    for (const e of endpoints) {
      if (this.members.has(e.replicaId)) continue;
      this.members.set(e.replicaId, { replicaId: e.replicaId, url: e.url, ...(e.key === undefined ? {} : { key: e.key }), inFlight: 0, routed: true });
      added = true;
    }
    if (added) this.dispatch();
  }

  /** Takes one replica out of routing at once (it refused a connection, or it is being drained). */
  remove(replicaId: string): void {
    const m = this.members.get(replicaId);
    if (m !== undefined) this.leave(m);
  }

  /** A free slot now (least in flight, ties taken in turn), else a place in the FIFO queue until one frees or the wait runs out. */
  acquire(): Lease | Promise<Lease> {
    const m = this.pick();
    if (m !== undefined && this.queueLength() === 0) return this.grant(m, 0);
    if (this.members.size === 0) throw this.noReplica();
    if (this.queueLength() >= MAX_QUEUE) throw this.overloaded(0);
    return new Promise<Lease>((resolve, reject) => {
      const now = this.clock.now();
      this.queue.push({ enqueuedAt: now, deadline: now + this.limits.maxWaitMs, resolve, reject });
      if (this.timer === undefined) this.arm();
    });
  }

  release(lease: Lease): void {
    const m = lease.member;
    this.track();
    m.inFlight -= 1;
    this.inFlightTotal -= 1;
    if (m.routed) this.dispatch();
    else if (m.inFlight === 0) this.left(m);
  }

  /**
   * Takes `ids` out of routing and resolves once none of them has a request in flight (or after `maxMs`): every request
   * that chose one of them has been counted, so once this resolves nothing more reaches them and they can be stopped.
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
    for (const w of this.queue.slice(this.head)) w.reject(err);
    this.queue = [];
    this.head = 0;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const m of [...this.members.values()]) this.leave(m);
  }

  private oldestWaitMs(): number {
    const w = this.queue[this.head];
    return w === undefined ? 0 : this.clock.now() - w.enqueuedAt;
  }

  private queueLength(): number {
    return this.queue.length - this.head;
  }

  private grant(m: Member, waitedMs: number): Lease {
    this.track();
    m.inFlight += 1;
    this.inFlightTotal += 1;
    return { member: m, waitedMs };
  }

  /** The routed member with the fewest requests in flight below the limit; the start rotates so idle replicas share the load. */
  private pick(): Member | undefined {
    const n = this.members.size;
    if (n === 0) return undefined;
    const start = this.turn++ % n;
    let best: Member | undefined;
    let i = 0;
    // Two passes over the insertion-ordered map emulate a rotated scan without building an array.
    for (let pass = 0; pass < 2; pass++) {
      i = 0;
      for (const m of this.members.values()) {
        const inRange = pass === 0 ? i >= start : i < start;
        i++;
        if (!inRange || m.inFlight >= this.limits.maxConcurrent) continue;
        if (best === undefined || m.inFlight < best.inFlight) best = m;
      }
    }
    return best;
  }

  /** Hands free slots to waiters, oldest first. */
  private dispatch(): void {
    while (this.queueLength() > 0) {
      const m = this.pick();
      if (m === undefined) return;
      const w = this.queue[this.head]!;
      this.shift();
      w.resolve(this.grant(m, this.clock.now() - w.enqueuedAt));
    }
  }

  private shift(): void {
    this.queue[this.head] = undefined as unknown as Waiter;
    this.head += 1;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.queueLength() === 0 && this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** One timer, for the oldest waiter: waiters share the wait limit, so the queue's order is the order of their deadlines. */
  private arm(): void {
    const w = this.queue[this.head];
    if (w === undefined) return;
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, w.deadline - this.clock.now()));
  }

  private expire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (let w = this.queue[this.head]; w !== undefined && w.deadline <= now; w = this.queue[this.head]) {
      this.shift();
      w.reject(this.members.size === 0 ? this.noReplica() : this.overloaded(now - w.enqueuedAt));
    }
    if (this.timer === undefined) this.arm();
  }

  private noReplica(): BerthError {
    return new BerthError('NO_READY_REPLICA', { service: this.service, state: this.hooks.state?.() ?? 'unknown' });
  }

  private overloaded(waitedMs: number): BerthError {
    return new BerthError('SERVICE_OVERLOADED', { service: this.service, waitMs: Math.round(waitedMs), maxWaitMs: this.limits.maxWaitMs, replicas: this.members.size, perReplica: this.limits.maxConcurrent });
  }

  private leave(m: Member): void {
    this.members.delete(m.replicaId);
    m.routed = false;
    if (m.inFlight === 0) this.left(m);
    else this.leaving.add(m);
  }

  /** A member out of routing with nothing in flight: its connections can go, and drains waiting on it may end. */
  private left(m: Member): void {
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
