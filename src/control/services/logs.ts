// Reading replicas' logs for `berth service logs`: the tail of a run's output, its start-up output, or what was appended since an offset.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import { replicaLogPaths, type LogKind } from '../../targets/local/index.js';
import { previousLogPath } from '../../targets/local/replica-logs.js';
import type { ReplicaObserver } from './target.js';
import type { ServiceStore } from './service-store.js';

export const logChunkSchema = z.object({
  replica: z.string(),
  kind: z.enum(['current', 'previous', 'init']),
  text: z.string(),
  /** Byte offset in the file where `text` starts, and the file's size: the next `offset` to follow it. */
  offset: z.number().int(),
  size: z.number().int(),
});
export type LogChunk = z.infer<typeof logChunkSchema>;

/** A tail never reads more than this from the end of a file (replica logs grow with every request). */
const TAIL_WINDOW = 8 * 1024 * 1024;

function readRange(path: string, from: number | 'tail'): { text: string; offset: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { text: '', offset: 0, size: 0 };
  }
  try {
    const size = fstatSync(fd).size;
    // A follower's offset past the end means the file was replaced (the replica restarted): start it over.
    const start = from === 'tail' ? Math.max(0, size - TAIL_WINDOW) : from > size ? 0 : from;
    const buf = Buffer.alloc(size - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    return { text: buf.subarray(0, n).toString('utf8'), offset: start, size: start + n };
  } finally {
    closeSync(fd);
  }
}

function lastLines(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.length === 0 ? '' : lines.slice(Math.max(0, lines.length - n)).join('\n') + '\n';
}

export interface LogQuery {
  readonly replica?: string;
  readonly kind: LogKind;
  /** For `previous`: how many runs back (1 = the run before the current one, up to 5). */
  readonly back?: number;
  readonly tail: number;
  readonly offset?: number;
}

export class ServiceLogs {
  constructor(private readonly store: ServiceStore, private readonly target: ReplicaObserver, private readonly logDir: string) {}

  read(service: string, q: LogQuery): LogChunk[] {
    const svc = this.store.get(service);
    const ids = q.replica === undefined ? this.current(service) : [this.resolve(service, svc.generation, q.replica)];
    return ids.map((replica) => {
      const paths = replicaLogPaths(this.logDir, service, replica);
      const path = q.kind === 'previous' ? previousLogPath(paths, q.back ?? 1) : paths[q.kind];
      if (q.offset !== undefined) return { replica, kind: q.kind, ...readRange(path, q.offset) };
      const r = readRange(path, 'tail');
      return { replica, kind: q.kind, text: lastLines(r.text, q.tail), offset: r.offset, size: r.size };
    });
  }

  /** The service's replicas now, oldest generation first, by index. */
  private current(service: string): string[] {
    const rows = this.store.replicas(service);
    const supervised = this.target.list(service).map((s) => s.replicaId);
    return [...new Set([...rows.map((r) => r.id), ...supervised])];
  }

  /** `--replica` as an index of the running version, or a replica id (also of a replaced replica whose logs remain). */
  private resolve(service: string, generation: number, given: string): string {
    if (/^\d+$/.test(given)) {
      const row = this.store.replicas(service).find((r) => r.generation === generation && r.index === Number(given));
      if (row !== undefined) return row.id;
    } else if (given.startsWith(`${service}-`) && /^[a-z0-9-]+$/.test(given)) {
      const paths = replicaLogPaths(this.logDir, service, given);
      if (this.current(service).includes(given) || existsSync(paths.current) || existsSync(paths.init)) return given;
    }
    throw new BerthError('REPLICA_NOT_FOUND', { service, replica: given });
  }
}
