// GET /v1/services/{name}/manifests: the Kubernetes objects the target applies for a service's running generation, for GitOps.
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import type { ServiceStore } from '../services/service-store.js';
import { serviceNameSchema } from '../services/spec.js';
import type { ReplicaTarget } from '../services/target.js';
import { route, type Route } from './route.js';

export function manifestRoutes(store: ServiceStore, target: ReplicaTarget): Route[] {
  return [route({
    method: 'GET', path: '/v1/services/{name}/manifests', operationId: 'serviceManifests',
    summary: 'The Kubernetes objects (Service, Deployment) the Kubernetes target applies for the service\'s running generation',
    params: z.object({ name: serviceNameSchema }).strict(),
    responses: { 200: { description: 'the objects, as JSON', schema: z.array(z.record(z.string(), z.unknown())) }, 404: { description: 'no such service (SERVICE_NOT_FOUND)' }, 409: { description: 'no manifests on this target, or not yet (NO_MANIFESTS)' } },
    handle: ({ params }) => {
      const svc = store.get(params.name);
      if (target.manifests === undefined) throw new BerthError('NO_MANIFESTS', { service: svc.name, why: 'the control plane runs services on this machine' });
      const objects = target.manifests(svc);
      if (objects === undefined) throw new BerthError('NO_MANIFESTS', { service: svc.name, why: 'its image is not known yet (it is still being deployed)' });
      return { status: 200, json: objects };
    },
  })];
}
