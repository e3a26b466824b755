// Nearest-rank percentiles: the one rule the gateway's window, `berth service show` and the dashboard all use.

/** The value at rank ⌈p·n⌉ (0 < p ≤ 1) of ascending `sorted`; null when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
