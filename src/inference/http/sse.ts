// Server-Sent Events framing of streamed chunks (one event per chunk), and whether a client asked for it.

/** True when the Accept header names text/event-stream (a client that takes anything gets plain chunks). */
export function wantsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

/**
 * One chunk as one `message` event: every line of it a `data:` field (SSE has no way to carry a bare line break
 * otherwise), then the blank line that ends the event. A trailing line break (NDJSON chunks end with one) is dropped.
 */
export function sseData(chunk: Buffer | string, event?: string): Buffer {
  let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  if (text.endsWith('\n')) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
  const lines = text.split(/\r\n|\r|\n/);
  let out = event === undefined ? '' : `event: ${event}\n`;
  for (const line of lines) out += `data: ${line}\n`;
  return Buffer.from(`${out}\n`, 'utf8');
}

/** The last event of a stream that ended well: a client can tell it from a dropped connection (and stop reconnecting). */
export const SSE_END = Buffer.from('event: end\ndata: \n\n', 'utf8');

/** An `error` event whose data is the coded error's JSON body; the stream ends after it. */
export function sseError(errorJson: string): Buffer {
  return sseData(errorJson, 'error');
}

export const SSE_HEADERS: readonly string[] = ['cache-control', 'no-cache', 'x-accel-buffering', 'no'];
