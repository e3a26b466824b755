// The environments' rows: named versions (spec + digest) and one build record per digest, shared by every version with that digest.
import { BerthError } from '../../errors/catalogue.js';
import type { Db } from '../store/db.js';
import { envSpecSchema, type BuildState, type EnvRef, type EnvSpec } from './env-schema.js';
import { canonicalJson } from './spec.js';

export interface VersionRecord {
  readonly name: string;
  readonly version: number;
  readonly description: string;
  readonly spec: EnvSpec;
  readonly digest: string;
  readonly created_at: string;
}

/** The stored error of a failed build: its code and the params its message is rendered from, for any version asking. */
export interface BuildFailure {
  readonly code: 'ENVIRONMENT_BUILD_FAILED' | 'PACKAGE_INDEX_UNREACHABLE';
  readonly params: Readonly<Record<string, string>>;
}

export interface BuildRecord {
  readonly digest: string;
  readonly state: BuildState;
  readonly builds: number;
  readonly size?: number;
  readonly build_ms?: number;
  readonly started_at?: string;
  readonly finished_at?: string;
  readonly error?: BuildFailure;
}

interface VersionRow { name: string; version: number; description: string; spec: string; digest: string; created_at: string }
interface BuildRow { digest: string; state: BuildState; builds: number; size: number | null; build_ms: number | null; started_at: string | null; finished_at: string | null; error: string | null }

export class EnvironmentStore {
  constructor(private readonly db: Db, private readonly now: () => Date) {}

  /**
   * Adds the next version, unless the latest one has the same spec and description: creating an unchanged
   * environment again (a CI job re-run) returns the version it already is.
   */
  addVersion(name: string, description: string, spec: EnvSpec, digest: string): { record: VersionRecord; created: boolean } {
    return this.db.transaction(() => {
      const latest = this.find({ name });
      if (latest !== undefined && latest.description === description && canonicalJson(latest.spec) === canonicalJson(spec)) return { record: latest, created: false };
      const created = this.now().toISOString();
      this.db.prepare('INSERT INTO environments (name, latest_version, created_at) VALUES (?, 0, ?) ON CONFLICT(name) DO NOTHING').run(name, created);
      const next = (this.db.prepare('UPDATE environments SET latest_version = latest_version + 1 WHERE name = ? RETURNING latest_version').get(name) as { latest_version: number }).latest_version;
      this.db.prepare('INSERT INTO environment_versions (name, version, description, spec, digest, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(name, next, description, JSON.stringify(spec), digest, created);
      return { record: { name, version: next, description, spec, digest, created_at: created }, created: true };
    }).immediate();
  }

  find(ref: EnvRef): VersionRecord | undefined {
    const row = (ref.version === undefined
      ? this.db.prepare('SELECT * FROM environment_versions WHERE name = ? ORDER BY version DESC LIMIT 1').get(ref.name)
      : this.db.prepare('SELECT * FROM environment_versions WHERE name = ? AND version = ?').get(ref.name, ref.version)) as VersionRow | undefined;
    return row === undefined ? undefined : toVersion(row);
  }

  get(ref: EnvRef): VersionRecord {
    const found = this.find(ref);
    if (found === undefined) throw new BerthError('ENVIRONMENT_NOT_FOUND', { environment: ref.version === undefined ? ref.name : `${ref.name}:${ref.version}` });
    return found;
  }

  list(name?: string): VersionRecord[] {
    const rows = (name === undefined
      ? this.db.prepare('SELECT * FROM environment_versions ORDER BY name, version').all()
      : this.db.prepare('SELECT * FROM environment_versions WHERE name = ? ORDER BY version').all(name)) as VersionRow[];
    return rows.map(toVersion);
  }

  build(digest: string): BuildRecord | undefined {
    const row = this.db.prepare('SELECT * FROM environment_builds WHERE digest = ?').get(digest) as BuildRow | undefined;
    return row === undefined ? undefined : toBuild(row);
  }

  /** Digests whose build was running when the control plane stopped. */
  interrupted(): string[] {
    return (this.db.prepare("SELECT digest FROM environment_builds WHERE state = 'Building'").all() as { digest: string }[]).map((r) => r.digest);
  }

  /** A build starts: the counter goes up, so "built once" is a number a test can read. */
  buildStarted(digest: string): void {
    this.db.prepare(`INSERT INTO environment_builds (digest, state, builds, started_at) VALUES (?, 'Building', 1, ?)
      ON CONFLICT(digest) DO UPDATE SET state = 'Building', builds = builds + 1, started_at = excluded.started_at, finished_at = NULL, error = NULL`)
      .run(digest, this.now().toISOString());
  }

  buildSucceeded(digest: string, size: number, buildMs: number): void {
    this.db.prepare("UPDATE environment_builds SET state = 'Built', size = ?, build_ms = ?, finished_at = ?, error = NULL WHERE digest = ?")
      .run(size, Math.round(buildMs), this.now().toISOString(), digest);
  }

  /** A finished build found on disk that the store does not know as built (another process built it): no build is counted. */
  recordExisting(digest: string, size: number, buildMs: number): void {
    this.db.prepare(`INSERT INTO environment_builds (digest, state, builds, size, build_ms, finished_at) VALUES (?, 'Built', 0, ?, ?, ?)
      ON CONFLICT(digest) DO UPDATE SET state = 'Built', size = excluded.size, build_ms = excluded.build_ms, finished_at = excluded.finished_at, error = NULL`)
      .run(digest, size, Math.round(buildMs), this.now().toISOString());
  }

  buildFailed(digest: string, failure: BuildFailure, buildMs: number): void {
    this.db.prepare("UPDATE environment_builds SET state = 'Failed', size = NULL, build_ms = ?, finished_at = ?, error = ? WHERE digest = ?")
      .run(Math.round(buildMs), this.now().toISOString(), JSON.stringify(failure), digest);
  }

  counts(): { names: number; versions: number; builds: number } {
    const v = this.db.prepare('SELECT COUNT(DISTINCT name) AS names, COUNT(*) AS versions FROM environment_versions').get() as { names: number; versions: number };
    const b = this.db.prepare("SELECT COUNT(*) AS builds FROM environment_builds WHERE state = 'Built'").get() as { builds: number };
    return { ...v, builds: b.builds };
  }
}

function toVersion(row: VersionRow): VersionRecord {
  return { ...row, spec: envSpecSchema.parse(JSON.parse(row.spec)) };
}

function toBuild(row: BuildRow): BuildRecord {
  return {
    digest: row.digest,
    state: row.state,
    builds: row.builds,
    ...(row.size === null ? {} : { size: row.size }),
    ...(row.build_ms === null ? {} : { build_ms: row.build_ms }),
    ...(row.started_at === null ? {} : { started_at: row.started_at }),
    ...(row.finished_at === null ? {} : { finished_at: row.finished_at }),
    ...(row.error === null ? {} : { error: JSON.parse(row.error) as BuildFailure }),
  };
}
