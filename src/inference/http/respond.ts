// Writing responses: JSON error bodies from the catalogue, CORS headers, and the access log line.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { BerthError, type ErrorCode, type ErrorParams } from '../../errors/catalogue.js';
import { toHttpError } from '../../errors/http.js';

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly started: number;
  readonly requestId: string;
  readonly idHeaders: Record<string, string>;
}

export class Responder {
  constructor(
    private readonly log: Logger,
    private readonly corsOrigins: readonly string[],
    private readonly onScored: (status: number, seconds: number) => void,
  ) {}

  send(x: Exchange, status: number, headers: Record<string, string | number>, body: Buffer | string): void {
    const cors = this.corsHeaders(x.req);
    const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    // An explicit length spares chunked framing on every response.
    const all = { ...headers, ...x.idHeaders, 'content-length': bytes };
    x.res.writeHead(status, cors === undefined ? all : { ...all, ...cors });
    x.res.end(body);
    const ms = performance.now() - x.started;
    if (x.path === '/score') this.onScored(status, ms / 1000);
    this.log.info({ method: x.req.method, path: x.path, status, duration_ms: Math.round(ms * 100) / 100, bytes, request_id: x.requestId }, 'request');
  }

  sendError(x: Exchange, code: ErrorCode, params: ErrorParams = {}, extraHeaders: Record<string, string> = {}, extraBody: Record<string, unknown> = {}): void {
    const { status, body } = toHttpError(new BerthError(code, params), x.requestId, extraBody);
    this.send(x, status, { 'content-type': 'application/json', ...extraHeaders }, JSON.stringify(body));
  }

  corsHeaders(req: IncomingMessage): Record<string, string> | undefined {
    if (this.corsOrigins.length === 0) return undefined;
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    const allowed = this.corsOrigins.includes('*') ? '*' : this.corsOrigins.includes(origin) ? origin : undefined;
    if (allowed === undefined) return undefined;
    return {
      'access-control-allow-origin': allowed,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type, authorization, x-request-id',
    };
  }
}
