// The run file under $BERTH_HOME: a lock that keeps one control plane per home, and where `down`/`status` find it.
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BerthError } from '../errors/catalogue.js';

const runInfoSchema = z.object({
  pid: z.number().int().positive(),
  // The process's start time (Linux /proc), so a recycled pid is not taken for a live control plane.
  pid_start: z.string().optional(),
  home: z.string(),
  version: z.string(),
  started_at: z.string(),
  url: z.string().optional(), // absent while starting (before the port is bound)
  // Where the admin token is kept, for the CLI on this machine; never the token itself (this file is world-readable).
  admin_token_file: z.string().optional(),
});

export type RunInfo = z.infer<typeof runInfoSchema>;

export function runFilePath(home: string): string {
  return join(home, 'control-plane.json');
}

/** The run file's content, or undefined when there is none or it is unreadable. */
export function readRunFile(home: string): RunInfo | undefined {
  let text: string;
  try {
    text = readFileSync(runFilePath(home), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = runInfoSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Field `n` (1-based, as in proc(5)) of /proc/<pid>/stat, on Linux. */
function procStatField(pid: number, n: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses, so count from its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3];
  } catch {
    return undefined;
  }
}

/** The process's start time in clock ticks since boot (Linux), to tell a recycled pid from the original. */
export function processStart(pid: number): string | undefined {
  return procStatField(pid, 22);
}

export function isAlive(info: Pick<RunInfo, 'pid' | 'pid_start'>): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // An exited process stays a zombie until its parent (init, for a detached one) reaps it: that is not running.
  if (procStatField(info.pid, 3) === 'Z') return false;
  return info.pid_start === undefined || processStart(info.pid) === info.pid_start;
}

/** The run file of a control plane that is still alive, else undefined. */
export function liveRunInfo(home: string): RunInfo | undefined {
  const info = readRunFile(home);
  return info !== undefined && isAlive(info) ? info : undefined;
}

/**
 * Takes the home for this process: creates the run file exclusively. A live owner → CONTROL_PLANE_ALREADY_RUNNING;
 * a dead owner's file is stale and replaced.
 */
export function acquireRunFile(info: RunInfo): void {
  const path = runFilePath(info.home);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, JSON.stringify(info, null, 2) + '\n');
      } finally {
        closeSync(fd);
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = liveRunInfo(info.home);
    if (owner !== undefined) {
      throw new BerthError('CONTROL_PLANE_ALREADY_RUNNING', { server: owner.url ?? `home ${info.home}`, pid: owner.pid });
    }
    rmSync(path, { force: true });
  }
  throw new BerthError('CONTROL_PLANE_START_FAILED', { detail: `could not create ${path}`, log: path });
}

/** Rewrites our run file (e.g. with the bound URL) atomically, so readers never see half a file. */
export function publishRunFile(info: RunInfo): void {
  const path = runFilePath(info.home);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(info, null, 2) + '\n');
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Removes the run file if it is still ours. */
export function releaseRunFile(home: string, pid: number): void {
  if (readRunFile(home)?.pid === pid) rmSync(runFilePath(home), { force: true });
}
