// The deployment spec: the fields a user gives (flags, YAML, API), DESIGN.md's defaults and rules, and the normalised result.
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import { timerMs, timerSeconds } from '../../core/durations.js';
import { checkPath } from '../../core/fs-path.js';
import { MODEL_NAME_PATTERN } from '../model-schema.js';
import type { EnvironmentRuntime } from '../environments/runtime.js';
import type { RestartPolicy, RuntimeKind } from '../../targets/types.js';

export const SERVICE_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const serviceNameSchema = z
  .string()
  .min(3, 'a service name has 3 to 32 characters')
  .max(32, 'a service name has 3 to 32 characters')
  .regex(SERVICE_NAME_PATTERN, 'a service name has lower-case letters, digits and -, starts with a letter and does not end with -');

const modelRef = z
  .string()
  .refine((s) => {
    const [name, version, extra] = s.split(':');
    return MODEL_NAME_PATTERN.test(name ?? '') && extra === undefined && (version === undefined || /^([1-9]\d{0,8}|latest)$/.test(version));
  }, 'a model is NAME or NAME:VERSION (e.g. sum-model:1)');

const positive = z.number().gt(0, 'must be greater than 0');
const count = (min: number) => z.number().int('must be a whole number').min(min, `must be at least ${min}`);

/** Every field a deployment takes, as given; all but name and entry_script are optional (defaults below). */
const fields = {
  // Paths the control plane stats and copies: a NUL byte or an over-long name is a 400 here, not a failed fs call.
  entry_script: z.string().min(1, 'give the entry script (score.py, or a .js/.ts module)').superRefine(checkPath),
  source_dir: z.string().min(1).superRefine(checkPath).optional(),
  models: z.array(modelRef).max(100, 'at most 100 models').optional(),
  environment: z.string().min(1).optional(),
  cpu_cores: positive.optional(),
  cpu_cores_limit: positive.optional(),
  memory_gb: positive.optional(),
  memory_gb_limit: positive.optional(),
  gpu_cores: count(0).optional(),
  num_replicas: count(1).max(100, 'must be at most 100').optional(),
  autoscale_enabled: z.boolean().optional(),
  autoscale_min_replicas: count(1).max(100, 'must be at most 100').optional(),
  autoscale_max_replicas: count(1).max(100, 'must be at most 100').optional(),
  autoscale_target_utilization: count(1).max(100, 'must be at most 100 (%)').optional(),
  // Durations stop at what a timer holds (the classic service sets no upper bound): longer ones would fire at once.
  autoscale_refresh_seconds: timerSeconds(count(1)).optional(),
  scoring_timeout_ms: timerMs(count(1)).optional(),
  // A streaming run() (docs/streaming.md): its first chunk, and each next one, within these (default: scoring_timeout_ms).
  stream_first_chunk_timeout_ms: timerMs(count(1)).optional(),
  stream_chunk_timeout_ms: timerMs(count(1)).optional(),
  replica_max_concurrent_requests: count(1).max(1000, 'must be at most 1000').optional(),
  max_request_wait_time: timerMs(count(1)).optional(),
  period_seconds: timerSeconds(positive).optional(),
  timeout_seconds: timerSeconds(positive).optional(),
  failure_threshold: count(1).optional(),
  success_threshold: count(1).optional(),
  auth_enabled: z.boolean().optional(),
  token_auth_enabled: z.boolean().optional(),
  runtime: z.enum(['process', 'docker'], 'must be process or docker').optional(),
  restart_policy: z.enum(['auto', 'always', 'never'], 'must be auto, always or never').optional(),
  /** A request body run once after init() (JSON given as an object or as text); replicas are ready only when run() answers it 2xx. */
  warmup: z.union([z.string().min(1), z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .refine((v) => (typeof v === 'string' ? v : JSON.stringify(v)).length <= 1024 * 1024, 'must be at most 1 MiB').optional(),
  // Failed-request capture (src/control/services/captures.ts): opt-in, bounded, redacted before it is written.
  capture_failures: z.boolean().optional(),
  capture_max_requests: count(1).max(10_000, 'must be at most 10000').optional(),
  capture_max_mb: positive.max(1024, 'must be at most 1024 (MB)').optional(),
  capture_redact: z.array(z.string().min(1, 'a name has 1 to 200 characters').max(200, 'a name has 1 to 200 characters').regex(/^[^\x00-\x1f\x7f]+$/, 'a name has no control characters')).max(100, 'at most 100 names').optional(),
};

export type ServiceFields = { -readonly [K in keyof typeof fields]?: z.infer<(typeof fields)[K]> };
export type FieldName = keyof typeof fields;
export const FIELD_NAMES = Object.keys(fields) as FieldName[];

/** A deployment as given: `berth deploy` flags, a service.yml, or the body of POST /v1/services. */
export const deployRequestSchema = z.object({ name: serviceNameSchema, ...fields }).strict();
export type DeployRequest = z.infer<typeof deployRequestSchema>;

/** An update: any field but the name; `null` removes a field that was given before, so its default applies again. */
export const updateRequestSchema = z
  .object(Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, (s instanceof z.ZodOptional ? s.unwrap() : s).nullable().optional()])))
  .strict() as unknown as z.ZodType<UpdateRequest>;
