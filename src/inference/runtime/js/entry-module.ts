// A JS/TS entry script as a runtime sees it: loading it, the input its run() takes, and what its result becomes. Shared by the in-process worker and worker threads.
import { isUtf8 } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import { queryAsJsonInput } from '../query-input.js';
import type { EntryInfo, ScoreOutcome, ScoreRequest, StartupFailure } from '../types.js';
import { jsEntryInfo, runInfer, type InferFunction } from './infer.js';

/** What run() receives when the module marks it raw (`export const rawhttp = true` or `run.rawhttp = true`). */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: ScoreRequest['headers'];
  readonly body: Buffer;
  text(): string;
  json(): unknown;
}

type RunFunction = (input: unknown, requestHeaders?: ScoreRequest['headers']) => unknown;

interface ModuleExports {
  init?: () => unknown;
  run?: RunFunction & { rawhttp?: boolean };
  rawhttp?: boolean;
  infer?: InferFunction;
  berth_signature?: unknown;
}

/** A loaded entry script whose init() has returned. */
export interface EntryModule {
  readonly run: RunFunction;
  /** run() takes the raw request. */
  readonly raw: boolean;
  /** run(input, requestHeaders) declares the second parameter; the header object is built only then. */
  readonly wantsHeaders: boolean;
  /** The Open Inference Protocol's infer(request), when the module exports one. */
  readonly infer?: InferFunction;
  readonly info: EntryInfo;
}

export type Prepared = { readonly ok: true; readonly entry: EntryModule } | { readonly ok: false; readonly failure: StartupFailure };

/** Imports the script (TypeScript through tsx), checks it exports init() and run(), and calls init() once. */
export async function prepareEntryModule(entryScript: string, onPhase: (phase: 'importing' | 'init') => void = () => undefined): Promise<Prepared> {
  let mod: ModuleExports;
  onPhase('importing');
  try {
    if (/\.[cm]?ts$/.test(entryScript)) {
      const { register } = await import('tsx/esm/api');
      register();
    }
    mod = (await import(pathToFileURL(entryScript).href)) as ModuleExports;
  } catch (err) {
    return { ok: false, failure: { kind: 'import', ...describeError(err, entryScript) } };
  }
  const { init, run } = mod;
  if (typeof init !== 'function' || typeof run !== 'function') {
    const missing = (['init', 'run'] as const).filter((name) => typeof mod[name] !== 'function');
    return { ok: false, failure: { kind: 'missing', exception: 'MissingFunction', message: `the entry script does not export ${missing.join(' and ')}()`, file: entryScript, missing } };
  }
  onPhase('init');
  try {
    await init();
  } catch (err) {
    return { ok: false, failure: { kind: 'init', ...describeError(err, entryScript) } };
  }
  const infer = typeof mod.infer === 'function' ? mod.infer : undefined;
  return { ok: true, entry: { run, raw: mod.rawhttp === true || run.rawhttp === true, wantsHeaders: run.length >= 2, ...(infer === undefined ? {} : { infer }), info: jsEntryInfo(mod) } };
}

/**
 * Calls run() for one request. A synchronous run() returning plain data (the common, fast case) is answered at once;
 * an async one, or a Response, gives a promise of the outcome that never rejects.
 */
export function startRun(entry: EntryModule, request: ScoreRequest, workerId: number): ScoreOutcome | Promise<ScoreOutcome> {
  if (request.infer === true) {
    if (entry.infer === undefined) return { kind: 'run_error', exception: 'TypeError', message: 'the entry script exports no infer()', traceback: '', workerId, execMs: 0 };
    return runInfer(entry.infer, request.body, workerId);
  }
  let input: unknown;
  if (entry.raw) input = rawRequest(request);
  else if (request.method === 'GET') input = queryAsJsonInput(request.query);
  else if (!isUtf8(request.body)) return { kind: 'bad_utf8', message: 'the request body is not valid UTF-8', workerId };
  else input = request.body.toString('utf8');

  const started = performance.now();
  let result: unknown;
  try {
    result = entry.wantsHeaders ? entry.run(input, request.headers) : entry.run(input);
  } catch (err) {
    return runError(err, performance.now() - started, workerId);
  }
  if (!isPromiseLike(result) && !(result instanceof Response)) return encodeData(result, performance.now() - started, workerId);
  return Promise.resolve(result)
    .then((settled) => encodeResult(settled, performance.now() - started, workerId))
    .catch((err: unknown) => runError(err, performance.now() - started, workerId));
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/** A settled run() result: a fetch Response sets status, headers and body; anything else is answered as JSON. */
async function encodeResult(result: unknown, execMs: number, workerId: number): Promise<ScoreOutcome> {
  if (!(result instanceof Response)) return encodeData(result, execMs, workerId);
  const headers: Record<string, string> = {};
  result.headers.forEach((value, name) => { headers[name] = value; });
  return { kind: 'ok', status: result.status, headers, body: Buffer.from(await result.arrayBuffer()), workerId, execMs };
}

/** The JSON stays a string: node:http writes a string body together with its headers. */
function encodeData(result: unknown, execMs: number, workerId: number): ScoreOutcome {
  return { kind: 'ok', status: 200, headers: JSON_HEADERS, body: JSON.stringify(result ?? null), workerId, execMs };
}

function runError(err: unknown, execMs: number, workerId: number): ScoreOutcome {
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'run_error', exception: e.name, message: e.message, traceback: e.stack ?? e.message, workerId, execMs };
}

function rawRequest(request: ScoreRequest): RawRequest {
  return {
    method: request.method,
    path: request.path,
    query: request.query,
    headers: request.headers,
    body: request.body,
    text: () => request.body.toString('utf8'),
    json: () => JSON.parse(request.body.toString('utf8')) as unknown,
  };
}

/** Exception, message, and the innermost stack frame inside the entry script. */
function describeError(err: unknown, entryScript: string): { exception: string; message: string; traceback: string; file: string; line?: number } {
  const e = err instanceof Error ? err : new Error(String(err));
  const stack = e.stack ?? `${e.name}: ${e.message}`;
  const fileUrl = pathToFileURL(entryScript).href;
  const match = stack.split('\n').map((l) => l.match(/(?:file:\/\/)?([^\s()]+):(\d+):\d+\)?$/)).find((m) => m !== null && (m[0].includes(fileUrl) || m[1] === entryScript));
  const line = match?.[2] === undefined ? undefined : Number(match[2]);
  return { exception: e.name, message: e.message, traceback: stack, file: entryScript, ...(line === undefined ? {} : { line }) };
}
