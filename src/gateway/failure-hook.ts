// The gateway's hook for scoring requests answered 5xx (failed-request capture lives in src/control/services/captures.ts).
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { headerRecord } from '../core/raw-headers.js';
import type { RequestBody } from './upstream.js';

/** A scoring request the gateway answered with a 5xx, as the hook gets it. */
export interface FailedRequest {
  readonly service: string;
  readonly requestId: string;
  readonly method: string;
  /** Path and query as a replica gets them: /score?x=1. */
  readonly path: string;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** null: a GET (no body); undefined: not read. */
  readonly body: Buffer | null | undefined;
  /** As the client saw it (a replica's 500 is the gateway's 502). */
  readonly status: number;
  /** The replica that answered (or failed), when one was reached. */
  readonly replica?: string;
  /** The reply's body when it was read whole. */
  readonly response?: Buffer;
}

export type FailureHook = (failed: FailedRequest) => void;

/** Hands a 5xx to the hook; only failures are worth the header object, and the hook never fails the reply. */
export function reportFailure(hook: FailureHook | undefined, service: string, req: IncomingMessage, requestId: string, body: RequestBody | undefined, status: number, replica: string | undefined, reply: Buffer | Readable): void {
  if (hook === undefined || status < 500) return;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  try {
    hook({
      service, requestId, method: req.method ?? 'POST', path: `/score${q < 0 ? '' : url.slice(q)}`, headers: headerRecord(req.rawHeaders), body, status,
      ...(replica === undefined ? {} : { replica }), ...(Buffer.isBuffer(reply) ? { response: reply } : {}),
    });
  } catch { /* capture is best effort */ }
}
