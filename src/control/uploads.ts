// Upload sessions: the files of a model version being registered, held in memory until it is committed or dropped.
import { randomUUID } from 'node:crypto';
import { BerthError } from '../errors/catalogue.js';

export interface UploadedFile {
  readonly digest: string;
  readonly size: number;
}

export interface UploadMeta {
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface UploadSession extends UploadMeta {
  readonly id: string;
  readonly files: Map<string, UploadedFile>;
  /** Files being received right now; a busy session is neither expired nor committed. */
  busy: number;
  touchedAt: number;
}

/**
 * Sessions live in memory on purpose: a restart ends every upload (its HTTP requests die with the process), and the
 * start-up garbage collection then removes the blobs nobody committed.
 */
export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    private readonly idleMs: number = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens a session; also drops idle ones and returns them so their blobs can be released. */
  create(meta: UploadMeta): { session: UploadSession; expired: UploadSession[] } {
    const expired = this.expire();
    const session: UploadSession = { ...meta, id: randomUUID(), files: new Map(), busy: 0, touchedAt: this.now() };
    this.sessions.set(session.id, session);
    return { session, expired };
  }

  get(id: string): UploadSession {
    const session = this.sessions.get(id);
    if (session === undefined) throw new BerthError('UPLOAD_NOT_FOUND', { upload: id });
    session.touchedAt = this.now();
    return session;
  }

  /** True while the session still exists (it may be aborted while one of its files is being received). */
  isOpen(session: UploadSession): boolean {
    return this.sessions.get(session.id) === session;
  }

  remove(id: string): void {
    this.sessions.delete(id);
  }

  /** Digests held by open sessions: their blobs must not be removed before the session ends. */
  digests(): Set<string> {
    const out = new Set<string>();
    for (const s of this.sessions.values()) for (const f of s.files.values()) out.add(f.digest);
    return out;
  }

  private expire(): UploadSession[] {
    const limit = this.now() - this.idleMs;
    const expired = [...this.sessions.values()].filter((s) => s.busy === 0 && s.touchedAt < limit);
    for (const s of expired) this.sessions.delete(s.id);
    return expired;
  }
}
