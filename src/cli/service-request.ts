// Turns `berth deploy` / `berth service update` flags and a service.yml into the API's request, checked here first so errors name the flag.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { BerthError, isBerthError } from '../errors/catalogue.js';
import { formatEnvRef, parseEnvRef } from '../control/environments/env-schema.js';
import { deployRequestSchema, normalizeSpec, parseWith, updateRequestSchema, type DeployRequest, type FieldName, type UpdateRequest } from '../control/services/spec.js';

type Kind = 'string' | 'number' | 'list' | 'false' | 'true' | 'bool';

/** Each spec flag: its field, how its value is read, and its help. */
const FLAGS: ReadonlyArray<{ flag: string; arg?: string; field: FieldName; kind: Kind; help: string }> = [
  { flag: '--entry-script', arg: '<path>', field: 'entry_script', kind: 'string', help: 'score.py (or a .js/.ts module) with init() and run(); relative to --source-dir when one is given' },
  { flag: '--source-dir', arg: '<dir>', field: 'source_dir', kind: 'string', help: 'folder snapshotted with the entry script (later edits do not reach running replicas)' },
  { flag: '--model', arg: '<name[:version]>', field: 'models', kind: 'list', help: 'a registered model to mount (repeatable; latest version when none is given)' },
  { flag: '--env', arg: '<name[:version]>', field: 'environment', kind: 'string', help: 'environment replicas run in: its python and variables (berth env create); the latest version unless NAME:VERSION' },
  { flag: '--cpu', arg: '<cores>', field: 'cpu_cores', kind: 'number', help: 'CPU cores requested per replica (default 0.1)' },
  { flag: '--cpu-limit', arg: '<cores>', field: 'cpu_cores_limit', kind: 'number', help: 'CPU limit per replica, at least --cpu' },
  { flag: '--memory-gb', arg: '<gb>', field: 'memory_gb', kind: 'number', help: 'memory requested per replica (default 0.5); enforced when no limit is given' },
  { flag: '--memory-gb-limit', arg: '<gb>', field: 'memory_gb_limit', kind: 'number', help: 'enforced memory limit per replica, at least --memory-gb' },
  { flag: '--gpu', arg: '<n>', field: 'gpu_cores', kind: 'number', help: 'GPUs per replica (default 0)' },
  { flag: '--replicas', arg: '<n>', field: 'num_replicas', kind: 'number', help: 'a fixed number of replicas (turns autoscaling off)' },
  { flag: '--min-replicas', arg: '<n>', field: 'autoscale_min_replicas', kind: 'number', help: 'autoscaling: fewest replicas (default 1)' },
  { flag: '--max-replicas', arg: '<n>', field: 'autoscale_max_replicas', kind: 'number', help: 'autoscaling: most replicas (default 10)' },
  { flag: '--target-utilization', arg: '<percent>', field: 'autoscale_target_utilization', kind: 'number', help: 'autoscaling: target busy share of replicas, 1-100 (default 70)' },
  { flag: '--autoscale-refresh-s', arg: '<s>', field: 'autoscale_refresh_seconds', kind: 'number', help: 'autoscaling: how often load is sampled (default 1)' },
  { flag: '--scoring-timeout-ms', arg: '<ms>', field: 'scoring_timeout_ms', kind: 'number', help: 'longest run() call (default 60000)' },
  { flag: '--first-chunk-timeout-ms', arg: '<ms>', field: 'stream_first_chunk_timeout_ms', kind: 'number', help: 'a streaming run(): longest wait for its first chunk (default: the scoring timeout)' },
  { flag: '--chunk-timeout-ms', arg: '<ms>', field: 'stream_chunk_timeout_ms', kind: 'number', help: 'a streaming run(): longest gap between chunks (default: the scoring timeout)' },
  { flag: '--max-concurrent-requests', arg: '<n>', field: 'replica_max_concurrent_requests', kind: 'number', help: 'requests one replica takes at once (default 1)' },
  { flag: '--max-request-wait-ms', arg: '<ms>', field: 'max_request_wait_time', kind: 'number', help: 'longest wait for a free replica before 503 (default 500)' },
  { flag: '--liveness-period-s', arg: '<s>', field: 'period_seconds', kind: 'number', help: 'liveness probe period (default 10)' },
  { flag: '--liveness-timeout-s', arg: '<s>', field: 'timeout_seconds', kind: 'number', help: 'liveness probe timeout (default 2)' },
  { flag: '--liveness-failure-threshold', arg: '<n>', field: 'failure_threshold', kind: 'number', help: 'failed probes in a row before a restart (default 3)' },
  { flag: '--liveness-success-threshold', arg: '<n>', field: 'success_threshold', kind: 'number', help: 'passed probes that count as recovered (default 1)' },
  { flag: '--no-auth', field: 'auth_enabled', kind: 'false', help: 'no key auth on the scoring URI' },
  { flag: '--token-auth', field: 'token_auth_enabled', kind: 'true', help: 'short-lived tokens instead of keys on the scoring URI' },
  { flag: '--warmup', arg: '<json>', field: 'warmup', kind: 'string', help: 'a request body run once after init(); a replica is ready only when run() answers it 2xx' },
  { flag: '--restart-policy', arg: '<auto|always|never>', field: 'restart_policy', kind: 'string', help: 'after a replica fails: auto (default) stops on a start-up failure that repeats every time, backs off otherwise; always; never' },
  { flag: '--capture-failures', field: 'capture_failures', kind: 'bool', help: 'keep every request answered 5xx (headers, body, replica, traceback) for berth service requests and service debug --replay' },
  { flag: '--no-capture-failures', field: 'capture_failures', kind: 'bool', help: 'stop capturing failed requests (those kept stay until the service is deleted)' },
  { flag: '--capture-max-requests', arg: '<n>', field: 'capture_max_requests', kind: 'number', help: 'captured requests kept, oldest dropped first (default 100, at most 10000)' },
  { flag: '--capture-max-mb', arg: '<mb>', field: 'capture_max_mb', kind: 'number', help: 'size of the captured requests kept, in MiB (default 10, at most 1024)' },
  { flag: '--capture-redact', arg: '<name>', field: 'capture_redact', kind: 'list', help: 'a header, JSON body field (at any depth) or query parameter stored as "[redacted]" (repeatable; authorization always is)' },
  { flag: '--runtime', arg: '<process|docker>', field: 'runtime', kind: 'string', help: 'where replicas run: berth serve processes, or containers of an image built from the environment and source (default: the control plane\'s, process unless berth up --runtime docker)' },
];

