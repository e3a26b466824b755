// The model registry: registers versions from upload sessions atomically, lists, shows, deletes and verifies them.
import { BerthError } from '../errors/catalogue.js';
import type { BlobStore, StoredBlob } from './blobs.js';
import type { MountableModel } from './materialize.js';
import { pathConflict, type ModelFile, type ModelRef, type ModelVersion, type ModelVersionDetail } from './model-schema.js';
import type { ModelUsage } from './model-usage.js';
import type { Db } from './store/db.js';
import { UploadSessions, type UploadMeta } from './uploads.js';

export interface VerifyProblem {
  readonly model: string;
  readonly path: string;
  readonly digest: string;
  readonly problem: 'missing' | 'corrupt';
}

export interface VerifyReport {
  readonly files: number;
  readonly blobs: number;
  readonly bytes: number;
  readonly problems: VerifyProblem[];
}

interface VersionRow {
  name: string;
  version: number;
  description: string;
  tags: string;
  size: number;
  file_count: number;
  created_at: string;
}

const VERSION_COLUMNS = `v.name, v.version, v.description, v.tags, v.size, v.created_at,
  (SELECT COUNT(*) FROM model_files f WHERE f.name = v.name AND f.version = v.version) AS file_count`;

export class ModelRegistry {
  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
    private readonly usage: ModelUsage,
    private readonly uploads: UploadSessions = new UploadSessions(),
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** At start: drops temp files of killed uploads and blobs no committed version references. */
  async recover(): Promise<{ tempFiles: number; orphanBlobs: number }> {
    const tempFiles = await this.blobs.init();
    const rows = this.db.prepare('SELECT DISTINCT digest FROM model_files').all() as { digest: string }[];
    const orphanBlobs = await this.blobs.collectGarbage(new Set(rows.map((r) => r.digest)));
    return { tempFiles, orphanBlobs };
  }

  startUpload(meta: UploadMeta): { upload_id: string } {
    const { session, expired } = this.uploads.create(meta);
    for (const s of expired) this.releaseBlobs([...s.files.values()].map((f) => f.digest));
    return { upload_id: session.id };
  }

  /** Stores one file of an upload; re-sending a path replaces it. */
  async putFile(uploadId: string, path: string, body: AsyncIterable<Uint8Array>, expectedDigest?: string): Promise<ModelFile & Pick<StoredBlob, 'created'>> {
    const session = this.uploads.get(uploadId);
    session.busy++;
    let stored: StoredBlob;
    try {
      stored = await this.blobs.write(body, expectedDigest === undefined ? undefined : { digest: expectedDigest, label: path });
    } finally {
      session.busy--;
    }
    if (!this.uploads.isOpen(session)) {
      this.releaseBlobs([stored.digest]);
      throw new BerthError('UPLOAD_NOT_FOUND', { upload: uploadId });
    }
    const replaced = session.files.get(path);
    session.files.set(path, { digest: stored.digest, size: stored.size });
    if (replaced !== undefined) this.releaseBlobs([replaced.digest]);
    return { path, digest: stored.digest, size: stored.size, created: stored.created };
  }

