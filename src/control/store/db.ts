// Opens the control plane's SQLite store (WAL) and brings its schema up to date with the versioned migrations.
import Database from 'better-sqlite3';
import { BerthError } from '../../errors/catalogue.js';
import { migrations as allMigrations, type Migration } from './migrations.js';

export type Db = Database.Database;

export function openStore(path: string, migrations: readonly Migration[] = allMigrations): Db {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode never corrupts and never loses a commit on a process kill; blobs are fsynced themselves.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, path, migrations);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Applies, in order, every migration above the store's user_version; each step and its version bump in one transaction. */
export function migrate(db: Db, path: string, migrations: readonly Migration[]): number {
  const known = migrations.length;
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} is numbered ${m.version}`);
  });
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found > known) throw new BerthError('STORE_TOO_NEW', { path, found, known });
  for (const m of migrations.slice(found)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return known;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
