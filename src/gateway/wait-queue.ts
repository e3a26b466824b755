// The gateway's FIFO of requests waiting for a replica slot, in arrival order (also for requests given back unstarted), with one timer for its oldest.
import type { Clock, TimerHandle } from '../core/clock.js';

export interface Waiter {
  /** When the request first asked for a replica: its place in the queue, also when it is given back. */
  readonly arrivedAt: number;
  readonly deadline: number;
}

/**
 * O(1) push and shift; a request given back goes before every later arrival, so the queue stays in arrival order.
 * Waiters share the wait limit, so arrival order is deadline order: one timer, for the oldest, expires them.
 */
export class WaitQueue<T extends Waiter> {
  private items: T[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly clock: Clock, private readonly onExpired: (w: T, now: number) => void) {}

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
    if (this.timer === undefined) this.arm();
  }

  /** Puts `item` before the first waiter that arrived after it. */
  insertByArrival(item: T): void {
    let at = this.items.length;
    while (at > this.head && this.items[at - 1]!.arrivedAt > item.arrivedAt) at--;
    const front = at === this.head;
    if (front && this.head > 0) this.items[--this.head] = item;
    else this.items.splice(at, 0, item);
    // A new oldest waiter: its deadline comes first.
    if (front) this.disarm();
    if (this.timer === undefined) this.arm();
  }

  shift(): T | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.items[this.head] = undefined as unknown as T;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
      this.disarm();
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Empties the queue, returning what waited, oldest first. */
  takeAll(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.disarm();
    return all;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const w = this.peek();
    if (w === undefined) return;
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, w.deadline - this.clock.now()));
  }

  private expire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (let w = this.peek(); w !== undefined && w.deadline <= now; w = this.peek()) {
      this.shift();
      this.onExpired(w, now);
    }
    if (this.timer === undefined) this.arm();
  }
}
