// Request limits that `berth serve` and the gateway in front of its replicas must agree on.

/** Largest request body, in MiB (the classic server's 100 MiB). The gateway refuses more itself, before any replica is asked. */
export const DEFAULT_MAX_REQUEST_MB = 100;
/** A request's headers and body must have arrived within this many seconds, else 408. */
export const DEFAULT_BODY_TIMEOUT_S = 60;

export function mebibytes(mb: number): number {
  return Math.floor(mb * 1024 * 1024);
}

/** The largest body limit anyone may set: the scoring channel frames a body with a 32-bit length. */
export const MAX_REQUEST_MB = 2048;
