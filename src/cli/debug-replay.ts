// `berth service debug NAME --replay ID`: waits for the local snapshot to be ready, sends it the captured request, prints the reply.
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import type { CapturedWhole } from '../control/api/capture-routes.js';
import { BerthError } from '../errors/catalogue.js';

/** Hop-by-hop headers and those the local server sets itself: never replayed. The key a replica wanted is not needed here. */
const SKIP = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'content-length', 'authorization', 'proxy-authorization', 'x-berth-replica-key']);
const POLL_MS = 200;

export interface ReplayReply {
  readonly status: number;
  readonly statusText: string;
  /** As received: [name, value, …]. */
  readonly headers: readonly string[];
  readonly body: Buffer;
}

/** The request as it is sent again: the captured headers (redacted ones as "[redacted]"), its request id, its body. */
export function replayRequest(c: CapturedWhole): { method: string; path: string; headers: Record<string, string>; body: Buffer } {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers)) if (!SKIP.has(k)) headers[k] = v;
  // The local run logs under the same request id as the replica did.
  headers['x-request-id'] = c.request_id;
  const body = c.body === undefined ? Buffer.alloc(0) : Buffer.from(c.body, c.body_encoding === 'base64' ? 'base64' : 'utf8');
  return { method: c.method, path: c.path, headers, body };
}

/**
 * Waits until the local server is ready (every worker's init() returned; with --inspect that is after the debugger
 * attached, which may take the user any time), then sends the request with no timeout: a request stopped at a
 * breakpoint waits as long as the user does. The child ending first is REPLAY_FAILED.
 */
export async function replayCaptured(port: number, c: CapturedWhole, child: ChildProcess, service: string): Promise<ReplayReply> {
  let exited: string | undefined;
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => { exited = signal === null ? `it exited with code ${code ?? '?'}` : `it was ended by ${signal}`; };
  child.once('exit', onExit);
  const failed = (detail: string): BerthError => new BerthError('REPLAY_FAILED', { service, requestId: c.request_id, detail, port });
  try {
    while (!(await isReady(port))) {
      if (exited !== undefined) throw failed(exited);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    let onDied = (): void => undefined;
    const died = new Promise<never>((_, reject) => {
      onDied = () => reject(failed(exited ?? 'it exited'));
      child.once('exit', onDied);
    });
    died.catch(() => undefined); // the reply may win the race; the child's later exit is then no failure
    try {
      return await Promise.race([send(port, replayRequest(c)), died]);
    } finally {
      child.off('exit', onDied);
    }
  } finally {
    child.off('exit', onExit);
  }
}

/** The reply as people read it: status line, headers, a blank line, the body. */
export function formatReply(r: ReplayReply): string {
  const lines = [`HTTP/1.1 ${r.status} ${r.statusText}`];
  for (let i = 0; i + 1 < r.headers.length; i += 2) lines.push(`${r.headers[i]!.toLowerCase()}: ${r.headers[i + 1]!}`);
  return `${lines.join('\n')}\n\n${r.body.toString('utf8')}`;
}

function isReady(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ready', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function send(port: number, r: ReturnType<typeof replayRequest>): Promise<ReplayReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: { ...r.headers, 'content-length': String(r.body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}
