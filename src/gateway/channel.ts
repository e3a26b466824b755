// The gateway's end of a replica's scoring channel: one upgraded connection per replica carries many requests at once, matched by id.
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { REPLICA_KEY_HEADER } from '../core/replica-key.js';
import { CANCEL, CHANNEL_PATH, CHANNEL_PROTOCOL, EXPIRED, FEATURES_HEADER, FrameReader, NOT_STARTED, SEND_AHEAD, STARTED, encodeFrame, joinMeta } from '../inference/channel/frames.js';
import { ChannelPending, type Done, type Pending } from './channel-pending.js';

export type { ChannelOutcome } from './channel-pending.js';

/** A request sent ahead: how long it may wait in the replica, and who hears when it starts. */
export interface AheadOptions {
  readonly budgetMs: number;
  readonly started: () => void;
}

interface Outgoing {
  readonly id: number;
  /** Method and target, joined as meta. */
  readonly line: string;
  /** The header fields, joined as meta. */
  readonly fields: string;
  readonly body: Buffer;
  /** '' runs at once; else the ms it may wait (send-ahead only). */
  readonly budget: string;
}

const CONNECT_TIMEOUT_MS = 5000;

export class ReplicaChannel {
  private state: 'idle' | 'connecting' | 'open' | 'unsupported' | 'closed' = 'idle';
  private socket: Socket | undefined;
  /** Requests written before the connection opened: encoded once it is known whether the replica speaks send-ahead. */
  private queued: Outgoing[] = [];
  private readonly pending: ChannelPending;
  private nextId = 1;
  /** The replica took send-ahead in its answer to the upgrade. */
  private sendAhead = false;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  constructor(
    private readonly url: string,
    /** The replica's key, sent with the upgrade: the channel is then open to this gateway alone. */
    private readonly key: string | undefined = undefined,
    now: () => number = () => performance.now(),
  ) {
    this.pending = new ChannelPending(now);
  }

  /** False once the replica answered the upgrade with something else: the caller uses plain HTTP for it. */
  get usable(): boolean {
    return this.state !== 'unsupported' && this.state !== 'closed';
  }

  /** Whether requests may be sent ahead to the replica now: the channel is open and the replica speaks send-ahead. */
  get sendsAhead(): boolean {
    return this.state === 'open' && this.sendAhead;
  }

  /**
   * Sends one request; `done` is called exactly once. `headers` is a flat [name, value, …] list. `ahead`: a request
   * sent ahead (only while sendsAhead). Returns its id, for cancel(); 0 when it failed at once.
   */
  send(method: string, target: string, headers: readonly string[], body: Buffer, timeoutMs: number, done: Done, ahead?: AheadOptions): number {
    if (!this.usable) {
      done({ ok: false, kind: this.state === 'closed' ? 'refused' : 'unsupported', detail: `the scoring channel to ${this.url} is closed` });
      return 0;
    }
    const sentAhead = ahead !== undefined && this.sendsAhead;
    let out: Outgoing;
    try {
      // Checked here, before anything is sent: a field with a line break would shift every later one.
      out = { id: this.nextId, line: joinMeta([method, target]), fields: joinMeta(headers), body, budget: sentAhead ? String(Math.max(0, Math.floor(ahead.budgetMs))) : '' };
    } catch (err) {
      done({ ok: false, kind: 'failed', detail: (err as Error).message });
      return 0;
    }
    const frame = this.state === 'open' ? this.encode(out) : undefined;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    const p: Pending = sentAhead
      ? { done, deadline: 0, timeoutMs, waiting: true, started: ahead.started }
      : { done, deadline: 0, timeoutMs, waiting: false, started: undefined };
    this.pending.add(out.id, p, sentAhead ? ahead.budgetMs : 0);
    if (frame !== undefined) this.write(frame);
    else {
      this.queued.push(out);
      if (this.state === 'idle') this.connect();
    }
    return out.id;
  }

  /** Asks the replica for a request sent ahead back while it has not started; its answer settles the request either way. */
  cancel(id: number): void {
    if (this.state !== 'open' || !this.sendAhead || !this.pending.isWaiting(id)) return;
    this.write(encodeFrame(id, CANCEL, ''));
  }

