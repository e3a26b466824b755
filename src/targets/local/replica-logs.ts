// A replica's log files: the current run, the previous run (`logs --previous`) and the start-up output (`logs --init`).
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { capLogFile } from '../../core/log-cap.js';
import type { ReplicaLogPaths } from '../types.js';

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** `<logDir>/<service>/<replica>.log`, `.previous.log`, `.init.log` and `.rotated.log`. */
export function replicaLogPaths(logDir: string, serviceName: string, replicaId: string): ReplicaLogPaths {
  const base = join(logDir, safe(serviceName), safe(replicaId));
  return { current: `${base}.log`, previous: `${base}.previous.log`, init: `${base}.init.log`, rotated: `${base}.rotated.log` };
}

/** Keeps the current run's log under `maxBytes` (see capLogFile); true when it cut. */
export function capRunLog(paths: ReplicaLogPaths, maxBytes: number): boolean {
  return capLogFile(paths.current, paths.rotated, maxBytes);
}

/** How many earlier runs' output a replica keeps (`logs --previous=N`, N from 1). */
export const KEPT_RUNS = 5;

/** The output of the run N runs back: 1 is `.previous.log`, 2..KEPT_RUNS `.previous.N.log`. */
export function previousLogPath(paths: ReplicaLogPaths, n: number): string {
  return n <= 1 ? paths.previous : paths.previous.replace(/\.previous\.log$/, `.previous.${n}.log`);
}

/**
 * Prepares the files for a new run and returns an append-mode fd for its stdout and stderr. The replica writes to the
 * file itself (not through a pipe to the supervisor) so it keeps logging, and keeps running, if the control plane dies.
 * The runs before it move one place back; the oldest kept one goes.
 */
export function openRunLog(paths: ReplicaLogPaths): number {
  rotateRunLogs(paths);
  return openSync(paths.current, 'a');
}

/** Keeps the previous runs' logs (current → previous → previous.2 …) so that `paths.current` is free for a new run. */
export function rotateRunLogs(paths: ReplicaLogPaths): void {
  mkdirSync(join(paths.current, '..'), { recursive: true });
  if (existsSync(paths.current) && statSync(paths.current).size > 0) {
    for (let n = KEPT_RUNS - 1; n >= 1; n--) {
      const from = previousLogPath(paths, n);
      if (existsSync(from)) renameSync(from, previousLogPath(paths, n + 1));
    }
    renameSync(paths.current, paths.previous);
  }
  rmSync(paths.rotated, { force: true }); // it belonged to the run before
}

export function closeFd(fd: number): void {
  try { closeSync(fd); } catch { /* already closed */ }
}

/** Reads a file from byte `offset` on; used to follow the run's output without re-reading it. */
export function readFrom(path: string, offset: number): { text: string; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { text: '', size: offset };
  }
  try {
    const size = fstatSync(fd).size;
    // Shorter than what was read: the log was cut back (capRunLog), and all of it is new.
    const from = size < offset ? 0 : offset;
    if (size === from) return { text: '', size };
    const buf = Buffer.alloc(size - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    return { text: buf.subarray(0, n).toString('utf8'), size: from + n };
  } finally {
    closeSync(fd);
  }
}

/** The port from `berth serve`'s `listening` log line, once it is there. */
export function findListeningPort(text: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !(line.includes('"listening') || line.includes('"probes on'))) continue;
    try {
      const o = JSON.parse(line) as { msg?: unknown; port?: unknown };
      // `probes on` comes first (the server answers /ready while the entry script starts); `listening` once it serves.
      if (typeof o.msg === 'string' && (o.msg.startsWith('probes on') || o.msg.startsWith('listening')) && typeof o.port === 'number') return o.port;
    } catch {
      // A partly written line: the next read completes it.
    }
  }
  return undefined;
}

/** Follows a run's log from the start until `berth serve` says which port it listens on. */
export class ListeningFollower {
  private partial = '';

  constructor(private readonly path: string, private offset = 0) {}

  /** Bytes of the log read so far. */
  get bytesRead(): number {
    return this.offset;
  }

  /** Reads what was appended since the last call; the port once the `listening` line is there. */
  poll(): number | undefined {
    const { text, size } = readFrom(this.path, this.offset);
    this.offset = size;
    const all = this.partial + text;
    const cut = all.lastIndexOf('\n') + 1;
    this.partial = all.slice(cut);
    return findListeningPort(all.slice(0, cut));
  }
}

/** Keeps the run's output up to `bytes` (all of it when undefined) as the start-up log. */
export function saveInitLog(paths: ReplicaLogPaths, bytes?: number): void {
  if (!existsSync(paths.current)) return writeFileSync(paths.init, '');
  if (bytes === undefined) return copyFileSync(paths.current, paths.init);
  writeFileSync(paths.init, readFileSync(paths.current).subarray(0, bytes));
}

export type LogKind = 'current' | 'previous' | 'init';

/** The text of one of a replica's logs, optionally only its last `tail` lines; '' when there is none. `back` picks an older previous run. */
export function readReplicaLog(paths: ReplicaLogPaths, kind: LogKind, tail?: number, back = 1): string {
  const text = readText(kind === 'previous' ? previousLogPath(paths, back) : paths[kind]);
  if (tail === undefined) return kind === 'current' ? readText(paths.rotated) + text : text;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (kind === 'current' && lines.length < tail) {
    // The run's older lines, when its log was cut back.
    const older = readText(paths.rotated).split('\n');
    if (older[older.length - 1] === '') older.pop();
    const all = older.slice(Math.max(0, older.length - (tail - lines.length))).concat(lines);
    return all.join('\n') + (all.length > 0 ? '\n' : '');
  }
  return lines.slice(Math.max(0, lines.length - tail)).join('\n') + (lines.length > 0 ? '\n' : '');
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
