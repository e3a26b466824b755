// The gateway's end of a replica's scoring channel: one upgraded connection per replica carries many requests at once, matched by id.
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { REPLICA_KEY_HEADER } from '../core/replica-key.js';
import { CHANNEL_PATH, CHANNEL_PROTOCOL, FrameReader, encodeFrame, joinMeta } from '../inference/channel/frames.js';

export type ChannelOutcome =
  | { readonly ok: true; readonly status: number; /** [name, value, …] */ readonly headers: readonly string[]; readonly body: Buffer }
  /**
   * refused: the connection could not be made, nothing was sent (retry elsewhere); timeout: no answer in time;
   * failed: the connection broke with the request on it; unsupported: the replica does not speak the channel.
   */
  | { readonly ok: false; readonly kind: 'refused' | 'timeout' | 'failed' | 'unsupported'; readonly detail: string; readonly code?: string };

type Done = (outcome: ChannelOutcome) => void;

interface Pending {
  readonly done: Done;
  readonly deadline: number;
}

const CONNECT_TIMEOUT_MS = 5000;

export class ReplicaChannel {
  private state: 'idle' | 'connecting' | 'open' | 'unsupported' | 'closed' = 'idle';
  private socket: Socket | undefined;
  /** Frames written before the connection opened. */
  private queued: Buffer[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private expiry: NodeJS.Timeout | undefined;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  constructor(
    private readonly url: string,
    /** The replica's key, sent with the upgrade: the channel is then open to this gateway alone. */
    private readonly key: string | undefined = undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** False once the replica answered the upgrade with something else: the caller uses plain HTTP for it. */
  get usable(): boolean {
    return this.state !== 'unsupported' && this.state !== 'closed';
  }

  /** Sends one request; `done` is called exactly once. `headers` is a flat [name, value, …] list. */
  send(method: string, target: string, headers: readonly string[], body: Buffer, timeoutMs: number, done: Done): void {
    if (!this.usable) return done({ ok: false, kind: this.state === 'closed' ? 'refused' : 'unsupported', detail: `the scoring channel to ${this.url} is closed` });
    let frame: Buffer;
    try {
      frame = encodeFrame(0, joinMeta([method, target, ...headers]), body);
    } catch (err) {
      return done({ ok: false, kind: 'failed', detail: (err as Error).message });
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    frame.writeUInt32LE(id, 4);
    this.pending.set(id, { done, deadline: this.now() + timeoutMs });
    if (this.state === 'open') this.write(frame);
    else {
      this.queued.push(frame);
      if (this.state === 'idle') this.connect();
    }
    if (this.expiry === undefined) this.scheduleExpiry();
  }

  /** Fails whatever is in flight and closes the connection; no new requests are taken. */
  close(): void {
    this.state = 'closed';
    this.socket?.destroy();
    this.failAll('failed', `the gateway closed the scoring channel to ${this.url}`);
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
    const headers: Record<string, string> = { connection: 'Upgrade', upgrade: CHANNEL_PROTOCOL };
    if (this.key !== undefined) headers[REPLICA_KEY_HEADER] = this.key;
    const req = httpRequest(`${this.url}${CHANNEL_PATH}`, { headers, agent: false, timeout: CONNECT_TIMEOUT_MS });
    req.on('upgrade', (res, socket, head) => {
      if (this.state === 'closed') return socket.destroy();
      if (res.headers.upgrade !== CHANNEL_PROTOCOL) {
        socket.destroy();
        return this.unsupported(`it answered the upgrade with ${String(res.headers.upgrade)}`);
      }
      this.open(socket, head);
    });
    req.on('response', (res) => {
      res.resume();
      if ((res.statusCode ?? 0) < 500) return this.unsupported(`it answered the upgrade with HTTP ${res.statusCode}`);
      // A server error may pass: nothing was sent, another replica may take these, and the next request tries again.
      if (this.state !== 'connecting') return;
      this.state = 'idle';
      this.queued = [];
      this.failAll('refused', `it answered the upgrade with HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no connection to ${this.url} within ${CONNECT_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (this.state !== 'connecting') return;
      this.state = 'idle';
      this.queued = [];
      // Nothing of these requests reached the replica (a reset here is a replica dying as it accepted): another may take them.
      const code = err.code ?? '';
      this.failAll('refused', `${err.message}${code === '' ? '' : ` (${code})`}`, code);
    });
    req.end();
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
      this.failAll('failed', 'the replica closed the connection with the request in flight');
    });
    if (head.length > 0) push(head);
    const queued = this.queued;
    this.queued = [];
    for (const frame of queued) this.write(frame);
  }

  private answer(id: number, meta: string[], body: Buffer): void {
    const p = this.pending.get(id);
    if (p === undefined) return; // timed out already
    this.pending.delete(id);
    p.done({ ok: true, status: Number(meta[0]), headers: meta.slice(1), body });
  }

  private unsupported(detail: string): void {
    if (this.state !== 'connecting') return;
    this.state = 'unsupported';
    this.queued = [];
    this.failAll('unsupported', `${this.url} has no scoring channel: ${detail}`);
  }

  private failAll(kind: 'refused' | 'failed' | 'unsupported', detail: string, code?: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    clearTimeout(this.expiry);
    this.expiry = undefined;
    for (const p of all) p.done(code === undefined ? { ok: false, kind, detail } : { ok: false, kind, detail, code });
  }

  /** Requests share one timeout per service, so the oldest pending one always expires first: one timer suffices. */
  private scheduleExpiry(): void {
    const oldest = this.pending.values().next();
    if (oldest.done) {
      this.expiry = undefined;
      return;
    }
    this.expiry = setTimeout(() => {
      const now = this.now();
      for (const [id, p] of this.pending) {
        if (p.deadline > now) break;
        this.pending.delete(id);
        p.done({ ok: false, kind: 'timeout', detail: 'no answer within the scoring timeout' });
      }
      this.scheduleExpiry();
    }, Math.max(0, oldest.value.deadline - this.now()) + 1);
    this.expiry.unref();
  }
}
