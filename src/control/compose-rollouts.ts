// Part of the composition root: rollouts (operations, guardrail loop, routes, the view `service show` reads) wired to the store, target and gateway.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Gateway } from '../gateway/gateway.js';
import { rolloutRoutes } from './api/rollout-routes.js';
import type { Route } from './api/route.js';
import type { EventLog } from './services/events.js';
import { Guardrail } from './services/guardrail.js';
import type { ServiceManager } from './services/manager.js';
import type { OperationStore } from './services/operations.js';
import type { RolloutStore } from './services/rollout-store.js';
import { rolloutView, type GenerationFigures, type RolloutView } from './services/rollout-view.js';
import { Rollouts } from './services/rollouts.js';
import type { ServiceStore } from './services/service-store.js';
import type { ReplicaTarget } from './services/target.js';
import type { ServiceViews } from './services/view.js';

export interface RolloutPartDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: ServiceStore;
  readonly rollouts: RolloutStore;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly target: ReplicaTarget;
  readonly manager: ServiceManager;
  readonly gateway: () => Gateway;
  readonly figures: (service: string, generation: number) => GenerationFigures | undefined;
}

export interface RolloutPart {
  readonly rollouts: Rollouts;
  readonly guardrail: Guardrail;
  routes(views: ServiceViews): Route[];
  /** The rollout of a service as `service show` reports it. */
  view(service: string): RolloutView | undefined;
}

export function composeRollouts(d: RolloutPartDeps): RolloutPart {
  const { store, target } = d;
  const rollouts = new Rollouts({
    manager: d.manager, store, rollouts: d.rollouts, ops: d.ops, events: d.events, target,
    quiesce: (service, generation, maxMs) => d.gateway().quiesce(service, generation, maxMs),
  });
  const guardrail = new Guardrail({
    clock: d.clock, rollouts: d.rollouts,
    busy: (service) => d.ops.running(service) !== undefined,
    figures: (service, generation, windowMs) => d.gateway().generationSummary(service, generation, windowMs),
    rollback: (service, cause) => {
      rollouts.rollback(service, cause);
    },
    onError: (service, err) => d.logger.warn({ err, service }, 'rollout guardrail step failed'),
  });
  const view = (name: string): RolloutView | undefined => {
    const r = d.rollouts.find(name);
    if (r === undefined) return undefined;
    const generationOf = new Map(store.replicas(name).map((x) => [x.id, x.generation]));
    // A pod knows its generation from its label; a process replica from its row.
    const of = (g: number) => target.list(name).filter((x) => (x.generation ?? generationOf.get(x.replicaId)) === g && !target.draining.has(x.replicaId));
    return rolloutView(r, {
      ready: (g) => of(g).filter((x) => x.state === 'Ready').length,
      count: (g) => of(g).length,
      figures: (g) => d.figures(name, g),
    });
  };
  return { rollouts, guardrail, view, routes: (views) => rolloutRoutes(rollouts, views) };
}
