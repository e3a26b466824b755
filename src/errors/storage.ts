// Which errors of the store (SQLite and the files under the home) are storage failures, 507 STORAGE_FAILED, not bugs.
import { BerthError } from './catalogue.js';

/** Errno codes that mean the disk is full, a quota or file-size limit is reached, or the device failed or is read-only. */
const FS_STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EROFS']);
/** Also storage failures where berth itself writes a file of the store (blobs): the home is not writable. */
const FS_PERMISSION_CODES = new Set(['EACCES', 'EPERM']);
/**
 * SQLite's primary result codes that say the disk failed berth, not that berth misused SQLite: full (SQLITE_FULL, which
 * SQLite reports for ENOSPC too), an I/O error, a file it cannot open, a database it may not write. Corruption
 * (SQLITE_CORRUPT, SQLITE_NOTADB), contention (SQLITE_BUSY) and SQL errors stay what they are.
 */
const SQLITE_STORAGE_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_READONLY']);

export interface StorageErrorOptions {
  /** Count EACCES/EPERM too: only for errors of berth's own writes under the home, never for, say, a spawn. */
  readonly permissions?: boolean;
}

/**
 * The code (errno or SQLite's, e.g. SQLITE_IOERR_WRITE) that makes `err`, or an error it wraps as `cause`, a storage
 * failure; undefined when it is none.
 */
export function storageErrorCode(err: unknown, options: StorageErrorOptions = {}): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && isStorageCode(code, options)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isStorageCode(code: string, options: StorageErrorOptions): boolean {
  if (FS_STORAGE_CODES.has(code)) return true;
  if (options.permissions === true && FS_PERMISSION_CODES.has(code)) return true;
  // better-sqlite3 reports extended codes (SQLITE_IOERR_FSYNC, SQLITE_READONLY_DBMOVED): the primary code decides.
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0];
  return primary !== undefined && SQLITE_STORAGE_CODES.has(primary) && code !== 'SQLITE_IOERR_NOMEM';
}

/**
 * STORAGE_FAILED (507) naming `home` when `err` is a storage failure, keeping `err` as its cause for the log; undefined
 * otherwise. A BerthError is never rewritten: it already says what went wrong.
 */
export function storageFailure(err: unknown, home: string, options: StorageErrorOptions = {}): BerthError | undefined {
  if (err instanceof BerthError) return undefined;
  const code = storageErrorCode(err, options);
  if (code === undefined) return undefined;
  const message = err instanceof Error ? err.message : String(err);
  const detail = message.includes(code) ? message : `${message} (${code})`;
  return new BerthError('STORAGE_FAILED', { home, detail }, { cause: err });
}
