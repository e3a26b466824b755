// The body deadline of `berth serve`: node's request timeout cuts off a request whose headers and body have not all arrived, answered as a JSON 408.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { BerthError } from '../../errors/catalogue.js';
import { toHttpError } from '../../errors/http.js';

/** Node's own answers for the other client errors, which a 'clientError' listener takes over from it. */
const OTHER: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
};
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

/** Node's timers for the request as server options: the whole request within `bodyTimeoutS`, checked often enough to be on time. */
export function requestTimeoutOptions(bodyTimeoutS: number): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  const requestTimeout = Math.round(bodyTimeoutS * 1000);
  return {
    requestTimeout,
    // Node requires headersTimeout <= requestTimeout; headers have their own minute at most, as on the control plane.
    headersTimeout: Math.min(60_000, requestTimeout),
    // Node sweeps its connections this often: the 408 arrives at most this late.
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(requestTimeout / 4))),
  };
}

/** Answers a request that ran out of time with REQUEST_BODY_TIMEOUT as JSON, and closes its connection. */
export function answerTimeouts(server: Server, bodyTimeoutS: number, log: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A response already under way cannot take another status line: only the connection can go.
    const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (socket.writable && !started) {
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        const { status, body } = toHttpError(new BerthError('REQUEST_BODY_TIMEOUT', { timeoutS: bodyTimeoutS, flag: '--body-timeout-s' }));
        const text = JSON.stringify(body);
        log.warn({ status, timeout_s: bodyTimeoutS }, body.message);
        socket.end(`HTTP/1.1 ${status} Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
        return;
      }
      if (err.code !== 'ECONNRESET') socket.write(OTHER[err.code ?? ''] ?? BAD_REQUEST);
    }
    socket.destroy(err);
  });
}