  /** Fails whatever is in flight and closes the connection; no new requests are taken. */
  close(): void {
    this.state = 'closed';
    this.socket?.destroy();
    this.pending.failAll('failed', `the gateway closed the scoring channel to ${this.url}`);
  }

  /** With send-ahead the budget is the third field (see PROTOCOL.md); berth-score-1 has none. */
  private encode(o: Outgoing): Buffer {
    const head = this.sendAhead ? `${o.line}\n${o.budget}` : o.line;
    return encodeFrame(o.id, o.fields === '' ? head : `${head}\n${o.fields}`, o.body);
  }

  private write(frame: Buffer): void {
    const socket = this.socket!;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      setImmediate(this.uncork);
    }
    socket.write(frame);
  }

  private connect(): void {
    this.state = 'connecting';
    const headers: Record<string, string> = { connection: 'Upgrade', upgrade: CHANNEL_PROTOCOL, [FEATURES_HEADER]: SEND_AHEAD };
    if (this.key !== undefined) headers[REPLICA_KEY_HEADER] = this.key;
    const req = httpRequest(`${this.url}${CHANNEL_PATH}`, { headers, agent: false, timeout: CONNECT_TIMEOUT_MS });
    req.on('upgrade', (res, socket, head) => {
      if (this.state === 'closed') return socket.destroy();
      if (res.headers.upgrade !== CHANNEL_PROTOCOL) {
        socket.destroy();
        return this.unsupported(`it answered the upgrade with ${String(res.headers.upgrade)}`);
      }
      // An older replica does not name the feature: it gets plain berth-score-1 frames and nothing sent ahead.
      const features = res.headers[FEATURES_HEADER];
      this.sendAhead = typeof features === 'string' && features.split(',').some((f) => f.trim() === SEND_AHEAD);
      this.open(socket, head);
    });
    req.on('response', (res) => {
      res.resume();
      if ((res.statusCode ?? 0) < 500) return this.unsupported(`it answered the upgrade with HTTP ${res.statusCode}`);
      // A server error may pass: nothing was sent, another replica may take these, and the next request tries again.
      this.connectFailed(`it answered the upgrade with HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no connection to ${this.url} within ${CONNECT_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // Nothing of these requests reached the replica (a reset here is a replica dying as it accepted): another may take them.
      const code = err.code ?? '';
      this.connectFailed(`${err.message}${code === '' ? '' : ` (${code})`}`, code);
    });
    req.end();
  }

  private connectFailed(detail: string, code?: string): void {
    if (this.state !== 'connecting') return;
    this.state = 'idle';
    this.queued = [];
    this.pending.failAll('refused', detail, code);
  }

  private open(socket: Socket, head: Buffer): void {
    this.socket = socket;
    this.state = 'open';
    socket.setNoDelay(true);
    const reader = new FrameReader((id, meta, body) => this.answer(id, meta, body));
    const push = (chunk: Buffer): void => {
      try {
        reader.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
      }
    };
    socket.on('data', push);
    socket.on('error', () => undefined); // 'close' follows and says what happened
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.corked = false;
      if (this.state === 'open') this.state = 'idle';
      // Requests still waiting there never started (the replica drops them when the connection goes): they go elsewhere.
      this.pending.failAll('failed', 'the replica closed the connection with the request in flight');
    });
    if (head.length > 0) push(head);
    const queued = this.queued;
    this.queued = [];
    for (const o of queued) this.write(this.encode(o));
  }

  private answer(id: number, meta: string[], body: Buffer): void {
    const first = meta[0] ?? '';
    if (this.sendAhead && first === STARTED) return this.pending.startThrough(id);
    if (this.sendAhead && first === NOT_STARTED) return this.pending.settle(id, { ok: false, kind: 'not_started', detail: 'the replica gave the request back unstarted' });
    if (this.sendAhead && first === EXPIRED) return this.pending.settle(id, { ok: false, kind: 'expired', detail: 'its wait for a slot in the replica ran out' });
    this.pending.settle(id, { ok: true, status: Number(first), headers: meta.slice(1), body });
  }

  private unsupported(detail: string): void {
    if (this.state !== 'connecting') return;
    this.state = 'unsupported';
    this.queued = [];
    this.pending.failAll('unsupported', `${this.url} has no scoring channel: ${detail}`);
  }
}
