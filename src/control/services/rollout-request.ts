// What a rollout is asked with (API bodies, checked at the edge with strict schemas), and the rules a traffic split must keep.
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import { parseGuardrail, type GuardrailRule } from './guardrail-rule.js';
import type { GenerationWeight } from './rollout-store.js';
import { parseWith, updateRequestSchema, type UpdateRequest } from './spec.js';

const percent = (what: string) => z.number().int(`${what} is a whole percent`).min(0, `${what} is 0 to 100`).max(100, `${what} is 0 to 100`);

/** POST /v1/services/{name}/rollout: an update started beside the current generation. */
export const rolloutRequestSchema = z.object({
  changes: updateRequestSchema.optional().describe('the fields to change, as for PATCH /v1/services/{name} (none: the same spec again)'),
  traffic: percent('traffic').optional().describe('percent of requests the new generation takes (default 0 with a mirror)'),
  mirror: percent('mirror').optional().describe('percent of the other requests copied to the new generation, answers discarded'),
  rollback_on: z.string().min(1).max(200).optional().describe('guardrail: e.g. "error_rate>2%,p99>500ms"; the candidate is rolled back when a bound is passed'),
  window: z.union([z.string().min(1).max(20), z.number().int().positive()]).optional().describe('the guardrail\'s window: 60s (default), 5m, or milliseconds'),
}).strict();
export type RolloutRequest = z.infer<typeof rolloutRequestSchema>;

/** PUT /v1/services/{name}/rollout/traffic: a new split (every live generation, summing to 100) and/or mirror. */
export const trafficRequestSchema = z.object({
  weights: z.record(z.string().regex(/^\d{1,9}$/, 'a generation number'), percent('a weight')).optional().describe('percent per generation, e.g. {"3": 25, "2": 75}'),
  mirror: percent('mirror').optional(),
}).strict();
export type TrafficRequest = z.infer<typeof trafficRequestSchema>;

/** A rollout request checked as a whole: the changes, the split it starts with, the mirror and the frozen guardrail. */
export interface RolloutPlan {
  readonly changes: UpdateRequest;
  /** The candidate's percent. */
  readonly traffic: number;
  readonly mirror: number;
  readonly guardrail?: GuardrailRule;
}

export function planRollout(r: RolloutRequest): RolloutPlan {
  if (r.traffic === undefined && r.mirror === undefined) {
    throw new BerthError('VALIDATION_FAILED', { field: 'traffic', detail: 'a rollout gives the new generation a share (--traffic PERCENT) or copies (--mirror PERCENT); without either, update the service in place' });
  }
  if (r.window !== undefined && r.rollback_on === undefined) throw new BerthError('GUARDRAIL_RULE_INVALID', { detail: '--window applies to a --rollback-on rule, and none is given' });
  const guardrail = r.rollback_on === undefined ? undefined : parseGuardrail(r.rollback_on, r.window);
  return Object.freeze({ changes: parseWith(updateRequestSchema, r.changes ?? {}), traffic: r.traffic ?? 0, mirror: r.mirror ?? 0, ...(guardrail === undefined ? {} : { guardrail }) });
}

/**
 * The split as given, checked against the live generations: each named once with a whole percent and together 100.
 * Newest generation first.
 */
export function checkSplit(service: string, live: readonly number[], given: Readonly<Record<string, number>>): GenerationWeight[] {
  const example = live.map((g, i) => `${g}=${i === 0 ? 10 : 90}`).join(' ');
  const bad = (detail: string): never => {
    throw new BerthError('TRAFFIC_SPLIT_INVALID', { service, detail, example });
  };
  // Newest first, as the user reads them (object keys come back in ascending order).
  const weights = Object.entries(given).map(([g, percent]) => ({ generation: Number(g), percent })).sort((a, b) => b.generation - a.generation);
  for (const w of weights) if (!live.includes(w.generation)) bad(`generation ${w.generation} is not live (live: ${live.join(', ')})`);
  const missing = live.filter((g) => !weights.some((w) => w.generation === g));
  if (missing.length > 0) bad(`give generation ${missing.join(' and ')} a percent too (0 for none)`);
  const sum = weights.reduce((n, w) => n + w.percent, 0);
  if (sum !== 100) bad(`the percents sum to ${sum}, not 100 (${weights.map((w) => `${w.generation}=${w.percent}`).join(' ')})`);
  return weights;
}
