// The captured failed requests of a service: a bounded ring of files under $BERTH_HOME/captures/NAME, so they outlive a control plane restart.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const capturedRequestSchema = z.object({
  request_id: z.string(),
  time: z.string().describe('when the reply was sent (ISO 8601)'),
  service: z.string(),
  generation: z.number().int().optional().describe('the service version whose replica answered'),
  replica: z.string().optional().describe('the replica that answered; absent when none was reached (503)'),
  method: z.string(),
  path: z.string().describe('path and query as the replica got them, e.g. /score?x=1'),
  status: z.number().int().describe('the status the client saw (a replica\'s 500 is the gateway\'s 502)'),
  headers: z.record(z.string(), z.string()).describe('request headers, lower case, redacted'),
  body_bytes: z.number().int().describe('size of the body as kept (after redaction)'),
  body_omitted: z.string().optional().describe('why no body is kept (larger than the whole ring, not read, could not be redacted)'),
  redacted: z.array(z.string()).describe('what was replaced by "[redacted]"'),
  response: z.string().optional().describe('the start of the error body the client got'),
  error: z.string().optional().describe('what the replica logged for the request (run() raised ValueError: ...)'),
  traceback: z.string().optional().describe('run()\'s traceback from the replica\'s log, found by the request id'),
}).strict();
export type CapturedRequest = z.infer<typeof capturedRequestSchema>;

export interface RingLimits {
  readonly maxRequests: number;
  readonly maxBytes: number;
}

interface Entry {
  readonly seq: number;
  meta: CapturedRequest;
  /** Body and metadata on disk. */
  bytes: number;
  metaBytes: number;
}

const META = /^(\d{12})\.json$/;
const name = (seq: number): string => String(seq).padStart(12, '0');

/** One service's ring: `<seq>.body` (the redacted body) and `<seq>.json` (the rest); the .json written last marks it whole. */
export class CaptureRing {
  private entries: Entry[] | undefined;
  /** Writes and removals one after another, so the ring on disk always matches `entries` in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {}

  /** Oldest first. */
  list(): readonly CapturedRequest[] {
    return this.load().map((e) => e.meta);
  }

  /** The newest capture of a request id, with its body (undefined when none is kept); after the writes queued so far. */
  async find(requestId: string): Promise<{ meta: CapturedRequest; body: Buffer | undefined } | undefined> {
    await this.queue;
    const e = this.newest(requestId);
    if (e === undefined) return undefined;
    let body: Buffer | undefined;
    if (e.meta.body_omitted === undefined) {
      try { body = readFileSync(join(this.dir, `${name(e.seq)}.body`)); } catch { body = undefined; }
    }
    return { meta: e.meta, body };
  }

  /** Adds a capture, then drops the oldest until the ring is within its limits; the body is written before its metadata. */
  add(meta: CapturedRequest, body: Buffer | undefined, limits: RingLimits): Promise<void> {
    const entries = this.load();
    const seq = (entries[entries.length - 1]?.seq ?? 0) + 1;
    const text = JSON.stringify(meta);
    const metaBytes = Buffer.byteLength(text);
    const entry: Entry = { seq, meta, bytes: metaBytes + (body?.length ?? 0), metaBytes };
    entries.push(entry);
    const evicted = this.evict(limits);
    return this.run(async () => {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      if (body !== undefined) await this.write(`${name(seq)}.body`, body);
      await this.write(`${name(seq)}.json`, text);
      for (const e of evicted) await this.remove(e.seq);
    });
  }

  /** Drops the oldest until the ring is within `limits` (smaller ones than it was filled with, after an update). */
  trim(limits: RingLimits): Promise<void> {
    const evicted = this.evict(limits);
    return evicted.length === 0 ? this.queue : this.run(async () => { for (const e of evicted) await this.remove(e.seq); });
  }

