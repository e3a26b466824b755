// One Python worker process: spawns the runner, waits for init(), sends framed requests, notices death.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { shipped } from '../../../core/paths.js';
import { encodeRequest, FrameDecoder, type ReplyFrame } from './frames.js';
import { queryAsJsonInput } from '../query-input.js';
import { MortalWorker } from '../worker-lifecycle.js';
import { initTimeoutFailure, type EntryInfo, type ScoreOutcome, type ScoreRequest, type StartupFailure } from '../types.js';

export interface PythonWorkerOptions {
  readonly id: number;
  readonly python: string;
  readonly entryScript: string;
  readonly modelDir: string | undefined;
  readonly initTimeoutMs: number;
  /** Extra environment for the worker (the environment's variables); merged over the server's own. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

type RunMode = 'body' | 'headers' | 'raw';

const runnerPath = shipped('src/inference/runtime/python/berth_runner.py');
const STOP_GRACE_MS = 2000;

/** Requests sent ahead wait in the pipe behind the running one (the prefetch), so under load the worker never sleeps between requests. */
export class PythonWorker extends MortalWorker {
  private child: ChildProcess | undefined;
  private requests: Writable | undefined;
  private mode: RunMode = 'body';
  private info: EntryInfo | undefined;

  constructor(private readonly options: PythonWorkerOptions) {
    super(options.id, options.logger);
  }

  get pid(): number | undefined { return this.child?.pid; }
  get entryInfo(): EntryInfo | undefined { return this.info; }

  start(): Promise<void> {
    const { python, entryScript, modelDir, id, env, logger } = this.options;
    const childEnv: Record<string, string | undefined> = {
      ...env,
      BERTH_ENTRY_SCRIPT: entryScript,
      AZUREML_ENTRY_SCRIPT: entryScript,
      BERTH_WORKER_ID: String(id),
      PYTHONUNBUFFERED: '1',
    };
    if (modelDir !== undefined) {
      childEnv.AZUREML_MODEL_DIR = modelDir;
      childEnv.BERTH_MODEL_DIR = modelDir;
    }
    const child = spawn(python, ['-u', runnerPath], {
      cwd: entryScript.replace(/[/\\][^/\\]*$/, '') || '.',
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.requests = child.stdio[3] as Writable;
    // EPIPE when the worker dies mid-write is reported through 'exit'; do not crash the server on it.
    this.requests.on('error', () => undefined);
    this.tagOutput(child.stdout, 'stdout');
    this.tagOutput(child.stderr, 'stderr');

    return new Promise<void>((resolve, reject) => {
      let startupFailure: StartupFailure | undefined;
      const initTimer = setTimeout(() => {
        startupFailure = initTimeoutFailure(this.options.initTimeoutMs);
        this.killFor('init timeout');
      }, this.options.initTimeoutMs);

      const decoder = new FrameDecoder((frame) => {
        if (frame.id !== 0) return this.reply(frame);
        const meta = frame.meta ?? {};
        if (meta.event === 'ready') {
          clearTimeout(initTimer);
          this.mode = (meta.mode as RunMode | undefined) ?? 'body';
          this.info = entryInfoOf(meta.oip);
          this.state = 'ready';
          logger.info({ worker: id, pid: child.pid, mode: this.mode, init_ms: meta.init_ms }, 'worker ready');
          resolve();
        } else if (meta.event === 'phase' && (meta.phase === 'importing' || meta.phase === 'init')) {
          this.state = meta.phase;
        } else if (meta.event === 'init_failed') {
          startupFailure = meta as unknown as StartupFailure;
        }
      });
      const replies = child.stdio[4] as Readable;
      replies.on('data', (chunk: Buffer) => decoder.push(chunk));

      this.exited = new Promise<void>((done) => {
        let finished = false;
        const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
          if (finished) return;
          finished = true;
          clearTimeout(initTimer);
          this.ended(signal !== null ? `killed by signal ${signal}` : `exited with code ${code ?? 'unknown'}`, startupFailure, reject);
          done();
        };
        child.on('error', (err) => {
          startupFailure = { kind: 'spawn', exception: 'SpawnError', message: `cannot start ${python}: ${err.message}` };
          // A process that never started emits no 'exit'.
          if (child.pid === undefined) finish(null, null);
        });
        // 'exit', not 'close': a grandchild the script forked may hold stdout open long after the worker died.
        // The reply pipe, which forked children close, is read to its end first: a reply written just before
        // dying must reach its request, and what was sent ahead must be known not to have started.
        child.on('exit', (code, signal) => {
          if (replies.readableEnded || replies.destroyed) return finish(code, signal);
          replies.once('close', () => finish(code, signal));
          setTimeout(() => finish(code, signal), 500).unref();
        });
      });
    });
  }

  execute(request: ScoreRequest, timeoutMs: number, done: (outcome: ScoreOutcome) => void, waitBudgetMs?: number): void {
    const requests = this.requests;
    if (requests === undefined || !this.accepts()) return done({ kind: 'worker_died', reason: 'the worker was not ready', workerId: this.id });
    // A request sent ahead carries its deadline (CLOCK_MONOTONIC, Python's time.monotonic_ns()), past which it is skipped.
    const { id, deadlineNs } = this.admit(done, timeoutMs, waitBudgetMs);
    const frame = encodeRequest(id, this.metaFor(request, deadlineNs === undefined ? undefined : Number(deadlineNs)), this.inputFor(request));
    requests.cork();
    for (const part of frame) requests.write(part);
    requests.uncork();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || this.exited === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      this.killReason ??= 'stopped';
      this.requests?.end(); // EOF on fd 3 asks the runner to exit.
      const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(force);
    }
  }

