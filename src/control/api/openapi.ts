// Builds the OpenAPI 3.1 document from the route table itself, so the document cannot drift from the routes.
import { z } from 'zod';
import type { Route } from './route.js';
import { isOpenPath } from './admin-auth.js';

const errorBody = z.object({
  message: z.string(),
  code: z.string().describe('machine-readable code from berth\'s error catalogue'),
  fix: z.string().optional(),
  request_id: z.string().optional(),
});

export type OpenApiDocument = Readonly<Record<string, unknown>>;

export function openApiDocument(routes: readonly Route[], version: string): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'berth control plane', version, description: 'Every error body is JSON {message, code, fix, request_id}.' },
    paths,
    components: {
      schemas: { Error: schema(errorBody, 'output') },
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token, when the control plane has one (always off loopback); a missing or wrong one is 401 ADMIN_UNAUTHORIZED.' },
      },
    },
  };
}

function operation(r: Route): Record<string, unknown> {
  const parameters = [
    ...fields(r.params).map(([name, s]) => ({ name, in: 'path', required: true, schema: s })),
    ...fields(r.query).map(([name, s, required]) => ({ name, in: 'query', required, schema: s })),
    ...Object.entries(r.rawBody?.headers ?? {}).map(([name, description]) => ({ name, in: 'header', required: false, description, schema: { type: 'string' } })),
  ];
  const op: Record<string, unknown> = { operationId: r.operationId, summary: r.summary, parameters };
  if (!isOpenPath(r.path)) op.security = [{ adminToken: [] }];
  if (r.body !== undefined) {
    op.requestBody = { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } };
  } else if (r.rawBody !== undefined) {
    op.requestBody = { required: true, description: r.rawBody.description, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
  }
  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(r.responses)) {
    const content =
      spec.schema !== undefined ? { 'application/json': { schema: schema(spec.schema, 'output') } }
      : spec.contentType !== undefined ? { [spec.contentType]: { schema: { type: 'string', format: 'binary' } } }
      : Number(status) >= 400 ? { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
      : undefined;
    responses[status] = content === undefined ? { description: spec.description } : { description: spec.description, content };
  }
  responses.default = { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  op.responses = responses;
  return op;
}

/** [name, JSON schema, required] of each property of an object schema (path and query parameters). */
function fields(s: z.ZodType | undefined): [string, unknown, boolean][] {
  if (s === undefined) return [];
  const json = schema(s, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, p]) => [name, p, json.required?.includes(name) ?? false]);
}

function schema(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  // `unrepresentable: 'any'` keeps transforms (e.g. "latest" | number) from throwing; their input side is documented.
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}
