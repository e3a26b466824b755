// Request-id headers (echoed; generated when absent; at most 100 characters) and the declared body length, read from the raw header list.
import { randomUUID } from 'node:crypto';

const MAX_REQUEST_ID_LENGTH = 100;

export interface RequestIds {
  readonly requestId: string;
  /** The client's own id, echoed back as x-ms-client-request-id when it sent one. */
  readonly clientRequestId: string | undefined;
  /** Content-Length as declared, 0 when absent. */
  readonly contentLength: number;
}

/**
 * One pass over `req.rawHeaders` instead of touching `req.headers`, which node:http builds lazily and which
 * costs more than the rest of a no-op request; a runtime that wants the headers still gets them.
 */
export function readRequestIds(rawHeaders: readonly string[]): RequestIds | { tooLong: string } {
  let given: string | undefined;
  let ms: string | undefined;
  let client: string | undefined;
  let contentLength = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    switch (name.length) {
      case 12: if (given === undefined && name.toLowerCase() === 'x-request-id') given = value; break;
      case 14: if (name.toLowerCase() === 'content-length') contentLength = Number(value) || 0; break;
      case 15: if (ms === undefined && name.toLowerCase() === 'x-ms-request-id') ms = value; break;
      case 22: if (client === undefined && name.toLowerCase() === 'x-ms-client-request-id') client = value; break;
    }
  }
  if ((given?.length ?? 0) > MAX_REQUEST_ID_LENGTH) return { tooLong: 'x-request-id' };
  if ((ms?.length ?? 0) > MAX_REQUEST_ID_LENGTH) return { tooLong: 'x-ms-request-id' };
  if ((client?.length ?? 0) > MAX_REQUEST_ID_LENGTH) return { tooLong: 'x-ms-client-request-id' };
  const requestId = given !== undefined && given !== '' ? given : ms !== undefined && ms !== '' ? ms : randomUUID();
  return { requestId, clientRequestId: client, contentLength };
}
