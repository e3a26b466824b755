// REST routes of captured failed requests: the list (`berth service requests NAME --failed`) and one whole, body included, for a replay.
import { z } from 'zod';
import { capturedRequestSchema } from '../services/capture-store.js';
import type { Captures } from '../services/captures.js';
import { serviceNameSchema } from '../services/spec.js';
import { route, type Route } from './route.js';

const settingsSchema = z.object({
  enabled: z.boolean(), max_requests: z.number().int(), max_mb: z.number(), redact: z.array(z.string()),
}).strict();

export const capturedListSchema = z.object({
  capture: settingsSchema.describe('the service\'s capture settings now'),
  bytes: z.number().int().describe('bytes the ring holds'),
  requests: z.array(capturedRequestSchema).describe('newest first'),
}).strict();
export type CapturedList = z.infer<typeof capturedListSchema>;

export const capturedWholeSchema = capturedRequestSchema.extend({
  body: z.string().optional().describe('the body as kept (redacted); absent when body_omitted says why'),
  body_encoding: z.enum(['utf8', 'base64']).optional(),
}).strict();
export type CapturedWhole = z.infer<typeof capturedWholeSchema>;

const notFound = { description: 'no such service (SERVICE_NOT_FOUND), or no such captured request (CAPTURED_REQUEST_NOT_FOUND)' };

export function captureRoutes(captures: Captures): Route[] {
  return [
    route({
      method: 'GET', path: '/v1/services/{name}/requests', operationId: 'listCapturedRequests',
      summary: 'Captured failed requests of a service (those answered 5xx while capture_failures is on), newest first',
      params: z.object({ name: serviceNameSchema }).strict(),
      query: z.object({
        // Only failed requests are captured; the parameter says so, and leaves room for sampling others later.
        failed: z.enum(['true'], 'only failed requests are captured: failed=true').optional(),
        limit: z.string().regex(/^\d{1,5}$/, 'a whole number').transform(Number).pipe(z.number().int().min(1, 'must be 1 to 10000').max(10_000, 'must be 1 to 10000')).optional(),
      }).strict(),
      responses: { 200: { description: 'the captures', schema: capturedListSchema }, 404: notFound },
      handle: async ({ params, query }) => {
        const { requests, bytes } = await captures.list(params.name, query.limit ?? 10_000);
        const capture = captures.settings(params.name);
        const list: CapturedList = { capture: { ...capture, redact: [...capture.redact] }, bytes, requests };
        return { status: 200, json: list };
      },
    }),
    route({
      method: 'GET', path: '/v1/services/{name}/requests/{id}', operationId: 'getCapturedRequest',
      summary: 'One captured request whole: headers, body (redacted), replica, traceback',
      params: z.object({ name: serviceNameSchema, id: z.string().min(1).max(100, 'a request id has at most 100 characters') }).strict(),
      responses: { 200: { description: 'the capture', schema: capturedWholeSchema }, 404: notFound },
      handle: async ({ params }) => {
        const { meta, body } = await captures.get(params.name, params.id);
        return { status: 200, json: { ...meta, ...encodeBody(body) } satisfies CapturedWhole };
      },
    }),
  ];
}

/** UTF-8 text as it is (nearly every scoring body), anything else as base64. */
function encodeBody(body: Buffer | undefined): Pick<CapturedWhole, 'body' | 'body_encoding'> {
  if (body === undefined) return {};
  try {
    return { body: new TextDecoder('utf-8', { fatal: true }).decode(body), body_encoding: 'utf8' };
  } catch {
    return { body: body.toString('base64'), body_encoding: 'base64' };
  }
}
