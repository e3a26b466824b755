// A streamed run() result between the runtime that produces its chunks and the response that carries them, with back-pressure and cancellation both ways.

/** How a stream that had already sent chunks ended badly; said to the client as an error event (SSE) or a cut-off body. */
export type StreamFailure =
  | { readonly kind: 'timeout'; readonly timeoutMs: number; readonly which: 'first' | 'next' }
  | { readonly kind: 'run_error'; readonly exception: string; readonly message: string; readonly traceback: string }
  | { readonly kind: 'worker_died'; readonly reason: string };

/** What a chunk was in run()'s hands: it picks the response's content type (the first chunk's). */
export type ChunkType = 'json' | 'text' | 'bytes';

/** The producer's side: what the consumer asks of it. */
export interface StreamControl {
  /** Stop producing until resume() (the client reads slower than run() yields); a paused stream's chunk timer stops too. */
  pause(): void;
  resume(): void;
  /** The client went away: stop the generator (Python: close(); JS: return()/cancel()). */
  cancel(): void;
}

/** The consumer's side: where chunks go. */
export interface StreamSink {
  /** false: the client's buffer is full; the stream pauses its producer until the consumer calls resume(). */
  chunk(data: Buffer): boolean;
  end(): void;
  fail(failure: StreamFailure): void;
}

const EMPTY: readonly Buffer[] = [];

/**
 * One streamed response. The runtime hands it over at its first chunk (errors before that are ordinary responses), so
 * chunks may be pushed before a sink is attached: they wait here. Pause and cancel reach the producer once each.
 */
export class ResponseStream {
  private sink: StreamSink | undefined;
  private held: Buffer[] = [];
  private ending: StreamFailure | 'end' | undefined;
  private paused = false;
  private cancelled = false;
  private finished = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(readonly type: ChunkType, private readonly control: StreamControl) {}

  /** True once it ended, failed or was cancelled. */
  get done(): boolean { return this.finished || this.cancelled; }

  // --- producer ---
  push(chunk: Buffer): void {
    if (this.done) return;
    if (this.sink === undefined) {
      this.held.push(chunk);
      return;
    }
    if (!this.sink.chunk(chunk)) this.pause();
  }

  finish(): void {
    this.settle('end');
  }

  fail(failure: StreamFailure): void {
    this.settle(failure);
  }

  /** Called once the stream is over for the producer: ended, failed, or cancelled by the consumer. */
  onClose(listener: () => void): void {
    if (this.finished) listener();
    else this.closeListeners.push(listener);
  }

  // --- consumer ---
  attach(sink: StreamSink): void {
    this.sink = sink;
    const held = this.held;
    this.held = EMPTY as Buffer[];
    let more = true;
    for (const chunk of held) more = sink.chunk(chunk) && more;
    if (!more) this.pause();
    const ending = this.ending;
    if (ending === 'end') sink.end();
    else if (ending !== undefined) sink.fail(ending);
  }

  pause(): void {
    if (this.paused || this.done) return;
    this.paused = true;
    this.control.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.done) this.control.resume();
  }

  /** The client is gone: nothing more is wanted. A paused producer is resumed so it can notice and stop. */
  cancel(): void {
    if (this.done) return;
    this.cancelled = true;
    this.sink = undefined;
    this.held = [];
    if (this.paused) {
      this.paused = false;
      this.control.resume();
    }
    this.control.cancel();
  }

  private settle(how: StreamFailure | 'end'): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.cancelled) {
      if (this.sink === undefined) this.ending = how;
      else if (how === 'end') this.sink.end();
      else this.sink.fail(how);
    }
    for (const l of this.closeListeners.splice(0)) l();
  }
}

/** The content type a stream's response gets when run() set none: from its first chunk. */
export function streamContentType(type: ChunkType): string {
  return type === 'json' ? 'application/x-ndjson' : type === 'text' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}
