// WorkerPool: least-busy dispatch, the concurrency cap, FIFO queueing with a bounded wait, and replacing dead workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { WorkerPool, type DispatchResult } from '../../src/inference/pool/worker-pool.js';
import type { ScoreOutcome, ScoreRequest, Worker, WorkerPhase } from '../../src/inference/runtime/types.js';

const log = pino({ level: 'silent' });

/** A worker whose requests finish when the test says so. */
class FakeWorker implements Worker {
  readonly capacity = 1;
  prefetch = 0;
  readonly budgets: Array<number | undefined> = [];
  readonly received: string[] = [];
  phase: WorkerPhase = 'starting';
  inFlight = 0;
  readonly pending: Array<(o: ScoreOutcome) => void> = [];
  private exitListeners: Array<(reason: string) => void> = [];
  constructor(readonly id: number) {}
  async start(): Promise<void> { this.phase = 'ready'; }
  execute(r: ScoreRequest, _timeoutMs: number, done: (o: ScoreOutcome) => void, waitBudgetMs?: number): void {
    this.inFlight++;
    this.budgets.push(waitBudgetMs);
    this.received.push(r.requestId);
    this.pending.push((o) => { this.inFlight--; done(o); });
  }
  finish(): void { this.pending.shift()?.({ kind: 'ok', status: 200, headers: {}, body: Buffer.from(String(this.id)), workerId: this.id, execMs: 1 }); }
  die(): void { this.phase = 'stopped'; for (const l of this.exitListeners) l('killed by signal SIGKILL'); }
  /** Dies as a real worker does: the running request failed, those sent ahead are handed back unstarted. */
  dieHandingBack(): void {
    this.phase = 'stopped';
    this.pending.splice(0).forEach((settle, i) => settle(i === 0 ? { kind: 'worker_died', reason: 'killed', workerId: this.id } : { kind: 'requeue', workerId: this.id }));
    this.die();
  }
  async stop(): Promise<void> { this.phase = 'stopped'; }
  onExit(listener: (reason: string) => void): void { this.exitListeners.push(listener); }
}

/** The pool answers through a callback; a promise reads better in tests. */
const dispatch = (pool: WorkerPool, id: string): Promise<DispatchResult> => new Promise((resolve) => pool.dispatch(request(id), resolve));

const request = (id: string): ScoreRequest => ({ requestId: id, method: 'POST', path: '/score', query: '', headers: {}, body: Buffer.from('{}') });

function makePool(workerCount: number, maxQueueWaitMs = 1000, maxConcurrent = workerCount) {
  const workers: FakeWorker[] = [];
  const pool = new WorkerPool({
    workerCount, maxConcurrent, maxQueueWaitMs, scoringTimeoutMs: 1000, logger: log,
    createWorker: (id) => { const w = new FakeWorker(id); workers.push(w); return w; },
  });
  return { pool, workers };
}

test('requests go to the idle worker; with all busy they queue and run in arrival order', async () => {
  const { pool, workers } = makePool(2);
  await pool.start();
  const a = dispatch(pool, 'a');
  const b = dispatch(pool, 'b');
  assert.deepEqual(workers.map((w) => w.inFlight), [1, 1]);
  const c = dispatch(pool, 'c');
  const d = dispatch(pool, 'd');
  assert.equal(pool.queued, 2);
  workers[1]!.finish();
  assert.equal(((await b) as { body: Buffer }).body.toString(), '2');
  await new Promise((r) => setImmediate(r));
  assert.equal(pool.queued, 1, 'c left the queue first');
  workers[1]!.finish();
  workers[0]!.finish();
  await Promise.all([a, c]);
  await new Promise((r) => setImmediate(r));
  for (const w of workers) w.finish();
  assert.equal((await d).kind, 'ok');
  await pool.stop(0);
});

test('the concurrency cap holds even with idle workers', async () => {
  const { pool, workers } = makePool(3, 1000, 1);
  await pool.start();
  void dispatch(pool, 'a');
  void dispatch(pool, 'b');
  assert.equal(workers.filter((w) => w.inFlight > 0).length, 1);
  assert.equal(pool.queued, 1);
  for (const w of workers) w.finish();
  await pool.stop(0);
});

