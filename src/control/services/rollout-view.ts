// What `service show` reports of a rollout: both generations side by side with their share, replicas, scaling bounds and figures.
import { z } from 'zod';
import { formatRule } from './guardrail-rule.js';
import type { RolloutRecord } from './rollout-store.js';

/** One generation of a rollout as `service show` reports it. */
export interface GenerationFigures {
  readonly windowS: number;
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Copies it was sent by the mirror (in the figures above too). */
  readonly mirrored: number;
  /** Percent of requests it takes now (0 without a ready replica). */
  readonly effectivePercent: number;
  readonly desired?: number;
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
  readonly utilization: number | null;
}

export const generationViewSchema = z.object({
  generation: z.number().int(),
  role: z.enum(['stable', 'candidate']),
  weight_percent: z.number().describe('the configured share of requests'),
  effective_percent: z.number().describe('the share it takes now: 0 without a ready replica (its share goes to the other)'),
  ready_replicas: z.number().int(),
  desired_replicas: z.number().int().describe('the autoscaler\'s count for it (its own load), else its replicas'),
  min_replicas: z.number().int().optional().describe('its share of the autoscale bounds during the rollout'),
  max_replicas: z.number().int().optional(),
  window_s: z.number(),
  requests: z.number().int().describe('answered in the window, mirrored copies included'),
  mirrored: z.number().int().describe('copies the mirror sent it since the control plane started (answers discarded)'),
  errors: z.number().int().describe('5xx in the window'),
  error_rate_percent: z.number().nullable(),
  latency_p50_ms: z.number().nullable(),
  latency_p99_ms: z.number().nullable(),
  utilization: z.number().nullable(),
});

export const rolloutViewSchema = z.object({
  state: z.enum(['Starting', 'Live', 'Promoting', 'RollingBack']),
  stable_generation: z.number().int(),
  candidate_generation: z.number().int(),
  started_at: z.string(),
  mirror_percent: z.number().int().describe('copies of this share of the stable generation\'s requests go to the candidate'),
  guardrail: z.string().nullable().describe('the automatic rollback rule, e.g. "error_rate>2%,p99>500ms over 60 s"'),
  generations: z.array(generationViewSchema),
});

export type GenerationView = z.infer<typeof generationViewSchema>;
export type RolloutView = z.infer<typeof rolloutViewSchema>;

export interface RolloutFacts {
  /** Ready replicas (not leaving) of a generation. */
  readonly ready: (generation: number) => number;
  /** Placed replicas of a generation. */
  readonly count: (generation: number) => number;
  readonly figures: (generation: number) => GenerationFigures | undefined;
}

export function rolloutView(r: RolloutRecord, f: RolloutFacts): RolloutView {
  return {
    state: r.state, stable_generation: r.baseGeneration, candidate_generation: r.generation, started_at: r.startedAt, mirror_percent: r.mirrorPercent,
    guardrail: r.guardrail === undefined ? null : formatRule(r.guardrail),
    generations: r.weights.map((w): GenerationView => {
      const x = f.figures(w.generation);
      return {
        generation: w.generation, role: w.generation === r.generation ? 'candidate' : 'stable', weight_percent: w.percent,
        effective_percent: x?.effectivePercent ?? 0, ready_replicas: f.ready(w.generation), desired_replicas: x?.desired ?? f.count(w.generation),
        ...(x?.minReplicas === undefined ? {} : { min_replicas: x.minReplicas, max_replicas: x.maxReplicas! }),
        window_s: x?.windowS ?? 0, requests: x?.requests ?? 0, mirrored: x?.mirrored ?? 0, errors: x?.errors ?? 0,
        error_rate_percent: x === undefined || x.requests === 0 ? null : Math.round((x.errors * 1000) / x.requests) / 10,
        latency_p50_ms: x?.p50Ms ?? null, latency_p99_ms: x?.p99Ms ?? null, utilization: x?.utilization ?? null,
      };
    }),
  };
}
