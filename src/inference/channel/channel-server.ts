// The replica's end of the gateway's scoring channel: framed requests over one upgraded connection, answered as frames.
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { headerRecord, rawHeader } from '../../core/raw-headers.js';
import { REPLICA_KEY_HEADER } from '../../core/replica-key.js';
import { sameSecret } from '../../core/secrets.js';
import { readRequestIds } from '../http/request-ids.js';
import type { Exchange, HeaderList, Responder } from '../http/respond.js';
import type { Scoring } from '../http/scoring.js';
import { CHANNEL_PATH, CHANNEL_PROTOCOL, FrameReader, encodeFrame, joinMeta } from './frames.js';

const SWITCH = `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${CHANNEL_PROTOCOL}\r\n\r\n`;
const REFUSE = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const UNAUTHORIZED = 'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
/** Room for a request's headers on top of its body. */
const META_ALLOWANCE = 1024 * 1024;

export interface ChannelServerDeps {
  readonly scoring: Scoring;
  readonly responder: Responder;
  readonly log: Logger;
  /** When set, only a client presenting it may open the channel (the control plane's gateway). */
  readonly replicaKey: string | undefined;
}

/** Serves the channel on `server`'s port: a client upgrades `GET /.berth/score-channel` to it. */
export function attachScoreChannel(server: Server, deps: ChannelServerDeps): void {
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (req.url !== CHANNEL_PATH || req.headers.upgrade !== CHANNEL_PROTOCOL) {
      socket.end(REFUSE);
      return;
    }
    if (deps.replicaKey !== undefined && !sameSecret(rawHeader(req, REPLICA_KEY_HEADER), deps.replicaKey)) {
      socket.end(UNAUTHORIZED);
      return;
    }
    socket.setNoDelay(true);
    socket.write(SWITCH);
    const channel = new ChannelConnection(socket, deps);
    if (head.length > 0) channel.push(head);
    socket.on('data', (chunk: Buffer) => channel.push(chunk));
    // node:http keeps upgraded sockets half-open: the gateway hanging up must close this side too.
    socket.on('end', () => socket.end());
    socket.on('error', (err) => deps.log.debug({ err: err.message }, 'scoring channel error'));
  });
}

class ChannelConnection {
  private readonly reader: FrameReader;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(private readonly socket: Socket, private readonly d: ChannelServerDeps) {
    this.reader = new FrameReader((id, meta, body) => this.request(id, meta, body), Math.max(d.scoring.maxBytes, META_ALLOWANCE) + META_ALLOWANCE);
  }

  push(chunk: Buffer): void {
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'scoring channel: malformed frame; closing the connection');
      this.socket.destroy();
    }
  }

  /** Frames written in one turn of the event loop leave in one write. */
  send(id: number, meta: string, body: Buffer | string): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    this.socket.write(encodeFrame(id, meta, body));
  }

  private request(id: number, meta: string[], body: Buffer): void {
    const started = performance.now();
    const method = meta[0] ?? '';
    const target = meta[1] ?? '';
    const headers = meta.slice(2);
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : target.slice(q + 1);
    const ids = readRequestIds(headers);
    const { responder, scoring } = this.d;
    if ('tooLong' in ids) return responder.sendError(new ChannelExchange(this, id, method, path, started, '', [], headers), 'REQUEST_ID_TOO_LONG', { header: ids.tooLong });
    const x = new ChannelExchange(this, id, method, path, started, ids.requestId, ids.echo, headers);
    if (path !== '/score') return responder.sendError(x, 'NOT_FOUND', { method, path });
    if (method !== 'POST' && method !== 'GET') return responder.sendError(x, 'METHOD_NOT_ALLOWED', { method, path, allowed: 'GET, POST' }, ['allow', 'GET, POST']);
    if (scoring.refuse(x, body.length)) return;
    scoring.run(x, x, query, body);
  }
}

/** A request that came over the channel; its reply goes back as a frame with the same id. */
class ChannelExchange implements Exchange {
  private built: IncomingHttpHeaders | undefined;

  constructor(
    private readonly channel: ChannelConnection,
    private readonly id: number,
    readonly method: string,
    readonly path: string,
    readonly started: number,
    readonly requestId: string,
    readonly echo: readonly string[],
    private readonly flat: readonly string[],
  ) {}

  /** The header object a script asking for headers gets, as node:http would build it (lower-case names, repeats joined). */
  get headers(): IncomingHttpHeaders {
    return (this.built ??= headerRecord(this.flat));
  }

  header(name: string): string | undefined {
    const v = this.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  reply(status: number, headers: HeaderList, body: Buffer | string): void {
    let meta: string;
    try {
      meta = joinMeta([String(status), ...headers]);
    } catch {
      // node:http refuses such a header value outright; here it would break the framing, so the breaks become spaces.
      meta = joinMeta([String(status), ...headers.map((h) => h.replace(/[\r\n]+/g, ' '))]);
    }
    this.channel.send(this.id, meta, body);
  }
}
