// Settings of `berth serve`: flags and the classic environment variables, parsed once with a strict schema, then frozen.
import { existsSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { z } from 'zod';
import { BerthError } from '../errors/catalogue.js';
import { REPLICA_KEY_ENV } from '../core/replica-key.js';
import { DEFAULT_BODY_TIMEOUT_S, DEFAULT_MAX_REQUEST_MB, MAX_REQUEST_MB } from '../core/limits.js';
import { timerMs, timerSeconds } from '../core/durations.js';
import { fsPathSchema } from '../core/fs-path.js';
import { parseOrThrow } from '../core/parse-settings.js';
import { MODEL_NAME_ENV } from './oip/model.js';

const positiveInt = z.coerce.number().int().positive();

export const serveSettingsSchema = z.strictObject({
  entryScript: fsPathSchema,
  modelDir: fsPathSchema.optional(),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(5001),
  workerCount: positiveInt.default(1),
  // Durations stop at what a timer holds: a longer one would fire at once (docs/troubleshooting.md, INVALID_SETTINGS).
  scoringTimeoutMs: timerMs(positiveInt).default(60_000),
  /** A streaming run(): its first chunk within this of run() being called, each next one within chunkTimeoutMs (default: the scoring timeout). */
  firstChunkTimeoutMs: timerMs(positiveInt).optional(),
  chunkTimeoutMs: timerMs(positiveInt).optional(),
  maxQueueWaitMs: timerMs(z.coerce.number().int().min(0)).default(500),
  maxConcurrentRequests: positiveInt.optional(),
  initTimeoutS: timerSeconds(positiveInt).default(600),
  maxRequestSizeMb: z.coerce.number().positive().max(MAX_REQUEST_MB, `must be at most ${MAX_REQUEST_MB} (2 GiB): the scoring channel frames a body with a 32-bit length`).default(DEFAULT_MAX_REQUEST_MB),
  shutdownTimeoutS: timerSeconds(z.coerce.number().min(0)).default(30),
  /** Headers and body must arrive within this, else 408 and the connection closes (a stalled upload holds nothing). */
  bodyTimeoutS: timerSeconds(z.coerce.number().positive()).default(DEFAULT_BODY_TIMEOUT_S),
  /** A request body run once after init(); the server is ready only when run() answers it 2xx. */
  warmupRequest: z.string().min(1).max(1024 * 1024, 'must be at most 1 MiB').optional(),
  /** Set by the control plane for its replicas: /score and the scoring channel then need it (REPLICA_UNAUTHORIZED). */
  replicaKey: z.string().min(16).optional(),
  python: fsPathSchema.default('python3'),
  /** The JSON log lines go to this file (appended) instead of standard output: a container replica writes its log on the host directly. */
  logFile: fsPathSchema.optional(),
  corsOrigins: z.array(z.string().min(1)).default([]),
  debug: z.boolean().default(false),
  /** The model's name over the Open Inference Protocol (/v2/models/NAME); default: the entry script's file name without its extension. */
  modelName: z.string().min(1).max(253).regex(/^[^/\s?#%]+$/, 'must be one URL path segment: no /, ?, #, % or spaces').optional(),
  /** The model's version over the protocol; none by default (then /v2/models/NAME/versions/V answers 404). */
  modelVersion: z.string().min(1).max(253).regex(/^[^/\s?#%]+$/, 'must be one URL path segment: no /, ?, #, % or spaces').optional(),
});

export type ServeSettings = Readonly<Omit<z.infer<typeof serveSettingsSchema>, 'maxConcurrentRequests' | 'corsOrigins' | 'firstChunkTimeoutMs' | 'chunkTimeoutMs' | 'modelName'>> & {
  readonly maxConcurrentRequests: number;
  readonly firstChunkTimeoutMs: number;
  readonly chunkTimeoutMs: number;
  readonly modelName: string;
  readonly corsOrigins: readonly string[];
  readonly runtime: 'python' | 'js';
};

/** Raw values as given: flags (either spelling) and the environment. Flags win over the environment. */
export type ServeInput = Readonly<Record<string, string | number | boolean | string[] | undefined>>;

/** Classic environment variables and the setting each one feeds. */
const ENV_NAMES: Readonly<Record<string, string>> = {
  entryScript: 'AZUREML_ENTRY_SCRIPT',
  modelDir: 'AZUREML_MODEL_DIR',
  workerCount: 'WORKER_COUNT',
  scoringTimeoutMs: 'SCORING_TIMEOUT_MS',
  firstChunkTimeoutMs: 'BERTH_FIRST_CHUNK_TIMEOUT_MS',
  chunkTimeoutMs: 'BERTH_CHUNK_TIMEOUT_MS',
  corsOrigins: 'AML_CORS_ORIGINS',
  replicaKey: REPLICA_KEY_ENV,
  warmupRequest: 'BERTH_WARMUP_REQUEST',
  // Set by the control plane for its replicas: the service name is the model name behind the gateway.
  modelName: MODEL_NAME_ENV,
  modelVersion: 'BERTH_MODEL_VERSION',
  logFile: 'BERTH_LOG_FILE',
};

const FLAG_NAMES: Readonly<Record<string, string>> = {
  entryScript: '--entry-script', modelDir: '--model-dir', host: '--host', port: '--port', workerCount: '--worker-count',
  scoringTimeoutMs: '--scoring-timeout-ms', firstChunkTimeoutMs: '--first-chunk-timeout-ms', chunkTimeoutMs: '--chunk-timeout-ms', maxQueueWaitMs: '--max-queue-wait-ms', maxConcurrentRequests: '--max-concurrent-requests',
  initTimeoutS: '--init-timeout-s', maxRequestSizeMb: '--max-request-size-mb', shutdownTimeoutS: '--shutdown-timeout-s', bodyTimeoutS: '--body-timeout-s', replicaKey: REPLICA_KEY_ENV, warmupRequest: '--warmup-request',
  python: '--python', corsOrigins: '--cors-origins', debug: '--debug', modelName: '--model-name', modelVersion: '--model-version', logFile: '--log-file',
};

function splitList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

export function parseServeSettings(flags: ServeInput, env: Readonly<Record<string, string | undefined>>): ServeSettings {
  const merged: Record<string, unknown> = {};
  // A bad value is reported under the name the user typed: the flag, or the variable it came from.
  const names: Record<string, string> = { ...FLAG_NAMES };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) merged[key] = value;
  for (const [key, envName] of Object.entries(ENV_NAMES)) {
    const value = env[envName];
    if (merged[key] === undefined && value !== undefined && value !== '') {
      merged[key] = value;
      names[key] = envName;
    }
  }
  if (merged.corsOrigins !== undefined) merged.corsOrigins = splitList(merged.corsOrigins);

  const s = parseOrThrow(serveSettingsSchema, merged, names);
  const entryScript = resolve(s.entryScript);
  if (!existsSync(entryScript)) throw new BerthError('ENTRY_SCRIPT_NOT_FOUND', { path: entryScript });
  return Object.freeze({
    ...s,
    entryScript,
    modelDir: s.modelDir === undefined ? undefined : resolve(s.modelDir),
    maxConcurrentRequests: s.maxConcurrentRequests ?? s.workerCount,
    firstChunkTimeoutMs: s.firstChunkTimeoutMs ?? s.scoringTimeoutMs,
    chunkTimeoutMs: s.chunkTimeoutMs ?? s.scoringTimeoutMs,
    modelName: s.modelName ?? defaultModelName(entryScript),
    corsOrigins: Object.freeze([...s.corsOrigins]),
    runtime: /\.[cm]?[jt]s$/.test(entryScript) ? 'js' : 'python',
  });
}

/** The entry script's file name without its extension, made one URL path segment. */
function defaultModelName(entryScript: string): string {
  const stem = basename(entryScript, extname(entryScript)).replace(/[/\s?#%]/g, '_');
  return stem === '' ? 'model' : stem;
}
