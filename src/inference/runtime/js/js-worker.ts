// Runs a JS/TS entry script in the server's own process: init() once, run() per request, sync or async.
import { isUtf8 } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import type { Logger } from 'pino';
import { queryAsJsonInput } from '../query-input.js';
import { StartupError, type ScoreOutcome, type ScoreRequest, type Worker, type WorkerPhase } from '../types.js';

export interface JsWorkerOptions {
  readonly entryScript: string;
  readonly capacity: number;
  readonly logger: Logger;
}

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

interface EntryModule {
  init?: () => unknown;
  run?: RunFunction & { rawhttp?: boolean };
  rawhttp?: boolean;
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });
const WORKER_ID = 1;

export class JsWorker implements Worker {
  readonly id = WORKER_ID;
  /** In-process: nothing to gain from sending requests ahead. */
  readonly prefetch = 0;
  private state: WorkerPhase = 'starting';
  private running = 0;
  private run: RunFunction | undefined;
  private raw = false;
  /** run(input, requestHeaders) declares the second parameter; building the header object is skipped otherwise. */
  private wantsHeaders = false;

  constructor(private readonly options: JsWorkerOptions) {}

  get phase(): WorkerPhase { return this.state; }
  get capacity(): number { return this.options.capacity; }
  get inFlight(): number { return this.running; }

  onExit(): void {
    // The module lives in this process: it cannot exit without the server.
  }

  async start(): Promise<void> {
    const { entryScript, logger } = this.options;
    routeConsoleToLog(logger.child({ worker: 'js' }));
    let mod: EntryModule;
    try {
      if (/\.[cm]?ts$/.test(entryScript)) {
        const { register } = await import('tsx/esm/api');
        register();
      }
      mod = (await import(pathToFileURL(entryScript).href)) as EntryModule;
    } catch (err) {
      this.state = 'failed';
      throw new StartupError({ kind: 'import', ...describe(err, entryScript) }, this.id);
    }
    const missing = (['init', 'run'] as const).filter((name) => typeof mod[name] !== 'function');
    if (missing.length > 0 || mod.run === undefined) {
      this.state = 'failed';
      throw new StartupError({ kind: 'missing', exception: 'MissingFunction', message: `the entry script does not export ${missing.join(' and ')}()`, file: entryScript, missing }, this.id);
    }
    try {
      await mod.init?.();
    } catch (err) {
      this.state = 'failed';
      throw new StartupError({ kind: 'init', ...describe(err, entryScript) }, this.id);
    }
    this.run = mod.run;
    this.raw = mod.rawhttp === true || mod.run.rawhttp === true;
    this.wantsHeaders = mod.run.length >= 2;
    this.state = 'ready';
  }

  execute(request: ScoreRequest, timeoutMs: number, done: (outcome: ScoreOutcome) => void): void {
    const run = this.run;
    if (run === undefined) return done({ kind: 'worker_died', reason: 'the JS entry script is not loaded', workerId: this.id });
    let input: unknown;
    if (this.raw) input = rawRequest(request);
    else if (request.method === 'GET') input = queryAsJsonInput(request.query);
    else if (!isUtf8(request.body)) return done({ kind: 'bad_utf8', message: 'the request body is not valid UTF-8', workerId: this.id });
    else input = request.body.toString('utf8');

    const started = performance.now();
    let result: unknown;
    try {
      result = this.wantsHeaders ? run(input, request.headers) : run(input);
    } catch (err) {
      return done(runError(err, started));
    }
    // A synchronous run() returning plain data is answered in this same tick: the common, fast case.
    if (!isPromiseLike(result) && !(result instanceof Response)) return done(encodeData(result, performance.now() - started));
    this.running++;
    const settle = (outcome: ScoreOutcome): void => {
      this.running--;
      done(outcome);
    };
    withTimeout(Promise.resolve(result), timeoutMs)
      .then((settled) => (settled === TIMED_OUT ? { kind: 'timeout' as const, timeoutMs, workerId: this.id } : encodeResult(settled, performance.now() - started)))
      .then(settle, (err: unknown) => settle(runError(err, started)));
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
  }
}

const TIMED_OUT = Symbol('timed out');

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** A JS run() cannot be killed; past the timeout the client gets 504 and the late result is dropped. */
function withTimeout(result: PromiseLike<unknown>, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => { timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs); });
  return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
}

async function encodeResult(result: unknown, execMs: number): Promise<ScoreOutcome> {
  if (!(result instanceof Response)) return encodeData(result, execMs);
  const headers: Record<string, string> = {};
  result.headers.forEach((value, name) => { headers[name] = value; });
  return { kind: 'ok', status: result.status, headers, body: Buffer.from(await result.arrayBuffer()), workerId: WORKER_ID, execMs };
}

function encodeData(result: unknown, execMs: number): ScoreOutcome {
  const body = Buffer.from(JSON.stringify(result ?? null), 'utf8');
  return { kind: 'ok', status: 200, headers: JSON_HEADERS, body, workerId: WORKER_ID, execMs };
}

function runError(err: unknown, started: number): ScoreOutcome {
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'run_error', exception: e.name, message: e.message, traceback: e.stack ?? e.message, workerId: WORKER_ID, execMs: performance.now() - started };
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
function describe(err: unknown, entryScript: string): { exception: string; message: string; traceback: string; file: string; line?: number } {
  const e = err instanceof Error ? err : new Error(String(err));
  const stack = e.stack ?? `${e.name}: ${e.message}`;
  const fileUrl = pathToFileURL(entryScript).href;
  const match = stack.split('\n').map((l) => l.match(/(?:file:\/\/)?([^\s()]+):(\d+):\d+\)?$/)).find((m) => m !== null && (m[0].includes(fileUrl) || m[1] === entryScript));
  const line = match?.[2] === undefined ? undefined : Number(match[2]);
  return { exception: e.name, message: e.message, traceback: stack, file: entryScript, ...(line === undefined ? {} : { line }) };
}

/** console.* from user code goes to the server log, tagged like Python worker output. */
function routeConsoleToLog(log: Logger): void {
  console.log = console.info = (...args: unknown[]) => log.info({ stream: 'stdout' }, format(...args));
  console.debug = (...args: unknown[]) => log.debug({ stream: 'stdout' }, format(...args));
  console.warn = (...args: unknown[]) => log.warn({ stream: 'stderr' }, format(...args));
  console.error = (...args: unknown[]) => log.error({ stream: 'stderr' }, format(...args));
}
