// One attempt of one request on one replica, over a kept-alive undici pool per replica URL; failures say whether anything was sent.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { headerRecord, rawHeader } from '../core/raw-headers.js';
import { REPLICA_KEY_HEADER } from '../core/replica-key.js';
import { BerthError } from '../errors/catalogue.js';
import { ReplicaChannel, type ChannelOutcome } from './channel.js';
import type { Lease } from './pool-types.js';

/** Replies with a known length up to this are read whole (the replica's slot frees at once); larger ones stream to the client. */
export const BUFFER_LIMIT = 1024 * 1024;

/** Hop-by-hop headers (RFC 9110 §7.6.1), those the gateway sets itself, and a replica key a client may have sent. */
const DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', REPLICA_KEY_HEADER]);

export interface BodyLimits {
  /** Larger bodies get 413 from the gateway itself. */
  readonly maxBytes: number;
  /** The whole body must have arrived within this, else 408. */
  readonly timeoutMs: number;
}

export type RequestBody = Buffer | null;

const EMPTY = Buffer.alloc(0);

/**
 * The whole request body, read before the request asks for a replica: a client that sends its headers and then trickles
 * or stalls holds a connection of the gateway's, never a replica's slot. Too large (declared or counted) is 413, too slow
 * 408; the request is then left unread (see Gateway.handle).
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): RequestBody | Promise<RequestBody> {
  if (req.method === 'GET' || req.method === 'HEAD') return null;
  const declared = rawHeader(req, 'content-length');
  const length = declared === undefined ? Number.NaN : Number(declared);
  if (length > limits.maxBytes) throw new BerthError('BODY_TOO_LARGE', { limit: limits.maxBytes });
  if (length === 0) return EMPTY;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: unknown, body?: Buffer): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', finish).off('close', onClose);
      if (body !== undefined) resolve(body);
      else reject(err);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limits.maxBytes) return finish(new BerthError('BODY_TOO_LARGE', { limit: limits.maxBytes }));
      chunks.push(c);
    };
    const onEnd = (): void => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onClose = (): void => { if (!req.complete) finish(new Error('the client closed the request before sending its body')); };
    const timer = setTimeout(() => finish(new BerthError('REQUEST_BODY_TIMEOUT', { timeoutS: limits.timeoutMs / 1000, flag: 'berth up --body-timeout' })), limits.timeoutMs);
    req.on('data', onData).on('end', onEnd).on('error', finish).on('close', onClose);
  });
}

/**
 * The headers a replica gets, as a flat [name, value, …] list (the form the scoring channel carries and undici takes):
 * the client's, less hop-by-hop ones, with the request id first. A key or token the gateway checked is its own
 * credential and stays with it; without auth the header is the service's business and passes.
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
  if (body !== null) out.push('content-length', String(body.length));
  else if (declaredLength !== undefined) out.push('content-length', declaredLength);
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
  /**
   * refused: the connection was refused, nothing was sent (retry elsewhere); not_started: sent ahead, it never started
   * there (retry elsewhere); expired: sent ahead, its wait ran out in the replica (503); timeout: no answer in time;
   * failed: anything else.
   */
  | { readonly ok: false; readonly kind: 'refused' | 'not_started' | 'expired' | 'timeout' | 'failed'; readonly detail: string; readonly error: unknown };

/** What an attempt tells its caller as it goes, besides its result. */
export interface AttemptHooks {
  /**
   * The replica is finished with the request: called once, at once for a failure or a buffered body, when a streamed
   * body ends otherwise; not for an unstarted one.
   */
  readonly done: () => void;
  /** A request sent ahead started in the replica. */
  readonly started: () => void;
  /**
   * Nothing of the request ran there (refused, not_started). Called from the connection's own event, before the
   * result: requests given back together are all requeued before any is handed out again, so they keep their order.
   */
  readonly unstarted: (kind: 'refused' | 'not_started') => void;
}

const REFUSED = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  private readonly channels = new Map<string, ReplicaChannel>();

  constructor(private readonly onAttempt: (transport: 'channel' | 'http') => void = () => undefined) {}

  /** Whether requests may be sent ahead to the replica at `url` now (its scoring channel is open and speaks send-ahead). */
  sendsAhead(url: string): boolean {
    return this.channels.get(url)?.sendsAhead === true;
  }

  /** Sends one request on `lease`'s replica, ahead when the lease says so; see AttemptHooks for what is heard meanwhile. */
  async attempt(lease: Lease, r: UpstreamRequest, timeoutMs: number, hooks: AttemptHooks): Promise<AttemptResult> {
    const { method, target: path, body } = r;
    const { url, key } = lease.member;
    // Scoring requests go over the replica's scoring channel; the rest (and replicas without one) over HTTP.
    if (path === '/score' || path.startsWith('/score?')) {
      const channel = this.channel(url, key);
      if (channel.usable) {
        this.onAttempt('channel');
        const budgetMs = lease.aheadBudgetMs;
        const outcome = await new Promise<ChannelOutcome>((resolve) => {
          const settle = (o: ChannelOutcome): void => {
            if (!o.ok && (o.kind === 'refused' || o.kind === 'not_started')) hooks.unstarted(o.kind);
            resolve(o);
          };
          const id = channel.send(method, path, r.headers, body ?? EMPTY, timeoutMs, settle, budgetMs === undefined ? undefined : { budgetMs, started: hooks.started });
          if (id !== 0 && budgetMs !== undefined) lease.recall = recallOf(channel, id);
        });
        if (outcome.ok || outcome.kind !== 'unsupported') {
          if (outcome.ok || (outcome.kind !== 'refused' && outcome.kind !== 'not_started')) hooks.done();
          return fromChannel(outcome);
        }
      }
    }
    const headers = key === undefined ? r.headers : [...r.headers, REPLICA_KEY_HEADER, key];
    this.onAttempt('http');
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool(url).request({ method, path, headers, body: body === null || body.length === 0 ? null : body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    } catch (err) {
      const result = failure(err);
      if (!result.ok && result.kind === 'refused') hooks.unstarted('refused');
      else hooks.done();
      return result;
    }
    const done = hooks.done;
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
        return failure(err);
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

  private channel(url: string, key: string | undefined): ReplicaChannel {
    let c = this.channels.get(url);
    if (c === undefined) {
      c = new ReplicaChannel(url, key);
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

/**
 * The call that asks for a request sent ahead back. Made here, not where the request is sent: a closure there would
 * share its scope's context (the request, its reply's promise, the caller's hooks) and keep all of that alive for as
 * long as the lease holds it, which tripled the gateway's young-generation GC pauses under load.
 */
function recallOf(channel: ReplicaChannel, id: number): () => void {
  return () => channel.cancel(id);
}

function fromChannel(o: ChannelOutcome): AttemptResult {
  if (!o.ok) return { ok: false, kind: o.kind === 'unsupported' ? 'failed' : o.kind, detail: o.detail, error: new Error(o.detail) };
  const headers = headerRecord(o.headers, (name) => !DROP.has(name));
  const contentType = headers['content-type'] ?? 'application/octet-stream';
  delete headers['content-type'];
  return { ok: true, reply: { status: o.status, headers, contentType, body: o.body } };
}

function failure(err: unknown): AttemptResult {
  const code = (err as { code?: string }).code ?? '';
  const detail = `${(err as Error).message}${code === '' ? '' : ` (${code})`}`;
  if (REFUSED.has(code)) return { ok: false, kind: 'refused', detail, error: err };
  if (TIMEOUT.has(code)) return { ok: false, kind: 'timeout', detail, error: err };
  return { ok: false, kind: 'failed', detail, error: err };
}
