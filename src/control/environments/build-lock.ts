// One build per digest: an in-process map of running builds, and a lock file so two processes on one home never build into the same folder.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { isAlive, processStart } from '../runfile.js';

/** Runs `work` once per key at a time: a second caller while it runs gets the same promise. */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing !== undefined) return existing;
    const p = work().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  get(key: string): Promise<T> | undefined {
    return this.running.get(key);
  }

  all(): Promise<T>[] {
    return [...this.running.values()];
  }
}

/**
 * Takes the lock file at `path` (O_EXCL create), waiting while a live process holds it. A lock left by a process that
 * died (a crash mid-build) is taken over: its pid is gone, or was recycled (the start time differs).
 */
export async function acquireFileLock(path: string, o: { signal?: AbortSignal; pollMs?: number } = {}): Promise<() => void> {
  const me = JSON.stringify({ pid: process.pid, pid_start: processStart(process.pid) });
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, me);
      } finally {
        closeSync(fd);
      }
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!holderAlive(path)) {
      rmSync(path, { force: true });
      continue;
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
  }
}

function holderAlive(path: string): boolean {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; pid_start?: unknown };
    if (typeof holder.pid !== 'number') return false;
    return isAlive({ pid: holder.pid, ...(typeof holder.pid_start === 'string' ? { pid_start: holder.pid_start } : {}) });
  } catch {
    // Half-written: a holder writes its pid right after creating the file; give it that moment, but not forever.
    try {
      return Date.now() - statSync(path).mtimeMs < 5000;
    } catch {
      return false;
    }
  }
}
