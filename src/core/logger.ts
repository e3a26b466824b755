// The pino logger factory: one JSON line per event, written asynchronously so logging stays off the hot path.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

const destinations: Array<ReturnType<typeof pino.destination>> = [];

export function createLogger(options: { name: string; level?: string; destination?: number | string }): Logger {
  const destination = pino.destination({ dest: options.destination ?? 1, sync: false });
  destinations.push(destination);
  return pino({ name: options.name, level: options.level ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** Writes out, in order, whatever the async destinations still buffer; call right before process.exit. */
export function flushLogsSync(): void {
  for (const destination of destinations) {
    try {
      destination.flushSync();
    } catch {
      // Not open yet, or already closed: nothing to write.
    }
  }
}
