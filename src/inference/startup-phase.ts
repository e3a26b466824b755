// Where a starting server is, in one word with how long and its last output line: the least advanced worker's phase, then warming, then ready.
import { STARTUP_PHASES, type WorkerPhase } from './runtime/types.js';

export type ServerPhase = 'starting' | 'importing' | 'init' | 'warming' | 'ready';

export interface PhaseReport {
  readonly phase: ServerPhase;
  /** When the server entered the phase (ISO). */
  readonly since: string;
  readonly elapsed_ms: number;
  /** The last line the entry script printed while starting. */
  readonly last_output?: string;
}

/** A long line is cut: the report is for a status table, the whole line is in the log. */
const MAX_LINE = 300;

export class StartupPhase {
  private current: ServerPhase = 'starting';
  private sinceMs: number;
  private lastLine: string | undefined;
  private warming = false;
  private readied = false;

  constructor(private readonly now: () => number = Date.now) {
    this.sinceMs = now();
  }

  output(line: string): void {
    if (line.trim() === '') return;
    this.lastLine = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
  }

  setWarming(on: boolean): void {
    this.warming = on;
  }

  /** The server is serving: ready for good (a worker restarting later is a worker's phase, not the server's). */
  markReady(): void {
    this.readied = true;
  }

  report(workers: ReadonlyArray<{ readonly phase: WorkerPhase }>): PhaseReport {
    const phase = this.readied ? 'ready' : this.warming ? 'warming' : leastAdvanced(workers);
    if (phase !== this.current) {
      this.current = phase;
      this.sinceMs = this.now();
    }
    const elapsed = this.now() - this.sinceMs;
    return { phase, since: new Date(this.sinceMs).toISOString(), elapsed_ms: elapsed, ...(this.lastLine === undefined || phase === 'ready' ? {} : { last_output: this.lastLine }) };
  }
}

function leastAdvanced(workers: ReadonlyArray<{ readonly phase: WorkerPhase }>): ServerPhase {
  let least = STARTUP_PHASES.length - 1;
  for (const w of workers) {
    const at = STARTUP_PHASES.indexOf(w.phase);
    if (at >= 0 && at < least) least = at;
  }
  const phase = STARTUP_PHASES[least] as ServerPhase;
  // All workers ready but the server not yet serving: the warm-up (if any) is next.
  return phase === 'ready' ? 'warming' : phase;
}
