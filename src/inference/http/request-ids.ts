// Request-id headers as the classic server handles them (echoed; generated when absent; at most 100 characters), and the declared body length, read from the raw header list.
import { randomUUID } from 'node:crypto';

const MAX_REQUEST_ID_LENGTH = 100;

export interface RequestIds {
  /** x-request-id: the client's, or a new one. */
  readonly requestId: string;
  /** The other id headers of the response, as [name, value, …]: x-ms-request-id always, x-ms-client-request-id when there is one. */
  readonly echo: readonly string[];
  /** Content-Length as declared, 0 when absent. */
  readonly contentLength: number;
}

/**
 * One pass over `req.rawHeaders` instead of touching `req.headers`, which node:http builds lazily and which costs more
 * than the rest of a no-op request; a runtime that wants the headers still gets them.
 *
 * As the classic server: x-ms-request-id is the deprecated name of the client's id. Sent, it is echoed and stands in for
 * a missing x-ms-client-request-id; not sent, it repeats x-ms-client-request-id, else x-request-id.
 */
export function readRequestIds(rawHeaders: readonly string[]): RequestIds | { tooLong: string } {
  let given: string | undefined;
  let legacy: string | undefined;
  let client: string | undefined;
  let contentLength = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    switch (name.length) {
      case 12: if (given === undefined && name.toLowerCase() === 'x-request-id') given = value; break;
      case 14: if (name.toLowerCase() === 'content-length') contentLength = Number(value) || 0; break;
      case 15: if (legacy === undefined && name.toLowerCase() === 'x-ms-request-id') legacy = value; break;
      case 22: if (client === undefined && name.toLowerCase() === 'x-ms-client-request-id') client = value; break;
    }
  }
  if ((given?.length ?? 0) > MAX_REQUEST_ID_LENGTH) return { tooLong: 'x-request-id' };
  if ((legacy?.length ?? 0) > MAX_REQUEST_ID_LENGTH) return { tooLong: 'x-ms-request-id' };
  if ((client?.length ?? 0) > MAX_REQUEST_ID_LENGTH) return { tooLong: 'x-ms-client-request-id' };
  const requestId = given !== undefined && given !== '' ? given : randomUUID();
  if (legacy !== undefined && legacy !== '') {
    if (client === undefined || client === '') client = legacy;
  } else {
    legacy = client !== undefined && client !== '' ? client : requestId;
  }
  const echo = client !== undefined && client !== '' ? ['x-ms-request-id', legacy, 'x-ms-client-request-id', client] : ['x-ms-request-id', legacy];
  return { requestId, echo, contentLength };
}