  /**
   * Turns an upload into the next version of its model. Every blob is already on disk, so one transaction that
   * assigns the version and inserts all rows makes the version appear whole or not at all.
   */
  commit(uploadId: string, manifest: readonly { path: string; digest: string }[]): ModelVersionDetail {
    const session = this.uploads.get(uploadId);
    if (session.busy > 0) invalid('upload', `${session.busy} file(s) are still being received`);
    const held = [...session.files.entries()].map(([path, f]) => ({ path, ...f }));
    const listed = new Map(manifest.map((m) => [m.path, m.digest]));
    if (held.length === 0) invalid('files', 'the upload holds no files');
    if (listed.size !== manifest.length) invalid('files', 'the manifest lists a path twice');
    const matches = listed.size === held.length && held.every((f) => listed.get(f.path) === f.digest);
    if (!matches) invalid('files', `the manifest (${manifest.length} files) does not match the ${held.length} file(s) received`);
    const conflict = pathConflict(held.map((f) => f.path));
    if (conflict !== undefined) invalid('files', `"${conflict}" is both a file and a folder`);
    const version = this.db.transaction(() => {
      // Checked inside the transaction: a concurrent delete may have released a blob this upload deduplicated against.
      const gone = held.find((f) => !this.blobs.has(f.digest));
      if (gone !== undefined) throw new BerthError('STORAGE_FAILED', { home: this.blobs.root, detail: `blob of ${gone.path} vanished; register again` });
      const created = this.now().toISOString();
      this.db.prepare('INSERT INTO models (name, latest_version, created_at) VALUES (?, 0, ?) ON CONFLICT(name) DO NOTHING').run(session.name, created);
      const next = (this.db.prepare('UPDATE models SET latest_version = latest_version + 1 WHERE name = ? RETURNING latest_version').get(session.name) as { latest_version: number }).latest_version;
      const size = held.reduce((sum, f) => sum + f.size, 0);
      this.db
        .prepare('INSERT INTO model_versions (name, version, description, tags, size, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(session.name, next, session.description, JSON.stringify(session.tags), size, created);
      const insertFile = this.db.prepare('INSERT INTO model_files (name, version, path, digest, size) VALUES (?, ?, ?, ?, ?)');
      for (const f of held) insertFile.run(session.name, next, f.path, f.digest, f.size);
      return next;
    }).immediate();
    this.uploads.remove(uploadId);
    return this.get({ name: session.name, version });
  }

  abortUpload(uploadId: string): void {
    const session = this.uploads.get(uploadId);
    this.uploads.remove(uploadId);
    this.releaseBlobs([...session.files.values()].map((f) => f.digest));
  }

  list(name?: string): ModelVersion[] {
    const where = name === undefined ? '' : 'WHERE v.name = ?';
    const rows = this.db
      .prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions v ${where} ORDER BY v.name, v.version`)
      .all(...(name === undefined ? [] : [name])) as VersionRow[];
    return rows.map(toVersion);
  }

  /** One version with its files; without a version, the latest that exists. */
  get(ref: ModelRef): ModelVersionDetail {
    const row = (ref.version === undefined
      ? this.db.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE v.name = ? ORDER BY v.version DESC LIMIT 1`).get(ref.name)
      : this.db.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE v.name = ? AND v.version = ?`).get(ref.name, ref.version)) as VersionRow | undefined;
    if (row === undefined) throw notFound(ref);
    const files = this.db
      .prepare('SELECT path, size, digest FROM model_files WHERE name = ? AND version = ? ORDER BY path')
      .all(row.name, row.version) as ModelFile[];
    return { ...toVersion(row), files };
  }

  /** Where a version's file is stored, for streaming it out. */
  file(ref: ModelRef, path: string): ModelFile & { source: string } {
    const detail = this.get(ref);
    const f = detail.files.find((x) => x.path === path);
    if (f === undefined) throw new BerthError('MODEL_FILE_NOT_FOUND', { model: `${detail.name}:${detail.version}`, path });
    return { ...f, source: this.blobs.pathOf(f.digest) };
  }

  /** Deletes a version unless a service uses it; its blobs go when no other version shares them. */
  delete(ref: { name: string; version: number }): void {
    const model = `${ref.name}:${ref.version}`;
    const services = this.usage.servicesUsing(ref.name, ref.version);
    if (services.length > 0) throw new BerthError('MODEL_IN_USE', { model, services: services.join(', ') });
    const digests = this.db.transaction(() => {
      const rows = this.db.prepare('SELECT digest FROM model_files WHERE name = ? AND version = ?').all(ref.name, ref.version) as { digest: string }[];
      const gone = this.db.prepare('DELETE FROM model_versions WHERE name = ? AND version = ?').run(ref.name, ref.version);
      if (gone.changes === 0) throw notFound(ref);
      return rows.map((r) => r.digest);
    }).immediate();
    this.releaseBlobs(digests);
  }

  /** The files of the given versions, resolved to their blobs, for materializeModels. */
  mountable(refs: readonly ModelRef[]): MountableModel[] {
    return refs.map((ref) => {
      const d = this.get(ref);
      return { name: d.name, version: d.version, files: d.files.map((f) => ({ path: f.path, source: this.blobs.pathOf(f.digest) })) };
    });
  }

  /** Re-hashes every blob referenced by the given versions (all when none given). */
  async verify(ref?: ModelRef): Promise<VerifyReport> {
    const versions = ref === undefined ? this.list().map((v) => this.get(v)) : [this.get(ref)];
    const checked = new Map<string, Promise<'ok' | 'missing' | 'corrupt'>>();
    const problems: VerifyProblem[] = [];
    let files = 0;
    let bytes = 0;
    for (const v of versions) {
      for (const f of v.files) {
        files++;
        let result = checked.get(f.digest);
        if (result === undefined) {
          bytes += f.size;
          result = this.blobs.check(f.digest, f.size);
          checked.set(f.digest, result);
        }
        const status = await result;
        if (status !== 'ok') problems.push({ model: `${v.name}:${v.version}`, path: f.path, digest: f.digest, problem: status });
      }
    }
    return { files, blobs: checked.size, bytes, problems };
  }

  counts(): { models: number; versions: number } {
    return this.db.prepare('SELECT COUNT(DISTINCT name) AS models, COUNT(*) AS versions FROM model_versions').get() as { models: number; versions: number };
  }

  /** Removes the blobs among `digests` that no committed version and no open upload still references. */
  private releaseBlobs(digests: readonly string[]): void {
    if (digests.length === 0) return;
    const held = this.uploads.digests();
    const used = this.db.prepare('SELECT 1 FROM model_files WHERE digest = ? LIMIT 1');
    for (const d of new Set(digests)) if (!held.has(d) && used.get(d) === undefined) this.blobs.remove(d);
  }
}

function toVersion(row: VersionRow): ModelVersion {
  return { ...row, tags: JSON.parse(row.tags) as Record<string, string> };
}

function notFound(ref: ModelRef): BerthError {
  return new BerthError('MODEL_NOT_FOUND', { model: ref.version === undefined ? ref.name : `${ref.name}:${ref.version}` });
}

function invalid(field: string, detail: string): never {
  throw new BerthError('VALIDATION_FAILED', { field, detail });
}
