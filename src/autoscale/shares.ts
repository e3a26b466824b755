// How a service's autoscale bounds are shared between the generations of a rollout: each gets the part of min and max its load share asks for, at least one replica.

/** One generation's part of the load: its traffic weight, plus the mirrored copies it receives. */
export interface GenerationLoad {
  readonly generation: number;
  /** Percent of requests routed to it (0–100). */
  readonly weight: number;
  /** Percent of the other generations' requests copied to it (0–100), when it is the mirror target. */
  readonly mirror?: number;
}

/**
 * Relative load per generation: its own share of requests, plus the copies it gets (a mirror of p % of what goes
 * elsewhere). A generation at 0 % without a mirror has no share: apportion() still gives it its one replica.
 */
export function loadShares(loads: readonly GenerationLoad[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of loads) out.set(l.generation, l.weight / 100 + ((l.mirror ?? 0) / 100) * (1 - l.weight / 100));
  return out;
}

/**
 * Splits `total` replicas between generations in proportion to `shares`, each getting at least one (a generation in a
 * rollout must be able to answer the requests sent to it, a header's included). Largest remainder: generations start
 * at one, then each further replica goes to the one furthest below its exact quota (ties to the larger share, then
 * the older generation). The parts sum to `total` whenever `total` ≥ the number of generations; below that each
 * gets one, so a service with autoscale max 1 runs two replicas during a rollout.
 */
export function apportion(total: number, shares: ReadonlyMap<number, number>): Map<number, number> {
  const gens = [...shares.keys()].sort((a, b) => a - b);
  const out = new Map<number, number>(gens.map((g) => [g, 1]));
  if (gens.length === 0) return out;
  const sum = gens.reduce((n, g) => n + Math.max(0, shares.get(g)!), 0);
  const quota = (g: number): number => (sum > 0 ? (total * Math.max(0, shares.get(g)!)) / sum : total / gens.length);
  for (let left = total - gens.length; left > 0; left--) {
    let best = gens[0]!;
    for (const g of gens) {
      const gap = quota(g) - out.get(g)!;
      const bestGap = quota(best) - out.get(best)!;
      if (gap > bestGap + 1e-9 || (Math.abs(gap - bestGap) <= 1e-9 && shares.get(g)! > shares.get(best)!)) best = g;
    }
    out.set(best, out.get(best)! + 1);
  }
  return out;
}

export interface SharedBounds {
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/**
 * Each generation's autoscale bounds during a rollout: its apportioned part of the service's min and of its max (each
 * at least one, min never above max). `bounds` gives each generation's own spec min/max; with the same bounds on both
 * (the usual case) the parts of max sum to the service's max.
 */
export function sharedBounds(loads: readonly GenerationLoad[], bounds: (generation: number) => SharedBounds): Map<number, SharedBounds> {
  const shares = loadShares(loads);
  const out = new Map<number, SharedBounds>();
  for (const l of loads) {
    const own = bounds(l.generation);
    const max = apportion(own.maxReplicas, shares).get(l.generation)!;
    const min = Math.min(max, apportion(own.minReplicas, shares).get(l.generation)!);
    out.set(l.generation, { minReplicas: min, maxReplicas: max });
  }
  return out;
}
