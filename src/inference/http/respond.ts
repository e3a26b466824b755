// Writing responses: JSON error bodies from the catalogue, request-id and CORS headers, and the access log line.
import type { Logger } from 'pino';
import { BerthError, type ErrorCode, type ErrorParams } from '../../errors/catalogue.js';
import { toHttpError } from '../../errors/http.js';
import { createAccessLog, type AccessRecord } from '../../core/access-log.js';

/** One request and the way back to its client: an HTTP response, or a frame on the gateway's scoring channel. */
export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly started: number;
  readonly requestId: string;
  /** The other id headers to send back: [name, value, …] (empty when the ids were refused). */
  readonly echo: readonly string[];
  /** A request header (lower-case name), for CORS. */
  header(name: string): string | undefined;
  /** Sends status, headers and body; called once. */
  reply(status: number, headers: HeaderList, body: Buffer | string): void;
}

/** Extra response headers as a flat [name, value, name, value, …] list, the form node:http takes without copying. */
export type HeaderList = string[];

export class Responder {
  private readonly accessLog: (r: AccessRecord) => void;

  constructor(
    log: Logger,
    private readonly corsOrigins: readonly string[],
    private readonly onScored: (status: number, seconds: number) => void,
  ) {
    this.accessLog = createAccessLog(log);
  }

  send(x: Exchange, status: number, contentType: string, body: Buffer | string, extra?: HeaderList): void {
    const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    // An explicit length spares chunked framing on every response.
    const headers: string[] = ['content-type', contentType, 'content-length', String(bytes), 'x-request-id', x.requestId];
    for (const h of x.echo) headers.push(h);
    if (extra !== undefined) for (const h of extra) headers.push(h);
    if (this.corsOrigins.length > 0) this.addCors(x, headers);
    x.reply(status, headers, body);
    const ms = performance.now() - x.started;
    // An Open Inference Protocol infer request counts as a scoring request.
    if (x.path === '/score' || (x.path.endsWith('/infer') && x.path.startsWith('/v2/'))) this.onScored(status, ms / 1000);
    this.accessLog({ method: x.method, path: x.path, status, durationMs: ms, bytes, requestId: x.requestId });
  }

  sendError(x: Exchange, code: ErrorCode, params: ErrorParams = {}, extra?: HeaderList, extraBody: Record<string, unknown> = {}): void {
    const { status, body } = toHttpError(new BerthError(code, params), x.requestId || undefined, extraBody);
    this.send(x, status, 'application/json', JSON.stringify(body), extra);
  }

  private addCors(x: Exchange, headers: string[]): void {
    const origin = x.header('origin');
    if (origin === undefined) return;
    const allowed = this.corsOrigins.includes('*') ? '*' : this.corsOrigins.includes(origin) ? origin : undefined;
    if (allowed === undefined) return;
    headers.push(
      'access-control-allow-origin', allowed,
      'access-control-allow-methods', 'GET, POST, OPTIONS',
      'access-control-allow-headers', x.header('access-control-request-headers') ?? 'content-type, authorization, x-request-id',
    );
  }
}