export type UpdateRequest = { [K in FieldName]?: ServiceFields[K] | null };

export interface ModelVersionRef {
  readonly name: string;
  readonly version: number;
}

/** The normalised spec: every default filled in, model versions resolved; what replicas are started from. */
export interface ServiceSpec {
  readonly name: string;
  /** As given: the source dir and entry script the snapshot was taken from. */
  readonly entry_script: string;
  readonly source_dir?: string;
  /** The entry script's path inside the snapshot, which replicas run. */
  readonly snapshot_entry_script: string;
  readonly models: readonly ModelVersionRef[];
  /** The environment replicas run in, pinned to a version at deploy time: its interpreter and variables. */
  readonly environment?: EnvironmentRuntime;
  readonly cpu_cores: number;
  readonly cpu_cores_limit?: number;
  readonly memory_gb: number;
  readonly memory_gb_limit?: number;
  readonly gpu_cores: number;
  /** How many replicas run: num_replicas, or autoscale_min_replicas while autoscaling (the autoscaler comes later). */
  readonly replicas: number;
  readonly num_replicas?: number;
  readonly autoscale_enabled: boolean;
  readonly autoscale_min_replicas: number;
  readonly autoscale_max_replicas: number;
  readonly autoscale_target_utilization: number;
  readonly autoscale_refresh_seconds: number;
  readonly scoring_timeout_ms: number;
  readonly stream_first_chunk_timeout_ms?: number;
  readonly stream_chunk_timeout_ms?: number;
  readonly replica_max_concurrent_requests: number;
  readonly max_request_wait_time: number;
  readonly period_seconds: number;
  readonly timeout_seconds: number;
  readonly failure_threshold: number;
  readonly success_threshold: number;
  readonly auth_enabled: boolean;
  readonly token_auth_enabled: boolean;
  /** Where replicas run: processes, or containers of an image built from the environment and the source (pinned at deploy). Absent in specs stored before containers: process. */
  readonly runtime?: RuntimeKind;
  /** auto: a start-up failure that repeats every time stops the replica, others back off; always; never. Absent in older specs: auto. */
  readonly restart_policy?: RestartPolicy;
  /** The warm-up request body, as text. */
  readonly warmup?: string;
  /** Failed requests are kept (a ring of at most capture_max_requests and capture_max_mb), redacted; all four absent when off. */
  readonly capture_failures?: true;
  readonly capture_max_requests?: number;
  readonly capture_max_mb?: number;
  /** Header, JSON field and query parameter names replaced by "[redacted]" (authorization always is). */
  readonly capture_redact?: readonly string[];
}

export interface SpecDefaults {
  /** The control plane's default runtime (`berth up --runtime`). */
  readonly runtime: RuntimeKind;
}

function invalid(field: string, detail: string): never {
  throw new BerthError('VALIDATION_FAILED', { field, detail });
}

const AUTOSCALE_FIELDS = ['autoscale_min_replicas', 'autoscale_max_replicas', 'autoscale_target_utilization', 'autoscale_refresh_seconds'] as const;
const CAPTURE_FIELDS = ['capture_max_requests', 'capture_max_mb', 'capture_redact'] as const;

/**
 * Applies DESIGN.md's defaults and cross-field rules to a parsed request; the first broken rule is one
 * VALIDATION_FAILED naming its field. `resolve` pins each model to a version (NAME alone means the latest).
 */
