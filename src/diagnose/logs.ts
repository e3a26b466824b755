// Reads replica output for diagnosis: pino JSON lines (access log, run() errors, init failures) and the plain lines around them.
import type { DiagLog } from './types.js';

export interface LogRecord {
  readonly replica: string;
  readonly kind: DiagLog['kind'];
  readonly timeMs: number;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly raw: string;
}

/** The JSON lines of the logs that carry a time, in file order. */
export function jsonRecords(logs: readonly DiagLog[]): LogRecord[] {
  const out: LogRecord[] = [];
  for (const log of logs) {
    for (const raw of log.text.split('\n')) {
      if (!raw.startsWith('{')) continue;
      try {
        const fields = JSON.parse(raw) as Record<string, unknown>;
        const timeMs = typeof fields.time === 'string' ? Date.parse(fields.time) : typeof fields.time === 'number' ? fields.time : NaN;
        if (Number.isFinite(timeMs)) out.push({ replica: log.replica, kind: log.kind, timeMs, fields, raw });
      } catch {
        // a partial line at the head of a tail: not evidence
      }
    }
  }
  return out;
}

/** One access-log line per finished request at a replica. */
export interface AccessLine { readonly replica: string; readonly timeMs: number; readonly status: number; readonly ms: number; readonly requestId: string }

/** Access-log lines in [from, to]; a request is counted once even when it shows up in both the current and the previous run. */
export function accessLines(records: readonly LogRecord[], from: number, to: number): AccessLine[] {
  const seen = new Set<string>();
  const out: AccessLine[] = [];
  for (const r of records) {
    const f = r.fields;
    if (f.msg !== 'request' || typeof f.status !== 'number' || r.timeMs < from || r.timeMs > to) continue;
    const requestId = typeof f.request_id === 'string' ? f.request_id : '';
    const key = `${r.replica} ${requestId} ${r.timeMs}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ replica: r.replica, timeMs: r.timeMs, status: f.status, ms: typeof f.duration_ms === 'number' ? f.duration_ms : 0, requestId });
  }
  return out.sort((a, b) => a.timeMs - b.timeMs);
}

/** The last `n` non-empty lines of a text, without pino JSON noise unless nothing else is there. */
export function lastLines(text: string, n: number): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  const plain = lines.filter((l) => !l.startsWith('{'));
  const pick = plain.length > 0 ? plain : lines;
  return pick.slice(Math.max(0, pick.length - n)).map((l) => (l.length > 300 ? `${l.slice(0, 297)}...` : l));
}

/** `p`-quantile (0–1) of sorted values by the nearest-rank rule. */
export function quantile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const round = (v: number, digits = 1): number => Number(v.toFixed(digits));
