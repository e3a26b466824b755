// The pino logger factory: one JSON line per event; the lines of one event-loop turn leave in one write.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

type SyncDestination = ReturnType<typeof pino.destination>;

/**
 * Collects the lines written during one turn of the event loop and writes them at its end, synchronously and in order.
 * A write per line (one per request, with the access log) cost a quarter of a busy server's time; a batch held back
 * for longer would be lost with a process killed by SIGKILL (an out-of-memory kill), whose last lines say why it died.
 */
export class TurnBufferedDestination {
  private pending = '';
  private scheduled = false;

  constructor(private readonly target: SyncDestination) {}

  write(line: string): boolean {
    this.pending += line;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return true;
  }

  /** Writes out what this turn collected so far. */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending === '') return;
    const out = this.pending;
    this.pending = '';
    try {
      this.target.write(out);
    } catch {
      // The log's file or pipe is gone: the process goes on without it.
    }
  };

  flushSync(): void {
    this.flush();
  }
}

const destinations: TurnBufferedDestination[] = [];

export function createLogger(options: { name: string; level?: string; destination?: number | string }): Logger {
  // sync: sonic-boom writes at once and retries a full non-blocking pipe itself.
  const destination = new TurnBufferedDestination(pino.destination({ dest: options.destination ?? 1, sync: true }));
  // Lines of the last turn reach the log however the process exits (process.exit, an uncaught error).
  if (destinations.push(destination) === 1) process.once('exit', flushLogsSync);
  return pino({ name: options.name, level: options.level ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** Writes out, in order, whatever the destinations still hold; call right before process.exit. */
export function flushLogsSync(): void {
  for (const destination of destinations) destination.flushSync();
}

/** Hands this turn's lines to the OS now (a line someone waits for, e.g. `listening`). */
export function flushLogger(log: Logger): void {
  const destination = (log as unknown as Record<symbol, { flush?: () => void } | undefined>)[pino.symbols.streamSym];
  destination?.flush?.();
}
