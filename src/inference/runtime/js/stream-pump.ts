// A JS run() that streams (an async iterable, a web ReadableStream): pulls its chunks only as fast as the client takes them, times them, and stops it when the client goes away.
import { ResponseStream, type ChunkType, type StreamControl, type StreamFailure } from '../response-stream.js';
import type { ScoreOutcome, StreamTimeouts } from '../types.js';
import { clampTimerMs } from '../../../core/durations.js';

/** The part of an async iterator the pump uses; return() is how a generator's `finally` gets to run. */
export interface ChunkIterator {
  next(): Promise<IteratorResult<unknown>>;
  return?(): unknown;
}

/** The iterator of a streaming result, or undefined for anything else (strings and arrays answer as JSON, as before). */
export function chunkIterator(value: unknown): ChunkIterator | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (value instanceof ReadableStream) {
    const reader = (value as ReadableStream<unknown>).getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<unknown>>,
      return: () => reader.cancel().catch(() => undefined),
    };
  }
  const make = (value as { [Symbol.asyncIterator]?: () => ChunkIterator })[Symbol.asyncIterator];
  return typeof make === 'function' ? make.call(value) : undefined;
}

/** A chunk's bytes and kind: bytes as they are, strings as UTF-8, anything else as one line of JSON (NDJSON). */
export function encodeChunk(value: unknown): { readonly data: Buffer; readonly type: ChunkType } {
  if (typeof value === 'string') return { data: Buffer.from(value, 'utf8'), type: 'text' };
  if (value instanceof Uint8Array) return { data: Buffer.from(value.buffer, value.byteOffset, value.byteLength), type: 'bytes' };
  return { data: Buffer.from(`${JSON.stringify(value ?? null)}\n`, 'utf8'), type: 'json' };
}

/** Where the pump's chunks go: straight into a ResponseStream in-process, or into messages from a worker thread. */
export interface PumpTarget {
  /** The first chunk: the stream begins (`control` reaches back to the pump). */
  begin(type: ChunkType, control: StreamControl): void;
  chunk(data: Buffer): void;
  end(): void;
  fail(failure: StreamFailure): void;
  /** Ended before its first chunk: an ordinary outcome (an empty 200, run()'s error, the first-chunk timeout). */
  early(outcome: ScoreOutcome): void;
}

/**
 * Pulls `it` until it ends, throws, times out or is cancelled. `startedAt` (performance.now()) is when run() was called:
 * the first chunk is due within `limits.firstChunkMs` of it. In-process JS cannot be interrupted: a timed-out iterator
 * is asked to return() and whatever it yields later is dropped.
 */
export function pump(it: ChunkIterator, limits: StreamTimeouts, startedAt: number, workerId: number, target: PumpTarget): void {
  let begun = false;
  let paused = false;
  let over = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let limit = limits.firstChunkMs;
  const stop = (): void => {
    over = true;
    clearTimeout(timer);
    wake?.();
    try {
      void Promise.resolve(it.return?.()).catch(() => undefined);
    } catch {
      // a return() that throws: the iterator is abandoned all the same
    }
  };
  const arm = (inMs: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (over) return;
      stop();
      if (begun) target.fail({ kind: 'timeout', timeoutMs: limit, which: 'next' });
      else target.early({ kind: 'timeout', timeoutMs: limit, workerId });
    }, clampTimerMs(inMs));
  };
  const control: StreamControl = {
    pause: () => { paused = true; clearTimeout(timer); },
    resume: () => {
      paused = false;
      if (!over) arm(limit);
      wake?.();
    },
    cancel: () => {
      if (over) return;
      stop();
      target.end(); // the client is gone: the stream is over for the producer
    },
  };
  arm(startedAt + limit - performance.now());
  const loop = async (): Promise<void> => {
    for (;;) {
      if (paused && !over) await new Promise<void>((r) => { wake = r; });
      wake = undefined;
      if (over) return;
      let r: IteratorResult<unknown>;
      try {
        r = await it.next();
      } catch (err) {
        if (over) return;
        over = true;
        clearTimeout(timer);
        const e = err instanceof Error ? err : new Error(String(err));
        if (begun) return target.fail({ kind: 'run_error', exception: e.name, message: e.message, traceback: e.stack ?? e.message });
        return target.early({ kind: 'run_error', exception: e.name, message: e.message, traceback: e.stack ?? e.message, workerId, execMs: performance.now() - startedAt });
      }
      if (over) return;
      if (r.done === true) {
        over = true;
        clearTimeout(timer);
        if (begun) return target.end();
        return target.early({ kind: 'ok', status: 200, headers: TEXT_HEADERS, body: '', workerId, execMs: performance.now() - startedAt });
      }
      const { data, type } = encodeChunk(r.value);
      if (!begun) {
        begun = true;
        limit = limits.chunkMs;
        target.begin(type, control);
      }
      if (over) return;
      target.chunk(data);
      if (!paused && !over) arm(limit);
    }
  };
  void loop();
}

const TEXT_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'text/plain; charset=utf-8' });

/** The in-process target: a ResponseStream handed over (as a `stream` outcome) at the first chunk. */
export function pumpToOutcome(it: ChunkIterator, limits: StreamTimeouts, startedAt: number, workerId: number): Promise<ScoreOutcome> {
  return new Promise<ScoreOutcome>((resolve) => {
    let stream: ResponseStream | undefined;
    pump(it, limits, startedAt, workerId, {
      begin: (type, control) => {
        stream = new ResponseStream(type, control);
        resolve({ kind: 'stream', status: 200, headers: {}, stream, workerId, execMs: performance.now() - startedAt });
      },
      chunk: (data) => stream?.push(data),
      end: () => stream?.finish(),
      fail: (f) => stream?.fail(f),
      early: resolve,
    });
  });
}
