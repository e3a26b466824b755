// HTTP clients that misbehave on purpose, on raw sockets or streamed bodies: a slow body, a silent connection, an oversized upload.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  /** 0 when the connection closed without a status line. */
  readonly status: number;
  readonly body: string;
  /** Milliseconds from opening the connection until the server closed it. */
  readonly closedAfterMs: number;
}

export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  readonly answer: Promise<RawAnswer>;
}

/** Opens a connection to `url`'s host and port and writes `text` (which may be a request's first bytes, or nothing). */
export function rawConnection(url: string, text: string): RawConnection {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  const socket = connect(Number(port), hostname, () => { if (text !== '') socket.write(text); });
  let got = '';
  socket.on('data', (d: Buffer) => { got += d.toString('latin1'); });
  socket.on('error', () => undefined); // 'close' follows
  const answer = new Promise<RawAnswer>((resolve) => {
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0);
      const split = got.indexOf('\r\n\r\n');
      resolve({ status, body: split < 0 ? '' : got.slice(split + 4), closedAfterMs: performance.now() - started });
    });
  });
  return { socket, answer };
}

/** Headers of a POST declaring a `declared`-byte body, followed by its first byte only. */
export function slowBodyStart(path: string, declared: number, headers: Record<string, string> = {}): string {
  const lines = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', 'content-type: application/json', `content-length: ${declared}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n{`;
}

/** POSTs all `bytes` of a body in 64 KiB writes (as a plain client does, answer or not), chunked or with a Content-Length; resolves with the answer. */
export function uploadBody(url: string, bytes: number, mode: 'chunked' | 'length', headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(mode === 'length' ? { 'content-length': String(bytes) } : {}), ...headers } });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    // Writing on after the answer arrived may fail (the server stopped reading): what counts is the answer.
    req.on('error', (err) => { if (!answered) reject(err); });
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}
