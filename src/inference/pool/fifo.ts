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