test('a busy worker is sent as many requests ahead as its prefetch says, each with what is left of its wait budget', async () => {
  const { pool, workers } = makePool(1, 1000);
  await pool.start();
  const w = workers[0]!;
  w.prefetch = 3;
  for (const id of ['a', 'b', 'c', 'd', 'e']) void dispatch(pool, id);
  assert.equal(w.inFlight, 4, 'one running, three ahead');
  assert.equal(pool.queued, 1);
  assert.equal(w.budgets[0], undefined, 'the first runs at once');
  assert.ok(w.budgets.slice(1).every((b) => b !== undefined && b > 900 && b <= 1000), `budgets ${w.budgets.join(', ')}`);
  // Its requests turned slow: the depth drops to one, and the queued request stays in the pool's queue.
  w.prefetch = 1;
  w.finish();
  assert.equal(w.inFlight, 3);
  assert.equal(pool.queued, 1);
  w.finish();
  w.finish();
  assert.equal(w.inFlight, 2, 'the queued request went ahead once the worker held only one');
  assert.equal(pool.queued, 0);
  w.finish();
  w.finish();
  await pool.stop(0);
});

test('requests a dead worker never started go back ahead of the waiting ones, in their arrival order', async () => {
  const { pool, workers } = makePool(2, 5000);
  await pool.start();
  const [w1, w2] = [workers[0]!, workers[1]!];
  w1.prefetch = 3;
  const results = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => dispatch(pool, id));
  assert.deepEqual(w1.received, ['a', 'c', 'd', 'e'], 'c, d and e were sent ahead to the first worker');
  assert.equal(pool.queued, 1, 'f waits in the pool');
  w1.dieHandingBack();
  assert.equal((await results[0]!).kind, 'worker_died');
  assert.equal(pool.queued, 4);
  for (let i = 0; i < 4; i++) w2.finish();
  assert.deepEqual(w2.received, ['b', 'c', 'd', 'e', 'f']);
  w2.finish();
  assert.deepEqual(await Promise.all(results.slice(1).map(async (r) => (await r).kind)), ['ok', 'ok', 'ok', 'ok', 'ok']);
  await pool.stop(0);
});

test('a queued request past the wait limit is answered overloaded, and only that one', async () => {
  const { pool, workers } = makePool(1, 30);
  await pool.start();
  const busy = dispatch(pool, 'busy');
  const waiting = await dispatch(pool, 'late');
  assert.equal(waiting.kind, 'overloaded');
  assert.equal((waiting as { anyReady: boolean }).anyReady, true);
  workers[0]!.finish();
  assert.equal((await busy).kind, 'ok');
  await pool.stop(0);
});

