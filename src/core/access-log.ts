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

/** Writes lines with the same fields pino would (level, time, pid, name, msg), so one parser reads the whole log. */
export function createAccessLog(log: Logger): (r: AccessRecord) => void {
  const destination = (log as unknown as Record<symbol, Destination | undefined>)[pino.symbols.streamSym];
  const bindings = log.bindings() as { pid?: number; name?: string };
  const prefix = `{"level":30,"time":"`;
  const suffix = `","pid":${bindings.pid ?? process.pid},"name":${JSON.stringify(bindings.name ?? 'berth')},`;
  let lastMs = 0;
  let lastIso = '';
  if (destination === undefined) return (r) => log.info({ method: r.method, path: r.path, status: r.status, duration_ms: r.durationMs, bytes: r.bytes, request_id: r.requestId }, 'request');
  return (r) => {
    if (!log.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    destination.write(
      `${prefix}${lastIso}${suffix}"method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path)},"status":${r.status},"duration_ms":${Math.round(r.durationMs * 100) / 100},"bytes":${r.bytes},"request_id":${JSON.stringify(r.requestId)},"msg":"request"}\n`,
    );
  };
}
