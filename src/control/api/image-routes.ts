// REST routes of container images: build (progress streamed as JSON lines), list, show, build log, prune.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { z } from 'zod';
import { toHttpError } from '../../errors/http.js';
import type { Images } from '../../images/index.js';
import { imageEnvironment } from '../../images/environment.js';
import { buildImageRequestSchema, builtImageSchema, imageViewSchema, pruneReportSchema } from '../../images/schema.js';
import { parseEnvRef } from '../environments/env-schema.js';
import type { Environments } from '../environments/environments.js';
import { route, type Route } from './route.js';

const tagPath = z.object({ tag: z.string().min(1).max(512) }).strict();
const notFound = { description: 'no such image (IMAGE_NOT_FOUND)' };
const noDocker = { description: 'the Docker engine does not answer (DOCKER_UNAVAILABLE)' };

/** `images` is the images part, made on first use: the plane starts (and serves everything else) without Docker. */
export function imageRoutes(images: () => Promise<Images>, envs: Environments): Route[] {
  return [
    route({
      method: 'POST', path: '/v1/images/build', operationId: 'buildImage',
      summary: 'Make the image of an environment and a source folder: reused, pulled from the registry, or built and pushed',
      body: buildImageRequestSchema,
      responses: {
        200: { description: 'JSON lines: {"step": …} as it goes, then {"image": BuiltImage} or {"error": {code, message, fix}}', contentType: 'application/x-ndjson' },
        404: { description: 'no such environment (ENVIRONMENT_NOT_FOUND)' },
        503: noDocker,
      },
      handle: async ({ body }) => {
        // Checked before the stream starts, so these fail as plain HTTP errors.
        const environment = body.environment === undefined ? undefined : imageEnvironment(envs, parseEnvRef(body.environment));
        const part = await images();
        await part.ready();
        const out = new PassThrough();
        const line = (value: unknown): void => {
          out.write(`${JSON.stringify(value)}\n`);
        };
        // Not stopped when the client goes away: the image is worth finishing, and another caller may share its build.
        part.ensure({
          sourceDir: body.source_dir,
          ...(environment === undefined ? {} : { environment }),
          ...(body.service === undefined ? {} : { service: body.service }),
          ...(body.base_image === undefined ? {} : { baseImage: body.base_image }),
          ...(body.registry === undefined ? {} : { registry: body.registry }),
        }, new AbortController().signal, (step) => line({ step })).then(
          (image) => line({ image: builtImageSchema.parse(image) }),
          (err: unknown) => line({ error: toHttpError(err).body }),
        ).finally(() => out.end());
        return { status: 200, stream: out, contentType: 'application/x-ndjson' };
      },
    }),
    route({
      method: 'GET', path: '/v1/images', operationId: 'listImages', summary: 'List the images this control plane made, pulled or attempted, newest use first',
      responses: { 200: { description: 'images', schema: z.object({ images: z.array(imageViewSchema) }) }, 503: noDocker },
      handle: async () => ({ status: 200, json: { images: await (await images()).list() } }),
    }),
    route({
      method: 'GET', path: '/v1/images/{tag}', operationId: 'getImage', summary: 'Show an image: inputs, lock, ref, size, why it was built, its error',
      params: tagPath,
      responses: { 200: { description: 'the image', schema: imageViewSchema }, 404: notFound, 503: noDocker },
      handle: async ({ params }) => ({ status: 200, json: await (await images()).show(params.tag) }),
    }),
    route({
      method: 'GET', path: '/v1/images/{tag}/log', operationId: 'getImageLog', summary: 'The log of the image\'s last build (or pull), as text',
      params: tagPath,
      query: z.object({ tail: z.string().regex(/^[1-9]\d{0,6}$/, 'a number of lines').transform(Number).optional() }).strict(),
      responses: { 200: { description: 'the log', contentType: 'text/plain; charset=utf-8' }, 404: notFound },
      handle: async ({ params, query }) => {
        const { path, tag } = (await images()).logPath(params.tag);
        const type = 'text/plain; charset=utf-8';
        if (!existsSync(path)) return { status: 200, stream: Readable.from([`# no log is kept for ${tag}\n`]), contentType: type };
        if (query.tail === undefined) return { status: 200, stream: createReadStream(path), contentType: type };
        const lines = readFileSync(path, 'utf8').split('\n');
        if (lines.at(-1) === '') lines.pop();
        return { status: 200, stream: Readable.from([lines.slice(-query.tail).join('\n') + '\n']), contentType: type };
      },
    }),
    route({
      method: 'POST', path: '/v1/images/prune', operationId: 'pruneImages',
      summary: 'Remove the images no service generation uses (the base, and layers under kept images, stay)',
      responses: { 200: { description: 'what was removed and kept', schema: pruneReportSchema }, 503: noDocker },
      handle: async () => ({ status: 200, json: await (await images()).prune() }),
    }),
  ];
}
