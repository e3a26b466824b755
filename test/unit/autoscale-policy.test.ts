// The autoscaling policy, table-driven: sequences of load samples on an injected clock → desired replicas and decision messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../src/errors/catalogue.js';
import {
  autoscaleConfigFromSpec,
  decide,
  initialAutoscaleState,
  replicasFor,
  type AutoscaleConfig,
  type AutoscaleState,
  type ScaleDecision,
} from '../../src/autoscale/policy.js';

/** [second, ready replicas, busy replicas] */
type Sample = readonly [number, number, number];

/** One sample a second from `from` to `to` (inclusive), like autoscale_refresh_seconds = 1. */
const every = (from: number, to: number, replicas: number, busy: number): Sample[] =>
  Array.from({ length: to - from + 1 }, (_, i) => [from + i, replicas, busy] as const);

const base: AutoscaleConfig = { minReplicas: 1, maxReplicas: 10, targetUtilization: 70, stabilizationMs: 2000 };

interface Row {
  readonly name: string;
  readonly config?: Partial<AutoscaleConfig>;
  readonly desired: number;
  readonly samples: readonly Sample[];
  /** "@<second>s <message>" for each decision, in order */
  readonly decisions: readonly string[];
  readonly final: number;
}

function play(row: Row): { decisions: string[]; final: number; all: ScaleDecision[] } {
  const config = { ...base, ...row.config };
  let state: AutoscaleState = initialAutoscaleState(row.desired);
  const decisions: string[] = [];
  const all: ScaleDecision[] = [];
  for (const [t, replicas, busy] of row.samples) {
    const prev = Object.freeze({ ...state });
    const r = decide(config, { replicas, busy }, prev, t * 1000);
    assert.deepEqual(state, prev, 'the previous state is not mutated');
    assert.equal(r.desiredReplicas, r.state.desiredReplicas);
    assert.ok(r.desiredReplicas >= config.minReplicas && r.desiredReplicas <= config.maxReplicas, `${row.name}: ${r.desiredReplicas} within min/max at ${t}s`);
    assert.equal(r.decision !== undefined, r.desiredReplicas !== state.desiredReplicas, 'a decision exactly when the count changes');
    if (r.decision) {
      decisions.push(`@${t}s ${r.decision.message}`);
      all.push(r.decision);
    }
    state = r.state;
  }
  return { decisions, final: state.desiredReplicas, all };
}

