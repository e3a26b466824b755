// Keeps an append-only log file under a size: past it, the file is copied aside (one older copy kept) and emptied.
import { copyFileSync, fstatSync, statSync, truncateSync } from 'node:fs';

/** The cap for replica and control-plane logs: an access line per request fills a disk otherwise. */
export const DEFAULT_LOG_CAP_BYTES = 64 * 1024 * 1024;

/**
 * Past `maxBytes`, copies `path` to `rotatedPath` (replacing the copy before) and empties it. Writers holding an
 * append-mode descriptor write on at the start of the emptied file; lines written during the copy itself can be lost,
 * as with logrotate's copytruncate. True when it cut.
 */
export function capLogFile(path: string, rotatedPath: string, maxBytes: number): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  copyFileSync(path, rotatedPath);
  truncateSync(path, 0);
  return true;
}

/** Whether file descriptor `fd` writes to `path` (a detached control plane's stdout is its log file). */
export function writesTo(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.isFile() && a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
