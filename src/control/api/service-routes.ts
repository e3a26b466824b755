// REST routes of services and operations: deploy, list, show, update, delete, events, logs, and operation status.
import { z } from 'zod';
import { serviceEventSchema, type EventLog } from '../services/events.js';
import { logChunkSchema, type ServiceLogs } from '../services/logs.js';
import type { ServiceManager } from '../services/manager.js';
import { operationSchema, type OperationStore } from '../services/operations.js';
import { deployRequestSchema, serviceNameSchema, updateRequestSchema } from '../services/spec.js';
import { serviceDetailSchema, serviceSummarySchema, type ServiceViews } from '../services/view.js';
import { route, type Route } from './route.js';

export interface ServiceApi {
  readonly manager: ServiceManager;
  readonly views: ServiceViews;
  readonly ops: OperationStore;
  readonly events: EventLog;
  readonly logs: ServiceLogs;
}

const namePath = z.object({ name: serviceNameSchema }).strict();
const wholeNumber = (max: number) => z.string().regex(/^\d{1,9}$/, 'a whole number').transform(Number).pipe(z.number().int().min(0).max(max));
const accepted = z.object({ operation: operationSchema });
const notFound = { description: 'no such service (SERVICE_NOT_FOUND)' };
const busy = { description: 'another operation on the service is running (OPERATION_IN_PROGRESS), or it exists (SERVICE_EXISTS)' };
const invalid = { description: 'invalid spec, naming the field (VALIDATION_FAILED), or a request larger than the machine (REQUEST_EXCEEDS_CAPACITY)' };

export function serviceRoutes(api: ServiceApi): Route[] {
  const { manager, views, ops, events, logs } = api;
  return [
    route({
      method: 'POST', path: '/v1/services', operationId: 'deployService', summary: 'Deploy a service: an operation that places, starts and waits for its replicas',
      body: deployRequestSchema,
      responses: { 202: { description: 'the deployment runs; follow its operation', schema: accepted }, 400: invalid, 404: { description: 'a model does not exist (MODEL_NOT_FOUND)' }, 409: busy },
      handle: async ({ body }) => ({ status: 202, json: { operation: await manager.deploy(body) } }),
    }),
    route({
      method: 'GET', path: '/v1/services', operationId: 'listServices', summary: 'List services with their state',
      responses: { 200: { description: 'services by name', schema: z.object({ services: z.array(serviceSummarySchema) }) } },
      handle: () => ({ status: 200, json: { services: views.list() } }),
    }),
    route({
      method: 'GET', path: '/v1/services/{name}', operationId: 'getService', summary: 'Show a service: state and reason, scoring URI, keys, spec, replicas, latest operation',
      params: namePath,
      responses: { 200: { description: 'the service', schema: serviceDetailSchema }, 404: notFound },
      handle: ({ params }) => ({ status: 200, json: views.detail(params.name) }),
    }),
    route({
      method: 'PATCH', path: '/v1/services/{name}', operationId: 'updateService', summary: 'Update a service (fields to change; null drops one): new replicas replace the old ones once ready',
      params: namePath,
      body: updateRequestSchema,
      responses: { 202: { description: 'the update runs; follow its operation', schema: accepted }, 400: invalid, 404: notFound, 409: busy },
      handle: async ({ params, body }) => ({ status: 202, json: { operation: await manager.update(params.name, body) } }),
    }),
    route({
      method: 'DELETE', path: '/v1/services/{name}', operationId: 'deleteService', summary: 'Delete a service: stops its replicas and removes its files',
      params: namePath,
      responses: { 202: { description: 'the deletion runs; follow its operation', schema: accepted }, 404: notFound, 409: busy },
      handle: ({ params }) => ({ status: 202, json: { operation: manager.delete(params.name) } }),
    }),
    route({
      method: 'GET', path: '/v1/services/{name}/events', operationId: 'listServiceEvents', summary: 'A service\'s events, oldest first',
      params: namePath,
      query: z.object({ limit: wholeNumber(5000).optional(), after: wholeNumber(Number.MAX_SAFE_INTEGER).optional() }).strict(),
      responses: { 200: { description: 'events', schema: z.object({ events: z.array(serviceEventSchema) }) }, 404: notFound },
      handle: ({ params, query }) => {
        views.detail(params.name); // 404 for an unknown service rather than an empty list
        return { status: 200, json: { events: events.list(params.name, query) } };
      },
    }),
    route({
      method: 'GET', path: '/v1/services/{name}/logs', operationId: 'getServiceLogs', summary: 'Replica logs: the current run, the previous run, or the start-up (init) output',
      params: namePath,
      query: z.object({
        replica: z.string().min(1).max(100).optional(),
        kind: z.enum(['current', 'previous', 'init']).default('current'),
        back: wholeNumber(5).pipe(z.number().min(1, 'must be 1 to 5')).optional(),
        tail: wholeNumber(1_000_000).default(5000),
        offset: wholeNumber(Number.MAX_SAFE_INTEGER).optional(),
      }).strict(),
      responses: { 200: { description: 'one chunk per replica', schema: z.object({ logs: z.array(logChunkSchema) }) }, 404: { description: 'no such service or replica' } },
      handle: ({ params, query }) => ({ status: 200, json: { logs: logs.read(params.name, query) } }),
    }),
    route({
      method: 'GET', path: '/v1/operations/{id}', operationId: 'getOperation', summary: 'An operation: kind, status, progress, error',
      params: z.object({ id: z.string().uuid() }).strict(),
      // A long poll, so a client follows an operation as it happens instead of by polling: with `seen`, the answer
      // comes once there are more steps than that or the operation ended, or after wait_ms.
      query: z.object({ seen: wholeNumber(1_000_000).optional(), wait_ms: wholeNumber(60_000).optional() }).strict(),
      responses: { 200: { description: 'the operation', schema: operationSchema }, 404: { description: 'no such operation (OPERATION_NOT_FOUND)' } },
      handle: async ({ params, query }) => {
        let op = ops.get(params.id);
        const until = Date.now() + (query.seen === undefined ? 0 : query.wait_ms ?? 0);
        while (op.status === 'Running' && op.steps.length <= (query.seen ?? 0) && Date.now() < until) {
          await ops.changed(params.id, until - Date.now());
          op = ops.get(params.id);
        }
        return { status: 200, json: op };
      },
    }),
  ];
}
