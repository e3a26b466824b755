// REST routes of the model registry: upload sessions (stream files, then commit a version) and the model versions.
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import {
  descriptionSchema,
  modelFilePathSchema,
  modelFileSchema,
  modelNameSchema,
  modelVersionDetailSchema,
  modelVersionSchema,
  sha256Schema,
  tagsSchema,
} from '../model-schema.js';
import type { ModelRegistry } from '../registry.js';
import { route, type Route } from './route.js';

const versionParam = z
  .string()
  .regex(/^(latest|[1-9]\d{0,8})$/, 'a version is a positive whole number or "latest"')
  .transform((v) => (v === 'latest' ? ('latest' as const) : Number(v)));
const versionPath = z.object({ name: modelNameSchema, version: versionParam }).strict();
const uploadPath = z.object({ upload_id: z.string().uuid() }).strict();

export const uploadStartSchema = z
  .object({ name: modelNameSchema, description: descriptionSchema.default(''), tags: tagsSchema.default({}) })
  .strict();
export const uploadCommitSchema = z
  .object({ files: z.array(z.object({ path: modelFilePathSchema, digest: sha256Schema }).strict()).min(1) })
  .strict();
export const uploadedFileSchema = modelFileSchema.extend({ created: z.boolean().describe('false when identical content was already stored') });
export const verifyReportSchema = z.object({
  files: z.number().int(),
  blobs: z.number().int(),
  bytes: z.number().int(),
  problems: z.array(z.object({ model: z.string(), path: z.string(), digest: z.string(), problem: z.enum(['missing', 'corrupt']) })),
});

/** The header that announces a file's sha256; the server refuses the file when the bytes hash differently. */
export const SHA256_HEADER = 'x-berth-sha256';

const ref = (p: { name: string; version: number | 'latest' }) => (p.version === 'latest' ? { name: p.name } : { name: p.name, version: p.version });
const notFound = { description: 'no such model version (MODEL_NOT_FOUND)' };
const invalid = { description: 'invalid input (VALIDATION_FAILED, MALFORMED_JSON)' };

export function modelRoutes(registry: ModelRegistry): Route[] {
  return [
    route({
      method: 'GET', path: '/v1/models', operationId: 'listModels', summary: 'List model versions, optionally of one name',
      query: z.object({ name: modelNameSchema.optional() }).strict(),
      responses: { 200: { description: 'model versions, by name then version', schema: z.object({ models: z.array(modelVersionSchema) }) } },
      handle: ({ query }) => ({ status: 200, json: { models: registry.list(query.name) } }),
    }),
    route({
      method: 'GET', path: '/v1/models/{name}/versions/{version}', operationId: 'getModelVersion', summary: 'Show a model version and its files',
      params: versionPath,
      responses: { 200: { description: 'the version', schema: modelVersionDetailSchema }, 404: notFound },
      handle: ({ params }) => ({ status: 200, json: registry.get(ref(params)) }),
    }),
    route({
      method: 'DELETE', path: '/v1/models/{name}/versions/{version}', operationId: 'deleteModelVersion', summary: 'Delete a model version',
      params: z.object({ name: modelNameSchema, version: z.string().regex(/^[1-9]\d{0,8}$/, 'give the version number').transform(Number) }).strict(),
      responses: { 204: { description: 'deleted' }, 404: notFound, 409: { description: 'a service uses it (MODEL_IN_USE)' } },
      handle: ({ params }) => {
        registry.delete(params);
        return { status: 204 };
      },
    }),
    route({
      method: 'GET', path: '/v1/models/{name}/versions/{version}/file', operationId: 'downloadModelFile', summary: 'Download one file of a model version',
      params: versionPath,
      query: z.object({ path: modelFilePathSchema }).strict(),
      responses: { 200: { description: 'the file\'s bytes; x-berth-sha256 carries its digest', contentType: 'application/octet-stream' }, 404: notFound },
      handle: ({ params, query }) => {
        const f = registry.file(ref(params), query.path);
        const headers = { 'content-length': String(f.size), [SHA256_HEADER]: f.digest };
        return { status: 200, stream: createReadStream(f.source), contentType: 'application/octet-stream', headers };
      },
    }),
    route({
      method: 'POST', path: '/v1/models/{name}/versions/{version}/verify', operationId: 'verifyModelVersion', summary: 'Re-hash the stored files of a model version',
      params: versionPath,
      responses: { 200: { description: 'what was checked and what failed', schema: verifyReportSchema }, 404: notFound },
      handle: async ({ params }) => ({ status: 200, json: await registry.verify(ref(params)) }),
    }),
    route({
      method: 'POST', path: '/v1/verify', operationId: 'verifyStore', summary: 'Re-hash the stored files of every model version',
      responses: { 200: { description: 'what was checked and what failed', schema: verifyReportSchema } },
      handle: async () => ({ status: 200, json: await registry.verify() }),
    }),
    route({
      method: 'POST', path: '/v1/uploads', operationId: 'startUpload', summary: 'Start registering a model version: name, description, tags',
      body: uploadStartSchema,
      responses: { 201: { description: 'the upload session', schema: z.object({ upload_id: z.string() }) }, 400: invalid },
      handle: ({ body }) => ({ status: 201, json: registry.startUpload(body) }),
    }),
    route({
      method: 'PUT', path: '/v1/uploads/{upload_id}/files', operationId: 'uploadFile', summary: 'Stream one file of the upload (the raw bytes are the body)',
      params: uploadPath,
      query: z.object({ path: modelFilePathSchema }).strict(),
      rawBody: { description: 'the file\'s bytes', headers: { [SHA256_HEADER]: 'optional sha256 of the bytes; a mismatch refuses the file' } },
      responses: { 200: { description: 'stored', schema: uploadedFileSchema }, 400: { description: 'bad path or digest mismatch (DIGEST_MISMATCH)' }, 404: { description: 'no such upload (UPLOAD_NOT_FOUND)' } },
      handle: async ({ params, query, req }) => {
        const announced = req.headers[SHA256_HEADER];
        if (announced !== undefined && !sha256Schema.safeParse(announced).success) {
          throw new BerthError('VALIDATION_FAILED', { field: `header ${SHA256_HEADER}`, detail: 'a sha256 digest is 64 lower-case hex digits' });
        }
        return { status: 200, json: await registry.putFile(params.upload_id, query.path, req, announced as string | undefined) };
      },
    }),
    route({
      method: 'POST', path: '/v1/uploads/{upload_id}/commit', operationId: 'commitUpload', summary: 'Register the uploaded files as the next version of the model',
      params: uploadPath,
      body: uploadCommitSchema,
      responses: { 201: { description: 'the new version', schema: modelVersionDetailSchema }, 400: invalid, 404: { description: 'no such upload (UPLOAD_NOT_FOUND)' } },
      handle: ({ params, body }) => ({ status: 201, json: registry.commit(params.upload_id, body.files) }),
    }),
    route({
      method: 'DELETE', path: '/v1/uploads/{upload_id}', operationId: 'abortUpload', summary: 'Abandon an upload; its files are released',
      params: uploadPath,
      responses: { 204: { description: 'aborted' }, 404: { description: 'no such upload (UPLOAD_NOT_FOUND)' } },
      handle: ({ params }) => {
        registry.abortUpload(params.upload_id);
        return { status: 204 };
      },
    }),
  ];
}
