// REST routes about the control plane itself: its status and its OpenAPI document.
import { z } from 'zod';
import { route, type Route } from './route.js';
import type { OpenApiDocument } from './openapi.js';

export const statusSchema = z.object({
  version: z.string().describe('berth version'),
  pid: z.number().int(),
  url: z.string(),
  home: z.string(),
  started_at: z.string(),
  schema_version: z.number().int().describe('store schema (SQLite user_version)'),
  models: z.object({ names: z.number().int(), versions: z.number().int() }),
  services: z.number().int(),
});

export type Status = z.infer<typeof statusSchema>;

export function systemRoutes(status: () => Status, document: () => OpenApiDocument): Route[] {
  return [
    route({
      method: 'GET', path: '/v1/status', operationId: 'getStatus', summary: 'Whether and where the control plane runs, and what it holds',
      responses: { 200: { description: 'status', schema: statusSchema } },
      handle: () => ({ status: 200, json: status() }),
    }),
    route({
      method: 'GET', path: '/openapi.json', operationId: 'getOpenApi', summary: 'This API\'s OpenAPI 3.1 document',
      responses: { 200: { description: 'the document', schema: z.record(z.string(), z.unknown()) } },
      handle: () => ({ status: 200, json: document() }),
    }),
  ];
}
