// The contract between the HTTP layer and the entry-script runtimes (Python worker processes, in-process JS).
import type { IncomingHttpHeaders } from 'node:http';

/** What the HTTP layer hands a runtime for one scoring request. Bodies stay raw bytes. */
export interface ScoreRequest {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  /** Raw query string, without the leading `?`. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /**
   * An Open Inference Protocol request for the script's infer(): the body is berth's decoded infer request (see
   * oip/mapping.ts) and the reply `{"outputs": [...]}`. Sent only to scripts whose EntryInfo says they define infer().
   */
  readonly infer?: boolean;
}

/** What a worker learnt about the entry script as it started, for the Open Inference Protocol (docs/oip-v2.md). */
export interface EntryInfo {
  /** It defines infer(request). */
  readonly infer: boolean;
  /** Its `berth_signature` as JSON, checked by the server; undefined when it declares none. */
  readonly signature?: unknown;
  /** The declaration could not be turned into JSON in the worker (e.g. a numpy dtype in it). */
  readonly signatureError?: string;
}

/** How one scoring request ended, as far as the runtime knows. */
export type ScoreOutcome =
  | { readonly kind: 'ok'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: Buffer | string; readonly workerId: number; readonly execMs: number }
  | { readonly kind: 'run_error'; readonly exception: string; readonly message: string; readonly traceback: string; readonly workerId: number; readonly execMs: number }
  | { readonly kind: 'bad_utf8'; readonly message: string; readonly workerId: number }
  | { readonly kind: 'timeout'; readonly timeoutMs: number; readonly workerId: number }
  | { readonly kind: 'worker_died'; readonly reason: string; readonly workerId: number }
  /** Sent ahead to a busy worker, it waited past its queue-wait budget and was never run. */
  | { readonly kind: 'expired'; readonly waitedMs: number; readonly workerId: number }
  /** Sent ahead to a worker that died before reaching it: it never ran, so it can go to another worker. */
  | { readonly kind: 'requeue'; readonly workerId: number };

/** starting: the process or thread is coming up; importing: the entry script loads; init: init() runs. */
export type WorkerPhase = 'starting' | 'importing' | 'init' | 'ready' | 'stopped' | 'failed';

/** The start-up phases a worker goes through, in order (for the least advanced one of a server). */
export const STARTUP_PHASES: readonly WorkerPhase[] = ['starting', 'importing', 'init', 'ready'];

/** Why an entry script could not start: everything the user needs to fix it. */
export interface StartupFailure {
  readonly kind: 'import' | 'missing' | 'init' | 'timeout' | 'spawn' | 'warmup';
  readonly exception: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly traceback?: string;
  readonly missing?: readonly string[];
}

/** One unit that executes requests: a Python worker process, or the in-process JS module. */
export interface Worker {
  readonly id: number;
  readonly phase: WorkerPhase;
  /** Every line the entry script prints, where the worker sees it (processes, threads). */
  onOutput?(listener: (line: string) => void): void;
  /** How many requests it runs at once. */
  readonly capacity: number;
  /** How many more it accepts now, to start as soon as a running one ends (0: none); each waits at most its budget. */
  readonly prefetch: number;
  readonly inFlight: number;
  /** Known once the worker is ready. */
  readonly entryInfo?: EntryInfo;
  /** Resolves once init() returned; rejects with a StartupError when the script cannot start. */
  start(): Promise<void>;
  /**
   * Runs one request and calls `done` exactly once; callbacks, not promises, keep the hot path free of microtask hops.
   * `waitBudgetMs` is given when the worker is busy (a request sent ahead): past it, the request is answered `expired`.
   */
  execute(request: ScoreRequest, timeoutMs: number, done: (outcome: ScoreOutcome) => void, waitBudgetMs?: number): void;
  /** Stops the worker; resolves when it is gone. */
  stop(): Promise<void>;
  /** Called once when the worker is gone for good (crash, kill, timeout recycle, stop). */
  onExit(listener: (reason: string) => void): void;
}

/** init() overran its budget (`--init-timeout-s`). */
export function initTimeoutFailure(initTimeoutMs: number): StartupFailure {
  return { kind: 'timeout', exception: 'InitTimeout', message: `init() did not finish within ${initTimeoutMs / 1000} s` };
}

export class StartupError extends Error {
  constructor(readonly failure: StartupFailure, readonly workerId: number) {
    super(`${failure.exception}: ${failure.message}`);
    this.name = 'StartupError';
  }
}
