// The Open Inference Protocol v2 routes under each service's prefix (/api/v1/service/{name}/v2/...): forwarded to a ready replica with the same auth as /score.
import { z } from 'zod';
import { route, type HttpMethod, type Reply, type Route } from '../control/api/route.js';
import { serviceNameSchema } from '../control/services/spec.js';
import type { Gateway, GatewayPath, GatewayReply } from './gateway.js';

const segment = z.string().min(1).max(253);
const service = z.object({ name: serviceNameSchema }).strict();
const model = z.object({ name: serviceNameSchema, model: segment }).strict();
const versioned = z.object({ name: serviceNameSchema, model: segment, version: segment }).strict();

const errors = {
  400: { description: 'the request\'s tensors do not fit their shape or datatype, or the model\'s declared signature (OIP_BAD_REQUEST)' },
  401: { description: 'missing or invalid key or token (SCORING_UNAUTHORIZED)' },
  404: { description: 'no such service (SERVICE_NOT_FOUND), or the model name is not the service name (OIP_MODEL_NOT_FOUND)' },
  502: { description: 'infer() or run() raised (the replica\'s 500), or the replica failed mid-request (REPLICA_REQUEST_FAILED)' },
  503: { description: 'no replica slot within max_request_wait_time (SERVICE_OVERLOADED) or no ready replica (NO_READY_REPLICA); with Retry-After' },
  504: { description: 'scoring timeout (SCORING_TIMEOUT)' },
};

/**
 * The gateway's own error bodies (`{message, code, …}`) in the protocol's form, `{"error": message, code, …}`, as the
 * replica answers its own errors: a v2 client finds `error` whichever of the two refused it.
 */
export function asProtocolReply(r: GatewayReply): Reply {
  let body = r.body;
  if (r.status >= 400 && Buffer.isBuffer(body) && r.contentType.startsWith('application/json')) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (typeof parsed.message === 'string' && typeof parsed.code === 'string' && parsed.error === undefined) {
        const { message, ...rest } = parsed;
        body = Buffer.from(JSON.stringify({ error: message, ...rest }));
      }
    } catch {
      // not JSON after all: passed on as it is
    }
  }
  return Buffer.isBuffer(body)
    ? { status: r.status, bytes: body, contentType: r.contentType, headers: r.headers }
    : { status: r.status, stream: body, contentType: r.contentType, headers: r.headers };
}

const enc = encodeURIComponent;

export function oipRoutes(gateway: Gateway): Route[] {
  const prefix = '/api/v1/service/{name}';
  const forward = <P extends { name: string }>(method: HttpMethod, path: string, operationId: string, summary: string, params: z.ZodType<P>, target: (p: P) => GatewayPath): Route => route<P>({
    method, path: prefix + path, operationId, summary, params,
    ...(method === 'POST' ? { rawBody: { description: 'the Open Inference Protocol infer request (JSON, or JSON then binary tensor data with Inference-Header-Content-Length)' } } : {}),
    responses: { 200: { description: 'the replica\'s answer', contentType: 'application/json' }, ...errors },
    handle: async ({ params: p, req, requestId }) => asProtocolReply(await gateway.handle(p.name, target(p), req, requestId)),
  });
  const modelPath = (p: { model: string; version?: string }): `/v2${string}` => `/v2/models/${enc(p.model)}${p.version === undefined ? '' : `/versions/${enc(p.version)}`}`;
  return [
    forward('GET', '/v2', 'oipServerMetadata', 'Open Inference Protocol server metadata, from a ready replica', service, () => '/v2'),
    forward('GET', '/v2/health/live', 'oipServerLive', 'Open Inference Protocol liveness, from a ready replica', service, () => '/v2/health/live'),
    forward('GET', '/v2/health/ready', 'oipServerReady', 'Open Inference Protocol readiness, from a ready replica', service, () => '/v2/health/ready'),
    forward('GET', '/v2/models/{model}', 'oipModelMetadata', 'Model metadata (the model name is the service name)', model, (p) => modelPath(p)),
    forward('GET', '/v2/models/{model}/versions/{version}', 'oipModelVersionMetadata', 'Model metadata for one version', versioned, (p) => modelPath(p)),
    forward('GET', '/v2/models/{model}/ready', 'oipModelReady', 'Model readiness', model, (p) => `${modelPath(p)}/ready`),
    forward('GET', '/v2/models/{model}/versions/{version}/ready', 'oipModelVersionReady', 'Model readiness for one version', versioned, (p) => `${modelPath(p)}/ready`),
    forward('POST', '/v2/models/{model}/infer', 'oipInfer', 'Inference: the tensors go to infer(), or the one input to run() as {"data": ...} (docs/oip-v2.md)', model, (p) => `${modelPath(p)}/infer`),
    forward('POST', '/v2/models/{model}/versions/{version}/infer', 'oipInferVersion', 'Inference on one version', versioned, (p) => `${modelPath(p)}/infer`),
  ];
}
