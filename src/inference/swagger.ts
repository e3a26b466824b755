// The OpenAPI document of a served entry script: the user's own swagger file when present, else a generated one.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { version } from '../core/version.js';

/** Classic servers pick up `swagger2.json` / `swagger3.json` placed beside the entry script. */
export function loadSwagger(entryScript: string, requested: string | null): unknown {
  const dir = dirname(entryScript);
  const candidates = requested === '2' ? ['swagger2.json'] : ['swagger3.json', 'swagger2.json'];
  for (const name of candidates) {
    const file = join(dir, name);
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  }
  return generatedSwagger(entryScript);
}

function generatedSwagger(entryScript: string): unknown {
  const error = { $ref: '#/components/schemas/Error' };
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
  const scoreResponses = {
    200: { description: 'The result of run()', content: { 'application/json': { schema: {} } } },
    400: errorResponse('The body is not UTF-8'),
    413: errorResponse('The body is too large'),
    431: errorResponse('A request id header is longer than 100 characters'),
    500: errorResponse('run() raised'),
    502: errorResponse('The worker died during the request'),
    503: errorResponse('Overloaded: no worker became free in time'),
    504: errorResponse('The scoring timeout passed'),
  };
  return {
    openapi: '3.0.3',
    info: { title: `berth service: ${basename(entryScript)}`, version, description: 'Scoring API served by berth.' },
    paths: {
      '/': { get: { summary: 'Liveness', responses: { 200: { description: 'Healthy', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/ready': { get: { summary: 'Readiness: 200 once every worker finished init()', responses: { 200: { description: 'Ready' }, 503: { description: 'Starting' } } } },
      '/score': {
        post: { summary: 'Score: the body goes to run()', requestBody: { content: { 'application/json': { schema: {} }, 'text/plain': { schema: { type: 'string' } } } }, responses: scoreResponses },
        get: { summary: 'Score: the query parameters go to run() as a JSON object string', responses: scoreResponses },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Metrics in the Prometheus text format' } } } },
    },
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['message', 'code'],
          properties: { message: { type: 'string' }, code: { type: 'string' }, request_id: { type: 'string' }, fix: { type: 'string' } },
        },
      },
    },
  };
}
