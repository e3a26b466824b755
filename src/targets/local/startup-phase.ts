// Reads the start-up phase `berth serve` reports on /ready (phase, since, last output line) for a replica's status.
import type { StartupPhaseView } from '../types.js';

export function parseStartupPhase(body: string): StartupPhaseView | undefined {
  try {
    const o = JSON.parse(body) as { phase?: unknown; since?: unknown; last_output?: unknown };
    if (typeof o.phase !== 'string' || typeof o.since !== 'string') return undefined;
    return { name: o.phase, since: o.since, ...(typeof o.last_output === 'string' ? { lastOutput: o.last_output } : {}) };
  } catch {
    return undefined;
  }
}