test('a worker that dies is replaced with a new one under the same id', async () => {
  const { pool, workers } = makePool(1);
  await pool.start();
  workers[0]!.die();
  for (let i = 0; i < 100 && workers.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(workers.length, 2);
  assert.equal(workers[1]!.id, 1);
  for (let i = 0; i < 100 && !pool.allReady; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(pool.allReady, true);
  const res = dispatch(pool, 'after');
  workers[1]!.finish();
  assert.equal((await res).kind, 'ok');
  await pool.stop(0);
});

// ---- requests the gateway sent ahead (an admission: their own wait budget, a call when a worker takes them) ----

/** One sender (a channel connection) per events list: its flush is one function, as a connection's is. */
const flushes = new Map<string[], () => void>();
const sentAhead = (pool: WorkerPool, id: string, budgetMs: number, started: string[], events: string[] = []) => {
  let result: DispatchResult | undefined;
  if (!flushes.has(events)) flushes.set(events, () => { events.push('flush'); });
  const admission = {
    waitBudgetMs: budgetMs,
    onStart: () => { started.push(id); events.push(`start ${id}`); return true; },
    flush: flushes.get(events)!,
    gone: () => false,
  };
  const ticket = pool.dispatch(request(id), (r) => { result = r; }, admission);
  return { ticket, result: () => result };
};
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('sent ahead: it waits in the pool (not in a slow worker\'s pipe) until a worker takes it, and can be withdrawn until then', async () => {
  const { pool, workers } = makePool(1, 10_000, 1);
  await pool.start();
  workers[0]!.prefetch = 1;
  const started: string[] = [];
  const a = sentAhead(pool, 'a', 5000, started);
  assert.deepEqual(started, ['a'], 'a free worker takes it at once, and the gateway hears');
  const b = sentAhead(pool, 'b', 5000, started);
  const c = sentAhead(pool, 'c', 5000, started);
  assert.deepEqual([pool.queued, workers[0]!.received], [2, ['a']], 'a slow worker gets nothing ahead from the gateway');
  assert.equal(pool.withdraw(b.ticket), true);
  assert.equal(pool.queued, 1);
  workers[0]!.finish();
  assert.deepEqual(started, ['a', 'c'], 'c (not b) is handed over when a ends');
  assert.equal(pool.withdraw(c.ticket), false, 'too late: a worker has it');
  assert.equal(pool.withdraw(a.ticket), false);
  assert.equal(a.result()?.kind, 'ok');
  assert.equal(b.result(), undefined, 'a withdrawn request is not answered by the pool');
  workers[0]!.finish();
  await pool.stop(0);
});

test('sent ahead: a fast worker gets it in its pipe; requests for a busy worker reach it at the end of the turn, after their notices left', async () => {
  const { pool, workers } = makePool(1, 10_000, 1);
  await pool.start();
  const w = workers[0]!;
  w.prefetch = 4;
  const started: string[] = [];
  const events: string[] = [];
  const exec = w.execute.bind(w);
  w.execute = (r, t, done, budget) => { events.push(`worker ${r.requestId}`); exec(r, t, done, budget); };
  sentAhead(pool, 'a', 5000, started, events);
  assert.deepEqual(events, ['start a', 'flush', 'worker a'], 'a free worker: announced, sent, then handed over at once');
  sentAhead(pool, 'b', 5000, started, events);
  sentAhead(pool, 'c', 300, started, events);
  assert.deepEqual(events.slice(3), ['start b', 'start c'], 'announced now, handed over at the end of the turn');
  await turn();
  assert.deepEqual(events.slice(3), ['start b', 'start c', 'flush', 'worker b', 'worker c'], 'one flush for both, before either reaches the worker');
  const budget = w.budgets[2]!;
  assert.ok(budget <= 300 && budget > 250, `c has what is left of its budget (${budget})`);
  w.finish();
  w.finish();
  w.finish();
  await pool.stop(0);
});

test('sent ahead: once announced it cannot be withdrawn; one whose sender is gone before the hand-over is dropped unrun', async () => {
  const { pool, workers } = makePool(1, 10_000, 1);
  await pool.start();
  const w = workers[0]!;
  w.prefetch = 4;
  const started: string[] = [];
  sentAhead(pool, 'a', 5000, started);
  const b = sentAhead(pool, 'b', 5000, started);
  assert.equal(pool.withdraw(b.ticket), false, 'its STARTED is written: it runs here');
  let senderGone = false;
  pool.dispatch(request('c'), () => assert.fail('c is not answered'), { waitBudgetMs: 5000, onStart: () => true, flush: () => undefined, gone: () => senderGone });
  let refused = false;
  pool.dispatch(request('d'), () => assert.fail('d is not answered'), { waitBudgetMs: 5000, onStart: () => { refused = true; return false; }, flush: () => undefined, gone: () => true });
  assert.equal(refused, true);
  senderGone = true; // the connection broke before the end of the turn
  await turn();
  assert.deepEqual(w.received, ['a', 'b'], 'neither c nor d reached the worker');
  w.finish();
  w.finish();
  await pool.stop(0);
});

test('sent ahead: its own budget, shorter than the pool\'s wait, ends it unstarted (overloaded) on time; a stop gives the rest back', async () => {
  const { pool, workers } = makePool(1, 10_000, 1);
  await pool.start();
  workers[0]!.prefetch = 1;
  const started: string[] = [];
  sentAhead(pool, 'a', 5000, started);
  const sentAt = performance.now();
  const short = sentAhead(pool, 'short', 50, started);
  const kept = sentAhead(pool, 'kept', 5000, started);
  for (let i = 0; i < 200 && short.result() === undefined; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(short.result()?.kind, 'overloaded');
  assert.ok(performance.now() - sentAt >= 45, 'not before its budget');
  assert.deepEqual(started, ['a']);
  const stopping = pool.stop(0);
  assert.equal(kept.result()?.kind, 'withdrawn', 'given back unstarted as the pool stops');
  workers[0]!.finish();
  await stopping;
});

test('sent ahead: staged for a worker whose room ahead shrank before the hand-over, it goes back to the queue instead of being refused', async () => {
  const { pool, workers } = makePool(1, 10_000, 1);
  await pool.start();
  const w = workers[0]!;
  w.prefetch = 4;
  const started: string[] = [];
  sentAhead(pool, 'a', 5000, started);
  const b = sentAhead(pool, 'b', 5000, started);
  const c = sentAhead(pool, 'c', 5000, started);
  w.prefetch = 1; // its recent run time grew: it takes one ahead now
  await turn();
  assert.deepEqual(w.received, ['a', 'b'], 'never more than capacity + prefetch in the worker');
  assert.equal(pool.queued, 1, 'c waits in the queue');
  assert.equal(c.result(), undefined, 'not failed');
  w.finish();
  w.finish(); // a and b: the worker is free, and takes c at once (a slow worker gets nothing from the gateway ahead)
  assert.deepEqual(w.received, ['a', 'b', 'c']);
  w.finish();
  assert.deepEqual([b.result()?.kind, c.result()?.kind], ['ok', 'ok']);
  await pool.stop(0);
});
