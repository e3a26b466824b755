// The scoring route answered straight off node:http, ahead of the API router: no URL object, route table scan or schema run per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createAccessLog } from '../core/access-log.js';
import { requestIdOf } from '../core/raw-headers.js';
import type { Logger } from '../core/logger.js';
import type { Gateway, GatewayReply } from './gateway.js';

/** Takes a request and answers it (true), or leaves it to the API router (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const PREFIX = '/api/v1/service/';

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
    const requestId = requestIdOf(req);
    void gateway.handle(name, '/score', req, requestId).then((reply) => write(res, reply, requestId)).then(
      (bytes) => accessLog({ method, path: url, status: res.statusCode, durationMs: performance.now() - started, bytes, requestId }),
      (err: unknown) => {
        logger.error({ err, request_id: requestId }, 'scoring reply failed');
        res.destroy();
      },
    );
    return true;
  };
}

/** Writes the reply; resolves with the body's size (unknown for a streamed one: 0, as the API router logs it). */
async function write(res: ServerResponse, reply: GatewayReply, requestId: string): Promise<number> {
  const headers: string[] = ['content-type', reply.contentType, 'x-request-id', requestId];
  for (const name in reply.headers) if (name !== 'x-request-id') headers.push(name, reply.headers[name]!);
  if (Buffer.isBuffer(reply.body)) {
    headers.push('content-length', String(reply.body.length));
    res.writeHead(reply.status, headers).end(reply.body);
    return reply.body.length;
  }
  res.writeHead(reply.status, headers);
  await pipeline(reply.body, res);
  return 0;
}
