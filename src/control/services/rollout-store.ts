// SQL for rollouts: the candidate generation beside a service's stable one, its traffic split, mirror, guardrail and how far it got.
import { z } from 'zod';
import type { Db } from '../store/db.js';
import { guardrailRuleSchema, type GuardrailRule } from './guardrail-rule.js';
import type { DeployRequest, ServiceSpec } from './spec.js';

/**
 * Starting: the candidate's replicas are being launched (an update operation runs). Live: both generations serve by the
 * split. Promoting: the candidate is committed and the old generation drains. RollingBack: the candidate is stopping.
 * A restart finishes Promoting and RollingBack, undoes Starting, and keeps Live.
 */
export type RolloutState = 'Starting' | 'Live' | 'Promoting' | 'RollingBack';

export interface GenerationWeight {
  readonly generation: number;
  /** Percent of requests, 0–100; a rollout's weights sum to 100. */
  readonly percent: number;
}

export interface RolloutRecord {
  readonly service: string;
  /** The stable generation when the rollout began (the service's committed one until promote). */
  readonly baseGeneration: number;
  /** The candidate. */
  readonly generation: number;
  readonly request: DeployRequest;
  readonly spec: ServiceSpec;
  /** Newest generation first. */
  readonly weights: readonly GenerationWeight[];
  /** Copies of this percent of the requests answered by other generations go to the candidate. */
  readonly mirrorPercent: number;
  readonly guardrail?: GuardrailRule;
  readonly state: RolloutState;
  readonly startedAt: string;
  readonly updatedAt: string;
}

interface Row {
  service: string; base_generation: number; generation: number; request: string; spec: string; weights: string;
  mirror_percent: number; guardrail: string | null; state: RolloutState; started_at: string; updated_at: string;
}

const weightsSchema = z.record(z.string().regex(/^\d+$/), z.number().int().min(0).max(100));

function toRecord(r: Row): RolloutRecord {
  const weights = Object.entries(weightsSchema.parse(JSON.parse(r.weights))).map(([g, percent]) => ({ generation: Number(g), percent }));
  return {
    service: r.service, baseGeneration: r.base_generation, generation: r.generation,
    request: JSON.parse(r.request) as DeployRequest, spec: JSON.parse(r.spec) as ServiceSpec,
    weights: weights.sort((a, b) => b.generation - a.generation), mirrorPercent: r.mirror_percent,
    ...(r.guardrail === null ? {} : { guardrail: Object.freeze(guardrailRuleSchema.parse(JSON.parse(r.guardrail))) }),
    state: r.state, startedAt: r.started_at, updatedAt: r.updated_at,
  };
}

const weightsJson = (weights: readonly GenerationWeight[]): string => JSON.stringify(Object.fromEntries(weights.map((w) => [String(w.generation), w.percent])));

export class RolloutStore {
  constructor(private readonly db: Db, private readonly now: () => Date) {}

  find(service: string): RolloutRecord | undefined {
    const row = this.db.prepare('SELECT * FROM rollouts WHERE service = ?').get(service) as Row | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  list(): RolloutRecord[] {
    return (this.db.prepare('SELECT * FROM rollouts ORDER BY service').all() as Row[]).map(toRecord);
  }

  insert(r: Omit<RolloutRecord, 'startedAt' | 'updatedAt'>): void {
    const t = this.now().toISOString();
    this.db.prepare(`INSERT INTO rollouts (service, base_generation, generation, request, spec, weights, mirror_percent, guardrail, state, started_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(r.service, r.baseGeneration, r.generation, JSON.stringify(r.request), JSON.stringify(r.spec), weightsJson(r.weights), r.mirrorPercent,
        r.guardrail === undefined ? null : JSON.stringify(r.guardrail), r.state, t, t);
  }

  /** Moves the rollout on; `weights` (when given) replaces the split in the same write. */
  setState(service: string, state: RolloutState, weights?: readonly GenerationWeight[]): void {
    this.db.prepare('UPDATE rollouts SET state = ?, weights = COALESCE(?, weights), updated_at = ? WHERE service = ?')
      .run(state, weights === undefined ? null : weightsJson(weights), this.now().toISOString(), service);
  }

  setSplit(service: string, weights: readonly GenerationWeight[], mirrorPercent: number): void {
    this.db.prepare('UPDATE rollouts SET weights = ?, mirror_percent = ?, updated_at = ? WHERE service = ?')
      .run(weightsJson(weights), mirrorPercent, this.now().toISOString(), service);
  }

  remove(service: string): void {
    this.db.prepare('DELETE FROM rollouts WHERE service = ?').run(service);
  }
}
