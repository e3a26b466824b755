// Rollouts as operations: an update started beside the current generation with a share of traffic, split changes, promote (drained, lossless) and rollback.
import { join } from 'node:path';
import { BerthError } from '../../errors/catalogue.js';
import { sharedBounds } from '../../autoscale/shares.js';
import type { EventLog } from './events.js';
import type { OpContext, ServiceManager } from './manager.js';
import { busy, type Operation, type OperationStore } from './operations.js';
import type { Generation } from './replicas.js';
import { checkSplit, planRollout, type RolloutRequest, type TrafficRequest } from './rollout-request.js';
import type { GenerationWeight, RolloutRecord, RolloutStore } from './rollout-store.js';
import type { ServiceStore, StoredState } from './service-store.js';
import { placeSnapshot, removeGeneration } from './snapshot.js';
import { formatRule } from './guardrail-rule.js';
import type { ReplicaTarget } from './target.js';
import type { ServiceSpec } from './spec.js';

export interface RolloutDeps {
  readonly manager: ServiceManager;
  readonly store: ServiceStore;
  readonly rollouts: RolloutStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly target: ReplicaTarget;
  /** Resolves once nothing waits on the generation's queue in the gateway (its weight is 0 by then), or after `maxMs`. */
  readonly quiesce: (service: string, generation: number, maxMs: number) => Promise<void>;
}

/** Why a rollback happened, when the guardrail did it: the sentence with its numbers. */
export interface RollbackCause {
  readonly message: string;
  readonly numbers: Readonly<Record<string, number | null>>;
}

/** Time on top of the service's own longest queue wait for the requests queued on a leaving generation to reach a replica. */
const QUIESCE_MARGIN_MS = 1000;

const splitText = (weights: readonly GenerationWeight[]): string => weights.map((w) => `generation ${w.generation}: ${w.percent}%`).join(', ');

export class Rollouts {
  constructor(private readonly d: RolloutDeps) {}

  /** `service update --traffic P [--mirror M] [--rollback-on ...]`: the next generation starts beside the current one; an update operation. */
  async start(name: string, request: RolloutRequest): Promise<Operation> {
    const { rollouts, manager } = this.d;
    const plan = planRollout(request);
    const prepared = await manager.prepareUpdate(name, plan.changes);
    const { svc, request: merged, spec, generation, staging } = prepared;
    const weights: GenerationWeight[] = [{ generation, percent: plan.traffic }, { generation: svc.generation, percent: 100 - plan.traffic }];
    const { op, generation: g } = await manager.beginUpdate(name, prepared, () => {
      rollouts.insert({ service: name, baseGeneration: svc.generation, generation, request: merged, spec, weights, mirrorPercent: plan.mirror, ...(plan.guardrail === undefined ? {} : { guardrail: plan.guardrail }), state: 'Starting' });
    });
    const count = this.candidateCount(svc.spec, spec, weights, plan.mirror, name, svc.generation);
    manager.start(op, (ctx) => this.launch(g, staging, svc.spec, svc.state, weights, plan.mirror, count, ctx));
    return op;
  }

  /** `service traffic NAME 3=25 2=75 [--mirror M]`: a new split at once (not an operation, but refused while one runs). */
  traffic(name: string, request: TrafficRequest): RolloutRecord {
    const { rollouts, ops, events, manager } = this.d;
    this.d.store.get(name);
    const r = this.live(name, 'to change the traffic of');
    const running = ops.running(name);
    if (running !== undefined) throw busy(running);
    if (request.weights === undefined && request.mirror === undefined) throw new BerthError('TRAFFIC_SPLIT_INVALID', { service: name, detail: 'give the percents (GEN=PERCENT ...) or --mirror PERCENT', example: r.weights.map((w) => `${w.generation}=${w.percent}`).join(' ') });
    const weights = request.weights === undefined ? r.weights : checkSplit(name, r.weights.map((w) => w.generation), request.weights);
    const mirror = request.mirror ?? r.mirrorPercent;
    rollouts.setSplit(name, weights, mirror);
    events.add(name, {
      type: 'TrafficChanged',
      message: `split ${splitText(weights)}${mirror > 0 ? `; copies of ${mirror}% of the other requests go to generation ${r.generation}` : ''} (was ${splitText(r.weights)}${r.mirrorPercent > 0 ? `, mirror ${r.mirrorPercent}%` : ''})`,
      data: { weights: Object.fromEntries(weights.map((w) => [String(w.generation), w.percent])), mirror_percent: mirror },
    });
    manager.changed(name);
    return rollouts.find(name)!;
  }

