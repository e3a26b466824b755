// A FIFO queue with O(1) push and shift, for requests waiting for a worker.
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number { return this.items.length - this.head; }

  push(item: T): void { this.items.push(item); }

  peek(): T | undefined { return this.items[this.head]; }

  /**
   * Puts an item back near the front, before the first item that `comesAfter` it: requests a dead worker never started
   * go back ahead of those still waiting, and in the order they arrived.
   */
  putBack(item: T, comesAfter: (other: T) => boolean): void {
    let at = this.head;
    while (at < this.items.length && !comesAfter(this.items[at]!)) at++;
    if (at > this.head) this.items.splice(at, 0, item);
    else if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  /** Removes `item` wherever it is; false when it is not queued. */
  remove(item: T): boolean {
    const at = this.items.indexOf(item, this.head);
    if (at < 0) return false;
    if (at === this.head) this.shift();
    else this.items.splice(at, 1);
    return true;
  }

  /** Removes every item `matches`, keeping the others in order; returns the removed ones, in order. */
  removeWhere(matches: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i]!;
      (matches(item) ? removed : kept).push(item);
    }
    if (removed.length > 0) {
      this.items = kept;
      this.head = 0;
    }
    return removed;
  }

  forEach(visit: (item: T) => void): void {
    for (let i = this.head; i < this.items.length; i++) visit(this.items[i]!);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact now and then so a long-lived queue does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
