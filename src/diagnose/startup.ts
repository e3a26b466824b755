// Rules for replicas that cannot start: init() crashing (CrashLoopBackOff), and the commonest cause, a model path that is not there.
import { lastLines } from './logs.js';
import { failureClass } from '../targets/local/init-error.js';
import type { DiagEvent, DiagInitError, DiagnoseInput, DiagReplica, Finding } from './types.js';

const MISSING_EXCEPTIONS = new Set(['ModelNotFoundError', 'FileNotFoundError', 'ENOENT']);

export function formatInit(e: DiagInitError): string {
  const where = e.file === undefined ? '' : ` at ${e.file}${e.line === undefined ? '' : `:${e.line}`}`;
  return `${e.exception}${e.message === '' ? '' : `: ${e.message}`}${where}`;
}

/** A model or file that could not be found: the commonest init() failure, with its own explanation. */
export function isMissingModel(e: DiagInitError): boolean {
  return MISSING_EXCEPTIONS.has(e.exception) || /No such file or directory|ENOENT|not found\. AZUREML_MODEL_DIR/.test(e.message);
}

interface Crash { readonly replica: DiagReplica | undefined; readonly replicaId: string; readonly error: DiagInitError; readonly failures: readonly DiagEvent[] }

/** Replicas whose init() failed: those crash-looping now, and those with InitFailed events in the window. */
function crashes(input: DiagnoseInput, from: number): Crash[] {
  const failed = input.events.filter((e) => e.type === 'InitFailed' && Date.parse(e.time) >= from);
  const ids = new Set([...input.replicas.filter((r) => (r.state === 'CrashLoopBackOff' || r.state === 'Failed') && r.lastInitError !== undefined).map((r) => r.id), ...failed.map((e) => e.replica ?? '')]);
  const out: Crash[] = [];
  for (const id of ids) {
    if (id === '') continue;
    const replica = input.replicas.find((r) => r.id === id);
    const mine = failed.filter((e) => e.replica === id);
    const error = replica?.lastInitError ?? eventError(mine[mine.length - 1]);
    if (error !== undefined) out.push({ replica, replicaId: id, error, failures: mine });
  }
  return out;
}

function eventError(e: DiagEvent | undefined): DiagInitError | undefined {
  const err = e?.data?.error as Partial<DiagInitError> | undefined;
  if (err === undefined || typeof err.exception !== 'string') return undefined;
  return { exception: err.exception, message: typeof err.message === 'string' ? err.message : '', ...(typeof err.file === 'string' ? { file: err.file } : {}), ...(typeof err.line === 'number' ? { line: err.line } : {}) };
}

function commonEvidence(input: DiagnoseInput, c: Crash): string[] {
  const out = [`replica ${c.replicaId}: ${c.replica?.state ?? 'gone'}, ${c.replica?.restarts ?? 0} restart(s)`, `init() raised ${formatInit(c.error)}`];
  if (c.failures.length > 0) out.push(`${c.failures.length} InitFailed event(s) in the window, the last at ${c.failures[c.failures.length - 1]!.time}`);
  const backoff = [...input.events].reverse().find((e) => e.type === 'BackOff' && e.replica === c.replicaId);
  if (backoff !== undefined) out.push(`${backoff.time} BackOff: ${backoff.message}`);
  const klass = failureClass(c.error);
  out.push(klass === 'permanent'
    ? 'failure class: permanent (it fails the same way on every start), so the replica is not restarted'
    : 'failure class: transient (it may pass on a retry), so the replica restarts with back-off');
  const stopped = [...input.events].reverse().find((e) => e.type === 'NotRestarting' && e.replica === c.replicaId);
  if (stopped !== undefined) out.push(`${stopped.time} NotRestarting: ${stopped.message}`);
  return out;
}

function initLog(input: DiagnoseInput, replicaId: string): string {
  return input.logs.find((l) => l.replica === replicaId && l.kind === 'init')?.text ?? '';
}

/** The `model directory … (AZUREML_MODEL_DIR):` listing of the start-up report. */
export function mountedListing(text: string): { dir: string; entries: string[] } | undefined {
  const lines = text.split('\n');
  let at = -1;
  for (let i = lines.length - 1; i >= 0; i--) if (/^model directory .*\(AZUREML_MODEL_DIR\):\s*$/.test(lines[i]!)) { at = i; break; }
  if (at < 0) return undefined;
  const dir = /^model directory (.*?)\s*\(AZUREML_MODEL_DIR\):/.exec(lines[at]!)![1]!;
  const entries: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('  ')) break;
    entries.push(l.trim());
  }
  return { dir, entries };
}

