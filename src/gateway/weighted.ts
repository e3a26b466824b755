// Exact traffic splits: a smooth weighted round-robin over generations, the share that moves off a generation with no ready replica, and an exact mirror counter.

/**
 * Smooth weighted round-robin (as nginx balances upstreams): every pick adds each member's weight to its running score,
 * takes the highest, and subtracts the total from the winner. Over any run of `total` consecutive picks each member is
 * chosen exactly `weight` times, and picks are spread out (90/10 gives one in ten, not ten in a row), so a split is
 * exact on small counts where a coin per request drifts.
 */
export class SmoothWeighted<K> {
  private members: Array<{ key: K; weight: number; score: number }> = [];
  private total = 0;

  /** Replaces the weights (whole numbers ≥ 0); the scores restart only when the weights change, so a re-sync keeps the rhythm. */
  set(weights: ReadonlyArray<readonly [K, number]>): void {
    const same = weights.length === this.members.length && weights.every(([k, w], i) => this.members[i]!.key === k && this.members[i]!.weight === w);
    if (same) return;
    this.members = weights.map(([key, weight]) => ({ key, weight: Math.max(0, weight), score: 0 }));
    this.total = this.members.reduce((n, m) => n + m.weight, 0);
  }

  /** The next member, or undefined when no member has a weight. */
  pick(): K | undefined {
    if (this.total === 0) return undefined;
    let best: { key: K; weight: number; score: number } | undefined;
    for (const m of this.members) {
      if (m.weight === 0) continue;
      m.score += m.weight;
      if (best === undefined || m.score > best.score) best = m;
    }
    best!.score -= this.total;
    return best!.key;
  }
}

/**
 * The weights traffic actually follows: the configured ones of the generations that have a ready replica. A generation
 * without one drops out, so its share goes to the others in proportion (the chooser divides by what is left); when only
 * generations configured at 0 % are ready, they share the traffic equally rather than leave it unanswered.
 */
export function effectiveWeights(configured: ReadonlyArray<readonly [number, number]>, ready: ReadonlySet<number>): Array<[number, number]> {
  const live = configured.filter(([g]) => ready.has(g)).map(([g, w]): [number, number] => [g, w]);
  if (live.length > 0 && live.every(([, w]) => w === 0)) return live.map(([g]) => [g, 1]);
  return live;
}

/** Percent of traffic per generation under `weights` (rounded to 0.1), for events and views. */
export function percents(weights: ReadonlyArray<readonly [number, number]>): Map<number, number> {
  const total = weights.reduce((n, [, w]) => n + w, 0);
  return new Map(weights.map(([g, w]) => [g, total === 0 ? 0 : Math.round((w * 1000) / total) / 10]));
}

/** Says yes to exactly `percent` of the calls over every hundred, evenly spaced (an error-diffusion counter, not a coin). */
export class ExactFraction {
  private acc = 0;

  constructor(private percent: number) {}

  setPercent(percent: number): void {
    if (percent !== this.percent) this.acc = 0;
    this.percent = percent;
  }

  take(): boolean {
    this.acc += this.percent;
    if (this.acc < 100) return false;
    this.acc -= 100;
    return true;
  }
}
