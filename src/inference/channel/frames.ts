// Framing of the scoring channel between the gateway and a replica: many requests in flight on one connection, matched by id.
/**
 * A frame is `u32 length | u32 id | u32 metaLength | meta | body` (little-endian; `length` counts what follows it).
 * `meta` is UTF-8 text of `\n`-separated fields: a request's method, path with query and request id, then header
 * name/value pairs; a response's status, then header name/value pairs. HTTP forbids line breaks in all of them.
 */
export const FRAME_PREFIX = 12;

/** The path a client upgrades to open a channel, and the protocol name it asks for. */
export const CHANNEL_PATH = '/.berth/score-channel';
export const CHANNEL_PROTOCOL = 'berth-score-1';

/**
 * Additions to berth-score-1 a side may speak, named in this header of the upgrade request (the gateway's offer) and
 * of the 101 answer (what the replica took). A side that does not name one never sees its frames: an older replica
 * ignores the header and answers without it, and the gateway speaks plain berth-score-1 to it.
 */
export const FEATURES_HEADER = 'x-berth-channel-features';
/** Requests may be sent ahead, with a wait budget, to wait in the replica; see PROTOCOL.md. */
export const SEND_AHEAD = 'send-ahead';

/** With send-ahead, the gateway's frame that asks for a request back while it has not started. */
export const CANCEL = 'CANCEL';
/** With send-ahead, the replica's notices about a request sent ahead (a frame whose first field is not a status). */
export const STARTED = 'STARTED';
export const NOT_STARTED = 'NOT_STARTED';
export const EXPIRED = 'EXPIRED';

export function encodeFrame(id: number, meta: string, body: Buffer | string): Buffer {
  const metaBytes = Buffer.byteLength(meta);
  const bodyBytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const frame = Buffer.allocUnsafe(FRAME_PREFIX + metaBytes + bodyBytes);
  frame.writeUInt32LE(8 + metaBytes + bodyBytes, 0);
  frame.writeUInt32LE(id, 4);
  frame.writeUInt32LE(metaBytes, 8);
  frame.write(meta, FRAME_PREFIX, 'utf8');
  if (typeof body === 'string') frame.write(body, FRAME_PREFIX + metaBytes, 'utf8');
  else body.copy(frame, FRAME_PREFIX + metaBytes);
  return frame;
}

/** `fields` joined as meta; a field with a line break would shift every later one, so it is refused. */
export function joinMeta(fields: readonly string[]): string {
  for (const field of fields) if (field.includes('\n')) throw new Error(`a frame field contains a line break: ${JSON.stringify(field.slice(0, 80))}`);
  return fields.join('\n');
}

export type FrameHandler = (id: number, meta: string[], body: Buffer) => void;

/** Reassembles frames from a byte stream; `onFrame` gets each whole one. A frame over `maxFrameBytes` is an error. */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly onFrame: FrameHandler, private readonly maxFrameBytes = 0x7fffffff) {}

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < 4) return;
      const length = this.peekLength();
      // Checked here too, or a length split across chunks would make the reader buffer whatever it claims.
      if (length < 8 || length > this.maxFrameBytes) throw new Error(`bad frame length ${length}`);
      if (this.pendingBytes < 4 + length) return;
      data = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readUInt32LE(offset);
      if (length < 8 || length > this.maxFrameBytes) throw new Error(`bad frame length ${length}`);
      if (data.length - offset < 4 + length) break;
      const id = data.readUInt32LE(offset + 4);
      const metaLength = data.readUInt32LE(offset + 8);
      if (metaLength > length - 8) throw new Error(`bad meta length ${metaLength}`);
      const metaStart = offset + FRAME_PREFIX;
      const meta = data.toString('utf8', metaStart, metaStart + metaLength).split('\n');
      const body = data.subarray(metaStart + metaLength, offset + 4 + length);
      offset += 4 + length;
      this.onFrame(id, meta, body);
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
  }

  private peekLength(): number {
    const head = this.pending[0]!.length >= 4 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    return head.readUInt32LE(0);
  }
}