/** What the script asked for: the model name of get_model_path, or the path of a FileNotFoundError. */
export function requested(e: DiagInitError): string {
  const model = /model '([^']+)'/.exec(e.message);
  if (model !== null) return `model ${model[1]} (berth.get_model_path / Model.get_model_path)`;
  const path = /No such file or directory: '([^']+)'/.exec(e.message) ?? /ENOENT[^']*'([^']+)'/.exec(e.message);
  return path === null ? e.message : `file ${path[1]}`;
}

/** `mounted: …; looked for: …` from the get_model_path error (ModelNotFoundError), when it is one. */
export function mountedFromMessage(message: string): string | undefined {
  const looked = /Looked for: (.*)$/.exec(message)?.[1];
  if (looked === undefined) return undefined;
  const holds = /AZUREML_MODEL_DIR=(\S+) holds: (.*?)\. Looked for:/.exec(message);
  const where = holds !== null ? `${holds[2]} in ${holds[1]}` : /AZUREML_MODEL_DIR is not set/.test(message) ? 'nothing (the service has no model attached)' : 'nothing';
  return `mounted: ${where}; looked for: ${looked}`;
}

function missingModel(input: DiagnoseInput, c: Crash): Finding {
  const listing = mountedListing(initLog(input, c.replicaId));
  const asked = requested(c.error);
  const evidence = [...commonEvidence(input, c), `the script asked for: ${asked}`];
  const mounted = mountedFromMessage(c.error.message);
  if (mounted !== undefined) evidence.push(mounted);
  if (listing !== undefined) evidence.push(`model directory ${listing.dir === '' ? '(none)' : listing.dir}: ${listing.entries.slice(0, 12).join(', ') || '(empty)'}`);
  const base = /([^/']+)'?$/.exec(asked)?.[1];
  const deeper = base === undefined ? undefined : listing?.entries.find((e) => e.split(' ')[0]!.endsWith(`/${base}`));
  if (deeper !== undefined) evidence.push(`a file of that name is mounted at ${deeper.split(' ')[0]}: one folder deeper than the script looks`);
  return {
    severity: 'critical', code: 'MODEL_PATH_NOT_FOUND',
    symptom: `service ${input.service.name} does not start: init() of replica ${c.replicaId} cannot find its model (${c.replica?.state ?? 'CrashLoopBackOff'})`,
    cause: `init() asked for ${asked}, which is not among the mounted models${c.error.file === undefined ? '' : ` (${c.error.file}${c.error.line === undefined ? '' : `:${c.error.line}`})`}`,
    evidence,
    fix: `Register and attach the model the script asks for (berth model register, then berth service update ${input.service.name} --model NAME:VERSION), or change the path in init() to one listed above (AZUREML_MODEL_DIR/NAME/VERSION/...); reproduce locally with: berth service debug ${input.service.name}`,
  };
}

function initCrash(input: DiagnoseInput, c: Crash): Finding {
  const tail = lastLines(initLog(input, c.replicaId), 8);
  return {
    severity: 'critical', code: 'REPLICA_INIT_FAILED',
    symptom: `service ${input.service.name} does not start: replica ${c.replicaId} crashes during init() (${c.replica?.state ?? 'CrashLoopBackOff'})`,
    cause: `init() raised ${c.error.exception}${c.error.message === '' ? '' : `: ${c.error.message}`}${c.error.file === undefined ? '' : ` at ${c.error.file}${c.error.line === undefined ? '' : `:${c.error.line}`}`}`,
    evidence: [...commonEvidence(input, c), ...(tail.length === 0 ? [] : ['last output:', ...tail.map((l) => `  ${l}`)])],
    fix: `Fix init() at the line named above (a missing package means the environment lacks it), then: berth service update ${input.service.name}; the whole start-up output: berth service logs ${input.service.name} --replica ${c.replicaId} --init; reproduce locally with: berth service debug ${input.service.name}`,
  };
}

/** One finding per distinct init() error (replicas failing the same way are one problem). */
export function startupRules(input: DiagnoseInput): Finding[] {
  const from = input.now.getTime() - input.windowMs;
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const c of crashes(input, from)) {
    const key = formatInit(c.error);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(isMissingModel(c.error) ? missingModel(input, c) : initCrash(input, c));
  }
  return out;
}
