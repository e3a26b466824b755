// The requests in flight on one scoring channel: how each ends (answer, notice, failure), and their scoring timeout.
export type ChannelOutcome =
  | { readonly ok: true; readonly status: number; /** [name, value, …] */ readonly headers: readonly string[]; readonly body: Buffer }
  /**
   * refused: the connection could not be made, nothing was sent (retry elsewhere); timeout: no answer in time;
   * failed: the connection broke with the request on it; unsupported: the replica does not speak the channel;
   * not_started: a request sent ahead never started there (given back, or the connection went while it waited), so
   * it may go elsewhere; expired: sent ahead, its wait ran out in the replica unstarted (a 503).
   */
  | { readonly ok: false; readonly kind: 'refused' | 'timeout' | 'failed' | 'unsupported' | 'not_started' | 'expired'; readonly detail: string; readonly code?: string };

export type Done = (outcome: ChannelOutcome) => void;

export interface Pending {
  readonly done: Done;
  /** Past this (performance.now() ms) it is answered 504. */
  deadline: number;
  readonly timeoutMs: number;
  /** Sent ahead and not started yet. */
  waiting: boolean;
  readonly started: (() => void) | undefined;
}

/** A started request's timeout may fire up to this fraction of it late (2 s margin on top of it anyway). */
const LATENESS_DIVISOR = 16;

export class ChannelPending {
  private readonly map = new Map<number, Pending>();
  private expiry: NodeJS.Timeout | undefined;
  /** When the expiry timer fires: at the earliest deadline it knew of when armed. */
  private expiryAt = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number) {}

  /** A request on its way; a request sent ahead has its wait on top of its scoring timeout until it starts. */
  add(id: number, p: Pending, waitMs: number): void {
    p.deadline = this.now() + waitMs + p.timeoutMs;
    this.map.set(id, p);
    this.arm(p.deadline);
  }

  isWaiting(id: number): boolean {
    return this.map.get(id)?.waiting === true;
  }

  /**
   * STARTED for `id`: it, and every request sent ahead before it that is still here, has started (a replica's workers
   * take them in the order they were sent). Their scoring timeout runs from now.
   */
  startThrough(id: number): void {
    if (!this.map.has(id)) return;
    const now = this.now();
    for (const [pid, p] of this.map) {
      if (p.waiting) {
        p.waiting = false;
        p.deadline = now + p.timeoutMs;
        this.arm(p.deadline, p.timeoutMs / LATENESS_DIVISOR);
        p.started?.();
      }
      if (pid === id) return;
    }
  }

  settle(id: number, outcome: ChannelOutcome): void {
    const p = this.map.get(id);
    if (p === undefined) return; // timed out already
    this.map.delete(id);
    p.done(outcome);
  }

  /**
   * Ends every request: with `kind`, except that a request sent ahead that had not started when the connection broke
   * is not_started (the replica drops what waits when its connection goes). In the order they were sent.
   */
  failAll(kind: 'refused' | 'failed' | 'unsupported', detail: string, code?: string): void {
    const all = [...this.map.values()];
    this.map.clear();
    clearTimeout(this.expiry);
    this.expiry = undefined;
    this.expiryAt = Number.POSITIVE_INFINITY;
    for (const p of all) {
      if (p.waiting && kind === 'failed') p.done({ ok: false, kind: 'not_started', detail: `${detail}; it had not started` });
      else p.done(code === undefined ? { ok: false, kind, detail } : { ok: false, kind, detail, code });
    }
  }

  /**
   * One timer, at the earliest deadline: a service's requests share one timeout, so that is mostly the oldest. A
   * deadline at most `slack` before the armed one waits for it (served that much late at most): a request sent ahead
   * gets a deadline slightly earlier than the armed one when it starts, and a timer moved for each would cost a
   * timer's allocation per request.
   */
  private arm(deadline: number, slack = 0): void {
    if (deadline >= this.expiryAt - slack) return;
    clearTimeout(this.expiry);
    this.expiryAt = deadline;
    this.expiry = setTimeout(() => this.expire(), Math.max(0, deadline - this.now()) + 1);
    this.expiry.unref();
  }

  private expire(): void {
    this.expiry = undefined;
    this.expiryAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [id, p] of this.map) {
      if (p.deadline <= now) {
        this.map.delete(id);
        p.done({ ok: false, kind: 'timeout', detail: 'no answer within the scoring timeout' });
      } else if (p.deadline < next) {
        next = p.deadline;
      }
    }
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
  }
}
