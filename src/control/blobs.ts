// The content-addressed blob store: files named by their sha256, written atomically (temp, fsync, rename), never modified.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { chmod, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../errors/catalogue.js';
import { storageFailure } from '../errors/storage.js';

export interface StoredBlob {
  readonly digest: string;
  readonly size: number;
  /** false when identical content was already stored (the new copy was dropped). */
  readonly created: boolean;
}

export type BlobCheck = 'ok' | 'missing' | 'corrupt';

const DIGEST = /^[0-9a-f]{64}$/;

export class BlobStore {
  private readonly objects: string;
  private readonly tmp: string;

  /** `root` is the blob directory ($BERTH_HOME/blobs); temp files live inside it so rename stays on one filesystem. */
  constructor(readonly root: string) {
    this.objects = join(root, 'sha256');
    this.tmp = join(root, 'tmp');
  }

  /** Creates the directories and removes temp files left by a killed process; returns how many were removed. */
  async init(): Promise<number> {
    mkdirSync(this.objects, { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
    const leftovers = await readdir(this.tmp);
    await Promise.all(leftovers.map((name) => rm(join(this.tmp, name), { force: true, recursive: true })));
    return leftovers.length;
  }

  pathOf(digest: string): string {
    if (!DIGEST.test(digest)) throw new BerthError('INTERNAL', { detail: `not a sha256 digest: ${digest}` });
    return join(this.objects, digest.slice(0, 2), digest);
  }

  has(digest: string): boolean {
    return existsSync(this.pathOf(digest));
  }

  /**
   * Streams `source` into the store, hashing while writing. The blob appears under its final name only once its
   * bytes are on disk, so a kill at any moment leaves at most an orphan temp file, never a partial blob.
   */
  async write(source: AsyncIterable<Uint8Array>, expected?: { digest: string; label: string }): Promise<StoredBlob> {
    const tmpPath = join(this.tmp, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    try {
      const fh = await open(tmpPath, 'wx', 0o644);
      try {
        for await (const chunk of source) {
          // The write runs on the thread pool while this thread hashes the same bytes.
          const written = fh.write(chunk);
          hash.update(chunk);
          size += chunk.length;
          await written;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = hash.digest('hex');
      if (expected !== undefined && expected.digest !== digest) {
        throw new BerthError('DIGEST_MISMATCH', { path: expected.label, actual: digest, expected: expected.digest });
      }
      const created = await this.place(tmpPath, digest);
      return { digest, size, created };
    } catch (err) {
      rmSync(tmpPath, { force: true });
      throw this.storageError(err);
    }
  }

  /** Moves a finished temp file to its content address, or drops it when that content is already stored. */
  private async place(tmpPath: string, digest: string): Promise<boolean> {
    const final = this.pathOf(digest);
    if (existsSync(final)) {
      unlinkSync(tmpPath);
      return false;
    }
    const dir = join(this.objects, digest.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    // Read-only: a blob is immutable, and materialised models are hard links to it.
    await chmod(tmpPath, 0o444);
    renameSync(tmpPath, final);
    // fsync the directory so the rename itself survives a power cut before metadata points at it.
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    return true;
  }

  /** Re-hashes a stored blob. */
  async check(digest: string, size?: number): Promise<BlobCheck> {
    const hash = createHash('sha256');
    let seen = 0;
    try {
      for await (const chunk of createReadStream(this.pathOf(digest), { highWaterMark: 1 << 20 })) {
        hash.update(chunk as Buffer);
        seen += (chunk as Buffer).length;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    return hash.digest('hex') === digest && (size === undefined || size === seen) ? 'ok' : 'corrupt';
  }

  /** Every digest stored. */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const prefix of await readdir(this.objects)) {
      for (const name of await readdir(join(this.objects, prefix))) if (DIGEST.test(name)) out.push(name);
    }
    return out;
  }

  remove(digest: string): void {
    rmSync(this.pathOf(digest), { force: true });
  }

  /** Removes every blob not in `keep` (blobs of uploads that were never committed); returns how many. */
  async collectGarbage(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const digest of await this.list()) {
      if (!keep.has(digest)) {
        this.remove(digest);
        removed++;
      }
    }
    return removed;
  }

  private storageError(err: unknown): unknown {
    // The blob store's own writes: a folder that is not writable is a storage failure here too.
    return storageFailure(err, this.root, { permissions: true }) ?? err;
  }
}