  /** Rewrites a capture's metadata (its traceback, found later). */
  update(requestId: string, patch: Partial<Pick<CapturedRequest, 'error' | 'traceback'>>): Promise<void> {
    const entry = this.newest(requestId);
    if (entry === undefined) return Promise.resolve();
    entry.meta = { ...entry.meta, ...patch };
    const text = JSON.stringify(entry.meta);
    entry.bytes += Buffer.byteLength(text) - entry.metaBytes;
    entry.metaBytes = Buffer.byteLength(text);
    return this.run(async () => {
      if (this.entries?.includes(entry) === true) await this.write(`${name(entry.seq)}.json`, text);
    });
  }

  /** Total bytes kept. */
  bytes(): number {
    return this.load().reduce((n, e) => n + e.bytes, 0);
  }

  /** Waits for the writes queued so far. */
  settled(): Promise<void> {
    return this.queue;
  }

  private evict(limits: RingLimits): Entry[] {
    const entries = this.load();
    const evicted: Entry[] = [];
    let total = entries.reduce((n, e) => n + e.bytes, 0);
    while (entries.length > 1 && (entries.length > limits.maxRequests || total > limits.maxBytes)) {
      const gone = entries.shift()!;
      total -= gone.bytes;
      evicted.push(gone);
    }
    return evicted;
  }

  private newest(requestId: string): Entry | undefined {
    const entries = this.load();
    for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.meta.request_id === requestId) return entries[i];
    return undefined;
  }

  private run(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(file: string, data: string | Buffer): Promise<void> {
    const tmp = join(this.dir, `${file}.tmp`);
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, join(this.dir, file));
  }

  private async remove(seq: number): Promise<void> {
    await unlink(join(this.dir, `${name(seq)}.json`)).catch(() => undefined);
    await unlink(join(this.dir, `${name(seq)}.body`)).catch(() => undefined);
  }

  /** Reads the ring once: whole captures in order; half-written files (no .json, or a .tmp) are removed. */
  private load(): Entry[] {
    if (this.entries !== undefined) return this.entries;
    const entries: Entry[] = [];
    let files: string[] = [];
    try { files = readdirSync(this.dir); } catch { /* nothing captured yet */ }
    const metas = new Set<number>();
    for (const file of files) {
      const m = META.exec(file);
      if (m === null) continue;
      const seq = Number(m[1]);
      try {
        const text = readFileSync(join(this.dir, file), 'utf8');
        const meta = capturedRequestSchema.parse(JSON.parse(text));
        let bodyBytes = 0;
        if (meta.body_omitted === undefined) bodyBytes = statSync(join(this.dir, `${name(seq)}.body`)).size;
        entries.push({ seq, meta, bytes: Buffer.byteLength(text) + bodyBytes, metaBytes: Buffer.byteLength(text) });
        metas.add(seq);
      } catch {
        // unreadable: not a capture (its files go below)
      }
    }
    for (const file of files) {
      const seq = Number(file.slice(0, 12));
      if (file.endsWith('.tmp') || !metas.has(seq)) rmSync(join(this.dir, file), { force: true });
    }
    this.entries = entries.sort((a, b) => a.seq - b.seq);
    return this.entries;
  }
}

/** Every service's ring under `root` ($BERTH_HOME/captures). */
export class CaptureStore {
  private readonly rings = new Map<string, CaptureRing>();

  constructor(private readonly root: string) {}

  ring(service: string): CaptureRing {
    let r = this.rings.get(service);
    if (r === undefined) {
      r = new CaptureRing(join(this.root, service));
      this.rings.set(service, r);
    }
    return r;
  }

  /** Removes a service's captures (the service was deleted: a new one of its name must not inherit them). */
  async drop(service: string): Promise<void> {
    const r = this.rings.get(service);
    this.rings.delete(service);
    await r?.settled();
    await rm(join(this.root, service), { recursive: true, force: true });
  }

  /** Services with captures on disk. */
  services(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  }
}
