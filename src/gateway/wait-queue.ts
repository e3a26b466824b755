// The gateway's FIFO of requests waiting for a replica slot, in arrival order (also for requests given back unstarted).
export interface Waiter {
  /** When the request first asked for a replica: its place in the queue, also when it is given back. */
  readonly arrivedAt: number;
  readonly deadline: number;
}

/** O(1) push and shift; a request given back goes before every later arrival, so the queue stays in arrival order. */
export class WaitQueue<T extends Waiter> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Puts `item` before the first waiter that arrived after it; true when it went to the front. */
  insertByArrival(item: T): boolean {
    let at = this.items.length;
    while (at > this.head && this.items[at - 1]!.arrivedAt > item.arrivedAt) at--;
    const front = at === this.head;
    if (front && this.head > 0) this.items[--this.head] = item;
    else this.items.splice(at, 0, item);
    return front;
  }

  shift(): T | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.items[this.head] = undefined as unknown as T;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
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
    return all;
  }
}
