// REST routes of environments: create a version (its build starts), list, show, build, and read the build log.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { createEnvironmentSchema, envNameSchema, environmentViewSchema, type EnvRef } from '../environments/env-schema.js';
import type { Environments } from '../environments/environments.js';
import { route, type Route } from './route.js';

const versionParam = z
  .string()
  .regex(/^(latest|[1-9]\d{0,8})$/, 'a version is a positive whole number or "latest"')
  .transform((v) => (v === 'latest' ? ('latest' as const) : Number(v)));
const versionPath = z.object({ name: envNameSchema, version: versionParam }).strict();

const ref = (p: { name: string; version: number | 'latest' }): EnvRef => (p.version === 'latest' ? { name: p.name } : { name: p.name, version: p.version });
const notFound = { description: 'no such environment version (ENVIRONMENT_NOT_FOUND)' };

export function environmentRoutes(envs: Environments): Route[] {
  return [
    route({
      method: 'POST', path: '/v1/environments', operationId: 'createEnvironment',
      summary: 'Create the next version of an environment (or return the latest when its spec is unchanged) and start its build',
      body: createEnvironmentSchema,
      responses: {
        201: { description: 'the version, building or already built', schema: z.object({ environment: environmentViewSchema, created: z.boolean().describe('false when the latest version had this spec') }) },
        400: { description: 'invalid spec (ENVIRONMENT_SPEC_INVALID, VALIDATION_FAILED)' },
      },
      handle: async ({ body }) => ({ status: 201, json: await envs.create(body) }),
    }),
    route({
      method: 'GET', path: '/v1/environments', operationId: 'listEnvironments', summary: 'List environment versions, optionally of one name',
      query: z.object({ name: envNameSchema.optional() }).strict(),
      responses: { 200: { description: 'versions, by name then version', schema: z.object({ environments: z.array(environmentViewSchema) }) } },
      handle: ({ query }) => ({ status: 200, json: { environments: envs.list(query.name) } }),
    }),
    route({
      method: 'GET', path: '/v1/environments/{name}/versions/{version}', operationId: 'getEnvironment',
      summary: 'Show an environment version: spec, digest, build state, build count, size and build time',
      params: versionPath,
      responses: { 200: { description: 'the version', schema: environmentViewSchema }, 404: notFound },
      handle: ({ params }) => ({ status: 200, json: envs.show(ref(params)) }),
    }),
    route({
      method: 'POST', path: '/v1/environments/{name}/versions/{version}/build', operationId: 'buildEnvironment',
      summary: 'Build the version unless it is built (a failed build is retried); returns at once',
      params: versionPath,
      responses: { 202: { description: 'the version, with its build state', schema: environmentViewSchema }, 404: notFound },
      handle: ({ params }) => ({ status: 202, json: envs.build(ref(params)) }),
    }),
    route({
      method: 'GET', path: '/v1/environments/{name}/versions/{version}/log', operationId: 'getEnvironmentLog',
      summary: 'The build log of the version\'s digest (the last build), as text',
      params: versionPath,
      query: z.object({ tail: z.string().regex(/^[1-9]\d{0,6}$/, 'a number of lines').transform(Number).optional() }).strict(),
      responses: { 200: { description: 'the log', contentType: 'text/plain; charset=utf-8' }, 404: notFound },
      handle: ({ params, query }) => {
        const { path, version } = envs.logPath(ref(params));
        const type = 'text/plain; charset=utf-8';
        if (!existsSync(path)) return { status: 200, stream: Readable.from([`# environment ${version.name}:${version.version} has not been built yet\n`]), contentType: type };
        if (query.tail === undefined) return { status: 200, stream: createReadStream(path), contentType: type };
        const lines = readFileSync(path, 'utf8').split('\n');
        if (lines.at(-1) === '') lines.pop();
        return { status: 200, stream: Readable.from([lines.slice(-query.tail).join('\n') + '\n']), contentType: type };
      },
    }),
  ];
}
