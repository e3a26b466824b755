// The images table (one row per layer image made, pulled or attempted), the resolved locks, and each service's last image.
import type { Db } from '../control/store/db.js';
import type { ImageLock } from './resolve.js';
import type { ImageKind } from './tags.js';

export type ImageState = 'building' | 'built' | 'failed';
export type Outcome = 'reused-local' | 'pulled' | 'built';

export interface Failure {
  readonly code: string;
  readonly params: Readonly<Record<string, string | number>>;
}

export interface ImageRecord {
  readonly tag: string;
  readonly kind: ImageKind;
  readonly key: string;
  readonly parent?: string;
  readonly imageId?: string;
  readonly digest?: string;
  readonly ref?: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly lock?: ImageLock;
  readonly size?: number;
  readonly state: ImageState;
  readonly outcome?: Outcome;
  readonly why?: string;
  readonly service?: string;
  readonly failure?: Failure;
  readonly logPath: string;
  readonly buildMs?: number;
  readonly createdAt: string;
  readonly lastUsedAt: string;
}

interface Row {
  tag: string; kind: ImageKind; key: string; parent: string | null; image_id: string | null; digest: string | null; ref: string | null;
  inputs: string; lock: string | null; size: number | null; state: ImageState; outcome: Outcome | null; why: string | null;
  service: string | null; failure: string | null; log_path: string; build_ms: number | null; created_at: string; last_used_at: string;
}

export interface LockRecord {
  readonly key: string;
  readonly envDigest: string;
  readonly lock: ImageLock;
  readonly dir: string;
}

const opt = <K extends string, V>(key: K, v: V | null): { [P in K]?: V } => (v === null ? {} : ({ [key]: v } as { [P in K]?: V }));

function fromRow(r: Row): ImageRecord {
  return {
    tag: r.tag, kind: r.kind, key: r.key, state: r.state, logPath: r.log_path, createdAt: r.created_at, lastUsedAt: r.last_used_at,
    inputs: JSON.parse(r.inputs) as Record<string, unknown>,
    ...opt('parent', r.parent), ...opt('imageId', r.image_id), ...opt('digest', r.digest), ...opt('ref', r.ref),
    ...opt('lock', r.lock === null ? null : (JSON.parse(r.lock) as ImageLock)), ...opt('size', r.size), ...opt('outcome', r.outcome),
    ...opt('why', r.why), ...opt('service', r.service), ...opt('failure', r.failure === null ? null : (JSON.parse(r.failure) as Failure)),
    ...opt('buildMs', r.build_ms),
  };
}

export class ImageStore {
  constructor(private readonly db: Db, private readonly now: () => Date) {}