  /** `service promote NAME`: the candidate becomes the service's generation and takes every request; the old one drains, then stops. */
  promote(name: string): Operation {
    const { store, ops, rollouts, manager } = this.d;
    const svc = store.get(name);
    const r = this.live(name, 'to promote');
    const op = store.transaction(() => {
      const started = ops.begin('promote', name, { generation: r.generation, spec: r.spec });
      // Committed first: a restart from here on finishes the promote (the old generation is then not kept).
      store.commit(name, r.request, r.spec, r.generation);
      rollouts.setState(name, 'Promoting', [{ generation: r.generation, percent: 100 }, { generation: r.baseGeneration, percent: 0 }]);
      return started;
    });
    manager.changed(name);
    manager.start(op, async (ctx) => {
      ctx.progress(`generation ${r.generation} takes every request; waiting for those queued on generation ${r.baseGeneration}`);
      await this.d.quiesce(name, r.baseGeneration, svc.spec.max_request_wait_time + QUIESCE_MARGIN_MS);
      const previous = store.replicas(name).filter((x) => x.generation !== r.generation).map((x) => x.id);
      ctx.progress(`draining and stopping ${previous.length} replica(s) of generation ${r.baseGeneration}`);
      await this.d.target.stop(name, previous, `replaced by generation ${r.generation} (promoted)`);
      store.transaction(() => {
        rollouts.remove(name);
        store.setModels(name, r.spec.models);
      });
      manager.changed(name);
      for (let gen = 1; gen < r.generation; gen++) {
        await removeGeneration(manager.generationDir(name, gen));
        await this.d.target.forget(name, gen);
      }
      this.d.events.add(name, { type: 'RolloutPromoted', message: `generation ${r.generation} promoted: it takes every request; generation ${r.baseGeneration} was drained and stopped`, data: { generation: r.generation, previous: r.baseGeneration } });
    });
    return op;
  }

  /** `service rollback NAME` (or the guardrail): every request goes back to the stable generation at once; the candidate stops. */
  rollback(name: string, cause?: RollbackCause): Operation {
    const { store, ops, rollouts, manager, events } = this.d;
    const svc = store.get(name);
    const r = this.live(name, 'to roll back');
    const op = store.transaction(() => {
      const started = ops.begin('rollback', name, { generation: r.generation, spec: r.spec });
      rollouts.setState(name, 'RollingBack', [{ generation: r.generation, percent: 0 }, { generation: r.baseGeneration, percent: 100 }]);
      return started;
    });
    if (cause !== undefined) {
      events.add(name, { type: 'GuardrailRollback', message: `rolling back generation ${r.generation}: ${cause.message}`, data: { generation: r.generation, ...cause.numbers, ...(r.guardrail === undefined ? {} : { rule: formatRule(r.guardrail) }) } });
    }
    manager.changed(name);
    manager.start(op, async (ctx) => {
      ctx.progress(`generation ${r.baseGeneration} takes every request again; stopping generation ${r.generation}`);
      await this.d.quiesce(name, r.generation, svc.spec.max_request_wait_time + QUIESCE_MARGIN_MS);
      const ids = store.replicas(name).filter((x) => x.generation === r.generation).map((x) => x.id);
      await this.d.target.stop(name, ids, cause === undefined ? 'rolled back' : `rolled back by the guardrail: ${cause.message}`);
      store.transaction(() => {
        rollouts.remove(name);
        store.setModels(name, store.get(name).spec.models);
      });
      manager.changed(name);
      await removeGeneration(manager.generationDir(name, r.generation));
      await this.d.target.forget(name, r.generation);
      events.add(name, { type: 'RolloutRolledBack', message: `generation ${r.generation} rolled back${cause === undefined ? '' : ' by the guardrail'}: generation ${r.baseGeneration} takes every request`, data: { generation: r.generation, stable: r.baseGeneration } });
    });
    return op;
  }

