// The rules for environment names, references, create requests and the resource as the API returns it: one definition for API and CLI.
import { isAbsolute } from 'node:path';
import { formatNameVersion, parseKeyValues } from '../../core/key-values.js';
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import { argSchema, checkPath, noNulText } from '../../core/fs-path.js';
import { MODEL_NAME_PATTERN, descriptionSchema } from '../model-schema.js';

const NAME_RULE = 'an environment name starts with a letter or digit and has only letters, digits, -, _ and . (at most 255)';

/** Same rule as model names: the classic service names environments like `AzureML-sklearn-1.0`. */
export const envNameSchema = z.string().regex(MODEL_NAME_PATTERN, NAME_RULE);

/** Variables berth itself sets in every replica; an environment cannot override them. */
const RESERVED_VARIABLE = /^(BERTH_.*|AZUREML_MODEL_DIR|AZUREML_ENTRY_SCRIPT|VIRTUAL_ENV)$/;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Keys are checked in superRefine rather than by a key schema, whose failures zod reports only as "Invalid key in record".
export const variablesSchema = z
  .record(z.string(), z.string().max(32_768).refine((v) => !v.includes('\0'), 'a variable value cannot contain a NUL byte'))
  .superRefine((vars, ctx) => {
    const keys = Object.keys(vars);
    if (keys.length > 200) ctx.addIssue({ code: 'custom', message: 'at most 200 variables' });
    for (const key of keys) {
      if (!VARIABLE_NAME.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'a variable name has letters, digits and _, and does not start with a digit' });
      else if (RESERVED_VARIABLE.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'BERTH_*, AZUREML_MODEL_DIR, AZUREML_ENTRY_SCRIPT and VIRTUAL_ENV are set by berth' });
    }
  });

/** pip's index options, given as fields or as option lines of a requirements file; each becomes an argument of pip. */
export const pipOptionsSchema = z
  .object({
    index_url: argSchema.optional(),
    extra_index_urls: z.array(argSchema).max(20).optional(),
    find_links: z.array(argSchema).max(20).optional(),
    no_index: z.boolean().optional(),
    trusted_hosts: z.array(argSchema).max(20).optional(),
  })
  .strict();

const FILE_LIMIT = 512 * 1024;

/**
 * POST /v1/environments: at most one of requirements / conda / package_json, each the file's text. `python` is run and
 * `base_dir` read at once, and the files' lines become pip's arguments: an unusable path or a NUL byte is a 400 here.
 */
export const createEnvironmentSchema = z
  .object({
    name: envNameSchema,
    description: descriptionSchema.default(''),
    python: z.string().min(1).superRefine(checkPath).optional().describe('the interpreter the virtualenv is made from; default python3 on the control plane\'s PATH'),
    system_site_packages: z.boolean().optional(),
    requirements: noNulText(FILE_LIMIT).optional().describe('a requirements.txt'),
    conda: noNulText(FILE_LIMIT).optional().describe('a conda environment YAML; its python version and pip section are used'),
    package_json: noNulText(FILE_LIMIT).optional().describe('a package.json, for JS entry scripts'),
    base_dir: z.string().min(1).superRefine(checkPath).refine(isAbsolute, 'must be an absolute path').optional().describe('the folder relative paths in the file are taken from'),
    pip: pipOptionsSchema.optional(),
    variables: variablesSchema.optional(),
  })
  .strict();

export type CreateEnvironmentRequest = z.infer<typeof createEnvironmentSchema>;

// --- the normalised spec: what a version stores, and (less its variables) what its build digest is made of ----------

export const interpreterSchema = z.object({ executable: z.string(), implementation: z.string(), version: z.string() });
export type Interpreter = z.infer<typeof interpreterSchema>;

export const normalPipSchema = z.object({
  index_url: z.string().optional(),
  extra_index_urls: z.array(z.string()),
  find_links: z.array(z.string()),
  no_index: z.boolean(),
  trusted_hosts: z.array(z.string()),
});
export type NormalPipOptions = z.infer<typeof normalPipSchema>;

export const buildSpecSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('python'),
    interpreter: interpreterSchema,
    system_site_packages: z.boolean(),
    requirements: z.array(z.string()).describe('sorted, names normalised'),
    pip: normalPipSchema,
  }),
  z.object({
    kind: z.literal('node'),
    node_version: z.string(),
    package_json: z.record(z.string(), z.unknown()),
  }),
]);
export type BuildSpec = z.infer<typeof buildSpecSchema>;

export const envSpecSchema = z.object({
  build: buildSpecSchema,
  variables: z.record(z.string(), z.string()),
  source: z.enum(['requirements.txt', 'conda', 'package.json', 'none']),
  /** As given: `--python`, and the conda file's python constraint. */
  requested_python: z.string().optional(),
  conda_python: z.string().optional(),
});
export type EnvSpec = z.infer<typeof envSpecSchema>;

export const buildStateSchema = z.enum(['Building', 'Built', 'Failed']);
export type BuildState = z.infer<typeof buildStateSchema>;

export const errorBodySchema = z.object({ code: z.string(), message: z.string(), fix: z.string() });

export const environmentViewSchema = z.object({
  name: envNameSchema,
  version: z.number().int().positive(),
  description: z.string(),
  created_at: z.string(),
  digest: z.string().describe('sha256 of the build spec: equal digests share one build'),
  state: z.enum(['NotBuilt', 'Building', 'Built', 'Failed']),
  builds: z.number().int().describe('how many times this digest was actually built'),
  size: z.number().int().optional().describe('bytes on disk of the built environment'),
  build_ms: z.number().int().optional(),
  built_at: z.string().optional(),
  path: z.string().describe('where the built environment lives'),
  python: z.string().optional().describe('the environment\'s interpreter (python kind)'),
  spec: envSpecSchema,
  error: errorBodySchema.optional(),
});
export type EnvironmentView = z.infer<typeof environmentViewSchema>;

// --- references ---------------------------------------------------------------------------------------------------

export interface EnvRef {
  readonly name: string;
  /** undefined = the latest version */
  readonly version?: number;
}

/** Parses `NAME`, `NAME:VERSION` or `NAME:latest`; throws INVALID_ARGUMENT naming the rule. */
export function parseEnvRef(text: string): EnvRef {
  const colon = text.lastIndexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  const versionText = colon === -1 ? undefined : text.slice(colon + 1);
  if (!MODEL_NAME_PATTERN.test(name)) throw new BerthError('INVALID_ARGUMENT', { detail: `invalid environment "${text}": ${NAME_RULE}` });
  if (versionText === undefined || versionText === 'latest') return { name };
  if (!/^[1-9]\d{0,8}$/.test(versionText)) {
    throw new BerthError('INVALID_ARGUMENT', { detail: `invalid environment version "${versionText}" in "${text}": a version is 1, 2, 3, … or latest` });
  }
  return { name, version: Number(versionText) };
}

export function formatEnvRef(ref: EnvRef): string {
  return formatNameVersion(ref);
}

/** Parses repeated `--var K=V` values; a repeated key or a missing `=` is an error. */
export function parseVariables(values: readonly string[]): Record<string, string> {
  const vars = parseKeyValues(values, 'variable', 'variables as NAME=value');
  const checked = variablesSchema.safeParse(vars);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new BerthError('INVALID_ARGUMENT', { detail: `invalid variable ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`.replace(/ :/, ':') });
  }
  return vars;
}
