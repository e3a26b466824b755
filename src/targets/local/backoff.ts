// Restart back-off for crashed replicas: 10 s doubling to 5 min, reset after a long healthy run (as the kubelet does).

export interface BackoffOptions {
  /** Delay before the first restart (default 10 000 ms). */
  readonly baseMs: number;
  /** Longest delay (default 300 000 ms). */
  readonly capMs: number;
  /** A run that lasted at least this long starts the sequence again (default 600 000 ms, twice the cap as in Kubernetes). */
  readonly resetAfterMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 10_000, capMs: 300_000, resetAfterMs: 600_000 };

/** The delay before restart number `restart` (1 = the first restart after a crash). */
export function backoffDelay(restart: number, options: Pick<BackoffOptions, 'baseMs' | 'capMs'> = defaultBackoff): number {
  const n = Math.max(1, Math.floor(restart));
  // Stop doubling once past the cap so huge restart counts do not overflow to Infinity.
  let delay = options.baseMs;
  for (let i = 1; i < n && delay < options.capMs; i++) delay *= 2;
  return Math.min(delay, options.capMs);
}

/** Counts consecutive crashes of one replica and gives the delay before each restart. */
export class RestartBackoff {
  private consecutive = 0;

  constructor(private readonly options: BackoffOptions = defaultBackoff) {}

  /** Crashes since the last reset. */
  get count(): number {
    return this.consecutive;
  }

  /** Called when a run ended after `ranMs`; returns how long to wait before starting the next one. */
  next(ranMs: number): number {
    if (ranMs >= this.options.resetAfterMs) this.consecutive = 0;
    this.consecutive += 1;
    return backoffDelay(this.consecutive, this.options);
  }

  reset(): void {
    this.consecutive = 0;
  }
}
