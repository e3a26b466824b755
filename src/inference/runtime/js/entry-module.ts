// A JS/TS entry script as a runtime sees it: loading it, the input its run() takes, and what its result becomes. Shared by the in-process worker and worker threads.
import { isUtf8 } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import { queryAsJsonInput } from '../query-input.js';
import type { ScoreOutcome, ScoreRequest, StartupFailure } from '../types.js';

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
}

/** A loaded entry script whose init() has not run yet. */
export interface EntryModule {
  readonly init: () => unknown;
  readonly run: RunFunction;
  /** run() takes the raw request. */
  readonly raw: boolean;
  /** run(input, requestHeaders) declares the second parameter; the header object is built only then. */
  readonly wantsHeaders: boolean;
}

export type Loaded = { readonly ok: true; readonly entry: EntryModule } | { readonly ok: false; readonly failure: StartupFailure };

/** Imports the script (TypeScript through tsx) and checks it exports init() and run(). */
export async function loadEntryModule(entryScript: string): Promise<Loaded> {
  let mod: ModuleExports;
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
  return { ok: true, entry: { init, run, raw: mod.rawhttp === true || run.rawhttp === true, wantsHeaders: run.length >= 2 } };
}

/** Calls init(); a failure comes back described, with the entry script's line. */
export async function initEntryModule(entry: EntryModule, entryScript: string): Promise<StartupFailure | undefined> {
  try {
    await entry.init();
    return undefined;
  } catch (err) {
    return { kind: 'init', ...describeError(err, entryScript) };
  }
}

/** What run() is called with: the raw request, a GET's query as a JSON string, or the body as UTF-8 text (undefined: not UTF-8). */
export function runInput(entry: EntryModule, request: ScoreRequest): { readonly input: unknown } | undefined {
  if (entry.raw) return { input: rawRequest(request) };
  if (request.method === 'GET') return { input: queryAsJsonInput(request.query) };
  return isUtf8(request.body) ? { input: request.body.toString('utf8') } : undefined;
}

export const NOT_UTF8 = 'the request body is not valid UTF-8';

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/** A settled run() result: a fetch Response sets status, headers and body; anything else is answered as JSON. */
export async function encodeResult(result: unknown, execMs: number, workerId: number): Promise<ScoreOutcome> {
  if (!(result instanceof Response)) return encodeData(result, execMs, workerId);
  const headers: Record<string, string> = {};
  result.headers.forEach((value, name) => { headers[name] = value; });
  return { kind: 'ok', status: result.status, headers, body: Buffer.from(await result.arrayBuffer()), workerId, execMs };
}

/** The JSON stays a string: node:http writes a string body together with its headers. */
export function encodeData(result: unknown, execMs: number, workerId: number): ScoreOutcome {
  return { kind: 'ok', status: 200, headers: JSON_HEADERS, body: JSON.stringify(result ?? null), workerId, execMs };
}

export function runError(err: unknown, execMs: number, workerId: number): ScoreOutcome {
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