const rows: Row[] = [
  {
    name: 'steady load just under the target changes nothing',
    desired: 3,
    samples: every(0, 120, 3, 2), // 67%
    decisions: [],
    final: 3,
  },
  {
    name: 'steady load exactly at the target changes nothing',
    desired: 10,
    samples: every(0, 30, 10, 7),
    decisions: [],
    final: 10,
  },
  {
    name: 'spike: scale up at once, and again while still saturated',
    desired: 2,
    samples: [[0, 2, 2], [1, 3, 3], [2, 5, 3]],
    decisions: ['@0s 2 → 3: utilization 100% > target 70%', '@1s 3 → 5: utilization 100% > target 70%'],
    final: 5,
  },
  {
    name: 'spike at target 50 doubles (the issue\'s example numbers)',
    config: { targetUtilization: 50 },
    desired: 2,
    samples: [[0, 2, 2]],
    decisions: ['@0s 2 → 4: utilization 100% > target 50%'],
    final: 4,
  },
  {
    name: 'above target but not saturated: enough replicas to get back under the target',
    desired: 4,
    samples: [[0, 4, 3]], // 75% → ceil(3 / 0.7) = 5
    decisions: ['@0s 4 → 5: utilization 75% > target 70%'],
    final: 5,
  },
  {
    name: 'replicas still starting are counted: no runaway while they come up',
    desired: 2,
    samples: [[0, 2, 2], [1, 2, 2], [2, 2, 2], [3, 3, 2]],
    decisions: ['@0s 2 → 3: utilization 100% > target 70%'],
    final: 3,
  },
  {
    name: 'sustained low utilization scales down after the window (default 60 s)',
    config: { stabilizationMs: undefined },
    desired: 4,
    samples: every(0, 70, 4, 1),
    decisions: ['@60s 4 → 2: utilization 25% < target 70% for 60 s'],
    final: 2,
  },
  {
    name: 'sustained low with a short window; then the next step down needs a new full window',
    desired: 10,
    samples: [...every(0, 2, 10, 1), ...every(3, 7, 2, 0)],
    decisions: ['@2s 10 → 2: utilization 10% < target 70% for 2 s', '@5s 2 → 1: utilization 0% < target 70% for 2 s'],
    final: 1,
  },
  {
    name: 'the scale-down sizes for the peak inside the window',
    desired: 10,
    samples: [[0, 10, 1], [1, 10, 5], [2, 10, 1]],
    decisions: ['@2s 10 → 8: utilization 50% < target 70% for 2 s'],
    final: 8,
  },
  {
    name: 'a brief dip does not scale down',
    config: { stabilizationMs: 60_000 },
    desired: 10,
    samples: [...every(0, 29, 10, 7), ...every(30, 75, 10, 1), ...every(76, 140, 10, 7)],
    decisions: [],
    final: 10,
  },
  {
    name: 'a dip interrupted by one high sample starts its window again',
    desired: 4,
    samples: [[0, 4, 1], [1, 4, 1], [2, 4, 3], [3, 4, 1], [4, 4, 1], [5, 4, 1]],
    decisions: ['@2s 4 → 5: utilization 75% > target 70%', '@5s 5 → 2: utilization 25% < target 70% for 2 s'],
    final: 2,
  },
  {
    name: 'a dip at exactly the target is not low',
    desired: 10,
    samples: [[0, 10, 1], [1, 10, 7], [2, 10, 1], [3, 10, 1]],
    decisions: [],
    final: 10,
  },
  {
    name: 'a gap in sampling longer than the window is no evidence of low load',
    desired: 4,
    samples: [[0, 4, 1], [100, 4, 1], [101, 4, 1], [102, 4, 1]],
    decisions: ['@102s 4 → 2: utilization 25% < target 70% for 2 s'],
    final: 2,
  },
  {
    name: 'a clock that steps back starts the low window again',
    desired: 4,
    samples: [[10, 4, 1], [11, 4, 1], [5, 4, 1], [6, 4, 1], [7, 4, 1]],
    decisions: ['@7s 4 → 2: utilization 25% < target 70% for 2 s'],
    final: 2,
  },
  {
    name: 'max cap',
    config: { maxReplicas: 4 },
    desired: 3,
    samples: [[0, 3, 3], [1, 4, 4], [2, 4, 4]],
    decisions: ['@0s 3 → 4: utilization 100% > target 70%; capped at max 4'],
    final: 4,
  },
  {
    name: 'min floor',
    config: { minReplicas: 2 },
    desired: 4,
    samples: every(0, 10, 4, 0),
    decisions: ['@2s 4 → 2: utilization 0% < target 70% for 2 s'],
    final: 2,
  },
  {
    name: 'config change: desired above the new max is corrected at once, whatever the load',
    config: { maxReplicas: 5 },
    desired: 8,
    samples: [[0, 8, 8], [1, 5, 1]],
    decisions: ['@0s 8 → 5: above autoscale_max_replicas 5'],
    final: 5,
  },
  {
    name: 'config change: desired below the new min is corrected at once',
    config: { minReplicas: 3 },
    desired: 1,
    samples: [[0, 1, 0]],
    decisions: ['@0s 1 → 3: below autoscale_min_replicas 3'],
    final: 3,
  },
  {
    name: 'config change below min under load: a scale-up asking for more than min wins, from the old count',
    config: { minReplicas: 2, targetUtilization: 40 },
    desired: 1,
    samples: [[0, 1, 1]],
    decisions: ['@0s 1 → 3: utilization 100% > target 40%'],
    final: 3,
  },
  {
    name: 'config change below min under load asking for just min: the range is the reason',
    config: { minReplicas: 2 },
    desired: 1,
    samples: [[0, 1, 1]],
    decisions: ['@0s 1 → 2: below autoscale_min_replicas 2'],
    final: 2,
  },
  {
    name: 'zero ready replicas: utilization unknown, nothing changes, no low window runs',
    desired: 2,
    samples: [...every(0, 10, 0, 0), [11, 2, 0], [12, 2, 0], [13, 2, 0]],
    decisions: ['@13s 2 → 1: utilization 0% < target 70% for 2 s'],
    final: 1,
  },
  {
    name: 'zero desired (fresh state) is raised to min even with no replica ready',
    desired: 0,
    samples: [[0, 0, 0]],
    decisions: ['@0s 0 → 1: below autoscale_min_replicas 1'],
    final: 1,
  },
  {
    name: 'zero busy replicas at min stays at min',
    desired: 1,
    samples: every(0, 10, 1, 0),
    decisions: [],
    final: 1,
  },
  {
    name: 'target 100: a saturated service still grows, and does not flap back',
    config: { targetUtilization: 100 },
    desired: 2,
    // the window that saw 2 busy ends at 7 s without a change; the next, all at 1 busy, ends at 9 s
    samples: [[0, 2, 2], ...every(1, 5, 3, 2), ...every(6, 9, 3, 1)],
    decisions: ['@0s 2 → 3: utilization 100% ≥ target 100%', '@9s 3 → 2: utilization 33% < target 100% for 2 s'],
    final: 2,
  },
  {
    name: 'fractional busy (in flight ÷ max concurrent) and a percentage that must not round onto the target',
    config: { targetUtilization: 67 },
    desired: 1,
    samples: [[0, 1, 0.672]],
    decisions: ['@0s 1 → 2: utilization 67.2% > target 67%'],
    final: 2,
  },
];

