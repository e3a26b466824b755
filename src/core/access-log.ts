// The one-line-per-request access log, pre-formatted and written straight to the logger's destination: pino's generic path costs several µs a line.
import { pino, type Logger } from 'pino';

export interface AccessRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly bytes: number;
  readonly requestId: string;
}

type Destination = { write(line: string): unknown };

/** Printable ASCII without `"` and `\\`: written between quotes as it is, the same JSON JSON.stringify would give. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string literal; the regex check costs far less than JSON.stringify for the ids and paths seen in practice. */
export function jsonString(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** Writes lines with the same fields pino would (level, time, pid, name, msg), so one parser reads the whole log. */
export function createAccessLog(log: Logger): (r: AccessRecord) => void {
  const destination = (log as unknown as Record<symbol, Destination | undefined>)[pino.symbols.streamSym];
  const bindings = log.bindings() as { pid?: number; name?: string };
  const prefix = `{"level":30,"time":"`;
  const suffix = `","pid":${bindings.pid ?? process.pid},"name":${JSON.stringify(bindings.name ?? 'berth')},`;
  let lastMs = 0;
  let lastIso = '';
  // Method and path repeat from request to request: their JSON is kept.
  let lastMethod = '';
  let lastMethodJson = '""';
  let lastPath = '';
  let lastPathJson = '""';
  if (destination === undefined) return (r) => log.info({ method: r.method, path: r.path, status: r.status, duration_ms: r.durationMs, bytes: r.bytes, request_id: r.requestId }, 'request');
  return (r) => {
    if (!log.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    if (r.method !== lastMethod) lastMethodJson = jsonString((lastMethod = r.method));
    if (r.path !== lastPath) lastPathJson = jsonString((lastPath = r.path));
    destination.write(
      `${prefix}${lastIso}${suffix}"method":${lastMethodJson},"path":${lastPathJson},"status":${r.status},"duration_ms":${Math.round(r.durationMs * 100) / 100},"bytes":${r.bytes},"request_id":${jsonString(r.requestId)},"msg":"request"}\n`,
    );
  };
}
