// REST routes of rollouts: start an update beside the current generation, change the split or mirror, promote, roll back.
import { z } from 'zod';
import { operationSchema } from '../services/operations.js';
import { rolloutRequestSchema, trafficRequestSchema } from '../services/rollout-request.js';
import type { Rollouts } from '../services/rollouts.js';
import { serviceNameSchema } from '../services/spec.js';
import { rolloutViewSchema } from '../services/rollout-view.js';
import type { ServiceViews } from '../services/view.js';
import { route, type Route } from './route.js';

const namePath = z.object({ name: serviceNameSchema }).strict();
const accepted = z.object({ operation: operationSchema });
const notFound = { description: 'no such service (SERVICE_NOT_FOUND)' };
const conflict = { description: 'another operation runs (OPERATION_IN_PROGRESS), a rollout is under way (ROLLOUT_IN_PROGRESS) or there is none (NO_ROLLOUT)' };

export function rolloutRoutes(rollouts: Rollouts, views: ServiceViews): Route[] {
  const shown = (name: string) => views.detail(name).rollout;
  return [
    route({
      method: 'POST', path: '/v1/services/{name}/rollout', operationId: 'startRollout',
      summary: 'Update a service beside its current generation: the new one gets a share of traffic (and/or mirrored copies), an optional guardrail rolls it back',
      params: namePath,
      body: rolloutRequestSchema,
      responses: {
        202: { description: 'the candidate starts; follow its operation', schema: accepted },
        400: { description: 'invalid changes (VALIDATION_FAILED) or guardrail (GUARDRAIL_RULE_INVALID)' }, 404: notFound, 409: conflict,
      },
      handle: async ({ params, body }) => ({ status: 202, json: { operation: await rollouts.start(params.name, body) } }),
    }),
    route({
      method: 'PUT', path: '/v1/services/{name}/rollout/traffic', operationId: 'setRolloutTraffic',
      summary: 'Change a live rollout\'s split (every live generation, summing to 100) and/or its mirror percent',
      params: namePath,
      body: trafficRequestSchema,
      responses: {
        200: { description: 'the rollout with its new split', schema: z.object({ rollout: rolloutViewSchema.optional() }) },
        400: { description: 'the percents do not name every live generation or do not sum to 100 (TRAFFIC_SPLIT_INVALID)' }, 404: notFound, 409: conflict,
      },
      handle: ({ params, body }) => {
        rollouts.traffic(params.name, body);
        return { status: 200, json: { rollout: shown(params.name) } };
      },
    }),
    route({
      method: 'POST', path: '/v1/services/{name}/rollout/promote', operationId: 'promoteRollout',
      summary: 'Promote the candidate: it takes every request; the old generation drains (no request lost) and stops',
      params: namePath,
      responses: { 202: { description: 'the promote runs; follow its operation', schema: accepted }, 404: notFound, 409: conflict },
      handle: ({ params }) => ({ status: 202, json: { operation: rollouts.promote(params.name) } }),
    }),
    route({
      method: 'POST', path: '/v1/services/{name}/rollout/rollback', operationId: 'rollbackRollout',
      summary: 'Roll the candidate back: the stable generation takes every request at once; the candidate drains and stops',
      params: namePath,
      responses: { 202: { description: 'the rollback runs; follow its operation', schema: accepted }, 404: notFound, 409: conflict },
      handle: ({ params }) => ({ status: 202, json: { operation: rollouts.rollback(params.name) } }),
    }),
  ];
}