  /** The service's rollout, which must be live (both generations serving) for `what`. */
  private live(name: string, what: string): RolloutRecord {
    const r = this.d.rollouts.find(name);
    if (r === undefined) throw new BerthError('NO_ROLLOUT', { service: name, detail: what });
    if (r.state !== 'Live') {
      const running = this.d.ops.running(name);
      if (running !== undefined) throw busy(running);
      throw new BerthError('NO_ROLLOUT', { service: name, detail: `${what}: it is ${r.state}` });
    }
    return r;
  }

  private async launch(g: Generation, staging: string, old: ServiceSpec, oldState: StoredState, weights: readonly GenerationWeight[], mirror: number, count: number | undefined, ctx: OpContext): Promise<void> {
    const { store, rollouts, manager, target, events } = this.d;
    try {
      await removeGeneration(g.dir); // a leftover of a rollout a crash interrupted
      await placeSnapshot(staging, join(g.dir, 'source'));
      await target.launch(g, { ...ctx, ...manager.waitingHooks(g.service, 'Transitioning', ctx), keepCrashLooping: false, ...(count === undefined ? {} : { count }) });
    } catch (err) {
      rollouts.remove(g.service);
      await removeGeneration(g.dir);
      await target.forget(g.service, g.generation);
      store.setModels(g.service, old.models);
      manager.setState(g.service, oldState === 'Failed' ? 'Failed' : 'Settled', oldState === 'Failed' ? store.get(g.service).reason : '');
      throw err;
    }
    rollouts.setState(g.service, 'Live');
    manager.setState(g.service, 'Settled');
    const guardrail = rollouts.find(g.service)?.guardrail;
    events.add(g.service, {
      type: 'RolloutStarted',
      message: `generation ${g.generation} is live beside generation ${weights[1]!.generation}: ${splitText(weights)}${mirror > 0 ? `; copies of ${mirror}% of the other requests go to generation ${g.generation}` : ''}${guardrail === undefined ? '' : `; rolled back if ${formatRule(guardrail)}`}`,
      data: { generation: g.generation, weights: Object.fromEntries(weights.map((w) => [String(w.generation), w.percent])), mirror_percent: mirror },
    });
  }

  /**
   * How many replicas the candidate starts with: a fixed-size spec its own count; an autoscaled one its share of the
   * replicas the service has now, within its share of the bounds (src/autoscale/shares.ts).
   */
  private candidateCount(stable: ServiceSpec, candidate: ServiceSpec, weights: readonly GenerationWeight[], mirror: number, name: string, stableGeneration: number): number | undefined {
    if (!candidate.autoscale_enabled) return undefined;
    const cand = weights[0]!.generation;
    const loads = weights.map((w) => ({ generation: w.generation, weight: w.percent, ...(w.generation === cand ? { mirror } : {}) }));
    const bounds = sharedBounds(loads, (g) => {
      const s = g === cand ? candidate : stable;
      return { minReplicas: s.autoscale_min_replicas, maxReplicas: s.autoscale_max_replicas };
    }).get(cand)!;
    const now = Math.max(this.d.target.count(name, stableGeneration), stable.autoscale_enabled ? stable.autoscale_min_replicas : stable.replicas);
    const part = sharedBounds(loads, () => ({ minReplicas: now, maxReplicas: now })).get(cand)!.maxReplicas;
    return Math.min(bounds.maxReplicas, Math.max(bounds.minReplicas, part));
  }
}
