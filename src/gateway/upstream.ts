// One attempt of one request on one replica, over a kept-alive undici pool per replica URL; failures say whether anything was sent.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { headerRecord, rawHeader } from '../core/raw-headers.js';
import { ReplicaChannel, type ChannelOutcome } from './channel.js';

/** Request bodies with a known length up to this are read before dispatch: retryable on another replica, and cheapest to send. */
export const BUFFER_LIMIT = 1024 * 1024;

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the gateway sets itself. */
const DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length']);

/**
 * A request body too large to buffer, handed to undici as an async iterable rather than a stream: undici destroys a
 * stream body when the attempt fails, which would end the client's request; an iterable is only read once connected.
 */
export class StreamedBody implements AsyncIterable<Buffer> {
  /** Whether any of it was read: after that, a failed attempt cannot be repeated. */
  started = false;

  constructor(private readonly req: IncomingMessage) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    this.started = true;
    return this.req.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  }
}

export type RequestBody = Buffer | StreamedBody | null;

/** Reads the whole body when its length is known and small; otherwise wraps it for streaming. */
export async function prepareBody(req: IncomingMessage): Promise<RequestBody> {
  if (req.method === 'GET' || req.method === 'HEAD') return null;
  const length = Number(rawHeader(req, 'content-length') ?? Number.NaN);
  if (!(length <= BUFFER_LIMIT)) return new StreamedBody(req);
  if (length === 0) return Buffer.alloc(0);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => { if (!req.complete) reject(new Error('the client closed the request before sending its body')); });
  });
}

/**
 * The headers a replica gets, as a flat [name, value, …] list (the form the scoring channel carries and undici takes):
 * the client's, less hop-by-hop ones, with the request id first. A key or token the gateway checked is its own
 * credential and stays with it; without auth the header is the service's business and passes. A known length lets the
 * replica refuse an oversized body before reading it; a streamed body of unknown length goes chunked.
 */
export function upstreamHeaderList(req: IncomingMessage, requestId: string, body: RequestBody, keepAuthorization: boolean): string[] {
  const out = ['x-request-id', requestId];
  const raw = req.rawHeaders;
  let declaredLength: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'content-length') declaredLength ??= raw[i + 1];
    if (DROP.has(name) || name === 'x-request-id' || (!keepAuthorization && name === 'authorization')) continue;
    out.push(name, raw[i + 1]!);
  }
  const length = Buffer.isBuffer(body) ? String(body.length) : declaredLength;
  if (length !== undefined) out.push('content-length', length);
  return out;
}

/** One request as the gateway forwards it; its header list is built when first needed, once across retries. */
export class UpstreamRequest {
  private list: string[] | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly requestId: string,
    readonly method: 'GET' | 'POST',
    /** Path and query. */
    readonly target: string,
    readonly body: RequestBody,
    private readonly keepAuthorization: boolean,
  ) {}

  get headers(): string[] {
    return (this.list ??= upstreamHeaderList(this.req, this.requestId, this.body, this.keepAuthorization));
  }
}

export interface UpstreamReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly contentType: string;
  /** Small bodies are read whole (the slot frees at once); large ones stream, and `done` fires when they end. */
  readonly body: Buffer | Readable;
}

export type AttemptResult =
  | { readonly ok: true; readonly reply: UpstreamReply }
  /** refused: the connection was refused, nothing was sent (retry elsewhere); timeout: no answer in time; failed: anything else. */
  | { readonly ok: false; readonly kind: 'refused' | 'timeout' | 'failed'; readonly detail: string; readonly error: unknown };

const REFUSED = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

const EMPTY = Buffer.alloc(0);

export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  private readonly channels = new Map<string, ReplicaChannel>();

  constructor(private readonly onAttempt: (transport: 'channel' | 'http') => void = () => undefined) {}

  /**
   * Sends one request to `url`. `done` is called exactly once when the replica is finished with it: at once for a
   * failure or a buffered body, when a streamed body ends or breaks otherwise.
   */
  async attempt(url: string, r: UpstreamRequest, timeoutMs: number, done: () => void): Promise<AttemptResult> {
    const { method, target: path, body } = r;
    // Scoring requests with whole bodies go over the replica's scoring channel; the rest (and replicas without one) over HTTP.
    if (!(body instanceof StreamedBody) && (path === '/score' || path.startsWith('/score?'))) {
      const channel = this.channel(url);
      if (channel.usable) {
        this.onAttempt('channel');
        const outcome = await new Promise<ChannelOutcome>((resolve) => channel.send(method, path, r.headers, body ?? EMPTY, timeoutMs, resolve));
        if (outcome.ok || outcome.kind !== 'unsupported') {
          done();
          return fromChannel(outcome);
        }
      }
    }
    const headers = r.headers;
    this.onAttempt('http');
    let res: Dispatcher.ResponseData;
    // undici takes async iterables as bodies (its types list only streams), and reads them only once connected.
    const payload = body instanceof StreamedBody ? (body as unknown as Readable) : body === null || body.length === 0 ? null : body;
    try {
      res = await this.pool(url).request({ method, path, headers, body: payload, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    } catch (err) {
      done();
      return failure(err, body instanceof StreamedBody && body.started);
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !DROP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
    const contentType = out['content-type'] ?? 'application/octet-stream';
    delete out['content-type'];
    const length = Number(res.headers['content-length'] ?? Number.NaN);
    if (length <= BUFFER_LIMIT) {
      try {
        const bytes = Buffer.from(await res.body.arrayBuffer());
        return { ok: true, reply: { status: res.statusCode, headers: out, contentType, body: bytes } };
      } catch (err) {
        return failure(err, true);
      } finally {
        done();
      }
    }
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      done();
    };
    res.body.once('end', finish);
    res.body.once('close', finish);
    res.body.once('error', finish);
    return { ok: true, reply: { status: res.statusCode, headers: out, contentType, body: res.body } };
  }

  /** Closes the connections to a replica that left routing with nothing in flight. */
  forget(url: string): void {
    this.channels.get(url)?.close();
    this.channels.delete(url);
    const p = this.pools.get(url);
    if (p === undefined) return;
    this.pools.delete(url);
    void p.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }

  private channel(url: string): ReplicaChannel {
    let c = this.channels.get(url);
    if (c === undefined) {
      c = new ReplicaChannel(url);
      this.channels.set(url, c);
    }
    return c;
  }

  private pool(url: string): Pool {
    let p = this.pools.get(url);
    if (p === undefined) {
      // The gateway never sends a replica more than its concurrency limit, so connections stay few; they are kept alive.
      p = new Pool(url, { connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
      this.pools.set(url, p);
    }
    return p;
  }
}

function fromChannel(o: ChannelOutcome): AttemptResult {
  if (!o.ok) return { ok: false, kind: o.kind === 'unsupported' ? 'failed' : o.kind, detail: o.detail, error: new Error(o.detail) };
  const headers = headerRecord(o.headers, (name) => !DROP.has(name));
  const contentType = headers['content-type'] ?? 'application/octet-stream';
  delete headers['content-type'];
  return { ok: true, reply: { status: o.status, headers, contentType, body: o.body } };
}

function failure(err: unknown, sent: boolean): AttemptResult {
  const code = (err as { code?: string }).code ?? '';
  const detail = `${(err as Error).message}${code === '' ? '' : ` (${code})`}`;
  if (!sent && REFUSED.has(code)) return { ok: false, kind: 'refused', detail, error: err };
  if (TIMEOUT.has(code)) return { ok: false, kind: 'timeout', detail, error: err };
  return { ok: false, kind: 'failed', detail, error: err };
}