for (const row of rows) {
  test(row.name, () => {
    const got = play(row);
    assert.deepEqual(got.decisions, row.decisions);
    assert.equal(got.final, row.final);
  });
}

test('a decision carries its numbers', () => {
  const up = play({ name: 'up', config: { maxReplicas: 4 }, desired: 2, samples: [[0, 2, 2], [1, 3, 3]], decisions: [], final: 0 }).all;
  assert.deepEqual(up[1], {
    from: 3, to: 4, reason: 'above-target', wanted: 5, replicas: 3, busy: 3, utilization: 100, targetUtilization: 70, minReplicas: 1, maxReplicas: 4,
    message: '3 → 4: utilization 100% > target 70%; capped at max 4',
  });
  const [down] = play({ name: 'down', desired: 10, samples: [[0, 10, 1], [1, 10, 5], [2, 10, 1]], decisions: [], final: 0 }).all;
  assert.equal(down?.reason, 'below-target');
  assert.equal(down?.peakBusy, 5);
  assert.equal(down?.peakUtilization, 50);
  assert.equal(down?.lowForMs, 2000);
  assert.equal(down?.utilization, 10);
});

test('the state carries the low window: lowSince and the peak', () => {
  const s1 = decide(base, { replicas: 4, busy: 1 }, initialAutoscaleState(4), 1000).state;
  assert.deepEqual(s1, { desiredReplicas: 4, lowSince: 1000, lowPeakBusy: 1, lowPeakUtilization: 25, sampledAt: 1000 });
  const s2 = decide(base, { replicas: 4, busy: 2 }, s1, 2000).state;
  assert.deepEqual(s2, { desiredReplicas: 4, lowSince: 1000, lowPeakBusy: 2, lowPeakUtilization: 50, sampledAt: 2000 });
  const s3 = decide(base, { replicas: 4, busy: 3 }, s2, 2500).state;
  assert.deepEqual(s3, { desiredReplicas: 5, sampledAt: 2500 });
});

test('replicasFor: fewest replicas that keep the busy count from being above the target', () => {
  const cases: Array<[busy: number, target: number, want: number]> = [
    [0, 70, 0], [1, 70, 2], [2, 70, 3], [3, 70, 5], [7, 70, 10], [14, 70, 20], [2, 50, 4], [1, 100, 2], [3, 100, 4], [0.5, 100, 1], [0.7, 70, 1],
  ];
  for (const [busy, target, want] of cases) assert.equal(replicasFor(busy, target), want, `replicasFor(${busy}, ${target})`);
});

test('the config comes straight from a normalised service spec', () => {
  const spec = { autoscale_min_replicas: 1, autoscale_max_replicas: 4, autoscale_target_utilization: 70, autoscale_refresh_seconds: 1 };
  assert.deepEqual(autoscaleConfigFromSpec(spec), { minReplicas: 1, maxReplicas: 4, targetUtilization: 70, stabilizationMs: 60_000 });
  assert.equal(autoscaleConfigFromSpec(spec, 2000).stabilizationMs, 2000);
});

test('invalid config, samples or clock are refused with INVALID_ARGUMENT', () => {
  const s = initialAutoscaleState(1);
  const bad: Array<[Partial<AutoscaleConfig>, { replicas: number; busy: number }, number]> = [
    [{ minReplicas: 0 }, { replicas: 1, busy: 0 }, 0],
    [{ minReplicas: 5, maxReplicas: 4 }, { replicas: 1, busy: 0 }, 0],
    [{ targetUtilization: 0 }, { replicas: 1, busy: 0 }, 0],
    [{ targetUtilization: 101 }, { replicas: 1, busy: 0 }, 0],
    [{ stabilizationMs: -1 }, { replicas: 1, busy: 0 }, 0],
    [{}, { replicas: 1.5, busy: 0 }, 0],
    [{}, { replicas: 1, busy: Number.NaN }, 0],
    [{}, { replicas: 1, busy: -1 }, 0],
    [{}, { replicas: 1, busy: 0 }, Number.NaN],
  ];
  for (const [config, obs, now] of bad) {
    assert.throws(() => decide({ ...base, ...config }, obs, s, now), (err: unknown) => err instanceof BerthError && err.code === 'INVALID_ARGUMENT' && err.message.startsWith('autoscaler: '));
  }
});
