// One Server-Sent Events response body: text pushed by the hub, ended when the client leaves or reads too slowly.
import { Readable } from 'node:stream';

/** A client this far behind (a stalled tab, a slow link) is cut off: it reconnects and gets a fresh snapshot. */
export const MAX_BACKLOG_BYTES = 1024 * 1024;

export class SseStream extends Readable {
  constructor(private readonly onClose: () => void) {
    super({ highWaterMark: 64 * 1024 });
  }

  /** Queues text for the client; false when the stream is gone (or was just cut off for lagging). */
  send(text: string): boolean {
    if (this.destroyed || this.readableEnded) return false;
    if (this.readableLength > MAX_BACKLOG_BYTES) {
      this.destroy();
      return false;
    }
    this.push(text);
    return true;
  }

  /** Ends the response normally (the plane is stopping). */
  finish(): void {
    if (!this.destroyed && !this.readableEnded) this.push(null);
  }

  override _read(): void {
    // Pushed by the hub, not pulled: nothing to do when the consumer wants more.
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.onClose();
    callback(err);
  }
}