  get(tag: string): ImageRecord | undefined {
    const row = this.db.prepare('SELECT * FROM images WHERE tag = ?').get(tag) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  list(): ImageRecord[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY last_used_at DESC, tag').all() as Row[]).map(fromRow);
  }

  /** A row about to be built (or pulled): replaces an earlier failed or vanished one of the same tag. */
  begin(r: Pick<ImageRecord, 'tag' | 'kind' | 'key' | 'inputs' | 'logPath'> & { parent?: string; service?: string; lock?: ImageLock }): void {
    const at = this.now().toISOString();
    this.db.prepare(`INSERT INTO images (tag, kind, key, parent, inputs, lock, state, service, log_path, created_at, last_used_at)
      VALUES (@tag, @kind, @key, @parent, @inputs, @lock, 'building', @service, @log, @at, @at)
      ON CONFLICT(tag) DO UPDATE SET state = 'building', failure = NULL, why = NULL, inputs = @inputs, lock = @lock, parent = @parent, log_path = @log, last_used_at = @at`)
      .run({ tag: r.tag, kind: r.kind, key: r.key, parent: r.parent ?? null, inputs: JSON.stringify(r.inputs), lock: r.lock === undefined ? null : JSON.stringify(r.lock), service: r.service ?? null, log: r.logPath, at });
  }

  /** The image is here: built, pulled, or found already made. */
  done(tag: string, d: { imageId: string; size: number; outcome: Outcome; digest?: string; ref: string; why?: string; buildMs?: number }): void {
    this.db.prepare(`UPDATE images SET state = 'built', image_id = ?, size = ?, outcome = ?, digest = COALESCE(?, digest), ref = ?,
      why = COALESCE(?, why), build_ms = COALESCE(?, build_ms), failure = NULL, last_used_at = ? WHERE tag = ?`)
      .run(d.imageId, d.size, d.outcome, d.digest ?? null, d.ref, d.why ?? null, d.buildMs === undefined ? null : Math.round(d.buildMs), this.now().toISOString(), tag);
  }

  failed(tag: string, failure: Failure, buildMs: number): void {
    this.db.prepare("UPDATE images SET state = 'failed', failure = ?, build_ms = ?, last_used_at = ? WHERE tag = ?")
      .run(JSON.stringify(failure), Math.round(buildMs), this.now().toISOString(), tag);
  }

  /** A row for an image berth did not make but records (a base image, a layer found locally with no row). */
  record(r: Pick<ImageRecord, 'tag' | 'kind' | 'key' | 'inputs' | 'logPath'> & { parent?: string; imageId: string; size: number; ref: string; outcome: Outcome; digest?: string }): void {
    this.begin(r);
    this.done(r.tag, r);
  }

  setDigest(tag: string, digest: string, ref: string): void {
    this.db.prepare('UPDATE images SET digest = ?, ref = ? WHERE tag = ?').run(digest, ref, tag);
  }

  touch(tags: readonly string[]): void {
    const at = this.now().toISOString();
    const stmt = this.db.prepare('UPDATE images SET last_used_at = ? WHERE tag = ?');
    this.db.transaction(() => {
      for (const t of tags) stmt.run(at, t);
    })();
  }

  remove(tag: string): void {
    this.db.prepare('DELETE FROM images WHERE tag = ?').run(tag);
  }

  /** Rows a build stopped (the process died) left as building: they failed. */
  interrupted(): number {
    const failure: Failure = { code: 'IMAGE_BUILD_FAILED', params: { step: 'the build', reason: 'it was interrupted: the control plane stopped before it finished', tail: '' } };
    return this.db.prepare("UPDATE images SET state = 'failed', failure = ? WHERE state = 'building'").run(JSON.stringify(failure)).changes;
  }

  lock(key: string): LockRecord | undefined {
    const row = this.db.prepare('SELECT key, env_digest, lock, dir FROM image_locks WHERE key = ?').get(key) as { key: string; env_digest: string; lock: string; dir: string } | undefined;
    return row === undefined ? undefined : { key: row.key, envDigest: row.env_digest, lock: JSON.parse(row.lock) as ImageLock, dir: row.dir };
  }

  saveLock(r: LockRecord): void {
    this.db.prepare('INSERT INTO image_locks (key, env_digest, lock, dir, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET lock = excluded.lock, dir = excluded.dir, created_at = excluded.created_at')
      .run(r.key, r.envDigest, JSON.stringify(r.lock), r.dir, this.now().toISOString());
  }

  locks(): LockRecord[] {
    return (this.db.prepare('SELECT key, env_digest, lock, dir FROM image_locks').all() as { key: string; env_digest: string; lock: string; dir: string }[])
      .map((row) => ({ key: row.key, envDigest: row.env_digest, lock: JSON.parse(row.lock) as ImageLock, dir: row.dir }));
  }

  removeLock(key: string): void {
    this.db.prepare('DELETE FROM image_locks WHERE key = ?').run(key);
  }

  serviceImage(service: string): ImageRecord | undefined {
    const row = this.db.prepare('SELECT i.* FROM service_images s JOIN images i ON i.tag = s.tag WHERE s.service = ?').get(service) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  setServiceImage(service: string, tag: string): void {
    this.db.prepare('INSERT INTO service_images (service, tag, used_at) VALUES (?, ?, ?) ON CONFLICT(service) DO UPDATE SET tag = excluded.tag, used_at = excluded.used_at')
      .run(service, tag, this.now().toISOString());
  }

  /** The last image of every service that still exists: kept by prune, whatever else the composition root says is in use. */
  servicesLatest(): Set<string> {
    const rows = this.db.prepare('SELECT s.tag FROM service_images s JOIN services v ON v.name = s.service').all() as { tag: string }[];
    return new Set(rows.map((r) => r.tag));
  }
}
