// The requests one worker holds, in the order it answers them: the running one (scoring timer) and those sent ahead (queue-wait expiry).
import type { ScoreOutcome, StreamTimeouts } from './types.js';
import { clampTimerMs } from '../../core/durations.js';
import { ResponseStream, type ChunkType, type StreamControl, type StreamFailure } from './response-stream.js';

/** Node answers a request sent ahead 503 a little after its deadline, so the worker (same clock) has surely skipped it. */
const EXPIRY_MARGIN_MS = 50;

interface Entry {
  readonly id: number;
  readonly done: (outcome: ScoreOutcome) => void;
  readonly timeoutMs: number;
  readonly sentAt: number;
  started: number;
  timer: NodeJS.Timeout | undefined;
  expiry: NodeJS.Timeout | undefined;
  /** Answered 503 already (its wait budget ran out); the worker's reply for it is dropped. */
  abandoned: boolean;
  /** run() returned an iterator: its timer is the first-chunk, then the next-chunk limit. */
  streaming: boolean;
  /** Made at its first chunk, when the response starts. */
  stream: ResponseStream | undefined;
  /** The limit its timer runs now (for the 504 and the recycle reason). */
  limitMs: number;
  /** Its client's buffer is full: the chunk timer waits for it, since the time is the client's, not run()'s. */
  held: boolean;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Weight of the newest run time in the running average (about the last ten requests count). */
const RUN_TIME_WEIGHT = 0.2;

export class InFlightQueue {
  private readonly entries: Entry[] = [];
  private averageRun: number | undefined;

  constructor(
    private readonly workerId: number,
    /** Called when the running request overruns its scoring timeout; the worker must be killed. */
    private readonly onOverrun: (timeoutMs: number) => void,
    private readonly streamLimits: StreamTimeouts | undefined = undefined,
  ) {}

  get length(): number { return this.entries.length; }

  /** Recent time from a request reaching the head to its reply, in ms (undefined before the first reply). */
  get averageRunMs(): number | undefined { return this.averageRun; }

  add(id: number, done: (outcome: ScoreOutcome) => void, timeoutMs: number, waitBudgetMs: number | undefined): void {
    const entry: Entry = { id, done, timeoutMs, sentAt: performance.now(), started: 0, timer: undefined, expiry: undefined, abandoned: false, streaming: false, stream: undefined, limitMs: timeoutMs, held: false };
    this.entries.push(entry);
    if (this.entries.length === 1) return this.begin(entry);
    if (waitBudgetMs !== undefined) entry.expiry = setTimeout(() => this.expire(entry), clampTimerMs(waitBudgetMs + EXPIRY_MARGIN_MS));
  }

  /** The worker's reply for the request at the head; `outcome` builds how it ended from its run time. */
  settle(id: number, outcome: (execMs: number, waitedMs: number) => ScoreOutcome): void {
    const head = this.entries[0];
    if (head === undefined || head.id !== id) return; // a reply for a request already timed out
    this.entries.shift();
    clearTimeout(head.timer);
    clearTimeout(head.expiry);
    if (!head.abandoned) {
      const ran = performance.now() - head.started;
      const result = outcome(ran, head.started - head.sentAt);
      // A skipped request took no time to answer: it says nothing of how long requests run.
      if (result.kind !== 'expired') this.averageRun = this.averageRun === undefined ? ran : this.averageRun + RUN_TIME_WEIGHT * (ran - this.averageRun);
      head.done(result);
    }
    const next = this.entries[0];
    if (next !== undefined) this.begin(next);
  }

  /** The running request overran: it is answered 504 (a stream under way ends with an error) and leaves; the worker is being killed. */
  timeOutHead(): void {
    const head = this.entries.shift();
    if (head === undefined) return;
    clearTimeout(head.expiry);
    if (head.stream !== undefined) head.stream.fail({ kind: 'timeout', timeoutMs: head.limitMs, which: 'next' });
    else if (!head.abandoned) head.done({ kind: 'timeout', timeoutMs: head.limitMs, workerId: this.workerId });
  }

