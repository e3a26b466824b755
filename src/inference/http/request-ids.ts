// Request-id headers: which ones are echoed, how the id is chosen, and the 100-character limit.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const REQUEST_ID_HEADERS = ['x-request-id', 'x-ms-request-id', 'x-ms-client-request-id'] as const;
const MAX_REQUEST_ID_LENGTH = 100;

export interface RequestIds {
  readonly requestId: string;
  /** Response headers that carry the ids back. */
  readonly headers: Record<string, string>;
}

/** The id headers of a request, or the name of the first header that is too long. */
export function readRequestIds(headers: IncomingHttpHeaders): RequestIds | { tooLong: string } {
  const given = headers['x-request-id'];
  const ms = headers['x-ms-request-id'];
  const client = headers['x-ms-client-request-id'];
  for (const name of REQUEST_ID_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string' && value.length > MAX_REQUEST_ID_LENGTH) return { tooLong: name };
  }
  const requestId = typeof given === 'string' && given !== '' ? given : typeof ms === 'string' && ms !== '' ? ms : randomUUID();
  const out: Record<string, string> = { 'x-request-id': requestId, 'x-ms-request-id': requestId };
  if (typeof client === 'string') out['x-ms-client-request-id'] = client;
  return { requestId, headers: out };
}
