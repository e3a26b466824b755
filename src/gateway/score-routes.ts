// The gateway's routes on the control plane's port: /api/v1/service/{name}/score (POST, GET), /swagger.json beside it, and /metrics.
import { z } from 'zod';
import { route, type Reply, type Route } from '../control/api/route.js';
import { serviceNameSchema } from '../control/services/spec.js';
import type { Gateway, GatewayReply } from './gateway.js';
import type { GatewayMetrics } from './metrics.js';

const params = z.object({ name: serviceNameSchema }).strict();
const errors = {
  401: { description: 'missing or invalid key or token (SCORING_UNAUTHORIZED)' },
  404: { description: 'no such service (SERVICE_NOT_FOUND)' },
  502: { description: 'run() raised (the replica\'s 500), or the replica failed mid-request (REPLICA_REQUEST_FAILED)' },
  503: { description: 'no replica slot within max_request_wait_time (SERVICE_OVERLOADED, reason overloaded) or no ready replica (NO_READY_REPLICA, reason starting, init-failed or no-ready-replica): the reason in x-berth-reason and the body, with a computed Retry-After when waiting can help' },
  504: { description: 'scoring timeout (SCORING_TIMEOUT)' },
};

function toReply(r: GatewayReply): Reply {
  return Buffer.isBuffer(r.body)
    ? { status: r.status, bytes: r.body, contentType: r.contentType, headers: r.headers }
    : { status: r.status, stream: r.body, contentType: r.contentType, headers: r.headers };
}

export function scoreRoutes(gateway: Gateway): Route[] {
  const score = (method: 'POST' | 'GET') => route({
    method, path: '/api/v1/service/{name}/score', operationId: method === 'POST' ? 'scoreService' : 'scoreServiceGet',
    summary: method === 'POST'
      ? 'Score: the body goes to run() on a ready replica (Authorization: Bearer <key or token> unless auth is off)'
      : 'Score: the query parameters go to run() as a JSON string',
    params,
    ...(method === 'POST' ? { rawBody: { description: 'the input for run(), passed through unchanged (usually JSON)' } } : {}),
    responses: { 200: { description: 'what run() returned', contentType: 'application/json' }, ...errors },
    handle: async ({ params: p, req, requestId }) => toReply(await gateway.handle(p.name, '/score', req, requestId)),
  });
  return [
    score('POST'),
    score('GET'),
    route({
      method: 'GET', path: '/api/v1/service/{name}/swagger.json', operationId: 'serviceSwagger', summary: 'The service\'s OpenAPI document, from a ready replica (no credential needed)',
      params,
      responses: { 200: { description: 'the document', contentType: 'application/json' }, ...errors },
      handle: async ({ params: p, req, requestId }) => toReply(await gateway.handle(p.name, '/swagger.json', req, requestId)),
    }),
  ];
}

export function metricsRoutes(metrics: GatewayMetrics): Route[] {
  return [
    route({
      method: 'GET', path: '/metrics', operationId: 'metrics', summary: 'Prometheus metrics: scoring requests, latency, queue wait, 503/504, replicas desired/ready, utilization per service',
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain; version=0.0.4' } },
      handle: async () => ({ status: 200, bytes: Buffer.from(await metrics.text()), contentType: metrics.registry.contentType }),
    }),
  ];
}
