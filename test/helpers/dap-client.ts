// A minimal Debug Adapter Protocol client over TCP (debugpy's adapter): requests and their responses, events kept until waited for.
import { connect, type Socket } from 'node:net';

export interface DapMessage {
  readonly seq: number;
  readonly type: 'request' | 'response' | 'event';
  readonly command?: string;
  readonly event?: string;
  readonly request_seq?: number;
  readonly success?: boolean;
  readonly message?: string;
  readonly body?: Record<string, unknown>;
}

export class DapClient {
  private seq = 1;
  private buffer = Buffer.alloc(0);
  private readonly replies = new Map<number, { resolve: (m: DapMessage) => void; reject: (e: Error) => void }>();
  /** Every event received, in order: a wait finds one that came before it was asked for. */
  private readonly events: DapMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (b: Buffer) => this.receive(b));
    socket.on('close', () => this.fail(new Error('the debug adapter closed the connection')));
    socket.on('error', (e) => this.fail(e));
  }

  /** Connects once something listens on the port (debugpy starts listening when the entry script's process starts). */
  static async connect(port: number, deadlineMs: number): Promise<DapClient> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        });
        return new DapClient(socket);
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${deadlineMs} ms: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Sends a request; the promise is its response (rejected when the adapter says it failed). */
  request(command: string, args: Record<string, unknown> = {}): Promise<DapMessage> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    const seq = this.seq++;
    const text = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.socket.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    return new Promise((resolve, reject) => this.replies.set(seq, {
      resolve: (m) => (m.success === false ? reject(new Error(`${command} failed: ${m.message ?? ''}`)) : resolve(m)),
      reject,
    }));
  }

  /** The first event named `name` (and matching `accept`) not taken before; waits for it up to `timeoutMs`. */
  async event(name: string, timeoutMs: number, accept: (m: DapMessage) => boolean = () => true): Promise<DapMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((m) => m.event === name && accept(m));
      if (i >= 0) return this.events.splice(i, 1)[0]!;
      if (this.closed !== undefined) throw this.closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${name} event within ${timeoutMs} ms (seen: ${this.events.map((m) => m.event).join(', ') || 'none'})`);
      await new Promise<void>((resolve) => {
        const wake = (): void => { clearTimeout(timer); this.waiters.delete(wake); resolve(); };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: *(\d+)/i.exec(this.buffer.subarray(0, end).toString())?.[1] ?? NaN);
      if (!Number.isFinite(length) || this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString()) as DapMessage;
      this.buffer = this.buffer.subarray(end + 4 + length);
      if (message.type === 'response') {
        this.replies.get(message.request_seq ?? -1)?.resolve(message);
        this.replies.delete(message.request_seq ?? -1);
      } else if (message.type === 'event') {
        this.events.push(message);
        for (const wake of [...this.waiters]) wake();
      }
    }
  }

  private fail(err: Error): void {
    this.closed ??= err;
    for (const r of this.replies.values()) r.reject(err);
    this.replies.clear();
    for (const wake of [...this.waiters]) wake();
  }
}
