// A streamed response arriving on a replica's scoring channel, as the Readable the gateway pipes to its client: PAUSE/RESUME for back-pressure, CANCEL when the client goes, its own between-chunk limit.
import { Readable } from 'node:stream';
import { BerthError } from '../errors/catalogue.js';
import { toHttpError } from '../errors/http.js';
import { clampTimerMs } from '../core/durations.js';
import { sseError } from '../inference/http/sse.js';

/** What the body asks of the channel for its request. */
export interface StreamSteering {
  pause(): void;
  resume(): void;
  /** The client went away (or the gateway gave up on the replica): the replica stops the generator. */
  cancel(): void;
}

/** A streamed body ended badly: the replica's ABORT, a broken connection, or no chunk within the limit. */
export class StreamAborted extends Error {
  constructor(readonly errorJson: string) {
    super(`the stream ended early: ${errorJson}`);
    this.name = 'StreamAborted';
  }
}

export class ChannelBodyStream extends Readable {
  private paused = false;
  private over = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly steering: StreamSteering,
    /** Past this without a chunk (the replica's own limit plus a margin) the gateway ends the stream itself. */
    private readonly idleMs: number,
    /** The client asked for SSE: an error is said as an `event: error`, and the body then ends well-formed. */
    private readonly sse: boolean,
    private readonly requestId: string,
  ) {
    super();
    this.arm();
  }

  /** A chunk from the replica; a full buffer asks the replica to pause (its chunks in flight are still taken). */
  chunk(data: Buffer): void {
    if (this.over) return;
    if (!this.push(data) && !this.paused) {
      this.paused = true;
      clearTimeout(this.timer); // time the client takes to read is not the replica's
      this.steering.pause();
    } else if (!this.paused) {
      this.arm();
    }
  }

  end(): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.timer);
    this.push(null);
  }

  /** The replica ended the stream with an error (`errorJson`, a coded error body), or the connection to it broke. */
  abort(errorJson: string): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.timer);
    if (this.sse) {
      this.push(sseError(errorJson));
      this.push(null);
    } else {
      this.destroy(new StreamAborted(errorJson)); // the client's response is cut off: it sees an incomplete body
    }
  }

  /** The connection to the replica broke with the stream under way. */
  lost(replica: string, detail: string): void {
    this.abort(this.errorJson(new BerthError('STREAM_BROKEN', { replica, detail })));
  }

  private errorJson(err: BerthError): string {
    return JSON.stringify(toHttpError(err, this.requestId || undefined).body);
  }

  override _read(): void {
    if (!this.paused || this.over) return;
    this.paused = false;
    this.arm();
    this.steering.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    if (!this.over) {
      this.over = true;
      this.steering.cancel();
    }
    callback(err);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.steering.cancel();
      this.abort(this.errorJson(new BerthError('STREAM_CHUNK_TIMEOUT', { timeoutMs: this.idleMs })));
    }, clampTimerMs(this.idleMs));
    this.timer.unref();
  }
}
