// Length-prefixed frames exchanged with Python workers (see PROTOCOL.md beside this file).

/** A decoded reply from a worker: request id (0 = control message), optional JSON meta, raw body. */
export interface ReplyFrame {
  readonly id: number;
  readonly meta: Record<string, unknown> | undefined;
  readonly body: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** The bytes of one request frame: u32 length | u32 id | u32 metaLen | meta | body. */
export function encodeRequest(id: number, meta: string | undefined, body: Buffer): Buffer[] {
  const metaBytes = meta === undefined ? EMPTY : Buffer.from(meta, 'utf8');
  const head = Buffer.allocUnsafe(12);
  head.writeUInt32BE(8 + metaBytes.length + body.length, 0);
  head.writeUInt32BE(id, 4);
  head.writeUInt32BE(metaBytes.length, 8);
  return metaBytes.length === 0 ? [head, body] : [head, metaBytes, body];
}

/** Incremental decoder for the reply stream; feed it chunks, it calls back once per whole frame. */
export class FrameDecoder {
  private pending: Buffer = EMPTY;

  constructor(private readonly onFrame: (frame: ReplyFrame) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readUInt32BE(offset);
      if (buf.length - offset - 4 < length) break;
      const start = offset + 4;
      const id = buf.readUInt32BE(start);
      const metaLen = buf.readUInt32BE(start + 4);
      const metaStart = start + 8;
      const bodyStart = metaStart + metaLen;
      const meta = metaLen === 0 ? undefined : (JSON.parse(buf.toString('utf8', metaStart, bodyStart)) as Record<string, unknown>);
      // subarray shares memory with `buf`, which is never reused after this call.
      this.onFrame({ id, meta, body: buf.subarray(bodyStart, start + length) });
      offset = start + length;
    }
    buf = offset === buf.length ? EMPTY : buf.subarray(offset);
    this.pending = buf;
  }
}
