// Moving model files between this machine and the control plane: walk and stream up for register, stream down for download.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline as pipe, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors/catalogue.js';
import { modelFilePathSchema, type ModelFile, type ModelVersionDetail } from '../control/model-schema.js';
import type { ApiClient } from './api-client.js';

export interface LocalFile {
  /** path inside the model: the registered file's or folder's own name, then the path below it */
  readonly path: string;
  readonly abs: string;
  readonly size: number;
}

/**
 * The files to register from a file or folder. The registered name is kept as the first path part (`model.pkl`,
 * `outputs/model.pkl`), as the classic service lays models out, so `get_model_path` returns that file or folder.
 */
export async function collectFiles(target: string): Promise<LocalFile[]> {
  const abs = resolve(target);
  let info;
  try {
    info = await stat(abs);
  } catch {
    throw new BerthError('PATH_NOT_FOUND', { path: target });
  }
  const top = basename(abs);
  if (top === '') throw new BerthError('INVALID_ARGUMENT', { detail: `cannot register the root folder ${abs}` });
  const files: LocalFile[] = [];
  if (info.isFile()) files.push({ path: top, abs, size: info.size });
  else if (info.isDirectory()) await walk(abs, top, files, new Set([await realpath(abs)]));
  else throw new BerthError('INVALID_ARGUMENT', { detail: `${target} is neither a file nor a folder` });
  if (files.length === 0) throw new BerthError('INVALID_ARGUMENT', { detail: `${target} holds no files to register` });
  for (const f of files) {
    if (!modelFilePathSchema.safeParse(f.path).success) throw new BerthError('INVALID_ARGUMENT', { detail: `unusable file name ${JSON.stringify(f.path)}` });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function walk(dir: string, prefix: string, out: LocalFile[], visited: Set<string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    const path = `${prefix}/${entry.name}`;
    // Symbolic links are followed (a model folder often links to a checkpoint); `visited` stops link cycles.
    const info = entry.isSymbolicLink() ? await stat(abs).catch(() => undefined) : await lstat(abs);
    if (info === undefined) throw new BerthError('INVALID_ARGUMENT', { detail: `${abs} is a broken symbolic link` });
    if (info.isFile()) {
      out.push({ path, abs, size: info.size });
    } else if (info.isDirectory()) {
      const real = await realpath(abs);
      if (visited.has(real)) continue;
      visited.add(real);
      await walk(abs, path, out, visited);
    } else {
      throw new BerthError('INVALID_ARGUMENT', { detail: `${abs} is neither a file nor a folder` });
    }
  }
}

/** A pass-through stream that hashes what flows through it. */
class Sha256Stream extends Transform {
  private readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

export interface UploadMeta {
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
}

const PARALLEL_FILES = 4;

/** Registers files as the next version: open an upload, stream each file, commit. A failure aborts the upload. */
export async function registerModel(client: ApiClient, meta: UploadMeta, files: readonly LocalFile[]): Promise<ModelVersionDetail> {
  const { upload_id } = await client.call<{ upload_id: string }>('POST', '/v1/uploads', { json: meta });
  const base = `/v1/uploads/${encodeURIComponent(upload_id)}`;
  try {
    const manifest: { path: string; digest: string }[] = [];
    const queue = [...files];
    const worker = async (): Promise<void> => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) manifest.push(await uploadFile(client, base, f));
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, files.length) }, worker));
    return await client.call<ModelVersionDetail>('POST', `${base}/commit`, { json: { files: manifest } });
  } catch (err) {
    await client.call('DELETE', base).catch(() => undefined); // best effort: the server also drops it on restart or expiry
    throw err;
  }
}

async function uploadFile(client: ApiClient, base: string, f: LocalFile): Promise<{ path: string; digest: string }> {
  const hashing = new Sha256Stream();
  // The callback form returns `hashing` and closes the file whichever side fails or stops first.
  const body = pipe(createReadStream(f.abs, { highWaterMark: 1 << 20 }), hashing, () => undefined);
  const stored = await client.put<ModelFile>(`${base}/files`, { path: f.path }, body, {});
  const sent = hashing.hex();
  if (stored.digest !== sent) throw new BerthError('DIGEST_MISMATCH', { path: f.abs, actual: stored.digest, expected: sent });
  return { path: f.path, digest: sent };
}

/** Downloads every file of a version under `toDir`, checking each digest; refuses to overwrite existing files. */
export async function downloadModel(client: ApiClient, model: ModelVersionDetail, toDir: string): Promise<string[]> {
  const root = resolve(toDir);
  const targets = model.files.map((f) => ({ f, dest: join(root, ...f.path.split('/')) }));
  for (const { dest } of targets) {
    if (await stat(dest).then(() => true, () => false)) {
      throw new BerthError('INVALID_ARGUMENT', { detail: `${dest} already exists; download into an empty folder` });
    }
  }
  const route = `/v1/models/${encodeURIComponent(model.name)}/versions/${model.version}/file`;
  for (const { f, dest } of targets) {
    await mkdir(dirname(dest), { recursive: true });
    const partial = `${dest}.berth-partial`;
    const hashing = new Sha256Stream();
    try {
      const body = await client.download(route, { path: f.path });
      await pipeline(body, hashing, createWriteStream(partial)).catch((err: unknown) => {
        throw err instanceof BerthError ? err : client.failed(err);
      });
      const got = hashing.hex();
      if (got !== f.digest) throw new BerthError('DIGEST_MISMATCH', { path: f.path, actual: got, expected: f.digest });
      await rename(partial, dest);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }
  return targets.map((t) => t.dest);
}