  private metaFor(request: ScoreRequest, deadlineNs: number | undefined): string | undefined {
    const deadline = deadlineNs === undefined ? {} : { deadline_ns: deadlineNs };
    // An infer() request always carries meta: the runner looks for "infer" there, off its hot path for run().
    if (request.infer === true) return JSON.stringify({ infer: 1, ...deadline });
    if (this.mode === 'body') return deadlineNs === undefined ? undefined : JSON.stringify(deadline);
    if (this.mode === 'headers') return JSON.stringify({ headers: request.headers, ...deadline });
    return JSON.stringify({ method: request.method, path: request.path, query: request.query, headers: request.headers, ...deadline });
  }

  /** An undecorated run() gets a GET's query parameters as a JSON object string, as the classic server does. */
  private inputFor(request: ScoreRequest): Buffer {
    if (this.mode === 'raw' || request.method !== 'GET' || request.infer === true) return request.body;
    return Buffer.from(queryAsJsonInput(request.query), 'utf8');
  }

  private reply(frame: ReplyFrame): void {
    const meta = frame.meta;
    const workerId = this.id;
    this.inflight.settle(frame.id, (execMs, waitedMs): ScoreOutcome => {
      if (meta === undefined) return { kind: 'ok', status: 200, headers: JSON_HEADERS, body: frame.body, workerId, execMs };
      if (meta.error === 'run') return { kind: 'run_error', exception: String(meta.exception), message: String(meta.message), traceback: String(meta.traceback), workerId, execMs };
      if (meta.error === 'utf8') return { kind: 'bad_utf8', message: String(meta.message), workerId };
      if (meta.error === 'expired') return { kind: 'expired', waitedMs, workerId };
      return { kind: 'ok', status: Number(meta.status ?? 200), headers: (meta.headers ?? {}) as Record<string, string>, body: frame.body, workerId, execMs };
    });
  }

  protected kill(): void {
    this.child?.kill('SIGKILL');
  }
}

/** The runner's `oip` field of its ready event (PROTOCOL.md); a runner that sends none has no infer(). */
function entryInfoOf(raw: unknown): EntryInfo {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  return {
    infer: o.infer === true,
    ...(o.signature === undefined ? {} : { signature: o.signature }),
    ...(typeof o.signature_error === 'string' ? { signatureError: o.signature_error } : {}),
  };
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });
