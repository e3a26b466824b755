// Runs one scoring request on the worker pool and answers with what came back: shared by HTTP clients and the gateway's channel.
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Admission, DispatchResult, Ticket, WorkerPool } from '../pool/worker-pool.js';
import type { ServeSettings } from '../settings.js';
import type { ScoreRequest } from '../runtime/types.js';
import type { Exchange, HeaderList, Responder } from './respond.js';
import { mebibytes } from '../../core/limits.js';

const JSON_TYPE = 'application/json';
export const CLOSE: HeaderList = ['connection', 'close'];

/** Where a request's headers come from, built only when the entry script asks for them. */
export interface HeaderSource {
  readonly headers: IncomingHttpHeaders;
}

/**
 * A scoring request whose header object is built only if the entry script asks for it. A class, not an object
 * literal with a getter: a per-request accessor closure made every young-generation GC take 3-5 ms (objects it held
 * survived), which was the p99 of the whole server.
 */
class LazyHeadersScoreRequest implements ScoreRequest {
  constructor(
    private readonly source: HeaderSource,
    readonly requestId: string,
    readonly method: string,
    readonly path: string,
    readonly query: string,
    readonly body: Buffer,
  ) {}

  get headers(): IncomingHttpHeaders {
    return this.source.headers;
  }
}

/** A request the gateway sent ahead: it may wait its budget here; if it never starts, the gateway hears why instead of a response. */
export interface SentAhead extends Admission {
  /** expired: its budget ran out before a worker took it (the gateway answers 503); withdrawn: given back as the pool stops. */
  readonly onUnstarted: (why: 'expired' | 'withdrawn') => void;
}

export interface ScoringDeps {
  readonly settings: ServeSettings;
  readonly pool: WorkerPool;
  readonly responder: Responder;
  readonly log: Logger;
  readonly isDraining: () => boolean;
}

export class Scoring {
  readonly maxBytes: number;

  constructor(private readonly d: ScoringDeps) {
    this.maxBytes = mebibytes(d.settings.maxRequestSizeMb);
  }

  /** Refuses a request that cannot be taken (draining, declared too large) before its body is read; true when it did. */
  refuse(x: Exchange, declaredBytes: number): boolean {
    if (this.d.isDraining()) {
      this.d.responder.sendError(x, 'SHUTTING_DOWN', {}, CLOSE);
      return true;
    }
    if (declaredBytes > this.maxBytes) {
      this.d.responder.sendError(x, 'BODY_TOO_LARGE', { limit: this.maxBytes }, CLOSE);
      return true;
    }
    return false;
  }

  /** Runs the request with its whole body and answers through `x` (or, sent ahead and never started, through `ahead`). */
  run(x: Exchange, headers: HeaderSource, query: string, body: Buffer, ahead?: SentAhead): Ticket {
    const request = new LazyHeadersScoreRequest(headers, x.requestId, x.method, x.path, query, body);
    return this.d.pool.dispatch(request, (result) => this.respond(x, result, ahead), ahead);
  }

  /** Takes back a request that no worker has taken yet; false once one did. */
  withdraw(ticket: Ticket): boolean {
    return this.d.pool.withdraw(ticket);
  }

  private respond(x: Exchange, result: DispatchResult, ahead: SentAhead | undefined): void {
    const { responder, log, settings } = this.d;
    if (ahead !== undefined && (result.kind === 'overloaded' || result.kind === 'withdrawn')) return ahead.onUnstarted(result.kind === 'overloaded' ? 'expired' : 'withdrawn');
    switch (result.kind) {
      case 'ok': {
        const extra: HeaderList = ['x-ms-run-function-failed', 'False', 'x-ms-run-fn-exec-ms', result.execMs.toFixed(3)];
        let contentType = JSON_TYPE;
        for (const name in result.headers) {
          const value = result.headers[name] as string | string[];
          if (name === 'content-type') contentType = String(value);
          else if (Array.isArray(value)) for (const v of value) extra.push(name, v);
          else extra.push(name, value);
        }
        return responder.send(x, result.status, contentType, result.body, extra);
      }
      case 'run_error': {
        log.error({ request_id: x.requestId, worker: result.workerId, exception: result.exception, traceback: result.traceback }, `run() raised ${result.exception}: ${result.message}`);
        const debug = settings.debug ? { exception: `${result.exception}: ${result.message}`, traceback: result.traceback } : {};
        return responder.sendError(x, 'RUN_FAILED', { requestId: x.requestId }, ['x-ms-run-function-failed', 'True', 'x-ms-run-fn-exec-ms', result.execMs.toFixed(3)], debug);
      }
      case 'bad_utf8': return responder.sendError(x, 'BODY_NOT_UTF8');
      case 'timeout':
        log.error({ request_id: x.requestId, worker: result.workerId, timeout_ms: result.timeoutMs }, `scoring timeout after ${result.timeoutMs} ms; recycling worker ${result.workerId}`);
        return responder.sendError(x, 'SCORING_TIMEOUT', { timeoutMs: result.timeoutMs });
      case 'worker_died':
        log.error({ request_id: x.requestId, worker: result.workerId, reason: result.reason }, `worker ${result.workerId} died during request ${x.requestId}: ${result.reason}`);
        return responder.sendError(x, 'WORKER_DIED', { reason: `worker ${result.workerId} ${result.reason}` });
      case 'withdrawn': return responder.sendError(x, 'NOT_READY', {}, ['retry-after', '1']);
      case 'overloaded': {
        const retryAfter = ['retry-after', '1'];
        return result.anyReady
          ? responder.sendError(x, 'OVERLOADED', { waitMs: settings.maxQueueWaitMs }, retryAfter)
          : responder.sendError(x, 'NOT_READY', {}, retryAfter);
      }
    }
  }
}
