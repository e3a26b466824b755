// The replica's end of the gateway's scoring channel: framed requests over one upgraded connection, answered as frames.
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { headerRecord, rawHeader } from '../../core/raw-headers.js';
import { REPLICA_KEY_HEADER } from '../../core/replica-key.js';
import { sameSecret } from '../../core/secrets.js';
import { readRequestIds } from '../http/request-ids.js';
import type { Exchange, HeaderList, Responder } from '../http/respond.js';
import type { Scoring, SentAhead } from '../http/scoring.js';
import type { Ticket } from '../pool/worker-pool.js';
import { CANCEL, CHANNEL_PATH, CHANNEL_PROTOCOL, EXPIRED, FEATURES_HEADER, FrameReader, NOT_STARTED, SEND_AHEAD, STARTED, encodeFrame, joinMeta } from './frames.js';

const SWITCH = `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${CHANNEL_PROTOCOL}\r\n\r\n`;
const SWITCH_SEND_AHEAD = `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${CHANNEL_PROTOCOL}\r\n${FEATURES_HEADER}: ${SEND_AHEAD}\r\n\r\n`;
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
  readonly isDraining: () => boolean;
  /** Additions offered to gateways (default: all); an empty list answers as a replica older than them does. */
  readonly features?: readonly string[];
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
    const sendAhead = offered(req, SEND_AHEAD) && (deps.features ?? [SEND_AHEAD]).includes(SEND_AHEAD);
    socket.write(sendAhead ? SWITCH_SEND_AHEAD : SWITCH);
    const channel = new ChannelConnection(socket, deps, sendAhead);
    if (head.length > 0) channel.push(head);
    socket.on('data', (chunk: Buffer) => channel.push(chunk));
    // node:http keeps upgraded sockets half-open: the gateway hanging up must close this side too.
    socket.on('end', () => socket.end());
    socket.on('close', () => channel.closed());
    socket.on('error', (err) => deps.log.debug({ err: err.message }, 'scoring channel error'));
  });
}

function offered(req: IncomingMessage, feature: string): boolean {
  const list = rawHeader(req, FEATURES_HEADER);
  return list !== undefined && list.split(',').some((f) => f.trim() === feature);
}

class ChannelConnection {
  private readonly reader: FrameReader;
  private corked = false;
  private readonly uncork = (): void => {
    this.writeStarted();
    this.corked = false;
    this.socket.uncork();
  };
  /** The last request sent ahead that a worker took and the gateway has not heard of yet (see writeStarted). */
  private startedThrough: number | undefined;
  /** Requests sent ahead that no worker has taken yet: the gateway may ask for them back. */
  private readonly waiting = new Map<number, { ticket: Ticket | undefined }>();

  constructor(private readonly socket: Socket, private readonly d: ChannelServerDeps, private readonly sendAhead: boolean) {
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
    this.corkForTurn();
    this.socket.write(encodeFrame(id, meta, body));
  }

  /**
   * Sends what was written in this turn at once, STARTED included: it leaves this way before its requests reach a
   * worker, so a replica that dies from then on cannot have started a request the gateway believes unstarted (and
   * sends elsewhere).
   */
  readonly flush = (): void => {
    if (!this.corked || this.socket.destroyed) return;
    this.writeStarted();
    this.socket.uncork();
    this.socket.cork();
  };

  private corkForTurn(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(this.uncork);
  }

  /**
   * One STARTED notice for all the requests sent ahead that workers took since the last one: workers take them in the
   * order they came, so the latest one's id says that it and every earlier one still here has started.
   */
  private writeStarted(): void {
    const id = this.startedThrough;
    if (id === undefined || this.socket.destroyed) return;
    this.startedThrough = undefined;
    this.socket.write(encodeFrame(id, STARTED, ''));
  }

  /** The gateway hung up (or this replica is going): requests still waiting will be sent elsewhere, so none may start here. */
  closed(): void {
    for (const { ticket } of this.waiting.values()) if (ticket !== undefined) this.d.scoring.withdraw(ticket);
    this.waiting.clear();
  }

  private request(id: number, meta: string[], body: Buffer): void {
    const started = performance.now();
    const method = meta[0] ?? '';
    if (this.sendAhead && method === CANCEL) return this.cancel(id);
    const target = meta[1] ?? '';
    // With send-ahead, a third field: empty (run at once, as berth-score-1) or the ms the request may wait to start.
    const budget = this.sendAhead ? meta[2] ?? '' : '';
    const headers = meta.slice(this.sendAhead ? 3 : 2);
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : target.slice(q + 1);
    const ids = readRequestIds(headers);
    const { responder, scoring } = this.d;
    if ('tooLong' in ids) return responder.sendError(new ChannelExchange(this, id, method, path, started, '', [], headers), 'REQUEST_ID_TOO_LONG', { header: ids.tooLong });
    const x = new ChannelExchange(this, id, method, path, started, ids.requestId, ids.echo, headers);
    if (path !== '/score') return responder.sendError(x, 'NOT_FOUND', { method, path });
    if (method !== 'POST' && method !== 'GET') return responder.sendError(x, 'METHOD_NOT_ALLOWED', { method, path, allowed: 'GET, POST' }, ['allow', 'GET, POST']);
    // A replica going away runs nothing new; the gateway sends what it never started to another replica.
    if (this.sendAhead && this.d.isDraining()) return this.send(id, NOT_STARTED, '');
    if (scoring.refuse(x, body.length)) return;
    if (budget === '') {
      scoring.run(x, x, query, body);
      return;
    }
    const ahead: SentAhead = {
      waitBudgetMs: Math.max(0, Number(budget) || 0),
      onStart: () => {
        if (!this.waiting.delete(id)) return true; // announced already (it went back to the queue when a worker died)
        // The gateway is gone: it sends this request elsewhere, so it must not run here.
        if (this.socket.destroyed) return false;
        this.startedThrough = id;
        this.corkForTurn();
        return true;
      },
      flush: this.flush,
      gone: () => this.socket.destroyed,
      onUnstarted: (why) => {
        this.waiting.delete(id);
        this.send(id, why === 'expired' ? EXPIRED : NOT_STARTED, '');
      },
    };
    // Listed before it is dispatched: a free worker takes it at once, and onStart must find it to send STARTED.
    const entry: { ticket: Ticket | undefined } = { ticket: undefined };
    this.waiting.set(id, entry);
    entry.ticket = scoring.run(x, x, query, body, ahead);
  }

  /** The gateway wants a request back: given back (NOT_STARTED) while it waits, else it runs and is answered as usual. */
  private cancel(id: number): void {
    const ticket = this.waiting.get(id)?.ticket;
    if (ticket === undefined || !this.d.scoring.withdraw(ticket)) return;
    this.waiting.delete(id);
    this.send(id, NOT_STARTED, '');
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
