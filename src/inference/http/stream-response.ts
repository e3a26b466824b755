// Writes a streamed run() result to its client: chunked transfer or Server-Sent Events, back-pressure, cancellation, and the error that ends a failed stream.
import type { Logger } from 'pino';
import { BerthError } from '../../errors/catalogue.js';
import { toHttpError } from '../../errors/http.js';
import { streamContentType, type ResponseStream, type StreamFailure } from '../runtime/response-stream.js';
import { SSE_END, SSE_HEADERS, sseData, sseError, wantsEventStream } from './sse.js';

const CLIENT_GONE = 499;

/** Where a streamed response's bytes go: an HTTP response, or frames on the gateway's channel. */
export interface StreamOut {
  /** false: the client's buffer is full; `drain` is called when it has room again. */
  write(data: Buffer): boolean;
  end(): void;
  /** Ends the response so the client sees it failed: chunked transfer closes the connection without its last chunk. */
  abort(errorJson: string): void;
}

export interface StreamHooks {
  /** The client's buffer is full (a way back whose write() cannot say so at once: the gateway's PAUSE). */
  readonly pause: () => void;
  /** The client can take more. */
  readonly drain: () => void;
  /** The client went away before the end. */
  readonly gone: () => void;
}

/** A stream as its exchange opens it: out is undefined when the way back cannot stream (then the chunks are collected). */
export type OpenStream = (status: number, headers: string[], hooks: StreamHooks) => StreamOut | undefined;

/** The coded error a stream that had started ends with, and its status for metrics and the access log. */
export function streamError(failure: StreamFailure, requestId: string, debug: boolean): { status: number; json: string } {
  let err: BerthError;
  let extra: Record<string, unknown> = {};
  if (failure.kind === 'timeout') err = new BerthError('STREAM_CHUNK_TIMEOUT', { timeoutMs: failure.timeoutMs });
  else if (failure.kind === 'worker_died') err = new BerthError('WORKER_DIED', { reason: failure.reason });
  else {
    err = new BerthError('RUN_FAILED', { requestId });
    if (debug) extra = { exception: `${failure.exception}: ${failure.message}`, traceback: failure.traceback };
  }
  const { status, body } = toHttpError(err, requestId || undefined, extra);
  return { status, json: JSON.stringify(body) };
}

export interface StreamWrite {
  readonly requestId: string;
  readonly accept: string | undefined;
  readonly status: number;
  /** Headers run() set (content-type among them, or chosen from the first chunk). */
  readonly headers: string[];
  readonly contentType: string | undefined;
  readonly open: OpenStream;
  readonly debug: boolean;
  readonly log: Logger;
  /** The stream ended (well or not): status as recorded, and the bytes sent. */
  readonly finished: (status: number, bytes: number) => void;
  /** The way back could not stream: the whole body, collected (or the error), as an ordinary response. */
  readonly whole: (status: number, contentType: string, body: Buffer) => void;
}

/** Pipes `stream` to the client; chunks before the response opened were held by the stream. */
export function writeStream(stream: ResponseStream, w: StreamWrite): void {
  const sse = wantsEventStream(w.accept);
  const contentType = sse ? 'text/event-stream; charset=utf-8' : w.contentType ?? streamContentType(stream.type);
  const headers = ['content-type', contentType, ...w.headers];
  if (sse) headers.push(...SSE_HEADERS);
  let bytes = 0;
  let over = false;
  const finished = (status: number): void => {
    if (over) return;
    over = true;
    w.finished(status, bytes);
  };
  // A client that went away is logged 499 (nginx's "client closed request"): it got part of the stream.
  const out = w.open(w.status, headers, { pause: () => stream.pause(), drain: () => stream.resume(), gone: () => { stream.cancel(); finished(CLIENT_GONE); } });
  const frame = sse ? (c: Buffer) => sseData(c) : (c: Buffer) => c;
  const report = (failure: StreamFailure): { status: number; json: string } => {
    const e = streamError(failure, w.requestId, w.debug);
    w.log.error({ request_id: w.requestId, failure }, `stream ended early: ${failure.kind === 'run_error' ? `run() raised ${failure.exception}: ${failure.message}` : failure.kind === 'timeout' ? `no chunk within ${failure.timeoutMs} ms` : failure.reason}`);
    return e;
  };
  if (out === undefined) {
    const parts: Buffer[] = [];
    return stream.attach({
      chunk: (c) => { parts.push(frame(c)); return true; },
      end: () => {
        if (sse) parts.push(SSE_END);
        w.whole(w.status, contentType, Buffer.concat(parts));
      },
      fail: (f) => {
        const e = report(f);
        w.whole(e.status, 'application/json', Buffer.from(e.json));
      },
    });
  }
  stream.attach({
    chunk: (c) => {
      const b = frame(c);
      bytes += b.length;
      return out.write(b);
    },
    end: () => {
      if (sse) out.write(SSE_END);
      out.end();
      finished(w.status);
    },
    fail: (f) => {
      const e = report(f);
      if (sse) {
        out.write(sseError(e.json));
        out.end();
      } else {
        out.abort(e.json);
      }
      finished(e.status);
    },
  });
}