  /** run() returned an iterator: from now its first chunk must come within the first-chunk limit of its start. */
  streamBegin(id: number): void {
    const head = this.head(id);
    if (head === undefined || head.streaming) return;
    head.streaming = true;
    const limit = this.streamLimits?.firstChunkMs ?? head.timeoutMs;
    this.rearm(head, limit, Math.max(0, head.started + limit - performance.now()));
  }

  /** One chunk: the first one hands the response over (`done` with a stream); each restarts the next-chunk timer. */
  streamChunk(id: number, body: Buffer, type: ChunkType, control: StreamControl): void {
    const head = this.head(id);
    if (head === undefined) return;
    let stream = head.stream;
    if (stream === undefined) {
      stream = head.stream = new ResponseStream(type, control);
      if (head.abandoned) stream.cancel();
      else head.done({ kind: 'stream', status: 200, headers: NO_HEADERS, stream, workerId: this.workerId, execMs: performance.now() - head.started });
    }
    stream.push(body);
    if (!head.held) {
      const limit = this.streamLimits?.chunkMs ?? head.timeoutMs;
      this.rearm(head, limit, limit);
    }
  }

  /** The client's buffer filled (held) or drained: the next-chunk timer stops while it is full. */
  holdTimer(id: number, held: boolean): void {
    const head = this.head(id);
    if (head === undefined || head.held === held) return;
    head.held = held;
    if (held) clearTimeout(head.timer);
    else this.rearm(head, head.limitMs, head.limitMs);
  }

  /**
   * The stream ended (`failure` undefined), or run()'s iterator raised. Before any chunk that is an ordinary outcome
   * (`early`: an empty 200, or the error); after one, the stream ends or fails.
   */
  streamEnd(id: number, failure: StreamFailure | undefined, early: (execMs: number) => ScoreOutcome): void {
    const head = this.head(id);
    if (head === undefined) return;
    const stream = head.stream;
    if (stream === undefined) return this.settle(id, (execMs) => early(execMs));
    this.entries.shift();
    clearTimeout(head.timer);
    clearTimeout(head.expiry);
    const ran = performance.now() - head.started;
    this.averageRun = this.averageRun === undefined ? ran : this.averageRun + RUN_TIME_WEIGHT * (ran - this.averageRun);
    if (failure === undefined) stream.finish();
    else stream.fail(failure);
    const next = this.entries[0];
    if (next !== undefined) this.begin(next);
  }

  /** The worker is gone: the running request failed with it; those sent ahead never ran and can go elsewhere. */
  failAll(reason: string): void {
    const entries = this.entries.splice(0);
    entries.forEach((e, i) => {
      clearTimeout(e.timer);
      clearTimeout(e.expiry);
      if (e.stream !== undefined) return e.stream.fail({ kind: 'worker_died', reason });
      if (e.abandoned) return;
      e.done(i === 0 && e.started > 0 ? { kind: 'worker_died', reason, workerId: this.workerId } : { kind: 'requeue', workerId: this.workerId });
    });
  }

  private begin(entry: Entry): void {
    clearTimeout(entry.expiry);
    entry.started = performance.now();
    // Even an abandoned head gets a timer: if the worker did start it after all, an overrun still recycles the worker.
    entry.timer = setTimeout(() => this.onOverrun(entry.timeoutMs), entry.timeoutMs);
  }

  private head(id: number): Entry | undefined {
    const head = this.entries[0];
    return head !== undefined && head.id === id ? head : undefined;
  }

  private rearm(entry: Entry, limitMs: number, inMs: number): void {
    clearTimeout(entry.timer);
    entry.limitMs = limitMs;
    entry.timer = setTimeout(() => this.onOverrun(limitMs), clampTimerMs(inMs));
  }

  private expire(entry: Entry): void {
    if (this.entries[0] === entry || entry.abandoned) return; // it started in time
    entry.abandoned = true;
    entry.done({ kind: 'expired', waitedMs: performance.now() - entry.sentAt, workerId: this.workerId });
  }
}
