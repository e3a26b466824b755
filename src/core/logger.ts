// The pino logger factory: one JSON line per event, written asynchronously so logging stays off the hot path.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

const destinations: Array<ReturnType<typeof pino.destination>> = [];

/**
 * Lines are not held back in a batch: a process killed by SIGKILL (an out-of-memory kill) must not take its last
 * lines with it, since those say why it died.
 */
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

/** Hands buffered lines to the OS now, without waiting for the batch to fill (a line someone waits for, e.g. `listening`). */
export function flushSoon(destination: { flush(): void }): void {
  try {
    destination.flush();
  } catch {
    // Nothing buffered, or a write is already under way and will take the buffer with it.
  }
}

/** flushSoon for a logger's destination. */
export function flushLogger(log: Logger): void {
  const destination = (log as unknown as Record<symbol, { flush(): void } | undefined>)[pino.symbols.streamSym];
  if (destination !== undefined) flushSoon(destination);
}