/** commander's attribute name of a flag: --cpu-limit → cpuLimit, --no-auth → auth. */
const attr = (flag: string): string => flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function addSpecOptions(cmd: Command): Command {
  for (const f of FLAGS) {
    const spec = f.arg === undefined ? f.flag : `${f.flag} ${f.arg}`;
    if (f.kind === 'list') cmd.option(spec, f.help, (v: string, all: string[] = []) => [...all, v]);
    else cmd.option(spec, f.help);
  }
  return cmd.option('-f, --file <service.yml>', 'the deployment as YAML, with the API\'s field names (flags override it)');
}

/** A number when the text is one; otherwise the text, so the schema's message names the flag's bad value. */
const numberOrText = (v: string): number | string => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);

/** The fields the user gave as flags (only those typed on the command line), with the flag each came from. */
function fromFlags(cmd: Command, cwd: string, sourceDir: string | undefined): { fields: Record<string, unknown>; flags: Map<string, string> } {
  const opts = cmd.opts<Record<string, unknown>>();
  const fields: Record<string, unknown> = {};
  const flags = new Map<string, string>();
  for (const f of FLAGS) {
    const key = attr(f.flag);
    if (cmd.getOptionValueSource(key) !== 'cli') continue;
    const v = opts[key];
    flags.set(f.field, f.flag);
    fields[f.field] = f.kind === 'number' ? numberOrText(String(v)) : f.kind === 'false' ? false : f.kind === 'true' ? true : f.kind === 'bool' ? v === true : v;
  }
  if (typeof fields.source_dir === 'string') fields.source_dir = resolve(cwd, fields.source_dir);
  if (typeof fields.entry_script === 'string') fields.entry_script = entryPath(fields.entry_script, cwd, (fields.source_dir as string | undefined) ?? sourceDir);
  return { fields, flags };
}

