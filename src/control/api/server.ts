// The control plane's HTTP server: a small router over node:http that validates every input and maps errors to JSON.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../../core/logger.js';
import { createAccessLog } from '../../core/access-log.js';
import { requestIdOf } from '../../core/raw-headers.js';
import type { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import { toHttpError } from '../../errors/http.js';
import type { Reply, Route } from './route.js';
import type { FastPath } from '../../gateway/score-fast-path.js';
import type { AdminGuard } from './admin-auth.js';

export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;

export interface ApiServerOptions {
  readonly logger: Logger;
  readonly maxJsonBytes?: number;
  /** Tried first for every request: the scoring route, answered without the router's per-request work. */
  readonly fastPath?: FastPath;
  /** The plane's home, named when a request fails because its store did (STORAGE_FAILED). */
  readonly home?: string;
  /** Checked before routing, so an unauthenticated caller learns nothing, not even which routes exist. */
  readonly guard?: AdminGuard | undefined;
}

interface CompiledRoute {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: string[];
}

export function createApiServer(routes: readonly Route[], options: ApiServerOptions): Server {
  const compiled = routes.map(compile);
  const maxJsonBytes = options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  const fastPath = options.fastPath;
  const accessLog = createAccessLog(options.logger);
  const server = createServer((req, res) => {
    if (fastPath !== undefined && fastPath(req, res)) return;
    const started = performance.now();
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      accessLog({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, durationMs: performance.now() - started, bytes: Number(res.getHeader('content-length') ?? 0), requestId });
    });
    handle(compiled, maxJsonBytes, options.guard, req, res, requestId).catch((err: unknown) => sendError(res, err, requestId, options.logger, options.home));
  });
  // Uploads of large models may take minutes; headers must still arrive promptly.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  return server;
}

async function handle(routes: readonly CompiledRoute[], maxJsonBytes: number, guard: AdminGuard | undefined, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://berth.invalid');
  guard?.(req, res, url.pathname);
  const onPath = routes.map((c) => ({ c, m: c.pattern.exec(url.pathname) })).filter((x) => x.m !== null);
  const hit = onPath.find((x) => x.c.route.method === req.method);
  if (hit === undefined) {
    if (onPath.length === 0) throw new BerthError('API_ROUTE_NOT_FOUND', { method: req.method ?? '?', path: url.pathname });
    const allowed = onPath.map((x) => x.c.route.method).join(', ');
    res.setHeader('allow', allowed);
    throw new BerthError('METHOD_NOT_ALLOWED', { method: req.method ?? '?', path: url.pathname, allowed });
  }
  const { route, names } = hit.c;
  const rawParams = Object.fromEntries(names.map((n, i) => [n, decodeSegment(hit.m?.[i + 1] ?? '')]));
  const params = validate(route.params, rawParams, 'path parameter ');
  const query = validate(route.query, Object.fromEntries(url.searchParams), 'query parameter ');
  const body = route.body === undefined ? undefined : validate(route.body, await readJson(req, maxJsonBytes), '');
  const reply = await route.handle({ params, query, body, req, requestId });
  await send(res, reply);
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

function validate<T>(schema: z.ZodType<T> | undefined, raw: unknown, prefix: string): T {
  if (schema === undefined) return {} as T; // routes without a schema take no input there
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? (prefix === '' ? 'body' : prefix.trim()) : prefix + issue.path.join('.');
  throw new BerthError('VALIDATION_FAILED', { field, detail: issue?.message ?? 'invalid' });
}

/** Reads a JSON body of at most `limit` bytes; an empty body is `undefined` (the schema decides whether that is fine). */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/\bjson\b/i.test(type)) {
    throw new BerthError('MALFORMED_JSON', { detail: `content-type ${type} is not application/json` });
  }
  const tooLarge = () => new BerthError('API_BODY_TOO_LARGE', { limit });
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (err) {
    throw new BerthError('MALFORMED_JSON', { detail: (err as Error).message });
  }
}

async function send(res: ServerResponse, reply: Reply): Promise<void> {
  if ('stream' in reply) {
    res.writeHead(reply.status, { 'content-type': reply.contentType, ...reply.headers });
    // A client that leaves mid-stream (a closed dashboard tab, an aborted download) is not the server's error.
    await pipeline(reply.stream, res).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err; });
    return;
  }
  if ('bytes' in reply) {
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': reply.bytes.length, ...reply.headers }).end(reply.bytes);
    return;
  }
  if (reply.json === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  const text = JSON.stringify(reply.json);
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

function sendError(res: ServerResponse, err: unknown, requestId: string, logger: Logger, home: string | undefined): void {
  const { status, body } = toHttpError(err, requestId, {}, home);
  if (status >= 500) logger.error({ err, request_id: requestId }, body.message);
  if (res.headersSent) {
    res.destroy(); // a streamed reply broke off half-way; the client sees a truncated body, not a wrong one
    return;
  }
  const text = JSON.stringify(body);
  // Whatever of the request body is unread is discarded; closing afterwards keeps the connection from carrying it over.
  if (!res.req.complete) res.setHeader('connection', 'close');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  res.req.resume();
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BerthError('VALIDATION_FAILED', { field: 'path', detail: `bad percent-encoding in "${segment}"` });
  }
}
