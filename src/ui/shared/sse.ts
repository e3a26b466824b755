// Server-Sent Events framing: the plane writes messages with formatSse, the browser reads a fetch() body with SseParser.

export interface SseMessage {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** One message: `event:` and one `data:` line per line of `data` (so a newline inside JSON text cannot end it early). */
export function formatSse(event: string, data: string, id?: string): string {
  if (/[\r\n]/.test(event) || (id !== undefined && /[\r\n]/.test(id))) throw new Error('an SSE event name or id cannot hold a line break');
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join('');
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${lines}\n`;
}

/** A comment line: ignored by readers, it keeps idle connections (and proxies) from timing out. */
export const SSE_PING = ': ping\n\n';

/**
 * The event-stream parser of the HTML standard (9.2.6), minus `retry:` (the dashboard reconnects on its own schedule):
 * lines end with CRLF, LF or CR; `data:` lines join with LF; a blank line dispatches; an event without data is dropped.
 * Chunks may split anywhere, a CRLF included.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private lastWasCr = false;

  /** Feeds decoded text; returns the messages it completed. */
  push(text: string): SseMessage[] {
    let chunk = text;
    // A CR at the end of the previous chunk already ended its line: a leading LF here is its other half.
    if (this.lastWasCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.lastWasCr = chunk.endsWith('\r');
    this.buffer += chunk;
    const out: SseMessage[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) this.line(line, out);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event === '' ? 'message' : this.event, data: this.data.join('\n'), ...(this.id === undefined ? {} : { id: this.id }) });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}
