// The images' shapes as the API returns and takes them (zod, strict): one definition for routes, OpenAPI and the CLI.
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { errorBodySchema } from '../control/environments/env-schema.js';

export const imageKindSchema = z.enum(['base', 'runtime', 'env', 'app']);
export const outcomeSchema = z.enum(['reused-local', 'pulled', 'built']);

export const lockSchema = z.object({
  kind: z.enum(['python', 'node']),
  packages: z.array(z.object({ name: z.string(), version: z.string(), file: z.string().optional(), sha256: z.string().optional(), integrity: z.string().optional() })),
});

export const imageViewSchema = z.object({
  tag: z.string().describe('repository:hash; the hash is of every input of the layer'),
  kind: imageKindSchema,
  state: z.enum(['building', 'built', 'failed']),
  present: z.boolean().describe('the Docker engine has it now'),
  outcome: outcomeSchema.optional().describe('how it last came to be here'),
  ref: z.string().optional().describe('what replicas run: repository@sha256:… once in a registry, else the image id'),
  digest: z.string().optional(),
  image_id: z.string().optional(),
  size: z.number().int().optional(),
  parent: z.string().optional(),
  service: z.string().optional().describe('the service that first asked for it'),
  why: z.string().optional().describe('when built: which input changed against the service\'s previous image'),
  build_ms: z.number().int().optional(),
  created_at: z.string(),
  last_used_at: z.string(),
  inputs: z.record(z.string(), z.unknown()),
  lock: lockSchema.optional(),
  log: z.string().describe('the build log\'s path (berth image logs TAG prints it)'),
  error: errorBodySchema.optional(),
});
export type ImageView = z.infer<typeof imageViewSchema>;

export const builtImageSchema = z.object({
  tag: z.string(),
  ref: z.string(),
  digest: z.string().optional(),
  node: z.string(),
  berthBin: z.string(),
  python: z.string(),
  env: z.record(z.string(), z.string()),
  appRoot: z.literal('/var/azureml-app'),
  outcome: outcomeSchema,
  layersBuilt: z.array(z.enum(['runtime', 'env', 'app'])),
  why: z.string().optional(),
});

/** POST /v1/images/build: what `berth image build` sends. */
export const buildImageRequestSchema = z
  .object({
    environment: z.string().min(1).optional().describe('NAME or NAME:VERSION of a berth environment; none: the base\'s python3'),
    source_dir: z.string().refine(isAbsolute, 'must be an absolute path').describe('the folder copied to /var/azureml-app'),
    service: z.string().min(1).max(255).optional().describe('the service the image is for: its previous image explains a rebuild'),
    base_image: z.string().min(1).max(512).optional().describe('a base with python3 instead of the plane\'s (default berth/base:bookworm)'),
    registry: z.string().min(1).max(512).optional().describe('HOST:PORT[/NAMESPACE] instead of the plane\'s registry'),
  })
  .strict();
export type BuildImageRequest = z.infer<typeof buildImageRequestSchema>;

export const pruneReportSchema = z.object({
  removed: z.array(z.object({ tag: z.string(), kind: imageKindSchema, size: z.number().int().optional(), state: z.string() })),
  kept: z.array(z.object({ tag: z.string(), reason: z.string() })),
  freed_bytes: z.number().int(),
});
export type PruneReport = z.infer<typeof pruneReportSchema>;

export const baseRequestSchema = z.object({ force: z.boolean().default(false), mirror: z.string().url().optional() }).strict();
