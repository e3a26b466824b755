// The rules for model names, versions, tags and file paths: one definition shared by the API and the CLI's edge checks.
import { z } from 'zod';
import { formatNameVersion, parseKeyValues } from '../core/key-values.js';
import { BerthError } from '../errors/catalogue.js';
import { checkPath } from '../core/fs-path.js';

/** The classic service's model-name rule (DESIGN.md "Models"). */
export const MODEL_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9\-._]{0,254}$/;

const NAME_RULE = 'a model name starts with a letter or digit and has only letters, digits, -, _ and . (at most 255)';

export const modelNameSchema = z.string().regex(MODEL_NAME_PATTERN, NAME_RULE);

export const versionNumberSchema = z.number().int().positive();

export const tagKeySchema = z.string().min(1).max(256).regex(/^[^=]+$/, 'a tag key cannot contain =');
export const tagsSchema = z
  .record(tagKeySchema, z.string().max(4096))
  .refine((t) => Object.keys(t).length <= 100, 'at most 100 tags');

export const descriptionSchema = z.string().max(4096);

/** A file's path inside a model: relative, '/'-separated, no '.', '..' or empty segments; laid out on disk at deploy. */
export const modelFilePathSchema = z
  .string()
  .min(1)
  .superRefine(checkPath)
  .refine((p) => !p.includes('\0') && p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..'), {
    message: "a model file path is relative, '/'-separated, without '.', '..' or empty parts",
  });

export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 digest is 64 lower-case hex digits');

/** The first path that is also used as a folder by another path (they could not both be laid out), if any. */
export function pathConflict(paths: readonly string[]): string | undefined {
  const files = new Set(paths);
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (files.has(dir)) return dir;
    }
  }
  return undefined;
}

export interface ModelRef {
  readonly name: string;
  /** undefined = the latest version */
  readonly version?: number;
}

/** Throws the one-line INVALID_ARGUMENT error for a name that breaks the rule. */
export function checkModelName(name: string): string {
  if (!MODEL_NAME_PATTERN.test(name)) throw new BerthError('INVALID_ARGUMENT', { detail: `invalid model name "${name}": ${NAME_RULE}` });
  return name;
}

/** Parses `NAME` or `NAME:VERSION` (VERSION a positive integer or `latest`). */
export function parseModelRef(text: string, opts: { requireVersion?: boolean } = {}): ModelRef {
  const colon = text.lastIndexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  const versionText = colon === -1 ? undefined : text.slice(colon + 1);
  checkModelName(name);
  if (versionText === undefined || versionText === 'latest') {
    if (opts.requireVersion) {
      throw new BerthError('INVALID_ARGUMENT', { detail: `give the version to act on: ${name}:VERSION (e.g. ${name}:1)` });
    }
    return { name };
  }
  if (!/^[1-9]\d{0,8}$/.test(versionText)) {
    throw new BerthError('INVALID_ARGUMENT', { detail: `invalid model version "${versionText}" in "${text}": a version is 1, 2, 3, …` });
  }
  return { name, version: Number(versionText) };
}

export function formatModelRef(ref: ModelRef): string {
  return formatNameVersion(ref);
}

/** Parses repeated `--tag k=v` values into an object; a repeated key or a missing `=` is an error. */
export function parseTags(values: readonly string[]): Record<string, string> {
  const tags = parseKeyValues(values, 'tag', 'tags as key=value');
  const checked = tagsSchema.safeParse(tags);
  if (!checked.success) {
    throw new BerthError('INVALID_ARGUMENT', { detail: `invalid tags: ${checked.error.issues[0]?.message ?? 'invalid'}` });
  }
  return tags;
}

// --- the resource as the API returns it ---------------------------------------------------------------------------

export const modelFileSchema = z.object({
  path: modelFilePathSchema,
  size: z.number().int().nonnegative(),
  digest: sha256Schema,
});

export const modelVersionSchema = z.object({
  name: modelNameSchema,
  version: versionNumberSchema,
  description: descriptionSchema,
  tags: tagsSchema,
  size: z.number().int().nonnegative().describe('total bytes of its files'),
  file_count: z.number().int().positive(),
  created_at: z.string().describe('ISO 8601 time of registration'),
});

export const modelVersionDetailSchema = modelVersionSchema.extend({ files: z.array(modelFileSchema) });

export type ModelFile = z.infer<typeof modelFileSchema>;
export type ModelVersion = z.infer<typeof modelVersionSchema>;
export type ModelVersionDetail = z.infer<typeof modelVersionDetailSchema>;