export function normalizeSpec(r: DeployRequest, resolve: (ref: { name: string; version?: number }) => ModelVersionRef, snapshotEntry: string, resolveEnvironment?: (ref: string) => EnvironmentRuntime, defaults: SpecDefaults = { runtime: 'process' }): ServiceSpec {
  const cpu = r.cpu_cores ?? 0.1;
  const memory = r.memory_gb ?? 0.5;
  if (r.cpu_cores_limit !== undefined && r.cpu_cores_limit < cpu) invalid('cpu_cores_limit', `must be at least cpu_cores (${cpu})`);
  if (r.memory_gb_limit !== undefined && r.memory_gb_limit < memory) invalid('memory_gb_limit', `must be at least memory_gb (${memory})`);
  const autoscale = r.autoscale_enabled ?? r.num_replicas === undefined;
  if (autoscale && r.num_replicas !== undefined) {
    invalid('num_replicas', 'cannot be used together with autoscaling (autoscale_enabled is true); give num_replicas or the autoscale settings, not both');
  }
  if (!autoscale) {
    const given = AUTOSCALE_FIELDS.find((f) => r[f] !== undefined);
    if (given !== undefined) invalid(given, `applies only with autoscaling, which is off${r.num_replicas === undefined ? '' : ' because num_replicas is given'}`);
  }
  const min = r.autoscale_min_replicas ?? 1;
  const max = r.autoscale_max_replicas ?? Math.max(10, min);
  if (min > max) invalid('autoscale_min_replicas', `must be at most autoscale_max_replicas (${max})`);
  const auth = r.auth_enabled ?? !(r.token_auth_enabled ?? false);
  const token = r.token_auth_enabled ?? false;
  if (auth && token) invalid('token_auth_enabled', 'cannot be true together with auth_enabled (key auth); turn one of them off');
  if (r.environment !== undefined && resolveEnvironment === undefined) {
    invalid('environment', 'environments are not available in this version of berth yet; replicas run with python3 from the control plane\'s PATH');
  }
  const capture = r.capture_failures === true;
  const stray = capture ? undefined : CAPTURE_FIELDS.find((f) => r[f] !== undefined);
  if (stray !== undefined) invalid(stray, 'applies only with capture_failures, which is off (--capture-failures turns it on)');
  const environment = r.environment === undefined ? undefined : resolveEnvironment?.(r.environment);
  const models = (r.models ?? []).map((text) => {
    const [name, version] = text.split(':') as [string, string | undefined];
    return resolve(version === undefined || version === 'latest' ? { name } : { name, version: Number(version) });
  });
  const seen = new Set<string>();
  for (const m of models) {
    if (seen.has(m.name)) invalid('models', `model ${m.name} is listed twice; a replica mounts one version of each model`);
    seen.add(m.name);
  }
  const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]?: V }));
  return {
    name: r.name,
    entry_script: r.entry_script,
    ...opt('source_dir', r.source_dir),
    snapshot_entry_script: snapshotEntry,
    models,
    ...opt('environment', environment),
    cpu_cores: cpu,
    ...opt('cpu_cores_limit', r.cpu_cores_limit),
    memory_gb: memory,
    ...opt('memory_gb_limit', r.memory_gb_limit),
    gpu_cores: r.gpu_cores ?? 0,
    replicas: r.num_replicas ?? (autoscale ? min : 1),
    ...opt('num_replicas', r.num_replicas),
    autoscale_enabled: autoscale,
    autoscale_min_replicas: min,
    autoscale_max_replicas: max,
    autoscale_target_utilization: r.autoscale_target_utilization ?? 70,
    autoscale_refresh_seconds: r.autoscale_refresh_seconds ?? 1,
    scoring_timeout_ms: r.scoring_timeout_ms ?? 60_000,
    ...opt('stream_first_chunk_timeout_ms', r.stream_first_chunk_timeout_ms),
    ...opt('stream_chunk_timeout_ms', r.stream_chunk_timeout_ms),
    replica_max_concurrent_requests: r.replica_max_concurrent_requests ?? 1,
    max_request_wait_time: r.max_request_wait_time ?? 500,
    period_seconds: r.period_seconds ?? 10,
    timeout_seconds: r.timeout_seconds ?? 2,
    failure_threshold: r.failure_threshold ?? 3,
    success_threshold: r.success_threshold ?? 1,
    auth_enabled: auth,
    token_auth_enabled: token,
    runtime: r.runtime ?? defaults.runtime,
    restart_policy: r.restart_policy ?? 'auto',
    ...opt('warmup', r.warmup === undefined ? undefined : typeof r.warmup === 'string' ? r.warmup : JSON.stringify(r.warmup)),
    ...(capture ? { capture_failures: true as const, capture_max_requests: r.capture_max_requests ?? 100, capture_max_mb: r.capture_max_mb ?? 10, capture_redact: r.capture_redact ?? [] } : {}),
  };
}

/**
 * The request an update produces: its fields over the stored ones (`null` drops one). Switching between a fixed
 * replica count and autoscaling drops the other mode's fields, so `--replicas 3` on an autoscaled service just works.
 */
export function mergeUpdate(stored: DeployRequest, update: UpdateRequest): DeployRequest {
  const merged: Record<string, unknown> = { ...stored };
  const setsFixed = update.num_replicas !== undefined && update.num_replicas !== null;
  const setsAuto = AUTOSCALE_FIELDS.some((f) => update[f] !== undefined && update[f] !== null) || update.autoscale_enabled === true;
  if (setsFixed && !setsAuto) for (const f of [...AUTOSCALE_FIELDS, 'autoscale_enabled']) delete merged[f];
  if (setsAuto && !setsFixed) delete merged.num_replicas;
  // Turning capture off drops its settings, so `--no-capture-failures` alone just works.
  if (update.capture_failures === false || update.capture_failures === null) for (const f of CAPTURE_FIELDS) delete merged[f];
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete merged[k];
    else if (v !== undefined) merged[k] = v;
  }
  return merged as DeployRequest;
}

/** Parses a request body or file with the strict schema; the first problem is one VALIDATION_FAILED naming its field. */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
  const detail = issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue?.message ?? 'invalid';
  throw new BerthError('VALIDATION_FAILED', { field: issue?.code === 'unrecognized_keys' ? 'fields' : field, detail });
}
