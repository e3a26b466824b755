// The scoring route answered straight off node:http, ahead of the API router: no URL object, route table scan or schema run per request.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createAccessLog } from '../core/access-log.js';
import type { Logger } from '../core/logger.js';
import type { Gateway, GatewayReply } from './gateway.js';

/** Takes a request and answers it (true), or leaves it to the API router (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const PREFIX = '/api/v1/service/';
const MAX_REQUEST_ID_LENGTH = 100;

/**
 * Only `POST|GET /api/v1/service/<name>/score` of a service the gateway routes is taken; anything else (another route,
 * an unknown or percent-encoded name) goes through the router, which validates it and gives the documented errors.
 */
export function scoringFastPath(gateway: Gateway, logger: Logger): FastPath {
  const accessLog = createAccessLog(logger);
  return (req, res) => {
    const url = req.url ?? '';
    const method = req.method;
    if ((method !== 'POST' && method !== 'GET') || !url.startsWith(PREFIX)) return false;
    const slash = url.indexOf('/', PREFIX.length);
    if (slash < 0) return false;
    const rest = url.slice(slash);
    if (rest !== '/score' && !rest.startsWith('/score?')) return false;
    const name = url.slice(PREFIX.length, slash);
    if (name.includes('%') || !gateway.routes(name)) return false;
    const started = performance.now();
    const requestId = requestIdOf(req.rawHeaders);
    void gateway.handle(name, '/score', req, requestId).then((reply) => write(res, reply, requestId)).then(
      () => accessLog({ method, path: url, status: res.statusCode, durationMs: performance.now() - started, bytes: Number(res.getHeader('content-length') ?? 0), requestId }),
      (err: unknown) => {
        logger.error({ err, request_id: requestId }, 'scoring reply failed');
        res.destroy();
      },
    );
    return true;
  };
}

async function write(res: ServerResponse, reply: GatewayReply, requestId: string): Promise<void> {
  const headers: string[] = ['content-type', reply.contentType, 'x-request-id', requestId];
  for (const name in reply.headers) if (name !== 'x-request-id') headers.push(name, reply.headers[name]!);
  if (Buffer.isBuffer(reply.body)) {
    headers.push('content-length', String(reply.body.length));
    res.writeHead(reply.status, headers).end(reply.body);
    return;
  }
  res.writeHead(reply.status, headers);
  await pipeline(reply.body, res);
}

/** The client's x-request-id when usable, else a new one: read from the raw header list (the header object costs more). */
function requestIdOf(raw: readonly string[]): string {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 12 && name.toLowerCase() === 'x-request-id') {
      const v = raw[i + 1]!;
      return v.length > 0 && v.length <= MAX_REQUEST_ID_LENGTH ? v : randomUUID();
    }
  }
  return randomUUID();
}
