// The dashboard's admin routes under /v1/dashboard: the live stream, log following on it, a service's page and history, models, operations.
import { z } from 'zod';
import { route, type Route } from '../../control/api/route.js';
import { serviceNameSchema } from '../../control/services/spec.js';
import {
  historySchema, logChunkSchema, logKindSchema, modelRowSchema, operationSchema, rangeSchema, RANGES, servicePageSchema,
  type Decision, type ModelRow, type OperationView, type ServicePage,
} from '../shared/protocol.js';
import type { HistoryStore } from './history.js';
import type { LiveHub } from './hub.js';

export interface DashboardApi {
  readonly hub: LiveHub;
  readonly history: HistoryStore;
  readonly now: () => number;
  /** A service as the dashboard shows it (no keys); SERVICE_NOT_FOUND when it does not exist. */
  servicePage(name: string): ServicePage;
  /** ScalingDecision events of a service since `fromMs`. */
  decisions(name: string, fromMs: number): Decision[];
  models(): ModelRow[];
  operations(limit: number): OperationView[];
}

const namePath = z.object({ name: serviceNameSchema }).strict();
const streamPath = z.object({ id: z.string().uuid() }).strict();
const notFound = { description: 'no such service (SERVICE_NOT_FOUND)' };
const noStream = { description: 'no such open stream (DASHBOARD_STREAM_NOT_FOUND): it ended; reconnect' };
/** Server-Sent Events must reach the browser as they are written: no caching, no proxy buffering or compression. */
const SSE_HEADERS = { 'cache-control': 'no-cache, no-store, no-transform', 'x-accel-buffering': 'no' };

export function dashboardRoutes(api: DashboardApi): Route[] {
  return [
    route({
      method: 'GET', path: '/v1/dashboard/stream', operationId: 'dashboardStream',
      summary: 'Live stream (text/event-stream): hello and a snapshot, then a tick every second (every service\'s state and traffic), events and operations as they happen, and followed log lines',
      responses: { 200: { description: 'Server-Sent Events: hello, snapshot, tick, event, operation, log', contentType: 'text/event-stream' }, 503: { description: 'too many open streams (DASHBOARD_STREAM_LIMIT)' } },
      handle: () => ({ status: 200, stream: api.hub.open(), contentType: 'text/event-stream; charset=utf-8', headers: SSE_HEADERS }),
    }),
    route({
      method: 'PUT', path: '/v1/dashboard/streams/{id}/follow', operationId: 'dashboardFollowLog',
      summary: 'Follow a replica\'s log on an open stream (replacing what it followed): returns the tail; what is appended comes as log events',
      params: streamPath,
      body: z.object({ service: serviceNameSchema, replica: z.string().min(1).max(100), kind: logKindSchema.default('current'), tail: z.number().int().min(0).max(100_000).default(500) }).strict(),
      responses: { 200: { description: 'the tail of the log', schema: logChunkSchema }, 404: noStream },
      handle: ({ params, body }) => ({ status: 200, json: api.hub.follow(params.id, body) }),
    }),
    route({
      method: 'DELETE', path: '/v1/dashboard/streams/{id}/follow', operationId: 'dashboardUnfollowLog', summary: 'Stop following a log on an open stream',
      params: streamPath,
      responses: { 204: { description: 'stopped' }, 404: noStream },
      handle: ({ params }) => {
        api.hub.unfollow(params.id);
        return { status: 204 };
      },
    }),
    route({
      method: 'GET', path: '/v1/dashboard/services/{name}', operationId: 'dashboardService',
      summary: 'A service for its dashboard page: state, spec, replicas with memory in use, latest operations and events (no keys)',
      params: namePath,
      responses: { 200: { description: 'the service', schema: servicePageSchema }, 404: notFound },
      handle: ({ params }) => ({ status: 200, json: api.servicePage(params.name) }),
    }),
    route({
      method: 'GET', path: '/v1/dashboard/services/{name}/history', operationId: 'dashboardHistory',
      summary: 'A service\'s traffic over the last 15 min (1 s samples), 1 h (10 s) or 6 h (60 s), and its scaling decisions',
      params: namePath,
      query: z.object({ range: rangeSchema.default('15m') }).strict(),
      responses: { 200: { description: 'columns of samples and the decisions', schema: historySchema }, 404: notFound },
      handle: ({ params, query }) => {
        api.servicePage(params.name); // 404 for an unknown service rather than empty columns
        const to = api.now();
        const { spanMs, stepMs } = RANGES[query.range];
        const from = to - spanMs;
        return { status: 200, json: { range: query.range, step_ms: stepMs, from, to, columns: api.history.columns(params.name, query.range, to), decisions: api.decisions(params.name, from) } };
      },
    }),
    route({
      method: 'GET', path: '/v1/dashboard/models', operationId: 'dashboardModels', summary: 'Model versions with the services that mount each',
      responses: { 200: { description: 'versions, by name then version', schema: z.object({ models: z.array(modelRowSchema) }) } },
      handle: () => ({ status: 200, json: { models: api.models() } }),
    }),
    route({
      method: 'GET', path: '/v1/dashboard/operations', operationId: 'dashboardOperations', summary: 'The latest operations of every service, newest first',
      query: z.object({ limit: z.string().regex(/^\d{1,4}$/, 'a whole number').transform(Number).pipe(z.number().int().min(1).max(1000)).default(100) }).strict(),
      responses: { 200: { description: 'operations', schema: z.object({ operations: z.array(operationSchema) }) } },
      handle: ({ query }) => ({ status: 200, json: { operations: api.operations(query.limit) } }),
    }),
  ];
}