/** With a source dir the entry script is relative to it (a path typed from the current folder is made so); alone, it is absolute. */
function entryPath(entry: string, cwd: string, sourceDir: string | undefined): string {
  if (sourceDir === undefined) return resolve(cwd, entry);
  const typed = resolve(cwd, entry);
  const rel = relative(sourceDir, typed);
  if (!isAbsolute(entry) && existsSync(typed) && !rel.startsWith('..')) return rel;
  return entry;
}

/** Reads a service.yml: an object with the API's fields; its paths are relative to the file's folder. */
async function fromFile(path: string, cwd: string): Promise<Record<string, unknown>> {
  const file = resolve(cwd, path);
  // Loaded here: every other command would otherwise pay for the YAML parser at start-up.
  const { parse: parseYaml } = await import('yaml');
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BerthError('PATH_NOT_FOUND', { path: file });
    throw new BerthError('INVALID_ARGUMENT', { detail: `${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}` });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BerthError('INVALID_ARGUMENT', { detail: `${file} must hold a mapping of deployment fields (name, entry_script, ...)` });
  const fields = { ...(doc as Record<string, unknown>) };
  const base = dirname(file);
  if (typeof fields.source_dir === 'string') fields.source_dir = resolve(base, fields.source_dir);
  if (typeof fields.entry_script === 'string' && fields.source_dir === undefined) fields.entry_script = resolve(base, fields.entry_script);
  return fields;
}

/** Re-throws a field's validation error with the flag the user typed, e.g. `invalid cpu_cores_limit (--cpu-limit): ...`. */
function withFlag<T>(flags: Map<string, string>, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!isBerthError(err) || err.code !== 'VALIDATION_FAILED') throw err;
    const field = String(err.params.field ?? '');
    const flag = flags.get(field.split('.')[0] ?? '');
    if (flag === undefined) throw err;
    throw new BerthError('VALIDATION_FAILED', { field: `${field} (${flag})`, detail: String(err.params.detail ?? '') });
  }
}

/** The deploy request from `-f` and flags, with every rule that needs no server checked here. */
export async function deployRequest(cmd: Command, cwd: string, name: string | undefined): Promise<DeployRequest> {
  const opts = cmd.opts<{ file?: string }>();
  const file: Record<string, unknown> = opts.file === undefined ? {} : await fromFile(opts.file, cwd);
  const { fields, flags } = fromFlags(cmd, cwd, typeof file.source_dir === 'string' ? file.source_dir : undefined);
  const raw: Record<string, unknown> = { ...file, ...fields, ...(name === undefined ? {} : { name }) };
  if (raw.name === undefined) throw new BerthError('INVALID_ARGUMENT', { detail: 'give the service name: --name NAME (or name: in the -f file)' });
  if (raw.entry_script === undefined) throw new BerthError('INVALID_ARGUMENT', { detail: 'give the entry script: --entry-script score.py (or entry_script: in the -f file)' });
  flags.set('name', '--name');
  return withFlag(flags, () => {
    const request = parseWith(deployRequestSchema, raw);
    // Model versions and environments are resolved by the server; any version passes here, an environment's form is checked.
    normalizeSpec(request, (ref) => ({ name: ref.name, version: ref.version ?? 1 }), request.entry_script, (ref) => ({ ref: formatEnvRef(parseEnvRef(ref)), digest: '', env: {} }));
    return request;
  });
}

/**
 * The update request: only the fields given; the server merges them over the service's and checks the whole.
 * `storedSourceDir` is the service's source dir, against which a lone `--entry-script` is taken.
 */
/** `allowEmpty`: a rollout may start the same spec again as a new generation (no field changed). */
export async function updateRequest(cmd: Command, cwd: string, storedSourceDir: string | undefined, allowEmpty = false): Promise<UpdateRequest> {
  const opts = cmd.opts<{ file?: string }>();
  const file: Record<string, unknown> = opts.file === undefined ? {} : await fromFile(opts.file, cwd);
  delete file.name;
  const { fields, flags } = fromFlags(cmd, cwd, typeof file.source_dir === 'string' ? file.source_dir : storedSourceDir);
  const raw = { ...file, ...fields };
  if (Object.keys(raw).length === 0 && !allowEmpty) throw new BerthError('INVALID_ARGUMENT', { detail: 'give at least one field to change (see berth service update --help)' });
  return withFlag(flags, () => parseWith(updateRequestSchema, raw));
}
